/* The loop's periodic store work, every third of the lease: heartbeat every
 * lease this worker holds (which also records it as alive), act on the
 * leases it lost, reap the expired leases of dead or stalled workers (any
 * worker does it: no leader). And, every 5 s when metrics are served, the
 * queue gauges. */
#include "worker/core.h"
#include "worker/log.h"

#include <stdlib.h>

/* A lost lease: the job belongs to somebody else now. */
static void lose(struct wh_worker *w, struct task *t, struct task **gone, size_t *ngone)
{
        wh_wlog(WH_LOG_WARN, t->job.id, "lease lost (token %lld): dropping the job",
                (long long)t->job.token);
        t->lost = true;
        if (t->state == TASK_WAITING) {
                w->nwaiting--;
                gone[(*ngone)++] = t;
        } else if (t->state == TASK_RUNNING) {
                wh_slot_cancel(t);
        }
        /* A DONE task is dropped by the next flush. */
}

static void heartbeat(struct wh_worker *w)
{
        pthread_mutex_lock(&w->mu);
        size_t n = w->ntasks;
        struct wh_job_lease *leases = calloc(n ? n : 1, sizeof(*leases));
        struct task **held = calloc(n ? n : 1, sizeof(*held));
        size_t m = 0;
        for (size_t i = 0; leases && held && i < n; i++) {
                if (w->tasks[i]->lost)
                        continue;
                held[m] = w->tasks[i];
                leases[m++] = (struct wh_job_lease){w->tasks[i]->job.id, w->tasks[i]->job.token};
        }
        pthread_mutex_unlock(&w->mu);
        bool *ok = calloc(m ? m : 1, sizeof(*ok));
        struct wh_err err;
        if (!leases || !held || !ok) {
                wh_wlog(WH_LOG_ERROR, 0, "out of memory for the heartbeat");
        } else if (wh_queue_heartbeat(w->q, w->id, leases, m, w->cfg.lease_ms, ok, &err) < 0) {
                wh_worker_db_error(w, "heartbeat", &err);
        } else {
                /* Tasks only leave the list on this thread: held[] is valid. */
                pthread_mutex_lock(&w->mu);
                struct task **gone = calloc(m ? m : 1, sizeof(*gone));
                size_t ngone = 0;
                for (size_t i = 0; gone && i < m; i++)
                        if (!ok[i] && !held[i]->lost)
                                lose(w, held[i], gone, &ngone);
                if (gone)
                        wh_tasks_remove(w, gone, ngone);
                pthread_mutex_unlock(&w->mu);
                for (size_t i = 0; i < ngone; i++) {
                        wh_metrics_job(&w->metrics, WH_OUT_FENCED);
                        w->sum.fenced++;
                        wh_task_free(gone[i]);
                }
                free(gone);
        }
        free(leases);
        free(held);
        free(ok);
}

static void reap(struct wh_worker *w)
{
        size_t requeued = 0, dead = 0;
        struct wh_err err;
        if (wh_queue_reap(w->q, &requeued, &dead, &err) < 0) {
                wh_worker_db_error(w, "reap", &err);
                return;
        }
        if (requeued + dead == 0)
                return;
        atomic_fetch_add(&w->metrics.leases_expired, requeued + dead);
        w->sum.leases_reaped += requeued + dead;
        wh_wlog(WH_LOG_WARN, 0,
                "reaped %zu expired leases of other workers: %zu queued again, %zu to the dead "
                "letter table",
                requeued + dead, requeued, dead);
}

void wh_worker_stats(struct wh_worker *w, int64_t now)
{
        struct wh_queue_stats st;
        struct wh_err err;
        if (wh_queue_stats(w->q, w->cfg.lease_ms, &st, &err) < 0) {
                wh_worker_db_error(w, "stats", &err);
                return;
        }
        wh_metrics_stats(&w->metrics, &st, now);
}

void wh_worker_beat(struct wh_worker *w, int64_t now)
{
        heartbeat(w);
        if (now >= w->db_ready_ms)
                reap(w);
}
