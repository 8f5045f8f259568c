/* One statement over many parameter sets, atomically, in few round trips:
 * libpq's pipeline mode inside BEGIN ... COMMIT.
 *
 * Sets go out in chunks, each followed by a sync whose results are read
 * before the next chunk is sent: the server's replies can then never fill
 * the socket while we are still writing (the deadlock the libpq manual warns
 * of). The explicit transaction keeps the chunks one unit; on any error it
 * is rolled back. The COMMIT goes out with the last chunk, before its sync:
 * a batch of up to CHUNK sets is one round trip. A set that fails makes the
 * server skip everything after it up to the sync, the COMMIT included, and
 * the transaction is left aborted for the ROLLBACK below. */
#include "queue/pg_internal.h"

#include <errno.h>

#define CHUNK 64

struct batch {
        struct wh_pg *p;
        wh_row_fn fn;
        void *ctx;
        struct wh_err *err;
        bool failed;
};

/* Read one queued query's result. The first error wins; later queries of
 * the chunk come back aborted and are only drained. */
static void read_one(struct batch *b, size_t set, bool is_set)
{
        PGresult *res = PQgetResult(b->p->conn);
        if (!res) {
                if (!b->failed)
                        wh_pg_err(b->p, NULL, "running a batch", b->err);
                b->failed = true;
                return;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
                if (!b->failed && is_set && wh_pg_rows(res, set, b->fn, b->ctx, b->err) < 0)
                        b->failed = true;
        } else if (st != PGRES_PIPELINE_ABORTED && !b->failed) {
                wh_pg_err(b->p, res, "running a batch", b->err);
                b->p->failed_set = set;
                b->failed = true;
        }
        PQclear(res);
        /* Each query's results end with a NULL. */
        while ((res = PQgetResult(b->p->conn)) != NULL)
                PQclear(res);
}

static void read_sync(struct batch *b)
{
        PGresult *res = PQgetResult(b->p->conn);
        if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
                if (!b->failed)
                        wh_pg_err(b->p, res, "ending a batch", b->err);
                b->failed = true;
        }
        PQclear(res);
}

static int send_failed(struct batch *b)
{
        if (!b->failed)
                wh_pg_err(b->p, NULL, "sending a batch", b->err);
        b->failed = true;
        return -1;
}

static int run_chunks(struct batch *b, const char *name, const struct wh_qparam *params, size_t np,
                      size_t nsets)
{
        PGconn *c = b->p->conn;
        if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
                return send_failed(b);
        bool begin_pending = true;
        for (size_t start = 0; start < nsets && !b->failed; start += CHUNK) {
                size_t end = start + CHUNK < nsets ? start + CHUNK : nsets;
                for (size_t i = start; i < end; i++) {
                        struct wh_pg_params pp;
                        wh_pg_params(&pp, params + i * np, np);
                        if (!PQsendQueryPrepared(c, name, (int)np, pp.values, pp.lengths,
                                                 pp.formats, 0))
                                return send_failed(b);
                }
                bool last = end == nsets;
                if (last && !PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
                        return send_failed(b);
                if (!PQpipelineSync(c))
                        return send_failed(b);
                if (begin_pending)
                        read_one(b, 0, false);
                begin_pending = false;
                for (size_t i = start; i < end; i++)
                        read_one(b, i, true);
                if (last)
                        read_one(b, 0, false);
                read_sync(b);
        }
        return b->failed ? -1 : 0;
}

int wh_pg_batch(struct wh_queue *q, const char *sql, const struct wh_qparam *params, size_t np,
                size_t nsets, wh_row_fn fn, void *ctx, struct wh_err *err)
{
        struct wh_pg *p = (struct wh_pg *)q;
        p->failed_set = 0;
        if (nsets == 0)
                return 0;
        if (nsets == 1) /* one statement is atomic by itself: one round trip */
                return q->ops->exec(q, sql, params, np, fn, ctx, err);
        if (wh_pg_ensure(p, err) < 0)
                return -1;
        const char *name = wh_pg_prepare(p, sql, params, np, err);
        if (!name)
                return -1;
        if (!PQenterPipelineMode(p->conn))
                return wh_pg_err(p, NULL, "entering pipeline mode", err);
        struct batch b = {.p = p, .fn = fn, .ctx = ctx, .err = err};
        int ret = run_chunks(&b, name, params, np, nsets);
        if (PQstatus(p->conn) != CONNECTION_OK)
                return -1; /* the next call reconnects, which ends the pipeline */
        if (!PQexitPipelineMode(p->conn)) {
                /* Results still queued after a failed send: start afresh. */
                p->nstmts = 0;
                PQreset(p->conn);
                return -1;
        }
        if (ret < 0 && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
                PQclear(PQexec(p->conn, "ROLLBACK"));
        return ret;
}
