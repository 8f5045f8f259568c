/* The worker loop with a fake runner (fake_runner.h), on SQLite and on
 * PostgreSQL: every job completed exactly once, completions batched,
 * fenced completions dropped, retries and dead letters, reuse of earlier
 * results, shutdown that releases what it did not finish. Assertions read
 * the store's rows, not just the worker's own counts. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "../queue/queue_env.h"
#include "fake_runner.h"
#include "worker/core.h"

static volatile sig_atomic_t no_stop;

static struct wh_worker_config config(void)
{
        const char *log = getenv("WH_TEST_LOG");
        return (struct wh_worker_config){
            .db_url = E.url,
            .worker_id = "test-worker",
            .concurrency = 2,
            .lease_ms = 30000,
            .poll_max_ms = 20,
            .retry_base_ms = 10,
            .retry_max_ms = 20,
            .exit_when_idle = true,
            .log_fd = log ? 2 : -1,
            .log_level = WH_LOG_DEBUG,
        };
}

static struct wh_worker_summary run(const struct wh_worker_config *c)
{
        struct wh_worker_summary sum = {0};
        struct wh_err err;
        if (wh_worker_run_with(c, &fake_runner, &no_stop, &sum, &err) < 0)
                fail_msg("worker: %s", err.msg);
        return sum;
}

/* n jobs on one raw blob, each with meta {"do": what, "n": i} (distinct
 * meta: no two are the same for deduplication). */
static void submit(struct wh_queue *q, size_t n, const char *what, int64_t *ids)
{
        struct wh_err err;
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "raw bytes", 9, digest, NULL, &err));
        for (size_t i = 0; i < n; i++) {
                char meta[96];
                snprintf(meta, sizeof(meta), "{\"do\":\"%s\",\"n\":%zu}", what, i);
                struct wh_job_spec s = {.tenant = "acme",
                                        .normaliser = "fake",
                                        .raw_digest = digest,
                                        .meta_json = meta,
                                        .max_attempts = 2};
                int64_t id;
                OK(wh_queue_submit(q, &s, 1, &id, &err));
                if (ids)
                        ids[i] = id;
        }
}

static void test_every_job_once_in_batches(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 100, "ok", NULL);
        struct wh_worker_config c = config();
        c.claim_batch = 25;
        c.complete_batch_ms = 60000; /* flush on a full batch or an empty queue only */
        struct wh_worker_summary s = run(&c);
        assert_int_equal(s.claimed, 100);
        assert_int_equal(s.completed, 100);
        assert_int_equal(count("SELECT count(*) FROM results"), 100);
        assert_int_equal(count("SELECT count(DISTINCT job_id) FROM results"), 100);
        assert_int_equal(count("SELECT count(*) FROM results WHERE outcome = 'ok' AND worker = "
                               "'test-worker' AND package_digest IS NOT NULL"),
                         100);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 2"), 100);
        /* 100 jobs claimed 24 or more at a time, flushed when 25 are done
         * or nothing else is in flight: a handful of transactions, not 100. */
        assert_true(s.complete_calls >= 1);
        assert_true(s.complete_calls <= 10);
        /* The output the runner made is what the store holds. */
        assert_int_equal(count("SELECT count(*) FROM result_body WHERE output = "
                               "'{\"observations\":[{\"bytes\":9}]}'"),
                         100);
        /* A clean stop signs the worker off. */
        assert_int_equal(count("SELECT count(*) FROM workers"), 0);
        wh_queue_close(q);
}

static void test_failed_run_is_a_result(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 3, "fail", NULL);
        struct wh_worker_config c = config();
        struct wh_worker_summary s = run(&c);
        assert_int_equal(s.completed, 3);
        assert_int_equal(count("SELECT count(*) FROM results WHERE outcome = 'exit_nonzero'"), 3);
        assert_int_equal(count("SELECT count(*) FROM dead_letter"), 0);
        wh_queue_close(q);
}

static void test_retry_then_dead_letter(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        submit(q, 1, "retry", &id);
        struct wh_worker_config c = config();
        struct wh_worker_summary s = run(&c);
        /* max_attempts 2: one retry, then the dead letter table. */
        assert_int_equal(s.retried, 1);
        assert_int_equal(s.dead, 1);
        assert_int_equal(count("SELECT count(*) FROM results"), 0);
        assert_int_equal(count("SELECT count(*) FROM dead_letter WHERE attempts = 2 AND "
                               "last_status LIKE '%sandbox_error%'"),
                         1);
        wh_queue_close(q);
}

static void test_reject_and_missing_normaliser(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 1, "reject", NULL);
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "x", 1, digest, NULL, &err));
        struct wh_job_spec spec = {.tenant = "acme", .normaliser = "missing", .raw_digest = digest};
        int64_t id;
        OK(wh_queue_submit(q, &spec, 1, &id, &err));
        struct wh_worker_config c = config();
        struct wh_worker_summary s = run(&c);
        /* Neither is retried: both are dead at the first attempt. */
        assert_int_equal(s.dead, 2);
        assert_int_equal(s.retried, 0);
        assert_int_equal(count("SELECT count(*) FROM dead_letter WHERE attempts = 1"), 2);
        assert_int_equal(count("SELECT count(*) FROM dead_letter WHERE last_status LIKE "
                               "'%normaliser_missing%' AND last_status LIKE '%no normaliser%'"),
                         1);
        wh_queue_close(q);
}

/* errno EINVAL from a system call says nothing about the job: the load is
 * retried (worker_error), not dead-lettered as an invalid normaliser. */
static void test_deep_einval_in_a_load_is_retried(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "x", 1, digest, NULL, &err));
        struct wh_job_spec spec = {
            .tenant = "acme", .normaliser = "einval", .raw_digest = digest, .max_attempts = 2};
        int64_t id;
        OK(wh_queue_submit(q, &spec, 1, &id, &err));
        struct wh_worker_config c = config();
        struct wh_worker_summary s = run(&c);
        assert_int_equal(s.retried, 1);
        assert_int_equal(s.dead, 1);
        assert_int_equal(count("SELECT count(*) FROM dead_letter WHERE attempts = 2 AND "
                               "last_status LIKE '%worker_error%' AND last_status LIKE "
                               "'%cannot map the runtime image%'"),
                         1);
        assert_int_equal(count("SELECT count(*) FROM dead_letter WHERE last_status LIKE "
                               "'%normaliser_invalid%'"),
                         0);
        wh_queue_close(q);
}

static void test_missing_raw_is_dead_lettered(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 1, "ok", NULL);
        /* Remove the blob behind the store's back (foreign keys off). */
        assert_int_equal(env_exec(E.pg ? "SET session_replication_role = replica; DELETE FROM raw"
                                       : "DELETE FROM raw"),
                         0);
        struct wh_worker_config c = config();
        struct wh_worker_summary s = run(&c);
        assert_int_equal(s.dead, 1);
        assert_int_equal(count("SELECT count(*) FROM dead_letter WHERE last_status LIKE "
                               "'%input_missing%'"),
                         1);
        wh_queue_close(q);
}

static void test_reuse_of_an_earlier_result(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 1, "ok", NULL);
        struct wh_worker_config c = config();
        run(&c);
        /* The same input, meta and normaliser again: reused, not rerun. */
        submit(q, 1, "ok", NULL);
        int before = atomic_load(&fake_started);
        struct wh_worker_summary s = run(&c);
        assert_int_equal(atomic_load(&fake_started), before);
        assert_int_equal(s.reused, 1);
        assert_int_equal(count("SELECT count(*) FROM results WHERE reused_from IS NOT NULL"), 1);
        assert_int_equal(count("SELECT count(*) FROM result_body"), 1);
        wh_queue_close(q);
}

/* One job of `tenant` on the raw bytes and meta submit() uses for "ok" 0. */
static void submit_for(struct wh_queue *q, const char *tenant)
{
        struct wh_err err;
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "raw bytes", 9, digest, NULL, &err));
        struct wh_job_spec s = {.tenant = tenant,
                                .normaliser = "fake",
                                .raw_digest = digest,
                                .meta_json = "{\"do\":\"ok\",\"n\":0}",
                                .max_attempts = 2};
        int64_t id;
        OK(wh_queue_submit(q, &s, 1, &id, &err));
}

/* Issue 8, item 10: tenant B's job must not be completed with tenant A's
 * result (same raw, meta and normaliser) unless the operator asks for it. */
static void test_reuse_stays_within_the_tenant(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit_for(q, "acme");
        struct wh_worker_config c = config();
        run(&c);
        submit_for(q, "globex");
        int before = atomic_load(&fake_started);
        struct wh_worker_summary s = run(&c);
        assert_int_equal(s.reused, 0);
        assert_int_equal(atomic_load(&fake_started), before + 1);
        assert_int_equal(count("SELECT count(*) FROM results WHERE tenant = 'globex'"
                               " AND reused_from IS NULL"),
                         1);
        /* Within a tenant reuse still works; across only when configured. */
        submit_for(q, "globex");
        assert_int_equal(run(&c).reused, 1);
        submit_for(q, "initech");
        c.reuse_across_tenants = true;
        assert_int_equal(run(&c).reused, 1);
        assert_int_equal(count("SELECT count(*) FROM results r JOIN results o"
                               " ON o.id = r.reused_from WHERE r.tenant = 'initech'"),
                         1);
        wh_queue_close(q);
}

static void test_fenced_completion_is_dropped(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        submit(q, 1, "steal", &id);
        struct wh_worker_config c = config();
        struct wh_worker_summary s = run(&c);
        assert_int_equal(atomic_load(&fake_steal_failures), 0);
        assert_int_equal(s.fenced, 1);
        assert_int_equal(s.completed, 0);
        /* One result, the thief's: the worker's late completion was fenced. */
        assert_int_equal(count("SELECT count(*) FROM results"), 1);
        assert_int_equal(count("SELECT count(*) FROM results WHERE worker = 'thief'"), 1);
        wh_queue_close(q);
}

static void wait_started(int n)
{
        for (int i = 0; i < 10000 && atomic_load(&fake_started) < n; i++)
                env_sleep_ms(1);
        assert_true(atomic_load(&fake_started) >= n);
}

static void test_stop_releases_what_is_not_done(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 10, "block", NULL);
        struct bg b = {.c = config()};
        b.c.exit_when_idle = false;
        b.c.claim_batch = 4;
        b.c.grace_ms = 100;
        int before = atomic_load(&fake_started);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, bg_worker, &b), 0);
        wait_started(before + 2); /* both slots busy */
        b.stop = 1;
        pthread_join(th, NULL);
        assert_int_equal(b.rc, 0);
        /* Two cancelled after the grace time, the prefetched ones at once. */
        assert_int_equal(b.sum.released, b.sum.claimed);
        assert_true(b.sum.claimed >= 2);
        assert_int_equal(count("SELECT count(*) FROM results"), 0);
        /* All queued again, the release not counted as an attempt. */
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 0 AND attempt = 0"), 10);
        assert_int_equal(count("SELECT count(*) FROM workers"), 0);
        wh_queue_close(q);
}

static void test_stop_lets_running_jobs_finish(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        struct wh_job_spec s = {.tenant = "acme", .normaliser = "fake"};
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "r", 1, digest, NULL, &err));
        s.raw_digest = digest;
        for (int i = 0; i < 6; i++) {
                char meta[64];
                snprintf(meta, sizeof(meta), "{\"do\":\"slow\",\"ms\":300,\"n\":%d}", i);
                s.meta_json = meta;
                int64_t id;
                OK(wh_queue_submit(q, &s, 1, &id, &err));
        }
        struct bg b = {.c = config()};
        b.c.exit_when_idle = false;
        b.c.claim_batch = 2;
        b.c.grace_ms = 20000;
        int before = atomic_load(&fake_started);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, bg_worker, &b), 0);
        wait_started(before + 2);
        b.stop = 1;
        pthread_join(th, NULL);
        assert_int_equal(b.rc, 0);
        /* The two running jobs finished within the grace time and count. */
        assert_true(b.sum.completed >= 2);
        assert_int_equal(b.sum.completed + b.sum.released, b.sum.claimed);
        assert_int_equal(count("SELECT count(*) FROM results"), (long long)b.sum.completed);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 0"),
                         6 - (long long)b.sum.completed);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_job_once_in_batches),
            cmocka_unit_test(test_failed_run_is_a_result),
            cmocka_unit_test(test_retry_then_dead_letter),
            cmocka_unit_test(test_reject_and_missing_normaliser),
            cmocka_unit_test(test_deep_einval_in_a_load_is_retried),
            cmocka_unit_test(test_missing_raw_is_dead_lettered),
            cmocka_unit_test(test_reuse_of_an_earlier_result),
            cmocka_unit_test(test_reuse_stays_within_the_tenant),
            cmocka_unit_test(test_fenced_completion_is_dropped),
            cmocka_unit_test(test_stop_releases_what_is_not_done),
            cmocka_unit_test(test_stop_lets_running_jobs_finish),
        };
        return ENV_RUN_BOTH_BACKENDS("worker loop", tests);
}
