/* Finished tasks into the store, on the loop thread. Completions are
 * gathered for complete_batch_ms (or until a claim batch's worth is done,
 * or nothing else is running) and stored in one wh_queue_complete call:
 * one transaction per batch instead of one per job is what lets a worker
 * keep up with fast normalisers. Failures and releases follow.
 *
 * A completion the store fences (the lease expired and the job went to
 * somebody else) is dropped: the store guarantees one result per job. A
 * store error that is worth waiting for leaves the tasks in the list; they
 * are flushed again once the store answers (completing twice with the same
 * token returns the first result), or dropped when a heartbeat says their
 * lease is gone.
 *
 * With a sink, every ok result (a reuse too) is stored with a row in the
 * store's outbox, in the same transaction: a result is never stored without
 * its delivery, whatever happens to this worker next. The delivery thread
 * is kicked once they are committed. */
#include "worker/core.h"
#include "worker/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void wh_job_strings_free(struct wh_job *j)
{
        free(j->tenant);
        free(j->normaliser);
        free(j->package_digest);
        free(j->raw_digest);
        free(j->meta_json);
        free(j->meta_digest);
        free(j->mime);
}

void wh_task_free(struct task *t)
{
        if (!t)
                return;
        wh_job_strings_free(&t->job);
        free(t->outcome);
        free(t->output_json);
        free(t->provenance_json);
        free(t->status_json);
        wh_routed_jobs_clear(&t->follow_ups);
        free(t->raw);
        free(t);
}

void wh_tasks_remove(struct wh_worker *w, struct task *const *gone, size_t n)
{
        if (!n)
                return;
        size_t k = 0;
        for (size_t i = 0; i < w->ntasks; i++) {
                bool drop = false;
                for (size_t j = 0; j < n && !drop; j++)
                        drop = w->tasks[i] == gone[j];
                if (!drop)
                        w->tasks[k++] = w->tasks[i];
        }
        w->ntasks = k;
}

static bool due(struct wh_worker *w, int64_t now, bool force)
{
        if (!w->ndone)
                return false;
        if (force || w->ndone >= w->cfg.claim_batch || (!w->nrunning && !w->nwaiting))
                return true;
        for (size_t i = 0; i < w->ntasks; i++)
                if (w->tasks[i]->state == TASK_DONE &&
                    w->tasks[i]->done_ms + w->cfg.complete_batch_ms <= now)
                        return true;
        return false;
}

static void count(struct wh_worker *w, enum wh_outcome_label label)
{
        wh_metrics_job(&w->metrics, label);
}

/* Store the completions; finished[i] set for what is settled. */
static void complete(struct wh_worker *w, struct task **t, size_t n, bool *finished)
{
        struct wh_job_completion *c = calloc(n, sizeof(*c));
        struct wh_dedup_key *keys = calloc(n, sizeof(*keys));
        int64_t *ids = calloc(n, sizeof(*ids));
        struct wh_err err;
        if (!c || !keys || !ids) {
                wh_wlog(WH_LOG_ERROR, 0, "out of memory completing %zu jobs", n);
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                keys[i] = (struct wh_dedup_key){t[i]->package_digest, t[i]->job.raw_digest,
                                                t[i]->job.meta_digest, t[i]->policy_hash};
                c[i] = (struct wh_job_completion){
                    .id = t[i]->job.id,
                    .token = t[i]->job.token,
                    .worker_id = w->id,
                    .outcome = t[i]->outcome,
                    .output_json = t[i]->reused_from ? NULL : t[i]->output_json,
                    .provenance_json = t[i]->reused_from ? NULL : t[i]->provenance_json,
                    .key = t[i]->have_key ? &keys[i] : NULL,
                    .reused_from = t[i]->reused_from,
                    .deliver = w->cfg.sink_url && strcmp(t[i]->outcome, "ok") == 0,
                    .follow_ups = t[i]->follow_ups.specs,
                    .n_follow_ups = t[i]->follow_ups.n,
                };
        }
        if (wh_queue_complete(w->q, c, n, ids, &err) < 0 && !wh_queue_err_is_fenced(&err)) {
                wh_worker_db_error(w, "complete", &err);
                goto out;
        }
        w->sum.complete_calls++;
        bool to_deliver = false;
        for (size_t i = 0; i < n; i++) {
                finished[i] = true;
                to_deliver |= ids[i] && c[i].deliver;
                if (!ids[i]) {
                        wh_wlog(WH_LOG_WARN, t[i]->job.id,
                                "completion fenced: the lease expired and the job went to "
                                "another worker");
                        count(w, WH_OUT_FENCED);
                        w->sum.fenced++;
                        continue;
                }
                w->sum.completed++;
                if (t[i]->reused_from) {
                        w->sum.reused++;
                        count(w, WH_OUT_REUSED);
                } else {
                        count(w, wh_outcome_label_of(t[i]->outcome));
                }
                wh_wlog(WH_LOG_DEBUG, t[i]->job.id, "completed: %s, result %lld%s", t[i]->outcome,
                        (long long)ids[i], t[i]->reused_from ? " (reused)" : "");
        }
        if (to_deliver)
                wh_deliverer_kick(w);
out:
        free(c);
        free(keys);
        free(ids);
}

static bool fail_one(struct wh_worker *w, struct task *t)
{
        enum wh_job_state state;
        struct wh_err err;
        bool retryable = t->action == ACT_RETRY;
        if (wh_queue_fail(w->q, t->job.id, t->job.token, t->status_json, retryable, &state, &err) <
            0) {
                if (!wh_queue_err_is_fenced(&err))
                        return !wh_worker_db_error(w, "fail", &err);
                count(w, WH_OUT_FENCED);
                w->sum.fenced++;
                return true;
        }
        if (state == WH_JOB_DEAD) {
                wh_wlog(WH_LOG_ERROR, t->job.id, "dead-lettered after attempt %u: %s",
                        t->job.attempt, t->status_json);
                count(w, WH_OUT_DEAD_LETTER);
                w->sum.dead++;
        } else {
                count(w, WH_OUT_RETRIED);
                w->sum.retried++;
        }
        return true;
}

static void release(struct wh_worker *w, struct task **t, size_t n, bool *finished)
{
        struct wh_job_lease *leases = calloc(n, sizeof(*leases));
        struct wh_err err;
        if (!leases)
                return;
        for (size_t i = 0; i < n; i++)
                leases[i] = (struct wh_job_lease){t[i]->job.id, t[i]->job.token};
        if (wh_queue_release(w->q, leases, n, &err) < 0) {
                wh_worker_db_error(w, "release", &err);
        } else {
                for (size_t i = 0; i < n; i++) {
                        finished[i] = true;
                        count(w, WH_OUT_RELEASED);
                }
                w->sum.released += n;
                wh_wlog(WH_LOG_INFO, 0, "released %zu jobs to the queue", n);
        }
        free(leases);
}

/* Tasks of one kind out of the DONE list, in list order, for one call. */
static size_t pick(struct task **done, size_t n, enum task_action a, struct task **out)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!done[i]->lost && done[i]->action == a)
                        out[k++] = done[i];
        return k;
}

/* Copy a group's outcome back to the DONE list (both in list order). */
static void mark(struct task **done, size_t n, struct task **group, const bool *ok, size_t k,
                 bool *finished)
{
        for (size_t i = 0, j = 0; i < n && j < k; i++)
                if (done[i] == group[j])
                        finished[i] = ok[j++];
}

static bool store_ready(const struct wh_worker *w)
{
        return !w->fatal && w->db_ready_ms <= wh_mono_ms();
}

static void settle(struct wh_worker *w, struct task **done, size_t n, bool *finished)
{
        struct task **group = calloc(n, sizeof(*group));
        bool *ok = calloc(n, sizeof(*ok));
        if (!group || !ok) {
                wh_wlog(WH_LOG_ERROR, 0, "out of memory flushing finished jobs");
                goto out;
        }
        size_t k = pick(done, n, ACT_COMPLETE, group);
        if (k && store_ready(w)) {
                complete(w, group, k, ok);
                mark(done, n, group, ok, k, finished);
        }
        k = pick(done, n, ACT_RELEASE, group);
        memset(ok, 0, n * sizeof(*ok));
        if (k && store_ready(w)) {
                release(w, group, k, ok);
                mark(done, n, group, ok, k, finished);
        }
        for (size_t i = 0; i < n; i++) {
                if (done[i]->lost) {
                        finished[i] = true;
                        count(w, WH_OUT_FENCED);
                        w->sum.fenced++;
                } else if ((done[i]->action == ACT_RETRY || done[i]->action == ACT_REJECT) &&
                           store_ready(w))
                        finished[i] = fail_one(w, done[i]);
        }
out:
        free(group);
        free(ok);
}

void wh_worker_flush(struct wh_worker *w, int64_t now, bool force)
{
        pthread_mutex_lock(&w->mu);
        if (!due(w, now, force)) {
                pthread_mutex_unlock(&w->mu);
                return;
        }
        struct task **done = calloc(w->ndone, sizeof(*done));
        size_t n = 0;
        for (size_t i = 0; done && i < w->ntasks; i++)
                if (w->tasks[i]->state == TASK_DONE)
                        done[n++] = w->tasks[i];
        pthread_mutex_unlock(&w->mu);
        bool *finished = calloc(n ? n : 1, sizeof(*finished));
        if (!done || !finished) {
                wh_wlog(WH_LOG_ERROR, 0, "out of memory flushing finished jobs");
                free(done);
                free(finished);
                return;
        }
        settle(w, done, n, finished);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (finished[i])
                        done[k++] = done[i];
        pthread_mutex_lock(&w->mu);
        wh_tasks_remove(w, done, k);
        w->ndone -= k;
        pthread_mutex_unlock(&w->mu);
        for (size_t i = 0; i < k; i++)
                wh_task_free(done[i]);
        free(done);
        free(finished);
}
