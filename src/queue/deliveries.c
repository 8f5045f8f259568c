/* The sink outbox (see queue.h): claiming due deliveries, recording how an
 * attempt went, re-queueing failed ones, listing what is not delivered.
 *
 * A claim does not change a delivery's state: it bumps the token and moves
 * next_attempt_at one lease ahead. A worker that dies mid-delivery thus
 * leaves nothing to reap: the row is simply due again when the lease ends.
 * A report only counts with the token of the latest claim, so a slow worker
 * whose lease ran out cannot overwrite what its successor recorded. */
#include "queue/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CLAIM_MAX 1000
#define LIST_MAX  10000

const char *wh_delivery_state_name(enum wh_delivery_state state)
{
        switch (state) {
        case WH_DELIVERY_PENDING:
                return "pending";
        case WH_DELIVERY_DELIVERED:
                return "delivered";
        case WH_DELIVERY_FAILED:
                return "failed";
        }
        return "unknown";
}

void wh_deliveries_free(struct wh_delivery *d, size_t n)
{
        if (!d)
                return;
        for (size_t i = 0; i < n; i++) {
                free(d[i].tenant);
                free(d[i].normaliser);
                free(d[i].input_digest);
                free(d[i].body);
        }
        free(d);
}

struct claimed {
        struct wh_delivery *d;
        size_t n, cap;
};

static int take_delivery(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        struct claimed *c = ctx;
        if (c->n == c->cap)
                return wh_qerr(err, EPROTO, "the claim returned more rows than asked for");
        return wh_fill_delivery(&c->d[c->n++], row, err);
}

int wh_queue_claim_deliveries(struct wh_queue *q, size_t max, uint32_t lease_ms,
                              struct wh_delivery **d, size_t *n, struct wh_err *err)
{
        *d = NULL;
        *n = 0;
        if (max == 0 || max > CLAIM_MAX || lease_ms == 0)
                return wh_qerr(err, EINVAL, "claim 1..%d deliveries with a lease, not %zu",
                               CLAIM_MAX, max);
        struct claimed c = {.d = calloc(max, sizeof(*c.d)), .cap = max};
        if (!c.d)
                return wh_qerr(err, ENOMEM, "out of memory");
        struct wh_qparam p[] = {qp_int(lease_ms), qp_int((int64_t)max)};
        if (q->ops->exec(q, q->sql->claim_deliveries, p, 2, take_delivery, &c, err) < 0) {
                /* Not committed, or committed and then unreadable: either
                 * way the rows are due again when the lease ends. */
                wh_deliveries_free(c.d, c.n);
                return -1;
        }
        *d = c.d;
        *n = c.n;
        return 0;
}

static int take_state(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)err;
        *(int64_t *)ctx = row->int64(row, 0);
        return 0;
}

int wh_queue_delivery_report(struct wh_queue *q, const struct wh_delivery *d,
                             const struct wh_delivery_attempt *a, enum wh_delivery_state *state,
                             struct wh_err *err)
{
        if (!a->delivered && (!a->error || !*a->error))
                return wh_qerr(err, EINVAL, "a failed delivery attempt needs an error");
        int64_t now_state = -1;
        int ret;
        if (a->delivered) {
                struct wh_qparam p[] = {qp_int(d->result_id), qp_int(d->token),
                                        qp_id_or_null(a->http_status)};
                ret = q->ops->exec(q,
                                   "UPDATE deliveries SET state = 2, http_status = $3,"
                                   " last_error = NULL, updated_at = wh_now_ms()"
                                   " WHERE result_id = $1 AND token = $2 AND state = 0"
                                   " RETURNING state",
                                   p, 3, take_state, &now_state, err);
        } else {
                bool give_up = !a->retryable || d->attempt >= a->max_attempts;
                uint32_t delay =
                    give_up ? 0 : wh_backoff_ms(q, a->backoff_ms, a->backoff_max_ms, d->attempt);
                struct wh_qparam p[] = {
                    qp_int(d->result_id), qp_int(d->token), qp_id_or_null(a->http_status),
                    qp_int(give_up),      qp_int(delay),    qp_text(a->error)};
                ret =
                    q->ops->exec(q,
                                 "UPDATE deliveries SET state = CASE WHEN $4 = 1 THEN 3 ELSE 0 END,"
                                 " next_attempt_at = wh_now_ms() + $5, http_status = $3,"
                                 " last_error = $6, updated_at = wh_now_ms()"
                                 " WHERE result_id = $1 AND token = $2 AND state = 0"
                                 " RETURNING state",
                                 p, 6, take_state, &now_state, err);
        }
        if (ret < 0)
                return -1;
        if (now_state < 0)
                return wh_qerr(err, ESTALE,
                               "delivery of result %lld: the claim with token %lld is no longer "
                               "current (its lease ended and it was claimed again, or it was "
                               "settled); nothing recorded",
                               (long long)d->result_id, (long long)d->token);
        if (state)
                *state = (enum wh_delivery_state)now_state;
        return 0;
}

static int count_row(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)row;
        (void)err;
        (*(size_t *)ctx)++;
        return 0;
}

int wh_queue_redeliver(struct wh_queue *q, const char *tenant, int64_t job_id, size_t *requeued,
                       struct wh_err *err)
{
        *requeued = 0;
        if (job_id < 0)
                return wh_qerr(err, EINVAL, "job id %lld is negative", (long long)job_id);
        struct wh_qparam p[] = {qp_text(tenant), qp_int(job_id)};
        return q->ops->exec(q,
                            "UPDATE deliveries SET state = 0, attempts = 0,"
                            " next_attempt_at = wh_now_ms(), updated_at = wh_now_ms()"
                            " WHERE state = 3 AND ($1 IS NULL OR tenant = $1)"
                            " AND ($2 = 0 OR job_id = $2) RETURNING result_id",
                            p, 2, count_row, requeued, err);
}

void wh_delivery_rows_free(struct wh_delivery_row *rows, size_t n)
{
        if (!rows)
                return;
        for (size_t i = 0; i < n; i++) {
                free(rows[i].tenant);
                free(rows[i].normaliser);
                free(rows[i].last_error);
        }
        free(rows);
}

struct listing {
        struct wh_delivery_row *rows;
        size_t n, cap;
};

static int take_row(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        struct listing *l = ctx;
        if (l->n == l->cap)
                return 0;
        return wh_fill_delivery_row(&l->rows[l->n++], row, err);
}

int wh_queue_undelivered(struct wh_queue *q, const struct wh_result_filter *filter,
                         struct wh_delivery_row **rows, size_t *n, struct wh_err *err)
{
        struct wh_result_filter none = {0};
        const struct wh_result_filter *f = filter ? filter : &none;
        struct listing l = {.cap = f->limit ? (f->limit < LIST_MAX ? f->limit : LIST_MAX) : 100};
        *rows = NULL;
        *n = 0;
        l.rows = calloc(l.cap, sizeof(*l.rows));
        if (!l.rows)
                return wh_qerr(err, ENOMEM, "out of memory");
        struct wh_qparam p[] = {qp_int(f->after_id), qp_int((int64_t)l.cap), qp_text(f->tenant)};
        /* state IN (0, 3): the two partial indexes, not every delivery. */
        if (q->ops->exec(q,
                         "SELECT d.result_id, d.job_id, d.state, d.attempts, d.next_attempt_at,"
                         " d.updated_at, coalesce(d.http_status, 0), d.tenant, p.normaliser,"
                         " d.last_error, p.kind FROM deliveries d JOIN job_payload p"
                         " ON p.job_id = d.job_id WHERE d.state IN (0, 3) AND d.result_id > $1"
                         " AND ($3 IS NULL OR d.tenant = $3) ORDER BY d.result_id LIMIT $2",
                         p, 3, take_row, &l, err) < 0) {
                wh_delivery_rows_free(l.rows, l.n);
                return -1;
        }
        *rows = l.rows;
        *n = l.n;
        return 0;
}
