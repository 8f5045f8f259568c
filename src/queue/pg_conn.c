/* PostgreSQL connections: reconnecting, the session's statement timeout,
 * prepared statements, rows, errors. The driver that opens a handle and
 * runs statements on it is pg_open.c.
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

int wh_pg_connect_error(struct wh_pg *p, struct wh_err *err)
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
                return wh_pg_connect_error(p, err);
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

int wh_pg_apply_timeout(struct wh_pg *p, struct wh_err *err)
{
        char sql[64];
        snprintf(sql, sizeof(sql), "SET statement_timeout = %u", p->statement_timeout_ms);
        PGresult *res = PQexec(p->conn, sql);
        int ret = PQresultStatus(res) == PGRES_COMMAND_OK
                      ? 0
                      : wh_pg_err(p, res, "setting the statement timeout", err);
        PQclear(res);
        return ret;
}
