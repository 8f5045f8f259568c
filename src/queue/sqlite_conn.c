/* SQLite driver: one connection per handle, WAL, a statement cache (its
 * errors in the store's classes: sqlite_err.c).
 *
 * Writers serialise on SQLite's single write lock: every write transaction
 * starts with BEGIN IMMEDIATE so it takes that lock up front, under the busy
 * timeout, instead of failing later when upgrading a read lock. */
#include "queue/sqlite_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void now_ms_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
        (void)argc;
        (void)argv;
        sqlite3_result_int64(ctx, wh_sqlite_now_ms());
}

static sqlite3_stmt *cached(struct wh_sqlite *s, const char *sql, struct wh_err *err)
{
        for (size_t i = 0; i < s->nstmts; i++)
                if (s->stmts[i].sql == sql)
                        return s->stmts[i].stmt;
        if (s->nstmts == WH_SQLITE_STMT_CACHE) {
                wh_qerr(err, ENOMEM, "statement cache full");
                return NULL;
        }
        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
        if (rc != SQLITE_OK) {
                wh_sqlite_err(s, rc, "preparing a statement", err);
                return NULL;
        }
        s->stmts[s->nstmts].sql = sql;
        s->stmts[s->nstmts].stmt = stmt;
        s->nstmts++;
        return stmt;
}

static int bind_one(sqlite3_stmt *stmt, int idx, const struct wh_qparam *p)
{
        if (p->null)
                return sqlite3_bind_null(stmt, idx);
        switch (p->kind) {
        case WH_QP_TEXT:
                return sqlite3_bind_text(stmt, idx, p->text, -1, SQLITE_STATIC);
        case WH_QP_INT:
                return sqlite3_bind_int64(stmt, idx, p->i);
        case WH_QP_BLOB:
                break;
        }
        return sqlite3_bind_blob64(stmt, idx, p->blob, p->len, SQLITE_STATIC);
}

/* Parameters are named $1, $2... as on PostgreSQL; SQLite numbers named
 * parameters by first appearance, so bind by name, not position. */
static int bind(struct wh_sqlite *s, sqlite3_stmt *stmt, const struct wh_qparam *p, size_t np,
                struct wh_err *err)
{
        for (size_t i = 0; i < np; i++) {
                char name[24];
                snprintf(name, sizeof(name), "$%zu", i + 1);
                int idx = sqlite3_bind_parameter_index(stmt, name);
                if (idx == 0)
                        continue; /* this statement does not use $i */
                int rc = bind_one(stmt, idx, &p[i]);
                if (rc != SQLITE_OK)
                        return wh_sqlite_err(s, rc, "binding a parameter", err);
        }
        return 0;
}

static const char *row_text(const struct wh_qrow *row, int col)
{
        return (const char *)sqlite3_column_text(row->impl, col);
}

static int64_t row_int64(const struct wh_qrow *row, int col)
{
        return sqlite3_column_int64(row->impl, col);
}

static const void *row_blob(const struct wh_qrow *row, int col, size_t *len)
{
        const void *p = sqlite3_column_blob(row->impl, col);
        *len = (size_t)sqlite3_column_bytes(row->impl, col);
        return p;
}

static int run(struct wh_sqlite *s, const char *sql, const struct wh_qparam *params, size_t np,
               size_t set, wh_row_fn fn, void *ctx, struct wh_err *err)
{
        sqlite3_stmt *stmt = cached(s, sql, err);
        if (!stmt)
                return -1;
        int ret = bind(s, stmt, params, np, err);
        struct wh_qrow row = {.text = row_text, .int64 = row_int64, .blob = row_blob, .impl = stmt};
        while (ret == 0) {
                int rc = sqlite3_step(stmt);
                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW) {
                        ret = wh_sqlite_err(s, rc, "running a statement", err);
                        break;
                }
                if (fn && fn(ctx, set, &row, err) < 0)
                        ret = -1;
        }
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return ret;
}

static int sqlite_exec(struct wh_queue *q, const char *sql, const struct wh_qparam *params,
                       size_t np, wh_row_fn fn, void *ctx, struct wh_err *err)
{
        return run((struct wh_sqlite *)q, sql, params, np, 0, fn, ctx, err);
}

static int sqlite_begin(struct wh_queue *q, struct wh_err *err)
{
        return run((struct wh_sqlite *)q, "BEGIN IMMEDIATE", NULL, 0, 0, NULL, NULL, err);
}

static int sqlite_commit(struct wh_queue *q, struct wh_err *err)
{
        struct wh_sqlite *s = (struct wh_sqlite *)q;
        if (run(s, "COMMIT", NULL, 0, 0, NULL, NULL, err) < 0) {
                /* A failed COMMIT (disk full) leaves the transaction open. */
                if (!sqlite3_get_autocommit(s->db))
                        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return -1;
        }
        return 0;
}

static void sqlite_rollback(struct wh_queue *q)
{
        struct wh_sqlite *s = (struct wh_sqlite *)q;
        if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sqlite_batch(struct wh_queue *q, const char *sql, const struct wh_qparam *params,
                        size_t np, size_t nsets, wh_row_fn fn, void *ctx, struct wh_err *err)
{
        struct wh_sqlite *s = (struct wh_sqlite *)q;
        if (sqlite_begin(q, err) < 0)
                return -1;
        for (size_t i = 0; i < nsets; i++) {
                if (run(s, sql, params + i * np, np, i, fn, ctx, err) < 0) {
                        sqlite_rollback(q);
                        return -1;
                }
        }
        return sqlite_commit(q, err);
}

/* SQLite statements wait only for the write lock, bounded by the busy
 * timeout: there is no server-side statement to cancel. */
static int sqlite_set_statement_timeout(struct wh_queue *q, uint32_t ms, struct wh_err *err)
{
        (void)q;
        (void)ms;
        (void)err;
        return 0;
}

static void sqlite_close(struct wh_queue *q)
{
        struct wh_sqlite *s = (struct wh_sqlite *)q;
        for (size_t i = 0; i < s->nstmts; i++)
                sqlite3_finalize(s->stmts[i].stmt);
        sqlite3_close(s->db);
        free(s->path);
        free(s);
}

static const struct wh_queue_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .exec = sqlite_exec,
    .batch = sqlite_batch,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .submit = wh_sqlite_submit,
    .complete = wh_sqlite_complete,
    .reap = wh_sqlite_reap,
    .set_statement_timeout = sqlite_set_statement_timeout,
    .wait_for_jobs = NULL,
};

int wh_sqlite_open(const char *path, bool create, struct wh_queue **q, struct wh_err *err)
{
        struct wh_sqlite *s = calloc(1, sizeof(*s));
        if (!s || !(s->path = strdup(path))) {
                free(s);
                return wh_qerr(err, ENOMEM, "out of memory");
        }
        s->q.ops = &sqlite_ops;
        s->q.sql = &wh_sqlite_sql;
        /* EXRESCODE: extended result codes tell a foreign key violation
         * (a missing raw blob) from other constraint failures. */
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
        if (!create && access(path, F_OK) < 0 && errno == ENOENT) {
                wh_qerr(err, ENOENT,
                        "there is no job store at %s (no such file): check --db or "
                        "$WHISKERS_DB; 'whiskers submit' or 'whiskers worker' creates one",
                        path);
                sqlite_close(&s->q);
                return -1;
        }
        int rc = sqlite3_open_v2(path, &s->db, flags | (create ? SQLITE_OPEN_CREATE : 0), NULL);
        if (rc != SQLITE_OK) {
                wh_sqlite_err(s, rc, "opening the job store", err);
                sqlite_close(&s->q);
                return -1;
        }
        sqlite3_busy_timeout(s->db, WH_SQLITE_BUSY_TIMEOUT_MS);
        rc = sqlite3_create_function(s->db, "wh_now_ms", 0, SQLITE_UTF8, NULL, now_ms_fn, NULL,
                                     NULL);
        if (rc != SQLITE_OK || wh_sqlite_migrate(s, create, err) < 0) {
                if (rc != SQLITE_OK)
                        wh_sqlite_err(s, rc, "registering wh_now_ms()", err);
                sqlite_close(&s->q);
                return -1;
        }
        *q = &s->q;
        return 0;
}
