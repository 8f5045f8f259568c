/* PostgreSQL driver: connecting, reconnecting, prepared statements, errors.
 *
 * A broken connection is noticed by the call that hits it (a transient
 * ECONNRESET); the next call reconnects with PQreset. Calls are never
 * retried here: whether a statement whose reply was lost took effect is for
 * the caller to find out (wh_queue_complete does, by its token). */
#include "queue/pg_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT8OID  20
#define TEXTOID  25
#define BYTEAOID 17

static void first_line(const char *msg, char *out, size_t size)
{
        snprintf(out, size, "%s", msg && *msg ? msg : "unknown error");
        out[strcspn(out, "\n")] = '\0';
}

static bool sqlstate_is(const char *state, const char *const *list)
{
        for (; *list; list++)
                if (strncmp(state, *list, strlen(*list)) == 0)
                        return true;
        return false;
}

int wh_pg_err(struct wh_pg *p, PGresult *res, const char *what, struct wh_err *err)
{
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
        char msg[256];
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        first_line(primary ? primary : PQerrorMessage(p->conn), msg, sizeof(msg));
        /* Class 08: connection exceptions; 57P0x: the server is going down
         * or starting up. Both clear up by themselves. */
        static const char *const gone[] = {"08", "57P01", "57P02", "57P03", NULL};
        static const char *const retry[] = {"40001", "40P01", "55P03", "53300", NULL};
        /* 57014: cancelled, here by statement_timeout. Nothing of the
         * statement committed: retry it as after a lost connection. */
        if (state && strcmp(state, "57014") == 0)
                return wh_qerr(err, ETIMEDOUT,
                               "%s: PostgreSQL at %s cancelled a statement that ran past the "
                               "statement timeout of %u ms (%s); retry",
                               what, p->where, p->statement_timeout_ms, msg);
        if (PQstatus(p->conn) == CONNECTION_BAD || (state && sqlstate_is(state, gone)))
                return wh_qerr(err, ECONNRESET,
                               "%s: lost the connection to PostgreSQL at %s (%s); retry once "
                               "the server is back",
                               what, p->where, msg);
        if (!state)
                return wh_qerr(err, EIO, "%s: PostgreSQL at %s: %s", what, p->where, msg);
        if (sqlstate_is(state, retry))
                return wh_qerr(err, EAGAIN, "%s: PostgreSQL asks to retry: %s (SQLSTATE %s)", what,
                               msg, state);
        if (strcmp(state, "53100") == 0)
                return wh_qerr(err, ENOSPC,
                               "%s: PostgreSQL at %s is out of disk space (%s): free space on "
                               "the server",
                               what, p->where, msg);
        if (strcmp(state, "23503") == 0)
                return wh_qerr(err, ENOENT, "%s: %s (%s)", what, msg, detail ? detail : "");
        return wh_qerr(err, EIO, "%s: PostgreSQL: %s (SQLSTATE %s)", what, msg, state);
}

static int connect_error(struct wh_pg *p, struct wh_err *err)
{
        char msg[256];
        first_line(PQerrorMessage(p->conn), msg, sizeof(msg));
        if (PQconnectionNeedsPassword(p->conn) || strstr(msg, "password authentication") ||
            strstr(msg, "pg_hba.conf") || strstr(msg, "role \""))
                return wh_qerr(err, EACCES,
                               "PostgreSQL at %s refused the login (%s): check the user and "
                               "password in --db",
                               p->where, msg);
        if (strstr(msg, "database \"") && strstr(msg, "does not exist"))
                return wh_qerr(err, ENOENT, "PostgreSQL at %s: %s: create it or fix --db", p->where,
                               msg);
        return wh_qerr(err, ECONNREFUSED,
                       "cannot reach PostgreSQL at %s: %s; is the server running?", p->where, msg);
}

int wh_pg_ensure(struct wh_pg *p, struct wh_err *err)
{
        if (PQstatus(p->conn) == CONNECTION_OK)
                return 0;
        p->nstmts = 0;
        p->listening = false;
        PQreset(p->conn);
        if (PQstatus(p->conn) != CONNECTION_OK)
                return connect_error(p, err);
        return wh_pg_apply_timeout(p, err);
}

const char *wh_pg_prepare(struct wh_pg *p, const char *sql, const struct wh_qparam *params,
                          size_t np, struct wh_err *err)
{
        for (size_t i = 0; i < p->nstmts; i++)
                if (p->stmts[i].sql == sql)
                        return p->stmts[i].name;
        if (p->nstmts == WH_PG_STMT_CACHE || np > WH_PG_MAX_PARAMS) {
                wh_qerr(err, E2BIG, "too many statements or parameters");
                return NULL;
        }
        Oid types[WH_PG_MAX_PARAMS];
        for (size_t i = 0; i < np; i++)
                types[i] = params[i].kind == WH_QP_INT    ? INT8OID
                           : params[i].kind == WH_QP_BLOB ? BYTEAOID
                                                          : TEXTOID;
        char *name = p->stmts[p->nstmts].name;
        snprintf(name, sizeof(p->stmts[0].name), "wh%u", p->next_stmt++);
        PGresult *res = PQprepare(p->conn, name, sql, (int)np, types);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
                wh_pg_err(p, res, "preparing a statement", err);
        PQclear(res);
        if (!ok)
                return NULL;
        p->stmts[p->nstmts++].sql = sql;
        return name;
}

void wh_pg_params(struct wh_pg_params *out, const struct wh_qparam *params, size_t np)
{
        for (size_t i = 0; i < np && i < WH_PG_MAX_PARAMS; i++) {
                const struct wh_qparam *q = &params[i];
                out->lengths[i] = 0;
                out->formats[i] = 0;
                if (q->null) {
                        out->values[i] = NULL;
                } else if (q->kind == WH_QP_INT) {
                        snprintf(out->ints[i], sizeof(out->ints[i]), "%" PRId64, q->i);
                        out->values[i] = out->ints[i];
                } else if (q->kind == WH_QP_BLOB) {
                        out->values[i] = q->blob ? q->blob : "";
                        out->lengths[i] = (int)q->len;
                        out->formats[i] = 1;
                } else {
                        out->values[i] = q->text;
                }
        }
}

struct pg_row {
        PGresult *res;
        unsigned char *scratch; /* a decoded bytea, freed after the row */
};

static const char *row_text(const struct wh_qrow *row, int col)
{
        struct pg_row *r = row->impl;
        return PQgetisnull(r->res, row->impl_row, col) ? NULL
                                                       : PQgetvalue(r->res, row->impl_row, col);
}

static int64_t row_int64(const struct wh_qrow *row, int col)
{
        const char *s = row_text(row, col);
        return s ? strtoll(s, NULL, 10) : 0;
}

static const void *row_blob(const struct wh_qrow *row, int col, size_t *len)
{
        struct pg_row *r = row->impl;
        PQfreemem(r->scratch);
        r->scratch = NULL;
        *len = 0;
        const char *s = row_text(row, col);
        if (s)
                r->scratch = PQunescapeBytea((const unsigned char *)s, len);
        return r->scratch;
}

int wh_pg_rows(PGresult *res, size_t set, wh_row_fn fn, void *ctx, struct wh_err *err)
{
        struct pg_row impl = {.res = res};
        struct wh_qrow row = {
            .text = row_text, .int64 = row_int64, .blob = row_blob, .impl = &impl};
        int ret = 0;
        for (int i = 0; fn && i < PQntuples(res) && ret == 0; i++) {
                row.impl_row = i;
                ret = fn(ctx, set, &row, err);
                PQfreemem(impl.scratch);
                impl.scratch = NULL;
        }
        return ret;
}

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
                connect_error(p, err);
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
