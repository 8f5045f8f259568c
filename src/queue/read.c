/* The reading side: raw blobs, dedup lookups, results, dead letters, one
 * job in full, and counts. Plain SQL that both backends run unchanged. */
#include "queue/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Listing pages are capped so one call cannot ask for the whole table. */
#define LIST_DEFAULT 100
#define LIST_MAX     10000

struct blob_out {
        void *data;
        size_t len;
        bool found;
};

static int copy_blob(struct blob_out *b, const struct wh_qrow *row, int col, struct wh_err *err)
{
        size_t len;
        const void *p = row->blob(row, col, &len);
        b->data = malloc(len ? len : 1);
        if (!b->data)
                return wh_qerr(err, ENOMEM, "out of memory for %zu bytes", len);
        if (len)
                memcpy(b->data, p, len);
        b->len = len;
        b->found = true;
        return 0;
}

static int take_blob(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        return copy_blob(ctx, row, 0, err);
}

int wh_read_raw(struct wh_queue *q, const char *digest, void **data, size_t *len,
                struct wh_err *err)
{
        struct wh_qparam p = qp_text(digest);
        struct blob_out b = {0};
        if (q->ops->exec(q, "SELECT data FROM raw WHERE digest = $1", &p, 1, take_blob, &b, err) <
            0)
                return -1;
        if (!b.found)
                return wh_qerr(err, ENOENT, "raw blob %s is not in the store", digest);
        *data = b.data;
        *len = b.len;
        return 0;
}

int wh_read_dedup(struct wh_queue *q, const char *dedup_key, const char *tenant, int64_t *result_id,
                  struct wh_err *err)
{
        /* Only original results are indexed (results_dedup_tenant, and
         * results_dedup across tenants): a reuse points at its origin. */
        struct wh_qparam p[] = {qp_text(dedup_key), qp_text(tenant)};
        *result_id = 0;
        if (!tenant)
                return q->ops->exec(
                    q,
                    "SELECT id FROM results WHERE dedup_key = $1"
                    " AND outcome = 'ok' AND reused_from IS NULL ORDER BY id LIMIT 1",
                    p, 1, wh_row_take_id, result_id, err);
        return q->ops->exec(q,
                            "SELECT id FROM results WHERE tenant = $2 AND dedup_key = $1"
                            " AND outcome = 'ok' AND reused_from IS NULL ORDER BY id LIMIT 1",
                            p, 2, wh_row_take_id, result_id, err);
}

static int take_prefetched(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        struct wh_job_prefetch *j = &((struct wh_job_prefetch *)ctx)[set];
        j->reused_from = row->int64(row, 0);
        if (!row->text(row, 1)) /* NULL: larger than asked for, or missing */
                return 0;
        struct blob_out b = {0};
        if (copy_blob(&b, row, 1, err) < 0)
                return -1;
        j->raw = b.data;
        j->raw_len = b.len;
        return 0;
}

/* The lookups of wh_read_dedup and wh_read_raw in one statement per job,
 * each with plain parameters (so planned as well as those), and one batch
 * for all: on PostgreSQL one round trip. */
int wh_read_prefetch(struct wh_queue *q, const char *tenant, char (*keys)[WH_DIGEST_BUF],
                     struct wh_job_prefetch *jobs, size_t n, size_t raw_max, struct wh_err *err)
{
        enum { NP = 4 };
        struct wh_qparam *p = calloc(n * NP, sizeof(*p));
        if (!p)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                struct wh_qparam *row = p + i * NP;
                row[0] = qp_text(keys[i]);
                row[1] = qp_text(tenant);
                row[2] = qp_text(jobs[i].key.input_digest);
                row[3] = qp_int((int64_t)raw_max);
        }
        int ret = q->ops->batch(
            q,
            tenant ? "SELECT (SELECT id FROM results WHERE tenant = $2 AND dedup_key = $1"
                     " AND outcome = 'ok' AND reused_from IS NULL ORDER BY id LIMIT 1),"
                     " (SELECT data FROM raw WHERE digest = $3 AND size <= $4)"
                   : "SELECT (SELECT id FROM results WHERE dedup_key = $1"
                     " AND outcome = 'ok' AND reused_from IS NULL ORDER BY id LIMIT 1),"
                     " (SELECT data FROM raw WHERE digest = $3 AND size <= $4)",
            p, NP, n, take_prefetched, jobs, err);
        free(p);
        if (ret < 0)
                for (size_t i = 0; i < n; i++) {
                        free(jobs[i].raw);
                        jobs[i].raw = NULL;
                }
        return ret;
}

struct listing {
        void *rows;
        size_t elem, n, cap;
        bool dead;
};

static int take_listed(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        struct listing *l = ctx;
        if (l->n == l->cap)
                return 0;
        void *slot = (char *)l->rows + l->n * l->elem;
        l->n++;
        return l->dead ? wh_fill_dead_row(slot, row, err) : wh_fill_result_row(slot, row, 0, err);
}

static int list(struct wh_queue *q, const struct wh_result_filter *f, const char *all_sql,
                const char *tenant_sql, struct listing *l, struct wh_err *err)
{
        struct wh_result_filter none = {0};
        if (!f)
                f = &none;
        l->cap = f->limit ? (f->limit < LIST_MAX ? f->limit : LIST_MAX) : LIST_DEFAULT;
        l->rows = calloc(l->cap, l->elem);
        if (!l->rows)
                return wh_qerr(err, ENOMEM, "out of memory");
        struct wh_qparam p[] = {qp_int(f->after_id), qp_int((int64_t)l->cap), qp_text(f->tenant)};
        return q->ops->exec(q, f->tenant ? tenant_sql : all_sql, p, 3, take_listed, l, err);
}

#define RESULT_COLUMNS                                                                             \
        "r.id, r.job_id, r.token, coalesce(r.reused_from, 0), r.created_at, r.tenant,"             \
        " p.normaliser, r.outcome, r.worker, r.package_digest, r.input_digest, r.meta_digest,"     \
        " r.policy_hash, p.kind"

int wh_read_results(struct wh_queue *q, const struct wh_result_filter *f,
                    struct wh_result_row **rows, size_t *n, struct wh_err *err)
{
        struct listing l = {.elem = sizeof(struct wh_result_row)};
        if (list(q, f,
                 "SELECT " RESULT_COLUMNS " FROM results r JOIN job_payload p"
                 " ON p.job_id = r.job_id WHERE r.id > $1 ORDER BY r.id LIMIT $2",
                 "SELECT " RESULT_COLUMNS " FROM results r JOIN job_payload p"
                 " ON p.job_id = r.job_id WHERE r.tenant = $3 AND r.id > $1 ORDER BY r.id"
                 " LIMIT $2",
                 &l, err) < 0) {
                wh_result_rows_free(l.rows, l.n);
                return -1;
        }
        *rows = l.rows;
        *n = l.n;
        return 0;
}

#define DEAD_COLUMNS                                                                               \
        "d.job_id, d.attempts, d.created_at, d.tenant, p.normaliser, d.reason, d.last_status,"     \
        " p.kind"

int wh_read_dead(struct wh_queue *q, const struct wh_result_filter *f, struct wh_dead_row **rows,
                 size_t *n, struct wh_err *err)
{
        struct listing l = {.elem = sizeof(struct wh_dead_row), .dead = true};
        if (list(q, f,
                 "SELECT " DEAD_COLUMNS " FROM dead_letter d JOIN job_payload p"
                 " ON p.job_id = d.job_id WHERE d.job_id > $1 ORDER BY d.job_id LIMIT $2",
                 "SELECT " DEAD_COLUMNS " FROM dead_letter d JOIN job_payload p"
                 " ON p.job_id = d.job_id WHERE d.tenant = $3 AND d.job_id > $1"
                 " ORDER BY d.job_id LIMIT $2",
                 &l, err) < 0) {
                wh_dead_rows_free(l.rows, l.n);
                return -1;
        }
        *rows = l.rows;
        *n = l.n;
        return 0;
}

/* A reused result has no body of its own: the join follows reused_from. */
static const char show_sql[] =
    "SELECT j.id, j.state, j.priority, j.attempt, j.max_attempts, j.token, p.submitted_at,"
    " j.available_at, coalesce(j.lease_expires_at, 0), j.tenant, p.normaliser,"
    " p.package_digest, p.raw_digest, p.meta, p.meta_digest, p.mime, j.lease_owner,"
    " p.last_status, d.reason, coalesce(d.created_at, 0), b.output, b.provenance, " RESULT_COLUMNS
    ", dv.state, dv.attempts, coalesce(dv.http_status, 0), dv.last_error,"
    " j.lost_leases, j.max_lost_leases FROM jobs j JOIN job_payload p ON p.job_id = j.id"
    " LEFT JOIN dead_letter d ON d.job_id = j.id"
    " LEFT JOIN results r ON r.job_id = j.id"
    " LEFT JOIN result_body b ON b.result_id = coalesce(r.reused_from, r.id)"
    " LEFT JOIN deliveries dv ON dv.result_id = r.id"
    " WHERE j.id = $1";

static int take_info(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        struct wh_job_info **info = ctx;
        *info = calloc(1, sizeof(**info));
        if (!*info)
                return wh_qerr(err, ENOMEM, "out of memory");
        return wh_fill_job_info(*info, row, err);
}

int wh_read_show(struct wh_queue *q, int64_t job_id, struct wh_job_info **info, struct wh_err *err)
{
        struct wh_qparam p = qp_int(job_id);
        struct wh_job_info *got = NULL;
        if (q->ops->exec(q, show_sql, &p, 1, take_info, &got, err) < 0) {
                wh_job_info_free(got);
                return -1;
        }
        if (!got)
                return wh_qerr(err, ENOENT, "there is no job %lld", (long long)job_id);
        *info = got;
        return 0;
}

static int take_stats(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)err;
        struct wh_queue_stats *s = ctx;
        s->delayed = (uint64_t)row->int64(row, 1);
        s->running = (uint64_t)row->int64(row, 2);
        s->done = (uint64_t)row->int64(row, 3);
        s->dead = (uint64_t)row->int64(row, 4);
        s->live_workers = (uint64_t)row->int64(row, 5);
        s->deliveries_pending = (uint64_t)row->int64(row, 6);
        s->deliveries_failed = (uint64_t)row->int64(row, 7);
        s->running_boefje = (uint64_t)row->int64(row, 8);
        /* The counters hold every queued job; the delayed ones are a part. */
        uint64_t queued = (uint64_t)row->int64(row, 0);
        s->ready = queued > s->delayed ? queued - s->delayed : 0;
        return 0;
}

int wh_read_stats(struct wh_queue *q, uint32_t stale_ms, struct wh_queue_stats *s,
                  struct wh_err *err)
{
        struct wh_qparam p = qp_int(stale_ms);
        memset(s, 0, sizeof(*s));
        /* Job counts from the counters (a few rows per state), delayed jobs
         * from the index of retried ones, running boefje jobs from that of
         * leased ones (as many as the workers' slots), deliveries from their
         * partial indexes: nothing here grows with the number of jobs done. */
        return q->ops->exec(
            q,
            "SELECT (SELECT coalesce(sum(n), 0) FROM job_counts WHERE state = 0),"
            " (SELECT count(*) FROM jobs WHERE state = 0 AND attempt > 0"
            "  AND available_at > wh_now_ms()),"
            " (SELECT coalesce(sum(n), 0) FROM job_counts WHERE state = 1),"
            " (SELECT coalesce(sum(n), 0) FROM job_counts WHERE state = 2),"
            " (SELECT coalesce(sum(n), 0) FROM job_counts WHERE state = 3),"
            " (SELECT count(*) FROM workers WHERE heartbeat_at >= wh_now_ms() - $1),"
            " (SELECT count(*) FROM deliveries WHERE state = 0),"
            " (SELECT count(*) FROM deliveries WHERE state = 3),"
            " (SELECT count(*) FROM jobs j JOIN job_payload p ON p.job_id = j.id"
            "  WHERE j.state = 1 AND p.kind = 'boefje')",
            &p, 1, take_stats, s, err);
}
