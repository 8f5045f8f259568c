/* Completions that make jobs (wh_job_completion.follow_ups: a boefje job's
 * raw files routed to normalisers), on both backends: the jobs are queued
 * with the result or not at all; a fenced completion queues none, a
 * repeated one none twice; a follow-up that cannot be queued takes the
 * result with it. Rows are counted behind the API's back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "queue_env.h"

/* Complete j with two follow-up jobs on a raw file put now. */
static int64_t complete_chain(struct wh_queue *q, const struct wh_job *j, const char *worker,
                              const char *raw_digest, struct wh_err *e)
{
        struct wh_job_spec follow[] = {
            {.tenant = j->tenant,
             .normaliser = "kat_dns_normalize",
             .raw_digest = raw_digest,
             .meta_json = "{\"raw_data\": {\"id\": \"r1\"},  \"id\": \"n1\"}",
             .mime = "boefje/dns-records"},
            {.tenant = j->tenant,
             .normaliser = "kat_dns_other",
             .raw_digest = raw_digest,
             .meta_json = "{\"id\": \"n2\"}",
             .mime = "boefje/dns-records"},
        };
        struct wh_job_completion c = {.id = j->id,
                                      .token = j->token,
                                      .worker_id = worker,
                                      .outcome = "ok",
                                      .output_json = "{\"raw_files\": []}",
                                      .provenance_json = "{}",
                                      .follow_ups = follow,
                                      .n_follow_ups = 2};
        int64_t rid = 0;
        return wh_queue_complete(q, &c, 1, &rid, e) < 0 ? -1 : rid;
}

/* A fresh store with one job waiting and a raw file in it (its digest in raw). */
static struct wh_queue *one_job_and_a_raw_file(char raw[WH_DIGEST_BUF])
{
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "Hostname|internet|example.org", 1, &id, 0, &err));
        OK(wh_queue_put_raw(q, "dns answer", 10, raw, NULL, &err));
        return q;
}

static void test_follow_ups_with_the_result(void **state)
{
        (void)state;
        struct wh_err err;
        char raw[WH_DIGEST_BUF];
        struct wh_queue *q = one_job_and_a_raw_file(raw);
        struct wh_job *a;
        size_t n;
        OK(wh_queue_claim(q, "A", 1, 60000, &a, &n, &err));
        assert_int_equal(n, 1);
        int64_t rid = complete_chain(q, &a[0], "A", raw, &err);
        OK(rid);
        assert_int_equal(count("SELECT count(*) FROM jobs"), 3);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 0 AND tenant = 'acme'"), 2);
        /* Stored as a submission is: canonical meta, the raw named. */
        struct wh_job *f;
        OK(wh_queue_claim(q, "B", 10, 60000, &f, &n, &err));
        assert_int_equal(n, 2);
        assert_string_equal(f[0].normaliser, "kat_dns_normalize");
        assert_string_equal(f[0].meta_json, "{\"id\":\"n1\",\"raw_data\":{\"id\":\"r1\"}}");
        assert_string_equal(f[0].raw_digest, raw);
        assert_string_equal(f[1].normaliser, "kat_dns_other");
        /* A repeated completion (a lost reply) finds its result and queues
         * nothing again. */
        assert_int_equal(complete_chain(q, &a[0], "A", raw, &err), rid);
        assert_int_equal(count("SELECT count(*) FROM jobs"), 3);
        wh_jobs_free(f, 2);
        wh_jobs_free(a, 1);
        wh_queue_close(q);
}

static void test_fenced_completion_queues_nothing(void **state)
{
        (void)state;
        struct wh_err err;
        char raw[WH_DIGEST_BUF];
        struct wh_queue *q = one_job_and_a_raw_file(raw);
        struct wh_job *a, *b;
        size_t n;
        OK(wh_queue_claim(q, "A", 1, 50, &a, &n, &err));
        env_sleep_ms(120);
        /* The worker that ran it lost its lease (killed, stalled). */
        assert_int_equal(complete_chain(q, &a[0], "A", raw, &err), -1);
        assert_true(wh_queue_err_is_fenced(&err));
        assert_int_equal(count("SELECT count(*) FROM jobs"), 1);
        size_t requeued;
        OK(wh_queue_reap(q, &requeued, NULL, &err));
        OK(wh_queue_claim(q, "B", 1, 60000, &b, &n, &err));
        assert_int_equal(n, 1);
        OK(complete_chain(q, &b[0], "B", raw, &err));
        assert_int_equal(count("SELECT count(*) FROM jobs"), 3);
        assert_int_equal(count("SELECT count(*) FROM results"), 1);
        wh_jobs_free(a, 1);
        wh_jobs_free(b, 1);
        wh_queue_close(q);
}

static void test_follow_up_failing_takes_the_result_along(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "Hostname|internet|example.org", 1, &id, 0, &err));
        struct wh_job *a;
        size_t n;
        OK(wh_queue_claim(q, "A", 1, 60000, &a, &n, &err));
        /* The raw file was never stored: nothing of the completion stays. */
        const char *missing =
            "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        assert_int_equal(complete_chain(q, &a[0], "A", missing, &err), -1);
        assert_int_equal(err.kind, WH_ERR_NOT_FOUND);
        assert_int_equal(count("SELECT count(*) FROM results"), 0);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 1"), 1);
        assert_int_equal(count("SELECT count(*) FROM jobs"), 1);
        /* A malformed one is refused before the store sees anything. */
        struct wh_job_spec bad = {.tenant = "acme", .normaliser = "x", .raw_digest = "nope"};
        struct wh_job_completion c = {.id = a[0].id,
                                      .token = a[0].token,
                                      .worker_id = "A",
                                      .outcome = "ok",
                                      .output_json = "{}",
                                      .provenance_json = "{}",
                                      .follow_ups = &bad,
                                      .n_follow_ups = 1};
        int64_t rid;
        assert_int_equal(wh_queue_complete(q, &c, 1, &rid, &err), -1);
        assert_int_equal(err.kind, WH_ERR_INVALID);
        assert_non_null(strstr(err.msg, "follow-up"));
        assert_int_equal(count("SELECT count(*) FROM results"), 0);
        wh_jobs_free(a, 1);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_follow_ups_with_the_result),
            cmocka_unit_test(test_fenced_completion_queues_nothing),
            cmocka_unit_test(test_follow_up_failing_takes_the_result_along),
        };
        return ENV_RUN_BOTH_BACKENDS("queue follow-ups", tests);
}
