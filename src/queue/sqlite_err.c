/* SQLite's answers in the job store's words: result codes mapped to the
 * store's error classes (backend.h), and the clock rows are stamped with.
 * Apart from the driver (sqlite_conn.c) so that the files the driver calls
 * (sqlite_ops.c, sqlite_schema.c) do not call back into it. */
#include "queue/sqlite_internal.h"

#include <errno.h>
#include <time.h>

int64_t wh_sqlite_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wh_sqlite_err(struct wh_sqlite *s, int rc, const char *what, struct wh_err *err)
{
        const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return wh_qerr(err, EBUSY,
                               "%s: %s is locked by another process for more than %d ms (%s); "
                               "retry",
                               what, s->path, WH_SQLITE_BUSY_TIMEOUT_MS, msg);
        case SQLITE_FULL:
                return wh_qerr(err, ENOSPC, "%s: the disk holding %s is full (%s): free space",
                               what, s->path, msg);
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return wh_qerr(err, EUCLEAN,
                               "%s: %s is not a whiskers database or is corrupt (%s); whiskers "
                               "left it untouched: restore it from a backup or move it aside",
                               what, s->path, msg);
        case SQLITE_CANTOPEN:
                return wh_qerr(err, ENOENT,
                               "%s: cannot open %s (%s): does its directory exist and is it "
                               "writable?",
                               what, s->path, msg);
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return wh_qerr(err, EACCES, "%s: %s is not writable (%s)", what, s->path, msg);
        case SQLITE_CONSTRAINT:
                if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                        return wh_qerr(err, ENOENT, "%s: a referenced record does not exist (%s)",
                                       what, msg);
                return wh_qerr(err, EINVAL, "%s: %s", what, msg);
        case SQLITE_NOMEM:
                return wh_qerr(err, ENOMEM, "%s: out of memory", what);
        default:
                return wh_qerr(err, EIO, "%s: SQLite error on %s: %s", what, s->path, msg);
        }
}
