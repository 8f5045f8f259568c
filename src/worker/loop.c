/* The worker loop, on the calling thread (see core.h for the threads):
 *
 *   heartbeat + reap              every third of the lease (beat.c)
 *   queue gauges                  every 5 s, with --metrics-port
 *   idle pool entries unloaded    every second
 *   leftovers of killed workers   at start, then every minute (runner's sweep)
 *   flush finished tasks          batched completions (flush.c)
 *   claim                         one statement for up to claim_batch jobs
 *                                 (fewer for long runs), whenever the slots
 *                                 are about to run dry;
 *                                 at once when the listener was notified of
 *                                 new jobs (PostgreSQL), else polling
 *   wait                          for a task to finish or the next deadline
 *
 * Stopping (the caller's flag, exit_when_idle, or an unusable store):
 * claims stop, waiting tasks are released at once, running ones get
 * grace_ms and are then cancelled and released too. If the store does not
 * answer, the worker gives up on handing leases back after one more lease
 * time: they expire and another worker takes the jobs, which is exactly
 * what happens after a SIGKILL. */
#include "worker/core.h"
#include "worker/log.h"
#include "worker/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define POLL_MIN_MS       10
#define WAIT_MAX_MS       50 /* how soon the stop flag is noticed */
#define KICK_MS           50
#define CLAIM_AHEAD_MS    100
/* The queue gauges count rows: often enough for a scrape every 15 s, rare
 * enough not to load a big store. */
#define STATS_MS 5000
/* Idle pool entries are unloaded within a second of their --warm-idle-s. */
#define POOL_SWEEP_MS 1000
/* Leftovers of killed workers are removed once they are a minute old. */
#define LEFTOVERS_MS 60000

int64_t wh_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool wh_worker_db_error(struct wh_worker *w, const char *what, const struct wh_err *err)
{
        atomic_fetch_add(&w->metrics.db_errors, 1);
        if (wh_queue_err_is_transient(err) || err->kind == WH_ERR_LIMIT) {
                uint32_t b = w->db_backoff_ms ? w->db_backoff_ms * 2 : DB_BACKOFF_MIN_MS;
                w->db_backoff_ms = b > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : b;
                w->db_ready_ms = wh_mono_ms() + w->db_backoff_ms;
                wh_wlog(WH_LOG_WARN, 0, "%s failed, retrying in %u ms: %s%s", what,
                        w->db_backoff_ms, err->msg,
                        err->errnum == ENOSPC ? " (free space on the database's disk)" : "");
                return true;
        }
        if (!w->fatal) {
                w->fatal = true;
                w->fatal_err = *err;
                wh_wlog(WH_LOG_ERROR, 0, "%s failed, stopping: %s", what, err->msg);
        }
        return false;
}

static void add_tasks(struct wh_worker *w, struct wh_job *jobs, size_t n)
{
        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; i < n; i++) {
                struct task *t = calloc(1, sizeof(*t));
                struct task **grown = w->ntasks < w->cap
                                          ? w->tasks
                                          : realloc(w->tasks, (w->cap * 2 + 16) * sizeof(*grown));
                if (!t || !grown) {
                        /* Unheld leases expire and the jobs come back. */
                        wh_wlog(WH_LOG_ERROR, jobs[i].id, "out of memory: leaving the job");
                        free(t);
                        wh_job_strings_free(&jobs[i]);
                        continue;
                }
                if (grown != w->tasks) {
                        w->tasks = grown;
                        w->cap = w->cap * 2 + 16;
                }
                t->job = jobs[i]; /* takes the strings */
                w->tasks[w->ntasks++] = t;
                w->nwaiting++;
        }
        pthread_cond_broadcast(&w->work);
        pthread_mutex_unlock(&w->mu);
}

/* How many jobs one claim takes: --batch if given; else what the slots
 * run in the next CLAIM_AHEAD_MS at the time the runs since the last claim
 * took, between one per slot and claim_batch. Short (warm) runs are then
 * claimed many per statement (one store transaction and, on SQLite, one
 * fsync for them all), and a slot runs those of one normaliser and tenant
 * in a row with one pool entry (slot.c); long runs are claimed a round at
 * a time, leaving the rest to other workers. */
static size_t claim_size(struct wh_worker *w)
{
        size_t most = w->cfg.claim_batch;
        if (!w->claim_adaptive)
                return most;
        uint64_t n, us;
        wh_metrics_runs(&w->metrics, &n, &us);
        if (n > w->runs_seen) {
                w->run_avg_us = (us - w->run_us_seen) / (n - w->runs_seen);
                w->runs_seen = n;
                w->run_us_seen = us;
        }
        size_t least = w->cfg.concurrency < most ? w->cfg.concurrency : most;
        if (!w->run_avg_us)
                return least;
        uint64_t ahead = (uint64_t)CLAIM_AHEAD_MS * 1000 * w->cfg.concurrency / w->run_avg_us;
        return ahead < least ? least : ahead > most ? most : (size_t)ahead;
}

/* Claim when the slots are about to run dry, claim_size() jobs and at
 * most concurrency + claim_batch in flight. */
static void claim(struct wh_worker *w, int64_t now)
{
        if (atomic_exchange(&w->jobs_notified, false)) {
                w->next_claim_ms = now;
                w->poll_ms = POLL_MIN_MS;
        }
        if (now < w->next_claim_ms)
                return;
        pthread_mutex_lock(&w->mu);
        size_t waiting = w->nwaiting, inflight = w->nwaiting + w->nrunning, held = w->ntasks;
        pthread_mutex_unlock(&w->mu);
        size_t limit = (size_t)w->cfg.concurrency + w->cfg.claim_batch;
        if (waiting >= w->cfg.concurrency || inflight >= limit)
                return;
        size_t size = claim_size(w);
        size_t want = limit - inflight < size ? limit - inflight : size;
        struct wh_job *jobs = NULL;
        size_t got = 0;
        struct wh_err err;
        if (wh_queue_claim(w->q, w->id, want, w->cfg.lease_ms, &jobs, &got, &err) < 0) {
                wh_worker_db_error(w, "claim", &err);
                return;
        }
        if (got) {
                wh_wlog(WH_LOG_DEBUG, 0, "claimed %zu jobs", got);
                w->sum.claimed += got;
                add_tasks(w, jobs, got);
                w->poll_ms = POLL_MIN_MS;
                w->next_claim_ms = got < want ? now + w->poll_ms : now;
        } else {
                w->next_claim_ms = now + w->poll_ms;
                /* With a listener, a submission wakes the loop: polling is
                 * only the fallback (retries coming due, a lost notice). */
                w->poll_ms = w->listener || w->poll_ms * 2 > w->cfg.poll_max_ms ? w->cfg.poll_max_ms
                                                                                : w->poll_ms * 2;
        }
        /* The array itself; its strings now belong to the tasks. */
        free(jobs);
        if (!got && !held && w->cfg.exit_when_idle) {
                struct wh_queue_stats st;
                if (wh_queue_stats(w->q, w->cfg.lease_ms, &st, &err) < 0)
                        wh_worker_db_error(w, "stats", &err);
                else if (!st.ready && !st.delayed && !st.running &&
                         !(w->cfg.sink_url && st.deliveries_pending))
                        w->idle = true;
        }
}

static void begin_drain(struct wh_worker *w, int64_t now)
{
        w->draining = true;
        w->grace_end_ms = w->fatal ? now : now + w->cfg.grace_ms;
        pthread_mutex_lock(&w->mu);
        size_t waiting = w->nwaiting, running = w->nrunning;
        for (size_t i = 0; i < w->ntasks; i++) {
                struct task *t = w->tasks[i];
                if (t->state != TASK_WAITING)
                        continue;
                t->state = TASK_DONE;
                t->action = ACT_RELEASE;
                t->done_ms = now;
                w->nwaiting--;
                w->ndone++;
        }
        pthread_mutex_unlock(&w->mu);
        if (!w->fatal)
                wh_wlog(WH_LOG_INFO, 0,
                        "stopping: no more claims; %zu waiting jobs released, %zu running get "
                        "%u ms to finish",
                        waiting, running, w->cfg.grace_ms);
}

/* Past the grace time: cancel what still runs, again every KICK_MS in
 * case a signal came before the run started to wait. */
static void cancel_running(struct wh_worker *w, int64_t now)
{
        if (now < w->grace_end_ms || now < w->next_kick_ms)
                return;
        pthread_mutex_lock(&w->mu);
        size_t n = 0;
        for (size_t i = 0; i < w->ntasks; i++) {
                if (w->tasks[i]->state == TASK_RUNNING) {
                        wh_slot_cancel(w->tasks[i]);
                        n++;
                }
        }
        pthread_mutex_unlock(&w->mu);
        if (n && !w->cancelled)
                wh_wlog(WH_LOG_WARN, 0, "grace time over: cancelling %zu running jobs", n);
        w->cancelled = true;
        w->next_kick_ms = now + KICK_MS;
}

/* The earlier of until and a deadline still ahead: a deadline that passed
 * without effect (the store is unusable, a cancelled run is still ending)
 * must not turn the wait into a spin. */
static int64_t sooner(int64_t until, int64_t deadline, int64_t now)
{
        return deadline > now && deadline < until ? deadline : until;
}

static void wait_for_work(struct wh_worker *w, int64_t now)
{
        int64_t until = now + WAIT_MAX_MS;
        if (!w->draining) {
                until = sooner(until, w->next_beat_ms, now);
                until = sooner(until, w->next_claim_ms, now);
        } else {
                until = sooner(until, w->grace_end_ms, now);
        }
        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; i < w->ntasks; i++)
                if (w->tasks[i]->state == TASK_DONE)
                        until = sooner(until, w->tasks[i]->done_ms + w->cfg.complete_batch_ms, now);
        if (until < w->db_ready_ms)
                until = w->db_ready_ms;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (until - now) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&w->done, &w->mu, &ts);
        pthread_mutex_unlock(&w->mu);
}

/* One round; false when the loop is over. */
static bool step(struct wh_worker *w)
{
        int64_t now = wh_mono_ms();
        if (!w->draining && (*w->stop || w->idle || w->fatal))
                begin_drain(w, now);
        if (w->draining)
                cancel_running(w, now);
        if (now >= w->next_sweep_ms) {
                wh_pool_sweep(w->pool, now);
                w->next_sweep_ms = now + POOL_SWEEP_MS;
        }
        if (w->runner->sweep && now >= w->next_leftovers_ms) {
                w->runner->sweep(w->runner->ctx);
                w->next_leftovers_ms = now + LEFTOVERS_MS;
        }
        int64_t ready_before = w->db_ready_ms;
        if (now >= w->db_ready_ms && !w->fatal) {
                if (now >= w->next_beat_ms) {
                        wh_worker_beat(w, now);
                        w->next_beat_ms = now + w->cfg.lease_ms / 3;
                }
                if (w->cfg.metrics_port && now >= w->next_stats_ms && w->db_ready_ms <= now) {
                        wh_worker_stats(w, now);
                        w->next_stats_ms = now + STATS_MS;
                }
                wh_worker_flush(w, now, w->draining);
                if (!w->draining && w->db_ready_ms <= now)
                        claim(w, now);
                if (w->db_ready_ms == ready_before)
                        w->db_backoff_ms = 0;
        }
        pthread_mutex_lock(&w->mu);
        size_t left = w->ntasks, running = w->nrunning;
        if (w->fatal || (w->draining && now > w->grace_end_ms + w->cfg.lease_ms)) {
                /* The store cannot take them: drop what no slot runs, the
                 * leases expire and the jobs come back. */
                if (!running && left)
                        wh_wlog(WH_LOG_ERROR, 0,
                                "could not hand back %zu jobs: their leases expire within "
                                "%u ms and other workers take them",
                                left, w->cfg.lease_ms);
                left = running;
        }
        pthread_mutex_unlock(&w->mu);
        if (w->draining && !left)
                return false;
        wait_for_work(w, wh_mono_ms());
        return true;
}

int wh_worker_loop(struct wh_worker *w)
{
        w->poll_ms = POLL_MIN_MS;
        struct wh_err err;
        if (w->cfg.statement_timeout_ms &&
            wh_queue_set_statement_timeout(w->q, w->cfg.statement_timeout_ms, &err) < 0)
                wh_worker_db_error(w, "setting the statement timeout", &err);
        while (step(w))
                ;
        return w->fatal ? -1 : 0;
}
