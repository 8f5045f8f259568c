/* The sink outbox, the job counters, the statement timeout and LISTEN/NOTIFY
 * wake-ups, on both backends (the last two only mean something on
 * PostgreSQL). Rows are read behind the API's back to check what is stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>

#include "queue_env.h"

static int64_t complete_with(struct wh_queue *q, const struct wh_job *j, bool deliver,
                             int64_t reused_from, struct wh_err *e)
{
        struct wh_dedup_key key = {P, j->raw_digest, j->meta_digest, POL};
        struct wh_job_completion c = {.id = j->id,
                                      .token = j->token,
                                      .worker_id = "w",
                                      .outcome = "ok",
                                      .output_json = reused_from ? NULL : "{\"n\":1}",
                                      .provenance_json = reused_from ? NULL : "{}",
                                      .key = &key,
                                      .reused_from = reused_from,
                                      .deliver = deliver};
        int64_t rid = 0;
        return wh_queue_complete(q, &c, 1, &rid, e) < 0 ? -1 : rid;
}

static const struct wh_delivery_attempt FAIL500 = {.retryable = true,
                                                   .http_status = 500,
                                                   .error = "the sink answered HTTP 500",
                                                   .max_attempts = 3,
                                                   .backoff_ms = 1,
                                                   .backoff_max_ms = 1};

/* Claim one delivery, waiting out a backoff of a few ms. */
static size_t claim_one(struct wh_queue *q, struct wh_delivery **d, struct wh_err *err)
{
        size_t n = 0;
        for (int i = 0; i < 100 && n == 0; i++) {
                if (wh_queue_claim_deliveries(q, 1, 60000, d, &n, err) < 0)
                        fail_msg("claim deliveries: %s", err->msg);
                if (!n)
                        env_sleep_ms(5);
        }
        return n;
}

static void test_outbox_written_with_the_result(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t ids[3];
        OK(env_submit(q, "raw", 3, ids, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 3, 60000, &j, &n, &err));
        assert_int_equal(n, 3);
        int64_t r0 = complete_with(q, &j[0], true, 0, &err);
        assert_true(r0 > 0);
        assert_true(complete_with(q, &j[1], false, 0, &err) > 0);
        int64_t r2 = complete_with(q, &j[2], true, r0, &err); /* a reuse */
        assert_true(r2 > 0);
        wh_jobs_free(j, n);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 0"), 2);
        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 1000, &st, &err));
        assert_int_equal(st.deliveries_pending, 2);
        assert_int_equal(st.deliveries_failed, 0);

        struct wh_delivery *d;
        OK(wh_queue_claim_deliveries(q, 10, 60000, &d, &n, &err));
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++) {
                /* The reuse delivers the output it reuses. */
                assert_string_equal(d[i].body, "{\"n\":1}");
                assert_string_equal(d[i].tenant, "acme");
                assert_string_equal(d[i].normaliser, "kat/nmap-normaliser:1");
                assert_int_equal(d[i].attempt, 1);
                assert_true(d[i].result_id == r0 || d[i].result_id == r2);
        }
        /* Claimed: not due again while the lease runs. */
        struct wh_delivery *again;
        size_t m;
        OK(wh_queue_claim_deliveries(q, 10, 60000, &again, &m, &err));
        assert_int_equal(m, 0);
        wh_deliveries_free(again, m);
        struct wh_delivery_attempt ok = {.delivered = true, .http_status = 201};
        enum wh_delivery_state s;
        OK(wh_queue_delivery_report(q, &d[0], &ok, &s, &err));
        assert_int_equal(s, WH_DELIVERY_DELIVERED);
        struct wh_job_info *info;
        OK(wh_queue_show(q, d[0].job_id, &info, &err));
        assert_true(info->has_delivery);
        assert_int_equal(info->delivery_state, WH_DELIVERY_DELIVERED);
        assert_int_equal(info->delivery_attempts, 1);
        assert_int_equal(info->delivery_http_status, 201);
        wh_job_info_free(info);
        wh_deliveries_free(d, n);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 2"), 1);
        wh_queue_close(q);
}

static void test_outbox_retries_then_fails_then_redelivers(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "raw", 1, &id, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        int64_t rid = complete_with(q, &j[0], true, 0, &err);
        assert_true(rid > 0);
        wh_jobs_free(j, n);
        enum wh_delivery_state s = WH_DELIVERY_DELIVERED;
        for (uint32_t attempt = 1; attempt <= 3; attempt++) {
                struct wh_delivery *d;
                assert_int_equal(claim_one(q, &d, &err), 1);
                assert_int_equal(d->attempt, attempt);
                OK(wh_queue_delivery_report(q, d, &FAIL500, &s, &err));
                assert_int_equal(s, attempt < 3 ? WH_DELIVERY_PENDING : WH_DELIVERY_FAILED);
                wh_deliveries_free(d, 1);
        }
        /* Failed: kept, visible, never claimed again by itself. */
        struct wh_delivery *d;
        env_sleep_ms(20);
        OK(wh_queue_claim_deliveries(q, 1, 60000, &d, &n, &err));
        assert_int_equal(n, 0);
        wh_deliveries_free(d, n);
        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 1000, &st, &err));
        assert_int_equal(st.deliveries_pending, 0);
        assert_int_equal(st.deliveries_failed, 1);
        struct wh_delivery_row *rows;
        OK(wh_queue_undelivered(q, NULL, &rows, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].result_id, rid);
        assert_int_equal(rows[0].state, WH_DELIVERY_FAILED);
        assert_int_equal(rows[0].attempts, 3);
        assert_int_equal(rows[0].http_status, 500);
        assert_string_equal(rows[0].last_error, "the sink answered HTTP 500");
        wh_delivery_rows_free(rows, n);

        /* The operator re-queues: another tenant's filter matches nothing. */
        size_t requeued;
        OK(wh_queue_redeliver(q, "other", 0, &requeued, &err));
        assert_int_equal(requeued, 0);
        OK(wh_queue_redeliver(q, "acme", id, &requeued, &err));
        assert_int_equal(requeued, 1);
        assert_int_equal(claim_one(q, &d, &err), 1);
        assert_int_equal(d->attempt, 1);
        struct wh_delivery_attempt ok = {.delivered = true, .http_status = 200};
        OK(wh_queue_delivery_report(q, d, &ok, &s, &err));
        assert_int_equal(s, WH_DELIVERY_DELIVERED);
        wh_deliveries_free(d, 1);
        OK(wh_queue_undelivered(q, NULL, &rows, &n, &err));
        assert_int_equal(n, 0);
        wh_delivery_rows_free(rows, n);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 2 AND attempts = 1"
                               " AND last_error IS NULL"),
                         1);
        wh_queue_close(q);
}

static void test_outbox_fencing_and_final_errors(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t ids[2];
        OK(env_submit(q, "raw", 2, ids, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 2, 60000, &j, &n, &err));
        assert_true(complete_with(q, &j[0], true, 0, &err) > 0);
        assert_true(complete_with(q, &j[1], true, 0, &err) > 0);
        wh_jobs_free(j, n);
        /* A worker that dies mid-delivery: its lease ends, another claims. */
        struct wh_delivery *dead, *next;
        OK(wh_queue_claim_deliveries(q, 1, 1, &dead, &n, &err));
        assert_int_equal(n, 1);
        env_sleep_ms(20);
        OK(wh_queue_claim_deliveries(q, 2, 60000, &next, &n, &err));
        assert_int_equal(n, 2);
        struct wh_delivery *same = next[0].result_id == dead->result_id ? &next[0] : &next[1];
        assert_int_equal(same->attempt, 2);
        struct wh_delivery_attempt ok = {.delivered = true, .http_status = 200};
        assert_int_equal(wh_queue_delivery_report(q, dead, &ok, NULL, &err), -1);
        assert_true(wh_queue_err_is_fenced(&err));
        OK(wh_queue_delivery_report(q, same, &ok, NULL, &err));
        /* A 4xx other than 408/429 is final at once. */
        struct wh_delivery *other = same == &next[0] ? &next[1] : &next[0];
        struct wh_delivery_attempt bad = {.retryable = false,
                                          .http_status = 400,
                                          .error = "the sink answered HTTP 400",
                                          .max_attempts = 5,
                                          .backoff_ms = 1,
                                          .backoff_max_ms = 1};
        enum wh_delivery_state s;
        OK(wh_queue_delivery_report(q, other, &bad, &s, &err));
        assert_int_equal(s, WH_DELIVERY_FAILED);
        wh_deliveries_free(dead, 1);
        wh_deliveries_free(next, 2);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 3 AND attempts = 1"),
                         1);
        wh_queue_close(q);
}

/* The counters agree with the rows through every kind of transition. */
static void test_counters_match_rows(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        wh_queue_set_backoff(q, 60000, 60000);
        int64_t ids[6];
        OK(env_submit(q, "raw", 6, ids, 2, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 5, 60000, &j, &n, &err));
        assert_int_equal(n, 5);
        assert_true(complete_ok(q, &j[0], "w", "{}", &err) > 0);
        OK(wh_queue_fail(q, j[1].id, j[1].token, "{}", true, NULL, &err));  /* delayed */
        OK(wh_queue_fail(q, j[2].id, j[2].token, "{}", false, NULL, &err)); /* dead */
        struct wh_job_lease l = {j[3].id, j[3].token};
        OK(wh_queue_release(q, &l, 1, &err));
        wh_jobs_free(j, n);
        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 1000, &st, &err));
        assert_int_equal(st.ready, 2); /* never claimed, released */
        assert_int_equal(st.delayed, 1);
        assert_int_equal(st.running, 1);
        assert_int_equal(st.done, 1);
        assert_int_equal(st.dead, 1);
        assert_int_equal(st.ready + st.delayed, count("SELECT count(*) FROM jobs WHERE state = 0"));
        assert_int_equal(st.running, count("SELECT count(*) FROM jobs WHERE state = 1"));
        assert_int_equal(st.done, count("SELECT count(*) FROM jobs WHERE state = 2"));
        assert_int_equal(st.dead, count("SELECT count(*) FROM jobs WHERE state = 3"));
        wh_queue_close(q);
}

static void test_statement_timeout(void **state)
{
        (void)state;
        if (!E.pg)
                skip();
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        OK(wh_queue_set_statement_timeout(q, 200, &err));
        int64_t id;
        OK(env_submit(q, "raw", 1, &id, 0, &err));
        /* Another session holds the jobs table: the claim would wait forever. */
        PGconn *c = PQconnectdb(E.url);
        PGresult *r = PQexec(c, "BEGIN; LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        struct wh_job *j;
        size_t n;
        assert_int_equal(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err), -1);
        assert_int_equal(err.errnum, ETIMEDOUT);
        assert_true(wh_queue_err_is_transient(&err));
        PQclear(PQexec(c, "COMMIT"));
        PQfinish(c);
        /* Retried like after a lost connection, and it works. */
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        assert_int_equal(n, 1);
        wh_jobs_free(j, n);
        wh_queue_close(q);
}

struct submitter {
        const char *url;
        int rc;
};

static void *submit_later(void *arg)
{
        struct submitter *s = arg;
        struct wh_err err;
        struct wh_queue *q = NULL;
        int64_t id;
        env_sleep_ms(200);
        s->rc = wh_queue_open(s->url, &q, &err) < 0 || env_submit(q, "new", 1, &id, 0, &err) < 0;
        wh_queue_close(q);
        return NULL;
}

static void test_wait_for_jobs(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *l = open_fresh(&err);
        bool woken = false;
        if (!E.pg) {
                assert_int_equal(wh_queue_wait_for_jobs(l, 10, &woken, &err), -1);
                assert_int_equal(err.errnum, ENOTSUP);
                wh_queue_close(l);
                return;
        }
        OK(wh_queue_wait_for_jobs(l, 10, &woken, &err));
        assert_true(woken); /* first call: LISTEN, and look once */
        OK(wh_queue_wait_for_jobs(l, 10, &woken, &err));
        assert_false(woken);
        struct submitter s = {.url = E.url, .rc = -1};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, submit_later, &s), 0);
        /* Woken by the submission, long before the 30 s this may wait. */
        for (int i = 0; i < 5 && !woken; i++)
                OK(wh_queue_wait_for_jobs(l, 30000, &woken, &err));
        pthread_join(t, NULL);
        assert_int_equal(s.rc, 0);
        assert_true(woken);
        assert_int_equal(count("SELECT count(*) FROM jobs"), 1);
        wh_queue_close(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_outbox_written_with_the_result),
            cmocka_unit_test(test_outbox_retries_then_fails_then_redelivers),
            cmocka_unit_test(test_outbox_fencing_and_final_errors),
            cmocka_unit_test(test_counters_match_rows),
            cmocka_unit_test(test_statement_timeout),
            cmocka_unit_test(test_wait_for_jobs),
        };
        return ENV_RUN_BOTH_BACKENDS("queue outbox", tests);
}
