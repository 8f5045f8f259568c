/* The listener thread: beside the run slots, on PostgreSQL only. It waits
 * on a store handle of its own for the NOTIFY that a submission (or a
 * release, or a reap) sends, then sets jobs_notified and wakes the loop,
 * which claims at once instead of at its next poll. Polling stays: a
 * notification lost while the listener reconnects, or SQLite, is covered
 * by it.
 *
 * It waits in slices of WAIT_MS so that a stop is noticed soon; while the
 * database is away it retries with the loop's backoff bounds. */
#include "worker/core.h"
#include "worker/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS      100
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

struct wh_listener {
        struct wh_worker *w;
        pthread_t thread;
        atomic_bool exit;
        struct wh_queue *q;
};

static void wake_loop(struct wh_worker *w)
{
        atomic_store(&w->jobs_notified, true);
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->done);
        pthread_mutex_unlock(&w->mu);
}

/* Sleep ms in WAIT_MS steps; false when told to exit meanwhile. */
static bool nap(struct wh_listener *l, uint32_t ms)
{
        for (uint32_t waited = 0; waited < ms; waited += WAIT_MS) {
                if (atomic_load(&l->exit))
                        return false;
                struct timespec ts = {0, WAIT_MS * 1000000L};
                nanosleep(&ts, NULL);
        }
        return !atomic_load(&l->exit);
}

static void *listen_main(void *arg)
{
        struct wh_listener *l = arg;
        uint32_t backoff = 0;
        while (!atomic_load(&l->exit)) {
                struct wh_err err;
                bool woken = false;
                int rc = l->q ? 0 : wh_worker_open_store(l->w, &l->q, &err);
                if (rc == 0)
                        rc = wh_queue_wait_for_jobs(l->q, WAIT_MS, &woken, &err);
                if (rc < 0) {
                        backoff = backoff ? backoff * 2 : RETRY_MIN_MS;
                        if (backoff > RETRY_MAX_MS)
                                backoff = RETRY_MAX_MS;
                        wh_wlog(WH_LOG_DEBUG, 0,
                                "listening for new jobs failed, again in %u ms: %s", backoff,
                                err.msg);
                        if (!nap(l, backoff))
                                break;
                        continue;
                }
                backoff = 0;
                if (woken)
                        wake_loop(l->w);
        }
        return NULL;
}

int wh_listener_start(struct wh_worker *w, struct wh_err *err)
{
        if (strcmp(wh_queue_backend(w->q), "postgres") != 0)
                return 0;
        struct wh_listener *l = calloc(1, sizeof(*l));
        if (!l)
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        l->w = w;
        int e = pthread_create(&l->thread, NULL, listen_main, l);
        if (e) {
                free(l);
                return wh_err_set(err, e, "worker", "cannot start the listener thread");
        }
        w->listener = l;
        return 0;
}

void wh_listener_stop(struct wh_worker *w)
{
        struct wh_listener *l = w->listener;
        if (!l)
                return;
        atomic_store(&l->exit, true);
        pthread_join(l->thread, NULL);
        wh_queue_close(l->q);
        free(l);
        w->listener = NULL;
}
