/* Leases going wrong, on both backends: fencing of stale tokens after a
 * lease expired and the job was rescued, retries with backoff, dead letters
 * with the last status record, lost workers counted apart from attempts
 * (and bounded: a poison pill ends), the migration that added that count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>

#include "queue_env.h"

static void test_fencing(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t ids[2];
        OK(env_submit(q, "raw", 2, ids, 0, &err));
        struct wh_job *a, *b;
        size_t na, nb;
        OK(wh_queue_claim(q, "A", 2, 50, &a, &na, &err));
        assert_int_equal(na, 2);
        env_sleep_ms(120);
        /* Expired but not yet reaped: the lease is no longer held. */
        int64_t rid = complete_ok(q, &a[1], "A", "[]", &err);
        assert_int_equal(rid, -1);
        assert_true(wh_queue_err_is_fenced(&err));
        assert_false(wh_queue_err_is_transient(&err));
        size_t requeued, dead;
        OK(wh_queue_reap(q, &requeued, &dead, &err));
        assert_int_equal(requeued, 2);
        assert_int_equal(dead, 0);
        OK(wh_queue_claim(q, "B", 1, 60000, &b, &nb, &err));
        assert_int_equal(nb, 1);
        assert_int_equal(b[0].id, a[0].id);
        assert_int_equal(b[0].token, 2);
        assert_int_equal(b[0].attempt, 1); /* a lost worker uses no attempt */
        /* The rescued job: the old token is refused, the new one wins. */
        bool held = true;
        struct wh_job_lease old = {a[0].id, a[0].token};
        OK(wh_queue_heartbeat(q, "A", &old, 1, 60000, &held, &err));
        assert_false(held);
        assert_int_equal(complete_ok(q, &a[0], "A", "[\"stale\"]", &err), -1);
        assert_int_equal(err.errnum, ESTALE);
        assert_int_equal(wh_queue_fail(q, a[0].id, a[0].token, "{}", true, NULL, &err), -1);
        assert_int_equal(err.errnum, ESTALE);
        rid = complete_ok(q, &b[0], "B", "[\"fresh\"]", &err);
        OK(rid);
        /* Repeating the winning completion (a lost reply) is idempotent. */
        assert_int_equal(complete_ok(q, &b[0], "B", "[\"fresh\"]", &err), rid);
        assert_int_equal(complete_ok(q, &a[0], "A", "[\"stale\"]", &err), -1);
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM results WHERE job_id = %lld",
                 (long long)a[0].id);
        assert_int_equal(count(sql), 1);
        struct wh_job_info *info;
        OK(wh_queue_show(q, a[0].id, &info, &err));
        assert_string_equal(info->output_json, "[\"fresh\"]");
        assert_int_equal(info->result->token, 2);
        wh_job_info_free(info);

        /* A batch with one fenced completion commits the others. */
        struct wh_job *c;
        size_t nc;
        OK(wh_queue_claim(q, "C", 1, 60000, &c, &nc, &err));
        assert_int_equal(nc, 1);
        struct wh_job_completion batch[2] = {
            {.id = c[0].id,
             .token = c[0].token,
             .worker_id = "C",
             .outcome = "ok",
             .output_json = "[]",
             .provenance_json = "{}"},
            {.id = a[1].id,
             .token = a[1].token,
             .worker_id = "A",
             .outcome = "ok",
             .output_json = "[]",
             .provenance_json = "{}"},
        };
        int64_t rids[2];
        assert_int_equal(wh_queue_complete(q, batch, 2, rids, &err), -1);
        assert_true(wh_queue_err_is_fenced(&err));
        assert_true(rids[0] > 0);
        assert_int_equal(rids[1], 0);
        assert_int_equal(count("SELECT count(*) FROM results"), 2);
        wh_jobs_free(a, na);
        wh_jobs_free(b, nb);
        wh_jobs_free(c, nc);
        wh_queue_close(q);
}

static void test_retry_then_dead_letter(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "raw", 1, &id, 3, &err));
        struct wh_job *j;
        size_t n;
        /* A long backoff: the job waits, and says until when. */
        wh_queue_set_backoff(q, 60000, 60000);
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        int64_t before = env_now_ms();
        enum wh_job_state st;
        OK(wh_queue_fail(q, id, j[0].token, "{\"status\":\"timeout_wall\",\"n\":1}", true, &st,
                         &err));
        assert_int_equal(st, WH_JOB_QUEUED);
        wh_jobs_free(j, n);
        struct wh_job_info *info;
        OK(wh_queue_show(q, id, &info, &err));
        assert_int_equal(info->state, WH_JOB_QUEUED);
        assert_true(info->available_ms >= before + 30000);
        assert_true(info->available_ms <= env_now_ms() + 60000);
        assert_string_equal(info->last_status_json, "{\"status\":\"timeout_wall\",\"n\":1}");
        wh_job_info_free(info);
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        assert_int_equal(n, 0);
        wh_jobs_free(j, n);
        struct wh_queue_stats stats;
        OK(wh_queue_stats(q, 1000, &stats, &err));
        assert_int_equal(stats.delayed, 1);
        assert_int_equal(stats.ready, 0);

        /* Make it due now and use up the remaining attempts. */
        char sql[128];
        snprintf(sql, sizeof(sql), "UPDATE jobs SET available_at = 0 WHERE id = %lld",
                 (long long)id);
        assert_int_equal(env_exec(sql), 0);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE available_at = 0"), 1);
        wh_queue_set_backoff(q, 0, 0);
        for (int attempt = 2; attempt <= 3; attempt++) {
                OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
                assert_int_equal(n, 1);
                assert_int_equal(j[0].attempt, attempt);
                char status[64];
                snprintf(status, sizeof(status), "{\"status\":\"oom\",\"n\":%d}", attempt);
                OK(wh_queue_fail(q, id, j[0].token, status, true, &st, &err));
                assert_int_equal(st, attempt < 3 ? WH_JOB_QUEUED : WH_JOB_DEAD);
                wh_jobs_free(j, n);
        }
        struct wh_dead_row *dead;
        OK(wh_queue_dead_letters(q, NULL, &dead, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(dead[0].job_id, id);
        assert_int_equal(dead[0].attempts, 3);
        assert_string_equal(dead[0].last_status_json, "{\"status\":\"oom\",\"n\":3}");
        assert_non_null(strstr(dead[0].reason, "all 3 attempts"));
        wh_dead_rows_free(dead, n);
        OK(wh_queue_show(q, id, &info, &err));
        assert_int_equal(info->state, WH_JOB_DEAD);
        assert_non_null(info->dead_reason);
        assert_null(info->result);
        wh_job_info_free(info);

        /* Not retryable: dead at once, on the first attempt. */
        OK(env_submit(q, "raw2", 1, &id, 3, &err));
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        OK(wh_queue_fail(q, id, j[0].token, "{\"status\":\"sandbox_error\"}", false, &st, &err));
        assert_int_equal(st, WH_JOB_DEAD);
        wh_jobs_free(j, n);
        assert_int_equal(count("SELECT count(*) FROM dead_letter"), 2);
        assert_int_equal(count("SELECT count(*) FROM results"), 0);
        wh_queue_close(q);
}

/* A worker dies while running the job: claim it, let the lease run out
 * (set in the store, not waited for), reap. `dead` is what the reap says. */
static void lose_worker(struct wh_queue *q, const char *worker, size_t *dead)
{
        struct wh_err err;
        struct wh_job *j;
        size_t n, requeued;
        OK(wh_queue_claim(q, worker, 1, 60000, &j, &n, &err));
        assert_int_equal(n, 1);
        wh_jobs_free(j, n);
        assert_int_equal(env_exec("UPDATE jobs SET lease_expires_at = 1 WHERE state = 1"), 0);
        OK(wh_queue_reap(q, &requeued, dead, &err));
        assert_int_equal(requeued + *dead, 1);
}

static struct wh_job_info *show(struct wh_queue *q, int64_t id)
{
        struct wh_err err;
        struct wh_job_info *info;
        OK(wh_queue_show(q, id, &info, &err));
        return info;
}

/* Issue 8, item 11: lost workers are not the normaliser's failures. A job
 * whose workers were killed five times (the default max_attempts) is still
 * queued with its attempts intact, and a failure after that is retried. */
static void test_lost_workers_do_not_use_attempts(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        wh_queue_set_backoff(q, 1, 1);
        int64_t id;
        OK(env_submit(q, "raw", 1, &id, 0, &err));
        size_t dead;
        for (int i = 0; i < WH_QUEUE_DEFAULT_MAX_ATTEMPTS; i++) {
                lose_worker(q, "killed", &dead);
                assert_int_equal(dead, 0);
        }
        struct wh_job_info *info = show(q, id);
        assert_int_equal(info->state, WH_JOB_QUEUED);
        assert_int_equal(info->attempt, 0);
        assert_int_equal(info->lost_leases, WH_QUEUE_DEFAULT_MAX_ATTEMPTS);
        assert_int_equal(info->max_lost_leases, WH_QUEUE_DEFAULT_MAX_LOST_LEASES);
        assert_non_null(strstr(info->last_status_json, "\"lost_leases\""));
        wh_job_info_free(info);
        struct wh_job *j;
        size_t n;
        enum wh_job_state st;
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        assert_int_equal(j[0].attempt, 1);
        OK(wh_queue_fail(q, id, j[0].token, "{\"status\":\"sandbox_error\"}", true, &st, &err));
        assert_int_equal(st, WH_JOB_QUEUED);
        wh_jobs_free(j, n);
        env_sleep_ms(20);
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(j[0].attempt, 2);
        OK(complete_ok(q, &j[0], "w", "[]", &err));
        wh_jobs_free(j, n);
        assert_int_equal(count("SELECT count(*) FROM dead_letter"), 0);
        wh_queue_close(q);
}

/* A job that kills every worker running it still ends: after
 * max_lost_leases lost workers it is a dead letter, with the reason. */
static void test_poison_pill_ends_after_max_lost_leases(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "poison", 1, &id, 1, &err));
        size_t dead = 0;
        for (int i = 1; i < WH_QUEUE_DEFAULT_MAX_LOST_LEASES; i++) {
                lose_worker(q, "killed", &dead);
                assert_int_equal(dead, 0);
        }
        lose_worker(q, "last-worker", &dead);
        assert_int_equal(dead, 1);
        struct wh_dead_row *rows;
        size_t n;
        OK(wh_queue_dead_letters(q, &(struct wh_result_filter){.tenant = "acme"}, &rows, &n, &err));
        assert_int_equal(n, 1);
        assert_non_null(strstr(rows[0].last_status_json, "lease_expired"));
        assert_non_null(strstr(rows[0].last_status_json, "last-worker"));
        assert_non_null(strstr(rows[0].reason, "lost its worker 10 times"));
        wh_dead_rows_free(rows, n);
        struct wh_job_info *info = show(q, id);
        assert_int_equal(info->state, WH_JOB_DEAD);
        assert_int_equal(info->lost_leases, WH_QUEUE_DEFAULT_MAX_LOST_LEASES);
        wh_job_info_free(info);
        size_t requeued;
        OK(wh_queue_reap(q, &requeued, &dead, &err));
        assert_int_equal(requeued + dead, 0);

        /* The bound is the job's own. */
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "raw", 3, digest, NULL, &err));
        struct wh_job_spec s = {
            .tenant = "acme", .normaliser = "n", .raw_digest = digest, .max_lost_leases = 2};
        OK(wh_queue_submit(q, &s, 1, &id, &err));
        lose_worker(q, "killed", &dead);
        assert_int_equal(dead, 0);
        lose_worker(q, "killed", &dead);
        assert_int_equal(dead, 1);
        wh_queue_close(q);
}

/* A store of schema version 2 gets the lost-lease columns; a job running
 * at the time of the upgrade is reaped by the new rule. */
static void test_migration_to_v3(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "raw", 1, &id, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "old-worker", 1, 60000, &j, &n, &err));
        wh_jobs_free(j, n);
        wh_queue_close(q);
        /* Back to what version 2 had. */
        env_back_to_v3();
        assert_int_equal(env_exec("DROP INDEX results_dedup_tenant"), 0);
        assert_int_equal(env_exec(E.pg ? "ALTER TABLE jobs DROP COLUMN lost_leases,"
                                         " DROP COLUMN max_lost_leases"
                                       : "ALTER TABLE jobs DROP COLUMN lost_leases"),
                         0);
        if (!E.pg)
                assert_int_equal(env_exec("ALTER TABLE jobs DROP COLUMN max_lost_leases"), 0);
        assert_int_equal(env_exec("DELETE FROM schema_version WHERE version = 3"), 0);
        OK(wh_queue_open(E.url, &q, &err));
        assert_int_equal(count("SELECT max(version) FROM schema_version"), ENV_SCHEMA_VERSION);
        size_t dead;
        assert_int_equal(env_exec("UPDATE jobs SET lease_expires_at = 1 WHERE state = 1"), 0);
        size_t requeued;
        OK(wh_queue_reap(q, &requeued, &dead, &err));
        assert_int_equal(requeued, 1);
        struct wh_job_info *info = show(q, id);
        assert_int_equal(info->lost_leases, 1);
        assert_int_equal(info->max_lost_leases, WH_QUEUE_DEFAULT_MAX_LOST_LEASES);
        assert_int_equal(info->attempt, 0);
        wh_job_info_free(info);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fencing),
            cmocka_unit_test(test_retry_then_dead_letter),
            cmocka_unit_test(test_lost_workers_do_not_use_attempts),
            cmocka_unit_test(test_poison_pill_ends_after_max_lost_leases),
            cmocka_unit_test(test_migration_to_v3),
        };
        return ENV_RUN_BOTH_BACKENDS("queue leases", tests);
}
