/* PostgreSQL's side of the operations whose SQL differs from SQLite's.
 *
 * Data-modifying CTEs make a submission, a completion and a reap one
 * statement each; batches of them go through the pipeline (pg_batch.c), so
 * completing a hundred jobs costs a few round trips, not a hundred. */
#include "queue/pg_internal.h"

#include <errno.h>
#include <stdlib.h>

const struct wh_queue_sql wh_pg_sql = {
    /* SKIP LOCKED: concurrent claimers pass over each other's rows instead
     * of queueing behind them; the partial index jobs_ready makes finding
     * the first ready rows O(log n). */
    .claim = "WITH c AS ("
             " UPDATE jobs SET state = 1, attempt = attempt + 1, token = token + 1,"
             "  lease_owner = $1, lease_expires_at = wh_now_ms() + $2"
             " WHERE id IN (SELECT id FROM jobs WHERE state = 0 AND available_at <= wh_now_ms()"
             "  ORDER BY priority DESC, available_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
             " RETURNING id, token, attempt, max_attempts, lease_expires_at, tenant)"
             " SELECT c.id, c.token, c.attempt, c.max_attempts, c.lease_expires_at, c.tenant,"
             " p.normaliser, p.package_digest, p.raw_digest, p.meta, p.meta_digest, p.mime,"
             " p.kind FROM c JOIN job_payload p ON p.job_id = c.id",
    .fail_lock = "SELECT attempt, max_attempts FROM jobs WHERE id = $1 AND token = $2"
                 " AND state = 1 AND lease_expires_at >= wh_now_ms() FOR UPDATE",
    /* As the job claim: SKIP LOCKED over the partial index deliveries_due.
     * A reuse has no body of its own: deliver the one it reuses. */
    .claim_deliveries =
        "WITH c AS ("
        " UPDATE deliveries SET token = token + 1, attempts = attempts + 1,"
        "  next_attempt_at = wh_now_ms() + $1, updated_at = wh_now_ms()"
        " WHERE result_id IN (SELECT result_id FROM deliveries"
        "  WHERE state = 0 AND next_attempt_at <= wh_now_ms()"
        "  ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " RETURNING result_id, job_id, token, attempts, tenant)"
        " SELECT c.result_id, c.job_id, c.token, c.attempts, c.tenant, p.normaliser,"
        " p.raw_digest, b.output, p.kind FROM c JOIN results r ON r.id = c.result_id"
        " JOIN job_payload p ON p.job_id = c.job_id"
        " JOIN result_body b ON b.result_id = coalesce(r.reused_from, r.id)",
};

static const char submit_sql[] =
    "WITH j AS (INSERT INTO jobs (state, priority, attempt, max_attempts, token, available_at,"
    " tenant, lost_leases, max_lost_leases) VALUES (0, $1, 0, $2, 0, wh_now_ms(), $3, 0, $10)"
    " RETURNING id)"
    " INSERT INTO job_payload (job_id, normaliser, package_digest, raw_digest, meta,"
    " meta_digest, mime, kind, submitted_at) SELECT id, $4, $5, $6, $7, $8, $9, $11,"
    " wh_now_ms() FROM j RETURNING job_id";

static int take_set_id(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)err;
        ((int64_t *)ctx)[set] = row->int64(row, 0);
        return 0;
}

enum { SUBMIT_NP = 11 };

static void submit_params(struct wh_qparam *row, const struct wh_job_spec *s, const char *meta,
                          const char *meta_digest)
{
        row[0] = qp_int(s->priority);
        row[1] = qp_int(s->max_attempts);
        row[2] = qp_text(s->tenant);
        row[3] = qp_text(s->normaliser);
        row[4] = qp_text(s->package_digest);
        row[5] = qp_text(s->raw_digest);
        row[6] = qp_text(meta);
        row[7] = qp_text(meta_digest);
        row[8] = qp_text(s->mime);
        row[9] = qp_int(s->max_lost_leases);
        row[10] = qp_text(wh_job_kind_name(s->kind));
}

int wh_pg_submit(struct wh_queue *q, const struct wh_job_spec *specs, char **metas,
                 char (*meta_digests)[WH_DIGEST_BUF], size_t n, int64_t *ids, struct wh_err *err)
{
        enum { NP = SUBMIT_NP };
        struct wh_qparam *p = calloc(n * NP, sizeof(*p));
        if (!p)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
                submit_params(p + i * NP, &specs[i], metas[i], meta_digests[i]);
        int ret = q->ops->batch(q, submit_sql, p, NP, n, take_set_id, ids, err);
        free(p);
        if (ret < 0 && err->kind == WH_ERR_NOT_FOUND)
                return wh_qerr(err, ENOENT,
                               "raw blob %s is not in the store: put the raw file first",
                               specs[((struct wh_pg *)q)->failed_set].raw_digest);
        return ret;
}

/* Fence, result row, body and outbox row in one statement. A fenced
 * completion updates nothing and returns no row. The body and outbox CTEs
 * run although nothing reads them. */
static const char complete_sql[] =
    "WITH done AS (UPDATE jobs SET state = 2, lease_owner = NULL, lease_expires_at = NULL"
    " WHERE id = $1 AND token = $2 AND state = 1 AND lease_expires_at >= wh_now_ms()"
    " RETURNING id, tenant),"
    " r AS (INSERT INTO results (job_id, token, tenant, outcome, worker, dedup_key,"
    " package_digest, input_digest, meta_digest, policy_hash, reused_from, created_at)"
    " SELECT id, $2, tenant, $3, $4, $5, $6, $7, $8, $9, $10, wh_now_ms() FROM done"
    " RETURNING id, tenant),"
    " b AS (INSERT INTO result_body (result_id, output, provenance)"
    " SELECT id, $11, $12 FROM r WHERE $10 IS NULL),"
    " d AS (INSERT INTO deliveries (result_id, job_id, tenant, state, attempts, token,"
    " next_attempt_at, created_at, updated_at)"
    " SELECT id, $1, tenant, 0, 0, 0, wh_now_ms(), wh_now_ms(), wh_now_ms() FROM r WHERE $13 = 1)"
    " SELECT id FROM r";

/* Completions that make jobs: each completion's statement, then, when it
 * held its lease, its follow-up jobs, all in one transaction. */
static int complete_with_follow_ups(struct wh_queue *q, const struct wh_qparam *p, size_t np,
                                    const struct wh_follow_ups *follow, size_t n,
                                    int64_t *result_ids, struct wh_err *err)
{
        if (q->ops->begin(q, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (q->ops->exec(q, complete_sql, p + i * np, np, wh_row_take_id, &result_ids[i],
                                 err) < 0)
                        goto fail;
                for (size_t k = 0; result_ids[i] && k < follow[i].n; k++) {
                        struct wh_qparam row[SUBMIT_NP];
                        int64_t id;
                        submit_params(row, &follow[i].specs[k], follow[i].metas[k],
                                      follow[i].meta_digests[k]);
                        if (q->ops->exec(q, submit_sql, row, SUBMIT_NP, wh_row_take_id, &id, err) <
                            0)
                                goto fail;
                }
        }
        return q->ops->commit(q, err);
fail:
        q->ops->rollback(q);
        return -1;
}

int wh_pg_complete(struct wh_queue *q, const struct wh_job_completion *c,
                   char (*dedup_keys)[WH_DIGEST_BUF], const struct wh_follow_ups *follow, size_t n,
                   int64_t *result_ids, struct wh_err *err)
{
        enum { NP = 13 };
        struct wh_qparam *p = calloc(n * NP, sizeof(*p));
        if (!p)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const struct wh_dedup_key *k = c[i].key;
                struct wh_qparam *row = p + i * NP;
                row[0] = qp_int(c[i].id);
                row[1] = qp_int(c[i].token);
                row[2] = qp_text(c[i].outcome);
                row[3] = qp_text(c[i].worker_id);
                row[4] = qp_text(dedup_keys[i][0] ? dedup_keys[i] : NULL);
                row[5] = qp_text(k ? k->package_digest : NULL);
                row[6] = qp_text(k ? k->input_digest : NULL);
                row[7] = qp_text(k ? k->meta_digest : NULL);
                row[8] = qp_text(k ? k->policy_hash : NULL);
                row[9] = qp_id_or_null(c[i].reused_from);
                row[10] = qp_text(c[i].output_json);
                row[11] = qp_text(c[i].provenance_json);
                row[12] = qp_int(c[i].deliver);
                result_ids[i] = 0;
        }
        int ret = follow ? complete_with_follow_ups(q, p, NP, follow, n, result_ids, err)
                         : q->ops->batch(q, complete_sql, p, NP, n, take_set_id, result_ids, err);
        free(p);
        return ret;
}

/* Expired leases back to the queue with the attempt given back and the
 * lost worker counted, or to the dead letter table when the job has lost
 * max_lost_leases workers (wh_queue_reap); a status record names the lost
 * worker. At most 1000 per call, skipping rows another reaper holds. */
static const char reap_sql[] =
    "WITH expired AS (SELECT id, lease_owner, attempt FROM jobs"
    " WHERE state = 1 AND lease_expires_at < wh_now_ms()"
    " ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED),"
    " moved AS (UPDATE jobs j SET lost_leases = j.lost_leases + 1,"
    " state = CASE WHEN j.lost_leases + 1 < j.max_lost_leases THEN 0 ELSE 3 END,"
    " attempt = CASE WHEN j.lost_leases + 1 < j.max_lost_leases THEN j.attempt - 1"
    " ELSE j.attempt END,"
    " available_at = wh_now_ms(), lease_owner = NULL, lease_expires_at = NULL"
    " FROM expired e WHERE j.id = e.id RETURNING j.id, j.state, j.tenant, e.attempt,"
    " j.lost_leases, json_build_object('status', 'lease_expired', 'worker', e.lease_owner,"
    " 'attempt', e.attempt, 'lost_leases', j.lost_leases)::text AS status),"
    " st AS (UPDATE job_payload p SET last_status = m.status FROM moved m WHERE p.job_id = m.id),"
    " dl AS (INSERT INTO dead_letter (job_id, tenant, attempts, reason, last_status, created_at)"
    " SELECT id, tenant, attempt, 'lost its worker ' || lost_leases ||"
    " ' times (lease expired): it may be what kills them', status, wh_now_ms()"
    " FROM moved WHERE state = 3)"
    " SELECT count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 3) FROM moved";

struct reaped {
        size_t requeued, dead;
};

static int take_counts(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)err;
        struct reaped *r = ctx;
        r->requeued = (size_t)row->int64(row, 0);
        r->dead = (size_t)row->int64(row, 1);
        return 0;
}

int wh_pg_reap(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err)
{
        struct reaped r = {0, 0};
        if (q->ops->exec(q, reap_sql, NULL, 0, take_counts, &r, err) < 0)
                return -1;
        *requeued = r.requeued;
        *dead = r.dead;
        return 0;
}
