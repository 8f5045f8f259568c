/* The PostgreSQL backend's handle and the functions its files share. */
#ifndef WH_QUEUE_PG_INTERNAL_H
#define WH_QUEUE_PG_INTERNAL_H

#include <libpq-fe.h>

#include "queue/backend.h"

#define WH_PG_STMT_CACHE 48
#define WH_PG_MAX_PARAMS 16

struct wh_pg {
        struct wh_queue q; /* first: the handle is cast both ways */
        PGconn *conn;
        char where[256]; /* host:port/database for messages; never the password */
        /* Prepared statements by the address of their SQL text; they die
         * with the connection, so a reconnect empties the cache. */
        struct {
                const char *sql;
                char name[16];
        } stmts[WH_PG_STMT_CACHE];
        size_t nstmts;
        unsigned next_stmt;
        size_t failed_set;             /* the batch set whose statement failed */
        uint32_t statement_timeout_ms; /* set again after a reconnect */
        bool listening;                /* LISTEN issued on this connection (pg_listen.c) */
};

extern const struct wh_queue_sql wh_pg_sql;

/* Map a failed result (or a dead connection when res is NULL) to err. */
int wh_pg_err(struct wh_pg *p, PGresult *res, const char *what, struct wh_err *err);
/* Reconnect if the connection broke; transient error if that fails. */
int wh_pg_ensure(struct wh_pg *p, struct wh_err *err);
/* err from a connection that failed to open: a refused login, a missing
 * database, or a server that cannot be reached (transient). */
int wh_pg_connect_error(struct wh_pg *p, struct wh_err *err);
/* The prepared statement's name for sql, preparing it on first use. */
const char *wh_pg_prepare(struct wh_pg *p, const char *sql, const struct wh_qparam *params,
                          size_t np, struct wh_err *err);

/* Parameters as libpq wants them: text, except blobs in binary. */
struct wh_pg_params {
        const char *values[WH_PG_MAX_PARAMS];
        int lengths[WH_PG_MAX_PARAMS];
        int formats[WH_PG_MAX_PARAMS];
        char ints[WH_PG_MAX_PARAMS][24];
};
void wh_pg_params(struct wh_pg_params *out, const struct wh_qparam *params, size_t np);
/* Hand each row of res to fn. */
int wh_pg_rows(PGresult *res, size_t set, wh_row_fn fn, void *ctx, struct wh_err *err);

int wh_pg_batch(struct wh_queue *q, const char *sql, const struct wh_qparam *params, size_t np,
                size_t nsets, wh_row_fn fn, void *ctx, struct wh_err *err);
int wh_pg_migrate(struct wh_pg *p, bool create, struct wh_err *err);

int wh_pg_submit(struct wh_queue *q, const struct wh_job_spec *specs, char **metas,
                 char (*meta_digests)[WH_DIGEST_BUF], size_t n, int64_t *ids, struct wh_err *err);
int wh_pg_complete(struct wh_queue *q, const struct wh_job_completion *c,
                   char (*dedup_keys)[WH_DIGEST_BUF], const struct wh_follow_ups *follow, size_t n,
                   int64_t *result_ids, struct wh_err *err);
int wh_pg_reap(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err);
/* pg_conn.c: set the session's statement timeout (again after a reconnect). */
int wh_pg_apply_timeout(struct wh_pg *p, struct wh_err *err);
/* pg_listen.c: changing the statement timeout, LISTEN/NOTIFY wake-ups. */
int wh_pg_set_statement_timeout(struct wh_queue *q, uint32_t ms, struct wh_err *err);
int wh_pg_wait_for_jobs(struct wh_queue *q, int timeout_ms, bool *woken, struct wh_err *err);

#endif
