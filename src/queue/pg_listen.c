/* PostgreSQL: setting the statement timeout, and waking idle workers with
 * LISTEN/NOTIFY.
 *
 * The timeout is a session setting, so it is set again on every new
 * connection (wh_pg_ensure calls wh_pg_apply_timeout, pg_conn.c, after a
 * reconnect).
 *
 * Wake-ups: the trigger on jobs (pg_schema.c, version 2) NOTIFYs channel
 * whiskers_jobs when jobs become ready now. A handle that waits LISTENs on
 * its own connection and does nothing else, because notifications arrive
 * only between commands and a busy connection would delay them. After
 * (re)connecting the waiter reports a wake-up at once: notifications sent
 * while it was not listening are lost, so the caller claims once to see. */
#include "queue/pg_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>

#define CHANNEL "whiskers_jobs"

int wh_pg_set_statement_timeout(struct wh_queue *q, uint32_t ms, struct wh_err *err)
{
        struct wh_pg *p = (struct wh_pg *)q;
        p->statement_timeout_ms = ms;
        if (wh_pg_ensure(p, err) < 0) /* a reconnect applies it */
                return -1;
        return wh_pg_apply_timeout(p, err);
}

static bool drain(struct wh_pg *p)
{
        bool any = false;
        PGnotify *n;
        while ((n = PQnotifies(p->conn)) != NULL) {
                any = true;
                PQfreemem(n);
        }
        return any;
}

int wh_pg_wait_for_jobs(struct wh_queue *q, int timeout_ms, bool *woken, struct wh_err *err)
{
        struct wh_pg *p = (struct wh_pg *)q;
        if (wh_pg_ensure(p, err) < 0)
                return -1;
        if (!p->listening) {
                PGresult *res = PQexec(p->conn, "LISTEN " CHANNEL);
                int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
                if (!ok)
                        wh_pg_err(p, res, "listening for new jobs", err);
                PQclear(res);
                if (!ok)
                        return -1;
                p->listening = true;
                drain(p);
                *woken = true;
                return 0;
        }
        if (drain(p)) {
                *woken = true;
                return 0;
        }
        struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
        if (pfd.fd < 0)
                return wh_pg_err(p, NULL, "waiting for new jobs", err);
        int rc = poll(&pfd, 1, timeout_ms);
        if (rc < 0 && errno != EINTR)
                return wh_qerr(err, errno, "waiting for new jobs: poll failed");
        if (rc <= 0)
                return 0;
        /* Readable: a notification, or the connection went away (then the
         * next call reconnects and reports a wake-up). */
        if (!PQconsumeInput(p->conn))
                return wh_pg_err(p, NULL, "waiting for new jobs", err);
        *woken = drain(p);
        return 0;
}
