/* The SQLite backend's handle and the functions its files share. */
#ifndef WH_QUEUE_SQLITE_INTERNAL_H
#define WH_QUEUE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "queue/backend.h"

#define WH_SQLITE_STMT_CACHE 48

struct wh_sqlite {
        struct wh_queue q; /* first: the handle is cast both ways */
        sqlite3 *db;
        char *path;
        struct {
                const char *sql;
                sqlite3_stmt *stmt;
        } stmts[WH_SQLITE_STMT_CACHE];
        size_t nstmts;
};

extern const struct wh_queue_sql wh_sqlite_sql;

/* How long a writer waits for another process's write lock before the call
 * fails with a transient EBUSY. */
#define WH_SQLITE_BUSY_TIMEOUT_MS 10000

/* sqlite_err.c: the wall clock in ms, and err from an SQLite result code
 * (returns -1). */
int64_t wh_sqlite_now_ms(void);
int wh_sqlite_err(struct wh_sqlite *s, int rc, const char *what, struct wh_err *err);
int wh_sqlite_migrate(struct wh_sqlite *s, bool create, struct wh_err *err);

int wh_sqlite_submit(struct wh_queue *q, const struct wh_job_spec *specs, char **metas,
                     char (*meta_digests)[WH_DIGEST_BUF], size_t n, int64_t *ids,
                     struct wh_err *err);
int wh_sqlite_complete(struct wh_queue *q, const struct wh_job_completion *c,
                       char (*dedup_keys)[WH_DIGEST_BUF], const struct wh_follow_ups *follow,
                       size_t n, int64_t *result_ids, struct wh_err *err);
int wh_sqlite_reap(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err);

#endif
