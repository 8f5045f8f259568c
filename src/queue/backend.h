/* Inside the job store: the backend vtable and the helpers both backends share.
 *
 * A backend (sqlite_*.c, pg_*.c) provides a small driver: run one statement
 * with typed parameters and hand each row to a callback; open and end a
 * write transaction; run one statement for many parameter sets atomically.
 * Statements are cached per handle by the address of their SQL text, so SQL
 * lives in static strings. Logic that reads the same in both dialects lives
 * once in ops.c and read.c; where the dialects differ (claiming with SKIP
 * LOCKED, data-modifying CTEs on PostgreSQL) the SQL comes from the backend's
 * struct wh_queue_sql or the backend implements the operation itself.
 *
 * The common layer (queue.c) validates every argument before a backend sees
 * it, so backends trust their inputs. */
#ifndef WH_QUEUE_BACKEND_H
#define WH_QUEUE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/queue.h>

#include "queue/qerr.h"

/* The jobs.max_lost_leases column's default in SQL (the migration that
 * added it): WH_QUEUE_DEFAULT_MAX_LOST_LEASES as a literal. */
#define WH_STR_(x)              #x
#define WH_STR(x)               WH_STR_(x)
#define WH_SQL_MAX_LOST_DEFAULT "DEFAULT " WH_STR(WH_QUEUE_DEFAULT_MAX_LOST_LEASES)

/* A statement parameter. The kind fixes the SQL type (PostgreSQL prepares
 * with it), also for NULLs: a NULL text is still text. */
enum wh_qp_kind { WH_QP_TEXT, WH_QP_INT, WH_QP_BLOB };

struct wh_qparam {
        enum wh_qp_kind kind;
        bool null;
        const char *text;
        int64_t i;
        const void *blob;
        size_t len;
};

static inline struct wh_qparam qp_text(const char *s)
{
        return (struct wh_qparam){.kind = WH_QP_TEXT, .null = s == NULL, .text = s};
}

static inline struct wh_qparam qp_int(int64_t v)
{
        return (struct wh_qparam){.kind = WH_QP_INT, .i = v};
}

static inline struct wh_qparam qp_blob(const void *p, size_t len)
{
        return (struct wh_qparam){.kind = WH_QP_BLOB, .blob = p, .len = len};
}

/* An id where 0 means "none": bound as NULL. */
static inline struct wh_qparam qp_id_or_null(int64_t v)
{
        return (struct wh_qparam){.kind = WH_QP_INT, .null = v == 0, .i = v};
}

/* One result row; columns count from 0. text() is NULL for SQL NULL. */
struct wh_qrow {
        const char *(*text)(const struct wh_qrow *row, int col);
        int64_t (*int64)(const struct wh_qrow *row, int col);
        const void *(*blob)(const struct wh_qrow *row, int col, size_t *len);
        void *impl;
        int impl_row;
};

/* Row callback: `set` is the parameter set's index in a batch (else 0).
 * Returns < 0 (with err filled) to stop. */
typedef int (*wh_row_fn)(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err);

/* SQL whose text differs between the backends; $1, $2... in both. */
struct wh_queue_sql {
        /* $1 owner, $2 lease_ms, $3 limit; the columns wh_fill_job() reads */
        const char *claim;
        const char *fail_lock; /* $1 id, $2 token: the lease row, locked until commit */
        /* $1 lease_ms, $2 limit; the columns wh_fill_delivery() reads */
        const char *claim_deliveries;
};

struct wh_queue;

/* One completion's follow-up jobs (wh_job_completion.follow_ups), checked,
 * their meta canonical with its digest, as a submission's. */
struct wh_follow_ups {
        const struct wh_job_spec *specs;
        char **metas;
        char (*meta_digests)[WH_DIGEST_BUF];
        size_t n;
};

struct wh_queue_ops {
        const char *name;
        void (*close)(struct wh_queue *q);
        int (*exec)(struct wh_queue *q, const char *sql, const struct wh_qparam *params, size_t np,
                    wh_row_fn fn, void *ctx, struct wh_err *err);
        /* Run `sql` once per parameter set (nsets * np params) atomically. */
        int (*batch)(struct wh_queue *q, const char *sql, const struct wh_qparam *params, size_t np,
                     size_t nsets, wh_row_fn fn, void *ctx, struct wh_err *err);
        int (*begin)(struct wh_queue *q, struct wh_err *err);
        int (*commit)(struct wh_queue *q, struct wh_err *err);
        void (*rollback)(struct wh_queue *q);
        int (*submit)(struct wh_queue *q, const struct wh_job_spec *specs, char **metas,
                      char (*meta_digests)[WH_DIGEST_BUF], size_t n, int64_t *ids,
                      struct wh_err *err);
        /* follow: n of them, or NULL when no completion makes jobs. */
        int (*complete)(struct wh_queue *q, const struct wh_job_completion *c,
                        char (*dedup_keys)[WH_DIGEST_BUF], const struct wh_follow_ups *follow,
                        size_t n, int64_t *result_ids, struct wh_err *err);
        int (*reap)(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err);
        int (*set_statement_timeout)(struct wh_queue *q, uint32_t ms, struct wh_err *err);
        /* NULL where the backend has no notifications. */
        int (*wait_for_jobs)(struct wh_queue *q, int timeout_ms, bool *woken, struct wh_err *err);
};

struct wh_queue {
        const struct wh_queue_ops *ops;
        const struct wh_queue_sql *sql;
        uint32_t backoff_base_ms, backoff_max_ms;
        uint64_t rng;
};

/* Backend constructors (sqlite_conn.c, pg_conn.c). Without `create`, a
 * missing store is ENOENT and nothing is created (reading commands). */
int wh_sqlite_open(const char *path, bool create, struct wh_queue **q, struct wh_err *err);
int wh_pg_open(const char *url, bool create, struct wh_queue **q, struct wh_err *err);

/* ops.c: operations written once over the driver. */
int wh_ops_put_raw(struct wh_queue *q, const void *data, size_t len, const char *digest,
                   bool *existed, struct wh_err *err);
int wh_ops_claim(struct wh_queue *q, const char *worker_id, size_t max, uint32_t lease_ms,
                 struct wh_job **jobs, size_t *n, struct wh_err *err);
int wh_ops_heartbeat(struct wh_queue *q, const char *worker_id, const struct wh_job_lease *leases,
                     size_t n, uint32_t lease_ms, bool *held, struct wh_err *err);
int wh_ops_fail(struct wh_queue *q, int64_t id, int64_t token, const char *status_json,
                bool retryable, enum wh_job_state *state, struct wh_err *err);
int wh_ops_release(struct wh_queue *q, const struct wh_job_lease *leases, size_t n,
                   struct wh_err *err);
/* A fenced completion: was it already done with this very token? */
int wh_ops_completed_by(struct wh_queue *q, int64_t id, int64_t token, int64_t *result_id,
                        struct wh_err *err);

/* The retry delay after the n-th failed attempt: random in [d/2, d] with
 * d = min(max_ms, base_ms * 2^(n-1)); the jitter spreads retries of things
 * that failed together. */
uint32_t wh_backoff_ms(struct wh_queue *q, uint32_t base_ms, uint32_t max_ms, int64_t attempt);

/* records.c: rows into the public structs. */
/* Row callback storing column 0 into *(int64_t *)ctx. */
int wh_row_take_id(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err);
/* Columns: id, token, attempt, max_attempts, lease_expires_at, tenant,
 * normaliser, package_digest, raw_digest, meta, meta_digest, mime, kind. */
int wh_fill_job(struct wh_job *job, const struct wh_qrow *row, struct wh_err *err);
int wh_fill_result_row(struct wh_result_row *r, const struct wh_qrow *row, int first,
                       struct wh_err *err);
void wh_result_row_clear(struct wh_result_row *r);
int wh_fill_dead_row(struct wh_dead_row *d, const struct wh_qrow *row, struct wh_err *err);
int wh_fill_job_info(struct wh_job_info *info, const struct wh_qrow *row, struct wh_err *err);
/* Columns: result_id, job_id, token, attempts, tenant, normaliser,
 * input digest, body, kind. */
int wh_fill_delivery(struct wh_delivery *d, const struct wh_qrow *row, struct wh_err *err);
/* Columns: result_id, job_id, state, attempts, next_attempt_at, updated_at,
 * http_status, tenant, normaliser, last_error, kind. */
int wh_fill_delivery_row(struct wh_delivery_row *r, const struct wh_qrow *row, struct wh_err *err);

/* read.c: the reading side, the same SQL on both backends. */
int wh_read_raw(struct wh_queue *q, const char *digest, void **data, size_t *len,
                struct wh_err *err);
/* tenant NULL: any tenant's result. */
int wh_read_dedup(struct wh_queue *q, const char *dedup_key, const char *tenant, int64_t *result_id,
                  struct wh_err *err);
/* keys[i]: jobs[i]'s dedup key, made by the caller. */
int wh_read_prefetch(struct wh_queue *q, const char *tenant, char (*keys)[WH_DIGEST_BUF],
                     struct wh_job_prefetch *jobs, size_t n, size_t raw_max, struct wh_err *err);
int wh_read_results(struct wh_queue *q, const struct wh_result_filter *f,
                    struct wh_result_row **rows, size_t *n, struct wh_err *err);
int wh_read_dead(struct wh_queue *q, const struct wh_result_filter *f, struct wh_dead_row **rows,
                 size_t *n, struct wh_err *err);
int wh_read_show(struct wh_queue *q, int64_t job_id, struct wh_job_info **info, struct wh_err *err);
int wh_read_stats(struct wh_queue *q, uint32_t stale_ms, struct wh_queue_stats *s,
                  struct wh_err *err);

#endif
