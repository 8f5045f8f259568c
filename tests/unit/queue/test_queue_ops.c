/* The job store's everyday operations on both backends: submit, claim,
 * complete and read back; raw and result deduplication; heartbeats and
 * release; migrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>

#include "base/sha256.h"
#include "queue_env.h"

static void test_submit_claim_complete(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        assert_string_equal(wh_queue_backend(q), E.pg ? "postgres" : "sqlite");
        const char raw[] = "PORT 22/tcp open ssh\n";
        char digest[WH_DIGEST_BUF], hex[65];
        OK(wh_queue_put_raw(q, raw, strlen(raw), digest, NULL, &err));
        wh_sha256_hex(raw, strlen(raw), hex);
        assert_string_equal(digest + 7, hex);
        struct wh_job_spec spec = {.tenant = "acme",
                                   .normaliser = "kat/nmap:1",
                                   .raw_digest = digest,
                                   .meta_json = "{ \"z\": 1, \"a\": [true] }",
                                   .mime = "boefje/nmap"};
        int64_t id;
        OK(wh_queue_submit(q, &spec, 1, &id, &err));
        assert_true(id > 0);

        struct wh_job *jobs;
        size_t n;
        OK(wh_queue_claim(q, "w1", 10, 60000, &jobs, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(jobs[0].id, id);
        assert_int_equal(jobs[0].attempt, 1);
        assert_int_equal(jobs[0].token, 1);
        assert_int_equal(jobs[0].max_attempts, WH_QUEUE_DEFAULT_MAX_ATTEMPTS);
        assert_true(jobs[0].lease_expires_ms > env_now_ms());
        assert_string_equal(jobs[0].tenant, "acme");
        assert_string_equal(jobs[0].normaliser, "kat/nmap:1");
        assert_null(jobs[0].package_digest);
        assert_string_equal(jobs[0].raw_digest, digest);
        assert_string_equal(jobs[0].mime, "boefje/nmap");
        /* Canonical meta: sorted keys, compact; its digest is of those bytes. */
        assert_string_equal(jobs[0].meta_json, "{\"a\":[true],\"z\":1}");
        wh_sha256_hex(jobs[0].meta_json, strlen(jobs[0].meta_json), hex);
        assert_string_equal(jobs[0].meta_digest + 7, hex);

        struct wh_job *none;
        size_t zero;
        OK(wh_queue_claim(q, "w2", 10, 60000, &none, &zero, &err));
        assert_int_equal(zero, 0);
        wh_jobs_free(none, zero);

        int64_t rid = complete_ok(q, &jobs[0], "w1", "[{\"object\":\"IPPort\",\"port\":22}]", &err);
        OK(rid);
        assert_true(rid > 0);
        assert_int_equal(count("SELECT count(*) FROM results"), 1);
        assert_int_equal(count("SELECT count(*) FROM result_body"), 1);

        struct wh_job_info *info;
        OK(wh_queue_show(q, id, &info, &err));
        assert_int_equal(info->state, WH_JOB_DONE);
        assert_non_null(info->result);
        assert_int_equal(info->result->result_id, rid);
        assert_string_equal(info->result->outcome, "ok");
        assert_string_equal(info->result->worker, "w1");
        assert_string_equal(info->output_json, "[{\"object\":\"IPPort\",\"port\":22}]");
        assert_string_equal(info->provenance_json, "{\"runtime\":\"test\"}");
        assert_null(info->lease_owner);
        char *json;
        OK(wh_job_info_json(info, &json, &err));
        assert_non_null(strstr(json, "\"state\": \"done\""));
        assert_non_null(strstr(json, "\"port\": 22"));
        free(json);
        wh_job_info_free(info);

        struct wh_result_row *rows;
        OK(wh_queue_results(q, &(struct wh_result_filter){.tenant = "acme"}, &rows, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].job_id, id);
        assert_string_equal(rows[0].normaliser, "kat/nmap:1");
        assert_string_equal(rows[0].input_digest, digest);
        wh_result_rows_free(rows, n);
        OK(wh_queue_results(q, &(struct wh_result_filter){.tenant = "other"}, &rows, &n, &err));
        assert_int_equal(n, 0);
        wh_result_rows_free(rows, n);

        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 60000, &st, &err));
        assert_int_equal(st.done, 1);
        assert_int_equal(st.ready + st.running + st.dead + st.delayed, 0);

        void *back;
        size_t len;
        OK(wh_queue_get_raw(q, digest, &back, &len, &err));
        assert_int_equal(len, strlen(raw));
        assert_memory_equal(back, raw, len);
        free(back);
        wh_jobs_free(jobs, 1);
        wh_queue_close(q);
}

static void test_raw_dedup(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        char d1[WH_DIGEST_BUF], d2[WH_DIGEST_BUF], d3[WH_DIGEST_BUF];
        bool existed = true;
        unsigned char bin[300];
        for (size_t i = 0; i < sizeof(bin); i++)
                bin[i] = (unsigned char)i; /* NULs and high bytes survive */
        OK(wh_queue_put_raw(q, bin, sizeof(bin), d1, &existed, &err));
        assert_false(existed);
        OK(wh_queue_put_raw(q, bin, sizeof(bin), d2, &existed, &err));
        assert_true(existed);
        assert_string_equal(d1, d2);
        OK(wh_queue_put_raw(q, "", 0, d3, &existed, &err));
        assert_false(existed);
        assert_string_equal(d3, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                                "7852b855");
        assert_int_equal(count("SELECT count(*) FROM raw"), 2);
        void *back;
        size_t len;
        OK(wh_queue_get_raw(q, d1, &back, &len, &err));
        assert_int_equal(len, sizeof(bin));
        assert_memory_equal(back, bin, len);
        free(back);
        OK(wh_queue_get_raw(q, d3, &back, &len, &err));
        assert_int_equal(len, 0);
        free(back);
        wh_queue_close(q);
}

static void test_dedup_reuse(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t ids[2];
        OK(env_submit(q, "same input", 2, ids, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 2, 60000, &j, &n, &err));
        assert_int_equal(n, 2);
        struct wh_dedup_key key = {P, j[0].raw_digest, j[0].meta_digest, POL};
        int64_t found;
        OK(wh_queue_dedup_lookup(q, &key, "acme", &found, &err));
        assert_int_equal(found, 0);
        int64_t r1 = complete_ok(q, &j[0], "w", "[\"computed once\"]", &err);
        OK(r1);
        OK(wh_queue_dedup_lookup(q, &key, "acme", &found, &err));
        assert_int_equal(found, r1);
        struct wh_dedup_key other = key;
        other.policy_hash = P;
        OK(wh_queue_dedup_lookup(q, &other, "acme", &found, &err));
        assert_int_equal(found, 0);

        struct wh_job_completion c = {.id = j[1].id,
                                      .token = j[1].token,
                                      .worker_id = "w",
                                      .outcome = "ok",
                                      .key = &key,
                                      .reused_from = r1};
        int64_t r2;
        OK(wh_queue_complete(q, &c, 1, &r2, &err));
        assert_true(r2 != r1);
        struct wh_job_info *info;
        OK(wh_queue_show(q, j[1].id, &info, &err));
        assert_int_equal(info->result->reused_from, r1);
        assert_string_equal(info->output_json, "[\"computed once\"]");
        wh_job_info_free(info);
        /* The lookup keeps pointing at the original, not at the reuse. */
        OK(wh_queue_dedup_lookup(q, &key, "acme", &found, &err));
        assert_int_equal(found, r1);
        assert_int_equal(count("SELECT count(*) FROM result_body"), 1);
        assert_int_equal(count("SELECT count(*) FROM results WHERE reused_from IS NOT NULL"), 1);
        wh_jobs_free(j, n);
        wh_queue_close(q);
}

/* Issue 8, item 10: a lookup for one tenant never finds another's result. */
static void test_dedup_scoped_to_tenant(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "shared input", 1, &id, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        assert_int_equal(n, 1);
        int64_t r1 = complete_ok(q, &j[0], "w", "[\"acme's\"]", &err);
        OK(r1);
        struct wh_dedup_key key = {P, j[0].raw_digest, j[0].meta_digest, POL};
        int64_t found = -1;
        OK(wh_queue_dedup_lookup(q, &key, "globex", &found, &err));
        assert_int_equal(found, 0);
        OK(wh_queue_dedup_lookup(q, &key, "acme", &found, &err));
        assert_int_equal(found, r1);
        OK(wh_queue_dedup_lookup(q, &key, NULL, &found, &err));
        assert_int_equal(found, r1);
        assert_int_equal(wh_queue_dedup_lookup(q, &key, "", &found, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        wh_jobs_free(j, n);
        wh_queue_close(q);
}

/* wh_queue_prefetch answers as wh_queue_dedup_lookup and wh_queue_get_raw
 * do, one answer per job in order: the tenant's own results only, a raw
 * blob only up to raw_max, none for a digest not in the store. */
static void test_prefetch(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "done before", 1, &id, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 1, 60000, &j, &n, &err));
        assert_int_equal(n, 1);
        int64_t r1 = complete_ok(q, &j[0], "w", "[]", &err);
        OK(r1);
        char big[WH_DIGEST_BUF];
        char blob[300];
        memset(blob, 'b', sizeof(blob));
        OK(wh_queue_put_raw(q, blob, sizeof(blob), big, NULL, &err));
        const char *missing =
            "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        const char *meta = j[0].meta_digest;
        struct wh_job_prefetch p[4] = {
            {.key = {P, j[0].raw_digest, meta, POL}}, /* reusable */
            {.key = {P, big, meta, POL}},             /* larger than raw_max */
            {.key = {P, missing, meta, POL}},         /* not in the store */
            {.key = {P, j[0].raw_digest, meta, P}},   /* another policy: runs */
        };
        OK(wh_queue_prefetch(q, "acme", p, 4, 100, &err));
        assert_int_equal(p[0].reused_from, r1);
        assert_int_equal(p[1].reused_from, 0);
        assert_null(p[1].raw);
        assert_int_equal(p[2].reused_from, 0);
        assert_null(p[2].raw);
        assert_int_equal(p[3].reused_from, 0);
        assert_int_equal(p[3].raw_len, strlen("done before"));
        assert_memory_equal(p[3].raw, "done before", p[3].raw_len);
        for (size_t i = 0; i < 4; i++)
                free(p[i].raw);
        /* Another tenant's lookup finds nothing to reuse; across tenants it
         * does; raw_max 300 takes the big blob. */
        OK(wh_queue_prefetch(q, "globex", p, 2, 300, &err));
        assert_int_equal(p[0].reused_from, 0);
        assert_int_equal(p[1].raw_len, sizeof(blob));
        assert_memory_equal(p[1].raw, blob, sizeof(blob));
        free(p[0].raw);
        free(p[1].raw);
        OK(wh_queue_prefetch(q, NULL, p, 1, 0, &err));
        assert_int_equal(p[0].reused_from, r1);
        assert_null(p[0].raw);
        assert_int_equal(wh_queue_prefetch(q, "acme", p, 0, 0, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        wh_jobs_free(j, n);
        wh_queue_close(q);
}

/* Issue 8, item 12: reading commands open with wh_queue_open_existing,
 * which must not create a store where there is none. */
static void test_open_existing_creates_nothing(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = NULL;
        const char *url = env_fresh();
        assert_int_equal(wh_queue_open_existing(url, &q, &err), -1);
        assert_int_equal(err.errnum, ENOENT);
        assert_null(q);
        assert_non_null(strstr(err.msg, "no job store"));
        if (E.pg) {
                assert_int_equal(count("SELECT count(*) FROM pg_tables"
                                       " WHERE schemaname = current_schema()"),
                                 0);
        } else {
                struct stat st;
                assert_int_equal(stat(url + strlen("sqlite://"), &st), -1);
                /* An empty file is no store either, and stays empty. */
                FILE *f = fopen(url + strlen("sqlite://"), "w");
                assert_non_null(f);
                fclose(f);
                assert_int_equal(wh_queue_open_existing(url, &q, &err), -1);
                assert_int_equal(err.errnum, ENOENT);
                assert_int_equal(stat(url + strlen("sqlite://"), &st), 0);
                assert_int_equal(st.st_size, 0);
        }
        OK(wh_queue_open(url, &q, &err));
        wh_queue_close(q);
        q = NULL;
        OK(wh_queue_open_existing(url, &q, &err));
        struct wh_queue_stats s;
        OK(wh_queue_stats(q, 1000, &s, &err));
        assert_int_equal(s.ready + s.done, 0);
        wh_queue_close(q);
}

static void test_release_and_heartbeat(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t ids[3];
        OK(env_submit(q, "raw", 3, ids, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 3, 200, &j, &n, &err));
        assert_int_equal(n, 3);
        struct wh_job_lease leases[3] = {
            {j[0].id, j[0].token}, {j[1].id, j[1].token}, {j[2].id, j[2].token + 7}};
        bool held[3];
        OK(wh_queue_heartbeat(q, "w", leases, 3, 60000, held, &err));
        assert_true(held[0] && held[1]);
        assert_false(held[2]); /* wrong token */
        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 60000, &st, &err));
        assert_int_equal(st.live_workers, 1);
        assert_int_equal(st.running, 3);
        env_sleep_ms(300); /* past the first lease, within the extended one */
        size_t requeued, dead;
        OK(wh_queue_reap(q, &requeued, &dead, &err));
        assert_int_equal(requeued, 1); /* only j[2], whose heartbeat failed */

        OK(wh_queue_release(q, leases, 2, &err));
        struct wh_job_info *info;
        OK(wh_queue_show(q, j[0].id, &info, &err));
        assert_int_equal(info->state, WH_JOB_QUEUED);
        assert_int_equal(info->attempt, 0);
        assert_int_equal(info->token, 1);
        wh_job_info_free(info);
        /* Releasing again with the same (now stale) lease changes nothing. */
        OK(wh_queue_release(q, leases, 1, &err));
        wh_jobs_free(j, n);
        OK(wh_queue_claim(q, "w2", 3, 60000, &j, &n, &err));
        assert_int_equal(n, 3);
        /* Neither a release nor a lost lease (j[2]) uses up an attempt. */
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(j[i].token, 2);
                assert_int_equal(j[i].attempt, 1);
        }
        wh_jobs_free(j, n);
        OK(wh_queue_worker_gone(q, "w", &err));
        OK(wh_queue_stats(q, 60000, &st, &err));
        assert_int_equal(st.live_workers, 0);
        wh_queue_close(q);
}

static void test_migrations_idempotent(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "kept", 1, &id, 0, &err));
        wh_queue_close(q);
        for (int i = 0; i < 2; i++) {
                OK(wh_queue_open(E.url, &q, &err));
                wh_queue_close(q);
        }
        assert_int_equal(count("SELECT count(*) FROM schema_version"), ENV_SCHEMA_VERSION);
        assert_int_equal(count("SELECT max(version) FROM schema_version"), ENV_SCHEMA_VERSION);
        assert_int_equal(count("SELECT count(*) FROM jobs"), 1);
}

/* A worker forks and execs sandboxes while its handle is open: no database
 * file or connection may leak into them. Only descriptors the store opened
 * are judged (the test runner may pass its own). */
static void fds_open(bool open_fds[256])
{
        memset(open_fds, 0, 256);
        for (int fd = 0; fd < 256; fd++)
                open_fds[fd] = fcntl(fd, F_GETFD) >= 0;
}

static void test_store_fds_are_cloexec(void **state)
{
        (void)state;
        bool before[256], after[256];
        fds_open(before);
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t id;
        OK(env_submit(q, "x", 1, &id, 0, &err)); /* opens the WAL too */
        fds_open(after);
        int checked = 0;
        for (int fd = 0; fd < 256; fd++) {
                if (!after[fd] || before[fd])
                        continue;
                checked++;
                if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC)) {
                        wh_queue_close(q);
                        fail_msg("fd %d is inherited across exec", fd);
                }
        }
        assert_true(checked >= 1);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_submit_claim_complete),
            cmocka_unit_test(test_raw_dedup),
            cmocka_unit_test(test_dedup_reuse),
            cmocka_unit_test(test_dedup_scoped_to_tenant),
            cmocka_unit_test(test_prefetch),
            cmocka_unit_test(test_open_existing_creates_nothing),
            cmocka_unit_test(test_release_and_heartbeat),
            cmocka_unit_test(test_migrations_idempotent),
            cmocka_unit_test(test_store_fds_are_cloexec),
        };
        return ENV_RUN_BOTH_BACKENDS("queue ops", tests);
}
