/* SQLite's side of the operations whose SQL differs from PostgreSQL's.
 *
 * SQLite has no data-modifying CTEs, so a submission or completion is a few
 * statements inside one BEGIN IMMEDIATE transaction; the write lock makes
 * that as atomic as PostgreSQL's single statement. */
#include "queue/sqlite_internal.h"

#include <errno.h>

const struct wh_queue_sql wh_sqlite_sql = {
    /* One statement under SQLite's write lock: nobody else can claim the
     * same rows. RETURNING may not join, so the payload comes from scalar
     * subqueries (primary-key lookups). */
    .claim = "UPDATE jobs SET state = 1, attempt = attempt + 1, token = token + 1,"
             " lease_owner = $1, lease_expires_at = wh_now_ms() + $2"
             " WHERE id IN (SELECT id FROM jobs WHERE state = 0 AND available_at <= wh_now_ms()"
             "  ORDER BY priority DESC, available_at, id LIMIT $3)"
             " RETURNING id, token, attempt, max_attempts, lease_expires_at, tenant,"
             " (SELECT normaliser FROM job_payload WHERE job_id = jobs.id),"
             " (SELECT package_digest FROM job_payload WHERE job_id = jobs.id),"
             " (SELECT raw_digest FROM job_payload WHERE job_id = jobs.id),"
             " (SELECT meta FROM job_payload WHERE job_id = jobs.id),"
             " (SELECT meta_digest FROM job_payload WHERE job_id = jobs.id),"
             " (SELECT mime FROM job_payload WHERE job_id = jobs.id),"
             " (SELECT kind FROM job_payload WHERE job_id = jobs.id)",
    .fail_lock = "SELECT attempt, max_attempts FROM jobs WHERE id = $1 AND token = $2"
                 " AND state = 1 AND lease_expires_at >= wh_now_ms()",
    /* A reuse has no body of its own: deliver the one it reuses. */
    .claim_deliveries =
        "UPDATE deliveries SET token = token + 1, attempts = attempts + 1,"
        " next_attempt_at = wh_now_ms() + $1, updated_at = wh_now_ms()"
        " WHERE result_id IN (SELECT result_id FROM deliveries"
        "  WHERE state = 0 AND next_attempt_at <= wh_now_ms() ORDER BY next_attempt_at LIMIT $2)"
        " RETURNING result_id, job_id, token, attempts, tenant,"
        " (SELECT normaliser FROM job_payload WHERE job_id = deliveries.job_id),"
        " (SELECT raw_digest FROM job_payload WHERE job_id = deliveries.job_id),"
        " (SELECT b.output FROM results r JOIN result_body b"
        "  ON b.result_id = coalesce(r.reused_from, r.id) WHERE r.id = deliveries.result_id),"
        " (SELECT kind FROM job_payload WHERE job_id = deliveries.job_id)",
};

static const char insert_job[] =
    "INSERT INTO jobs (state, priority, attempt, max_attempts, token, available_at, tenant,"
    " lost_leases, max_lost_leases) VALUES (0, $1, 0, $2, 0, wh_now_ms(), $3, 0, $4)"
    " RETURNING id";
static const char insert_payload[] =
    "INSERT INTO job_payload (job_id, normaliser, package_digest, raw_digest, meta,"
    " meta_digest, mime, kind, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
    " wh_now_ms())";

static int submit_one(struct wh_queue *q, const struct wh_job_spec *s, const char *meta,
                      const char *meta_digest, int64_t *id, struct wh_err *err)
{
        struct wh_qparam job[] = {qp_int(s->priority), qp_int(s->max_attempts), qp_text(s->tenant),
                                  qp_int(s->max_lost_leases)};
        *id = 0;
        if (q->ops->exec(q, insert_job, job, 4, wh_row_take_id, id, err) < 0)
                return -1;
        struct wh_qparam payload[] = {qp_int(*id),
                                      qp_text(s->normaliser),
                                      qp_text(s->package_digest),
                                      qp_text(s->raw_digest),
                                      qp_text(meta),
                                      qp_text(meta_digest),
                                      qp_text(s->mime),
                                      qp_text(wh_job_kind_name(s->kind))};
        if (q->ops->exec(q, insert_payload, payload, 8, NULL, NULL, err) < 0) {
                if (err->kind == WH_ERR_NOT_FOUND)
                        return wh_qerr(err, ENOENT,
                                       "raw blob %s is not in the store: put the raw file first",
                                       s->raw_digest);
                return -1;
        }
        return 0;
}

int wh_sqlite_submit(struct wh_queue *q, const struct wh_job_spec *specs, char **metas,
                     char (*meta_digests)[WH_DIGEST_BUF], size_t n, int64_t *ids,
                     struct wh_err *err)
{
        if (q->ops->begin(q, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (submit_one(q, &specs[i], metas[i], meta_digests[i], &ids[i], err) < 0) {
                        q->ops->rollback(q);
                        return -1;
                }
        }
        return q->ops->commit(q, err);
}

static const char fence_done[] =
    "UPDATE jobs SET state = 2, lease_owner = NULL, lease_expires_at = NULL"
    " WHERE id = $1 AND token = $2 AND state = 1 AND lease_expires_at >= wh_now_ms()"
    " RETURNING tenant";
static const char insert_result[] =
    "INSERT INTO results (job_id, token, tenant, outcome, worker, dedup_key, package_digest,"
    " input_digest, meta_digest, policy_hash, reused_from, created_at)"
    " SELECT $1, $2, tenant, $3, $4, $5, $6, $7, $8, $9, $10, wh_now_ms()"
    " FROM jobs WHERE id = $1 RETURNING id";
static const char insert_body[] =
    "INSERT INTO result_body (result_id, output, provenance) VALUES ($1, $2, $3)";
static const char insert_delivery[] =
    "INSERT INTO deliveries (result_id, job_id, tenant, state, attempts, token,"
    " next_attempt_at, created_at, updated_at)"
    " SELECT id, job_id, tenant, 0, 0, 0, wh_now_ms(), wh_now_ms(), wh_now_ms()"
    " FROM results WHERE id = $1";

static int mark(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)row;
        (void)err;
        *(bool *)ctx = true;
        return 0;
}

/* A held completion's result, body, outbox row and follow-up jobs. */
static int complete_one(struct wh_queue *q, const struct wh_job_completion *c,
                        const char *dedup_key, const struct wh_follow_ups *f, int64_t *result_id,
                        struct wh_err *err)
{
        struct wh_qparam fence[] = {qp_int(c->id), qp_int(c->token)};
        bool held = false;
        *result_id = 0;
        if (q->ops->exec(q, fence_done, fence, 2, mark, &held, err) < 0)
                return -1;
        if (!held)
                return 0; /* fenced; the caller looks at why */
        const struct wh_dedup_key *k = c->key;
        struct wh_qparam result[] = {qp_int(c->id),
                                     qp_int(c->token),
                                     qp_text(c->outcome),
                                     qp_text(c->worker_id),
                                     qp_text(dedup_key),
                                     qp_text(k ? k->package_digest : NULL),
                                     qp_text(k ? k->input_digest : NULL),
                                     qp_text(k ? k->meta_digest : NULL),
                                     qp_text(k ? k->policy_hash : NULL),
                                     qp_id_or_null(c->reused_from)};
        if (q->ops->exec(q, insert_result, result, 10, wh_row_take_id, result_id, err) < 0)
                return -1;
        struct wh_qparam rid = qp_int(*result_id);
        if (c->deliver && q->ops->exec(q, insert_delivery, &rid, 1, NULL, NULL, err) < 0)
                return -1;
        struct wh_qparam body[] = {qp_int(*result_id), qp_text(c->output_json),
                                   qp_text(c->provenance_json)};
        if (!c->reused_from && q->ops->exec(q, insert_body, body, 3, NULL, NULL, err) < 0)
                return -1;
        for (size_t i = 0; f && i < f->n; i++) {
                int64_t id;
                if (submit_one(q, &f->specs[i], f->metas[i], f->meta_digests[i], &id, err) < 0)
                        return -1;
        }
        return 0;
}

int wh_sqlite_complete(struct wh_queue *q, const struct wh_job_completion *c,
                       char (*dedup_keys)[WH_DIGEST_BUF], const struct wh_follow_ups *follow,
                       size_t n, int64_t *result_ids, struct wh_err *err)
{
        if (q->ops->begin(q, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                const char *key = dedup_keys[i][0] ? dedup_keys[i] : NULL;
                if (complete_one(q, &c[i], key, follow ? &follow[i] : NULL, &result_ids[i], err) <
                    0) {
                        q->ops->rollback(q);
                        return -1;
                }
        }
        return q->ops->commit(q, err);
}

/* Reaping is three statements over the same expired set, fixed by one
 * `now` ($1) and the write lock: record the expiry as the last status, copy
 * jobs that lost their last allowed worker to the dead letter table, then
 * move the jobs (the attempt given back, lost_leases counted: see
 * wh_queue_reap). At most 1000 per call, as on PostgreSQL. */
#define EXPIRED                                                                                    \
        "(SELECT id FROM jobs WHERE state = 1 AND lease_expires_at < $1"                           \
        " ORDER BY lease_expires_at, id LIMIT 1000)"
static const char reap_status[] =
    "UPDATE job_payload SET last_status = (SELECT json_object('status', 'lease_expired',"
    " 'worker', j.lease_owner, 'attempt', j.attempt, 'lost_leases', j.lost_leases + 1)"
    " FROM jobs j WHERE j.id = job_id) WHERE job_id IN " EXPIRED;
static const char reap_dead[] =
    "INSERT INTO dead_letter (job_id, tenant, attempts, reason, last_status, created_at)"
    " SELECT j.id, j.tenant, j.attempt, 'lost its worker ' || (j.lost_leases + 1) ||"
    " ' times (lease expired): it may be what kills them', p.last_status, $1"
    " FROM jobs j JOIN job_payload p ON p.job_id = j.id"
    " WHERE j.id IN " EXPIRED " AND j.lost_leases + 1 >= j.max_lost_leases";
static const char reap_move[] =
    "UPDATE jobs SET lost_leases = lost_leases + 1,"
    " state = CASE WHEN lost_leases + 1 < max_lost_leases THEN 0 ELSE 3 END,"
    " attempt = CASE WHEN lost_leases + 1 < max_lost_leases THEN attempt - 1 ELSE attempt END,"
    " available_at = $1, lease_owner = NULL, lease_expires_at = NULL"
    " WHERE id IN " EXPIRED " RETURNING state";

static int count_state(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)err;
        size_t *counts = ctx;
        counts[row->int64(row, 0) == WH_JOB_QUEUED ? 0 : 1]++;
        return 0;
}

int wh_sqlite_reap(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err)
{
        struct wh_qparam now = qp_int(wh_sqlite_now_ms());
        size_t counts[2] = {0, 0};
        if (q->ops->begin(q, err) < 0)
                return -1;
        if (q->ops->exec(q, reap_status, &now, 1, NULL, NULL, err) < 0 ||
            q->ops->exec(q, reap_dead, &now, 1, NULL, NULL, err) < 0 ||
            q->ops->exec(q, reap_move, &now, 1, count_state, counts, err) < 0) {
                q->ops->rollback(q);
                return -1;
        }
        if (q->ops->commit(q, err) < 0)
                return -1;
        *requeued = counts[0];
        *dead = counts[1];
        return 0;
}
