/* Setting a worker up and tearing it down around the loop: defaults,
 * logging, the store handle (waited for while the database is down), the
 * metrics listener, the sink's libcurl, the slots. */
#define _GNU_SOURCE
#include "worker/pool.h"
#include "worker/core.h"
#include "worker/log.h"
#include "worker/sink.h"
#include "worker/slot_io.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void fill_defaults(struct wh_worker_config *c)
{
        if (!c->concurrency) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                c->concurrency = n > 0 ? (unsigned)n : 1;
        }
        if (!c->claim_batch)
                c->claim_batch = c->concurrency > 32 ? c->concurrency : 32;
        if (!c->complete_batch_ms)
                c->complete_batch_ms = 5;
        if (!c->lease_ms)
                c->lease_ms = 30000;
        if (!c->grace_ms)
                c->grace_ms = 10000;
        if (!c->warm_max)
                c->warm_max = 8;
        if (!c->warm_idle_s)
                c->warm_idle_s = 300;
        if (!c->warm_recycle)
                c->warm_recycle = 1000;
        if (!c->poll_max_ms)
                c->poll_max_ms = 500;
        if (!c->sink_attempts)
                c->sink_attempts = 5;
        if (!c->sink_backoff_ms)
                c->sink_backoff_ms = 200;
        if (!c->sink_backoff_max_ms)
                c->sink_backoff_max_ms = 10000;
        if (!c->sink_timeout_ms)
                c->sink_timeout_ms = 10000;
        if (!c->normalisers_dir)
                c->normalisers_dir = wh_normalisers_dir_default();
}

static int check_config(const struct wh_worker_config *c, struct wh_err *err)
{
        if (!c->db_url || !*c->db_url)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "worker",
                                   "no database: pass --db URL");
        if (c->concurrency > 1024)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "worker",
                                   "concurrency %u is more than 1024", c->concurrency);
        /* Heartbeats and completions cover every held lease in one call,
         * which the store takes up to 10000 at a time. */
        if ((uint64_t)c->claim_batch + c->concurrency > 10000)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "worker",
                                   "claim batch %u plus concurrency %u is more than 10000",
                                   c->claim_batch, c->concurrency);
        if (c->lease_ms < 300)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "worker",
                                   "a lease of %u ms is too short (heartbeats every third of "
                                   "it): at least 300",
                                   c->lease_ms);
        return 0;
}

static void on_wake(int sig)
{
        (void)sig;
}

/* The slots' wake-up signal must interrupt system calls, not restart them. */
static int install_wake(struct wh_err *err)
{
        struct sigaction sa = {.sa_handler = on_wake};
        sigemptyset(&sa.sa_mask);
        if (sigaction(WH_SLOT_WAKE_SIGNAL, &sa, NULL) < 0)
                return wh_err_set(err, errno, "worker", "cannot install the slot wake-up handler");
        return 0;
}

/* Open the store, waiting while the database is down or busy. */
static int open_store(struct wh_worker *w, struct wh_err *err)
{
        uint32_t backoff = 100;
        while (wh_queue_open(w->cfg.db_url, &w->q, err) < 0) {
                if (!wh_queue_err_is_transient(err) && err->kind != WH_ERR_LIMIT)
                        return -1;
                wh_wlog(WH_LOG_WARN, 0, "cannot reach the store, retrying in %u ms: %s", backoff,
                        err->msg);
                for (uint32_t waited = 0; waited < backoff; waited += 50) {
                        if (*w->stop)
                                return wh_err_setk(err, WH_ERR_CANCELLED, ECANCELED, "worker",
                                                   "stopped before the store could be reached");
                        struct timespec ts = {0, 50 * 1000000L};
                        nanosleep(&ts, NULL);
                }
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        }
        if (w->cfg.retry_base_ms || w->cfg.retry_max_ms)
                wh_queue_set_backoff(w->q, w->cfg.retry_base_ms ? w->cfg.retry_base_ms : 1000,
                                     w->cfg.retry_max_ms ? w->cfg.retry_max_ms : 300000);
        return 0;
}

static int init(struct wh_worker *w, const struct wh_worker_config *cfg,
                const struct wh_runner *runner, const volatile sig_atomic_t *stop,
                struct wh_err *err)
{
        w->cfg = *cfg;
        w->claim_adaptive = !w->cfg.claim_batch;
        fill_defaults(&w->cfg);
        w->runner = runner;
        w->stop = stop;
        if (cfg->worker_id) {
                snprintf(w->id, sizeof(w->id), "%s", cfg->worker_id);
        } else {
                char host[64] = "localhost";
                if (gethostname(host, sizeof(host)) < 0)
                        snprintf(host, sizeof(host), "localhost");
                host[sizeof(host) - 1] = '\0';
                snprintf(w->id, sizeof(w->id), "%s:%d", host, (int)getpid());
        }
        wh_wlog_setup(w->cfg.log_fd, w->cfg.log_level, w->id);
        pthread_condattr_t ca;
        if (check_config(&w->cfg, err) < 0 || install_wake(err) < 0)
                return -1;
        if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
            pthread_cond_init(&w->done, &ca) || pthread_cond_init(&w->work, NULL) ||
            pthread_mutex_init(&w->mu, NULL))
                return wh_err_set(err, ENOMEM, "worker", "cannot initialise locks");
        pthread_condattr_destroy(&ca);
        if (w->cfg.sink_url && wh_sink_global_init(err) < 0)
                return -1;
        struct wh_pool_limits pl = {.max = w->cfg.warm_max,
                                    .max_per_tenant = w->cfg.warm_max_per_tenant,
                                    .idle_ms = w->cfg.warm_idle_s * 1000,
                                    .recycle = w->cfg.warm_recycle,
                                    .max_mem = w->cfg.warm_max_mem,
                                    .recycle_rss = w->cfg.warm_recycle_rss};
        return wh_pool_new(runner, &pl, &w->metrics, &w->pool, err);
}

int wh_worker_run_with(const struct wh_worker_config *cfg, const struct wh_runner *runner,
                       const volatile sig_atomic_t *stop, struct wh_worker_summary *summary,
                       struct wh_err *err)
{
        struct wh_worker *w = calloc(1, sizeof(*w));
        if (!w)
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        struct wh_metrics_server *server = NULL;
        int ret = -1;
        if (init(w, cfg, runner, stop, err) < 0)
                goto out_free;
        if (w->cfg.metrics_port &&
            wh_metrics_serve(&w->metrics, w->cfg.metrics_port, &server, err) < 0)
                goto out_free;
        if (open_store(w, err) < 0)
                goto out_metrics;
        wh_wlog(WH_LOG_INFO, 0, "started: %s store, %u slots, lease %u ms%s%s",
                wh_queue_backend(w->q), w->cfg.concurrency, w->cfg.lease_ms,
                w->cfg.sink_url ? ", sink " : "", w->cfg.sink_url ? w->cfg.sink_url : "");
        if (wh_slots_start(w, err) < 0) {
                wh_slots_join(w);
                goto out_store;
        }
        ret = wh_worker_loop(w);
        wh_slots_join(w);
        if (ret < 0) {
                *err = w->fatal_err;
        } else {
                struct wh_err gone;
                if (wh_queue_worker_gone(w->q, w->id, &gone) < 0)
                        wh_wlog(WH_LOG_WARN, 0, "could not sign off: %s", gone.msg);
        }
        wh_wlog(WH_LOG_INFO, 0,
                "stopped: %llu claimed, %llu completed (%llu reused), %llu retried, %llu "
                "dead-lettered, %llu fenced, %llu released",
                (unsigned long long)w->sum.claimed, (unsigned long long)w->sum.completed,
                (unsigned long long)w->sum.reused, (unsigned long long)w->sum.retried,
                (unsigned long long)w->sum.dead, (unsigned long long)w->sum.fenced,
                (unsigned long long)w->sum.released);
        if (summary)
                *summary = w->sum;
out_store:
        wh_queue_close(w->q);
out_metrics:
        wh_metrics_server_stop(server);
out_free:
        wh_pool_free(w->pool);
        for (size_t i = 0; i < w->ntasks; i++)
                wh_task_free(w->tasks[i]);
        free(w->tasks);
        free(w);
        return ret;
}
