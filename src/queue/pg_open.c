/* The PostgreSQL driver (struct wh_queue_ops): opening a handle, running a
 * statement, transactions. It calls the other pg_*.c files; they call only
 * pg_conn.c, never back into it. */
#include "queue/pg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int pg_exec(struct wh_queue *q, const char *sql, const struct wh_qparam *params, size_t np,
                   wh_row_fn fn, void *ctx, struct wh_err *err)
{
        struct wh_pg *p = (struct wh_pg *)q;
        if (wh_pg_ensure(p, err) < 0)
                return -1;
        const char *name = wh_pg_prepare(p, sql, params, np, err);
        if (!name)
                return -1;
        struct wh_pg_params pp;
        wh_pg_params(&pp, params, np);
        PGresult *res =
            PQexecPrepared(p->conn, name, (int)np, pp.values, pp.lengths, pp.formats, 0);
        ExecStatusType st = PQresultStatus(res);
        int ret = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK
                      ? wh_pg_rows(res, 0, fn, ctx, err)
                      : wh_pg_err(p, res, "running a statement", err);
        PQclear(res);
        return ret;
}

static int simple(struct wh_pg *p, const char *sql, struct wh_err *err)
{
        PGresult *res = PQexec(p->conn, sql);
        int ret = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : wh_pg_err(p, res, sql, err);
        PQclear(res);
        return ret;
}

static int pg_begin(struct wh_queue *q, struct wh_err *err)
{
        struct wh_pg *p = (struct wh_pg *)q;
        return wh_pg_ensure(p, err) < 0 ? -1 : simple(p, "BEGIN", err);
}

static int pg_commit(struct wh_queue *q, struct wh_err *err)
{
        return simple((struct wh_pg *)q, "COMMIT", err);
}

static void pg_rollback(struct wh_queue *q)
{
        struct wh_pg *p = (struct wh_pg *)q;
        if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
                PQclear(PQexec(p->conn, "ROLLBACK"));
}

static void pg_close(struct wh_queue *q)
{
        struct wh_pg *p = (struct wh_pg *)q;
        PQfinish(p->conn);
        free(p);
}

static void quiet(void *arg, const char *message)
{
        /* NOTICEs ("relation already exists, skipping") are not for users. */
        (void)arg;
        (void)message;
}

static const struct wh_queue_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .exec = pg_exec,
    .batch = wh_pg_batch,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .submit = wh_pg_submit,
    .complete = wh_pg_complete,
    .reap = wh_pg_reap,
    .set_statement_timeout = wh_pg_set_statement_timeout,
    .wait_for_jobs = wh_pg_wait_for_jobs,
};

int wh_pg_open(const char *url, bool create, struct wh_queue **q, struct wh_err *err)
{
        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(url, &perr);
        if (!opts) {
                wh_qerr(err, EINVAL, "bad PostgreSQL URL: %s", perr ? perr : "out of memory");
                PQfreemem(perr);
                return -1;
        }
        PQconninfoFree(opts);
        struct wh_pg *p = calloc(1, sizeof(*p));
        if (!p)
                return wh_qerr(err, ENOMEM, "out of memory");
        p->q.ops = &pg_ops;
        p->q.sql = &wh_pg_sql;
        /* Our defaults first: the URL's own settings come later and win. A
         * server that vanishes without a word is noticed by the keepalives. */
        const char *keys[] = {"connect_timeout",
                              "application_name",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "dbname",
                              NULL};
        const char *values[] = {"10", "whiskers", "30", "10", "3", url, NULL};
        p->conn = PQconnectdbParams(keys, values, 1);
        if (!p->conn) {
                free(p);
                return wh_qerr(err, ENOMEM, "out of memory");
        }
        snprintf(p->where, sizeof(p->where), "%s:%s/%s",
                 PQhost(p->conn) && *PQhost(p->conn) ? PQhost(p->conn) : "localhost",
                 PQport(p->conn) && *PQport(p->conn) ? PQport(p->conn) : "5432",
                 PQdb(p->conn) ? PQdb(p->conn) : "?");
        if (PQstatus(p->conn) != CONNECTION_OK) {
                wh_pg_connect_error(p, err);
                pg_close(&p->q);
                return -1;
        }
        PQsetNoticeProcessor(p->conn, quiet, NULL);
        /* After the migrations, which may rightly take longer on a big
         * store. */
        p->statement_timeout_ms = WH_QUEUE_DEFAULT_STATEMENT_TIMEOUT_MS;
        if (wh_pg_migrate(p, create, err) < 0 || wh_pg_apply_timeout(p, err) < 0) {
                pg_close(&p->q);
                return -1;
        }
        *q = &p->q;
        return 0;
}
