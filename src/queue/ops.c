/* Operations that read the same on both backends, written once over the
 * driver in backend.h. Each is one statement or one short transaction. */
#include "queue/backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int mark_row(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)row;
        (void)err;
        ((bool *)ctx)[set] = true;
        return 0;
}

int wh_ops_put_raw(struct wh_queue *q, const void *data, size_t len, const char *digest,
                   bool *existed, struct wh_err *err)
{
        /* Look first so that storing known bytes again sends nothing big. */
        struct wh_qparam key = qp_text(digest);
        bool found = false;
        if (q->ops->exec(q, "SELECT 1 FROM raw WHERE digest = $1", &key, 1, mark_row, &found, err) <
            0)
                return -1;
        if (!found) {
                struct wh_qparam p[] = {qp_text(digest), qp_int((int64_t)len), qp_blob(data, len)};
                if (q->ops->exec(
                        q,
                        "INSERT INTO raw (digest, size, data, created_at)"
                        " VALUES ($1, $2, $3, wh_now_ms()) ON CONFLICT (digest) DO NOTHING",
                        p, 3, NULL, NULL, err) < 0)
                        return -1;
        }
        if (existed)
                *existed = found;
        return 0;
}

struct claimed {
        struct wh_job *jobs;
        size_t n, cap;
};

static int take_job(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        struct claimed *c = ctx;
        if (c->n == c->cap)
                return wh_qerr(err, EPROTO, "the claim returned more rows than asked for");
        return wh_fill_job(&c->jobs[c->n++], row, err);
}

static int by_id(const void *a, const void *b)
{
        const struct wh_job *x = a, *y = b;
        return (x->id > y->id) - (x->id < y->id);
}

int wh_ops_claim(struct wh_queue *q, const char *worker_id, size_t max, uint32_t lease_ms,
                 struct wh_job **jobs, size_t *n, struct wh_err *err)
{
        struct claimed c = {.jobs = calloc(max, sizeof(struct wh_job)), .cap = max};
        if (!c.jobs)
                return wh_qerr(err, ENOMEM, "out of memory for %zu jobs", max);
        struct wh_qparam p[] = {qp_text(worker_id), qp_int(lease_ms), qp_int((int64_t)max)};
        if (q->ops->exec(q, q->sql->claim, p, 3, take_job, &c, err) < 0) {
                /* The claim committed or not as a whole: if rows arrived and
                 * then reading one failed, their leases simply expire. */
                wh_jobs_free(c.jobs, c.n);
                return -1;
        }
        qsort(c.jobs, c.n, sizeof(*c.jobs), by_id);
        *jobs = c.jobs;
        *n = c.n;
        return 0;
}

int wh_ops_heartbeat(struct wh_queue *q, const char *worker_id, const struct wh_job_lease *leases,
                     size_t n, uint32_t lease_ms, bool *held, struct wh_err *err)
{
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) < 0)
                strcpy(host, "?");
        struct wh_qparam w[] = {qp_text(worker_id), qp_text(host), qp_int(getpid())};
        if (q->ops->exec(q,
                         "INSERT INTO workers (id, host, pid, started_at, heartbeat_at)"
                         " VALUES ($1, $2, $3, wh_now_ms(), wh_now_ms()) ON CONFLICT (id)"
                         " DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                         w, 3, NULL, NULL, err) < 0)
                return -1;
        if (n == 0)
                return 0;
        struct wh_qparam *p = calloc(n * 3, sizeof(*p));
        if (!p)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                p[3 * i] = qp_int(leases[i].id);
                p[3 * i + 1] = qp_int(leases[i].token);
                p[3 * i + 2] = qp_int(lease_ms);
                held[i] = false;
        }
        int ret = q->ops->batch(q,
                                "UPDATE jobs SET lease_expires_at = wh_now_ms() + $3"
                                " WHERE id = $1 AND token = $2 AND state = 1"
                                " AND lease_expires_at >= wh_now_ms() RETURNING id",
                                p, 3, n, mark_row, held, err);
        free(p);
        return ret;
}

int wh_ops_release(struct wh_queue *q, const struct wh_job_lease *leases, size_t n,
                   struct wh_err *err)
{
        if (n == 0)
                return 0;
        struct wh_qparam *p = calloc(n * 2, sizeof(*p));
        if (!p)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                p[2 * i] = qp_int(leases[i].id);
                p[2 * i + 1] = qp_int(leases[i].token);
        }
        /* attempt - 1: the run never happened. token stays, so the released
         * lease's token can never match a later lease. */
        int ret = q->ops->batch(q,
                                "UPDATE jobs SET state = 0, attempt = attempt - 1,"
                                " lease_owner = NULL, lease_expires_at = NULL,"
                                " available_at = wh_now_ms() WHERE id = $1 AND token = $2"
                                " AND state = 1 AND lease_expires_at >= wh_now_ms()",
                                p, 2, n, NULL, NULL, err);
        free(p);
        return ret;
}

struct lease_row {
        bool held;
        int64_t attempt, max_attempts;
};

static int take_lease(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)err;
        struct lease_row *l = ctx;
        l->held = true;
        l->attempt = row->int64(row, 0);
        l->max_attempts = row->int64(row, 1);
        return 0;
}

uint32_t wh_backoff_ms(struct wh_queue *q, uint32_t base_ms, uint32_t max_ms, int64_t attempt)
{
        uint64_t d = base_ms;
        for (int64_t i = 1; i < attempt && d < max_ms; i++)
                d *= 2;
        if (d > max_ms)
                d = max_ms;
        /* Jitter spreads retries of jobs that failed together (xorshift). */
        q->rng ^= q->rng << 13;
        q->rng ^= q->rng >> 7;
        q->rng ^= q->rng << 17;
        return (uint32_t)(d / 2 + (d ? q->rng % (d / 2 + 1) : 0));
}

static int fail_locked(struct wh_queue *q, int64_t id, const char *status_json, bool retryable,
                       const struct lease_row *l, enum wh_job_state *state, struct wh_err *err)
{
        struct wh_qparam st[] = {qp_int(id), qp_text(status_json)};
        if (q->ops->exec(q, "UPDATE job_payload SET last_status = $2 WHERE job_id = $1", st, 2,
                         NULL, NULL, err) < 0)
                return -1;
        if (retryable && l->attempt < l->max_attempts) {
                struct wh_qparam p[] = {
                    qp_int(id),
                    qp_int(wh_backoff_ms(q, q->backoff_base_ms, q->backoff_max_ms, l->attempt))};
                *state = WH_JOB_QUEUED;
                return q->ops->exec(q,
                                    "UPDATE jobs SET state = 0, lease_owner = NULL,"
                                    " lease_expires_at = NULL, available_at = wh_now_ms() + $2"
                                    " WHERE id = $1",
                                    p, 2, NULL, NULL, err);
        }
        char reason[96];
        if (retryable)
                snprintf(reason, sizeof(reason), "failed on all %lld attempts",
                         (long long)l->max_attempts);
        else
                snprintf(reason, sizeof(reason), "failed on attempt %lld, not retryable",
                         (long long)l->attempt);
        struct wh_qparam p[] = {qp_int(id), qp_text(reason), qp_text(status_json)};
        *state = WH_JOB_DEAD;
        if (q->ops->exec(q,
                         "INSERT INTO dead_letter (job_id, tenant, attempts, reason, last_status,"
                         " created_at) SELECT id, tenant, attempt, $2, $3, wh_now_ms()"
                         " FROM jobs WHERE id = $1",
                         p, 3, NULL, NULL, err) < 0)
                return -1;
        return q->ops->exec(q,
                            "UPDATE jobs SET state = 3, lease_owner = NULL,"
                            " lease_expires_at = NULL WHERE id = $1",
                            p, 1, NULL, NULL, err);
}

int wh_ops_fail(struct wh_queue *q, int64_t id, int64_t token, const char *status_json,
                bool retryable, enum wh_job_state *state, struct wh_err *err)
{
        struct wh_qparam p[] = {qp_int(id), qp_int(token)};
        struct lease_row l = {0};
        if (q->ops->begin(q, err) < 0)
                return -1;
        if (q->ops->exec(q, q->sql->fail_lock, p, 2, take_lease, &l, err) < 0)
                goto fail;
        if (!l.held) {
                wh_qerr(err, ESTALE,
                        "job %lld: the lease with token %lld is no longer held (expired, reaped "
                        "or claimed again); the failure was not recorded",
                        (long long)id, (long long)token);
                goto fail;
        }
        if (fail_locked(q, id, status_json, retryable, &l, state, err) < 0)
                goto fail;
        return q->ops->commit(q, err);
fail:
        q->ops->rollback(q);
        return -1;
}

int wh_ops_completed_by(struct wh_queue *q, int64_t id, int64_t token, int64_t *result_id,
                        struct wh_err *err)
{
        struct wh_qparam p[] = {qp_int(id), qp_int(token)};
        *result_id = 0;
        return q->ops->exec(q, "SELECT id FROM results WHERE job_id = $1 AND token = $2", p, 2,
                            wh_row_take_id, result_id, err);
}
