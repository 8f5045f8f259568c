/* A job's kind (normaliser or boefje) is a column, on both backends: it
 * comes back from every read (claim, results, dead letters, show,
 * deliveries), the store refuses any other kind, a reference that looks
 * like the old "boefje:" prefix is just a reference, and a store of
 * version 3 (the kind in the prefix) is migrated: its prefixed jobs become
 * boefje jobs without the prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "queue_env.h"

/* One job of `kind` named `ref` on a raw input of its own; its id. */
static int64_t submit_kind(struct wh_queue *q, enum wh_job_kind kind, const char *ref)
{
        struct wh_err err;
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, ref, strlen(ref), digest, NULL, &err));
        struct wh_job_spec s = {
            .kind = kind, .tenant = "acme", .normaliser = ref, .raw_digest = digest};
        int64_t id = 0;
        OK(wh_queue_submit(q, &s, 1, &id, &err));
        return id;
}

/* Claim everything; jobs come back by id. */
static struct wh_job *claim_all(struct wh_queue *q, size_t want)
{
        struct wh_err err;
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 10, 60000, &j, &n, &err));
        assert_int_equal(n, want);
        return j;
}

static void test_kind_on_every_read(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t norm = submit_kind(q, WH_JOB_NORMALISER, "hostnames");
        int64_t scan = submit_kind(q, WH_JOB_BOEFJE, "subdomain-wordlist");
        /* Was the old prefix: a normaliser reference, nothing more now. */
        int64_t lookalike = submit_kind(q, WH_JOB_NORMALISER, "boefje:x");
        assert_int_equal(count("SELECT count(*) FROM job_payload WHERE kind = 'boefje'"
                               " AND normaliser = 'subdomain-wordlist'"),
                         1);
        assert_int_equal(count("SELECT count(*) FROM job_payload WHERE kind = 'normaliser'"), 2);

        struct wh_job *j = claim_all(q, 3);
        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 60000, &st, &err));
        assert_int_equal(st.running, 3);
        assert_int_equal(st.running_boefje, 1);
        assert_int_equal(j[0].id, norm);
        assert_int_equal(j[0].kind, WH_JOB_NORMALISER);
        assert_int_equal(j[1].id, scan);
        assert_int_equal(j[1].kind, WH_JOB_BOEFJE);
        assert_string_equal(j[1].normaliser, "subdomain-wordlist");
        assert_int_equal(j[2].id, lookalike);
        assert_int_equal(j[2].kind, WH_JOB_NORMALISER);
        assert_string_equal(j[2].normaliser, "boefje:x");

        struct wh_job_completion c = {.id = scan,
                                      .token = j[1].token,
                                      .worker_id = "w",
                                      .outcome = "ok",
                                      .output_json = "{}",
                                      .provenance_json = "{}",
                                      .deliver = true};
        int64_t rid;
        OK(wh_queue_complete(q, &c, 1, &rid, &err));
        OK(wh_queue_fail(q, lookalike, j[2].token, "{\"status\":\"normaliser_missing\"}", false,
                         NULL, &err));
        wh_jobs_free(j, 3);
        OK(wh_queue_stats(q, 60000, &st, &err));
        assert_int_equal(st.running, 1);
        assert_int_equal(st.running_boefje, 0);

        struct wh_result_row *rows;
        size_t n;
        OK(wh_queue_results(q, NULL, &rows, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].kind, WH_JOB_BOEFJE);
        char *json;
        OK(wh_result_rows_json(rows, n, &json, &err));
        assert_non_null(strstr(json, "\"kind\": \"boefje\""));
        free(json);
        wh_result_rows_free(rows, n);

        struct wh_dead_row *dead;
        OK(wh_queue_dead_letters(q, NULL, &dead, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(dead[0].kind, WH_JOB_NORMALISER);
        assert_string_equal(dead[0].normaliser, "boefje:x");
        OK(wh_dead_rows_json(dead, n, &json, &err));
        assert_non_null(strstr(json, "\"kind\": \"normaliser\""));
        free(json);
        wh_dead_rows_free(dead, n);

        struct wh_job_info *info;
        OK(wh_queue_show(q, scan, &info, &err));
        assert_int_equal(info->kind, WH_JOB_BOEFJE);
        assert_int_equal(info->result->kind, WH_JOB_BOEFJE);
        wh_job_info_free(info);
        OK(wh_queue_show(q, norm, &info, &err)); /* no result: the kind all the same */
        assert_int_equal(info->kind, WH_JOB_NORMALISER);
        OK(wh_job_info_json(info, &json, &err));
        assert_non_null(strstr(json, "\"kind\": \"normaliser\""));
        free(json);
        wh_job_info_free(info);

        struct wh_delivery_row *undelivered;
        OK(wh_queue_undelivered(q, NULL, &undelivered, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(undelivered[0].kind, WH_JOB_BOEFJE);
        wh_delivery_rows_free(undelivered, n);
        struct wh_delivery *d;
        OK(wh_queue_claim_deliveries(q, 10, 60000, &d, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(d[0].kind, WH_JOB_BOEFJE);
        assert_string_equal(d[0].normaliser, "subdomain-wordlist");
        wh_deliveries_free(d, n);
        wh_queue_close(q);
}

/* Only the two kinds: the API refuses another before the store sees it,
 * and the store's CHECK refuses one written behind the API's back. */
static void test_other_kinds_refused(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "x", 1, digest, NULL, &err));
        struct wh_job_spec s = {
            .kind = (enum wh_job_kind)7, .tenant = "acme", .normaliser = "n", .raw_digest = digest};
        int64_t id;
        assert_int_equal(wh_queue_submit(q, &s, 1, &id, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        assert_non_null(strstr(err.msg, "neither normaliser nor boefje"));
        assert_int_equal(count("SELECT count(*) FROM jobs"), 0);
        id = submit_kind(q, WH_JOB_NORMALISER, "n");
        assert_int_equal(env_exec("UPDATE job_payload SET kind = 'scanner'"), -1);
        assert_int_equal(env_exec("UPDATE job_payload SET kind = NULL"), -1);
        assert_int_equal(count("SELECT count(*) FROM job_payload WHERE kind = 'normaliser'"), 1);
        wh_queue_close(q);
}

/* A kind this whiskers does not know (a newer one's, written past the
 * CHECK here) is refused where it is read, never taken for another kind. */
static void test_unknown_kind_refused(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit_kind(q, WH_JOB_BOEFJE, "dns-records");
        assert_int_equal(env_exec(E.pg ? "ALTER TABLE job_payload DROP CONSTRAINT job_payload_kind;"
                                         " UPDATE job_payload SET kind = 'scanner'"
                                       : "PRAGMA ignore_check_constraints = ON;"
                                         " UPDATE job_payload SET kind = 'scanner'"),
                         0);
        assert_int_equal(count("SELECT count(*) FROM job_payload WHERE kind = 'scanner'"), 1);
        struct wh_job *j;
        size_t n;
        assert_int_equal(wh_queue_claim(q, "w", 10, 60000, &j, &n, &err), -1);
        assert_int_equal(err.errnum, EPROTO);
        assert_non_null(strstr(err.msg, "the kind 'scanner'"));
        assert_non_null(strstr(err.msg, "upgrade whiskers"));
        wh_queue_close(q);
}

/* A store of version 3, as whiskers wrote it then: a boefje job is one
 * whose reference begins with "boefje:" (case-sensitive, with something
 * after it). Opened by this whiskers: those are boefje jobs without the
 * prefix; every other job a normaliser job, its reference unchanged. */
static void test_migration_to_v4(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        int64_t norm = submit_kind(q, WH_JOB_NORMALISER, "hostnames");
        int64_t scan = submit_kind(q, WH_JOB_BOEFJE, "dns-records");
        int64_t path = submit_kind(q, WH_JOB_BOEFJE, "/srv/boefjes/dns");
        int64_t upper = submit_kind(q, WH_JOB_NORMALISER, "BOEFJE:y");
        int64_t bare = submit_kind(q, WH_JOB_NORMALISER, "boefje:");
        wh_queue_close(q);
        env_back_to_v3();
        assert_int_equal(count("SELECT count(*) FROM job_payload WHERE normaliser IN"
                               " ('boefje:dns-records', 'boefje:/srv/boefjes/dns')"),
                         2);

        OK(wh_queue_open(E.url, &q, &err));
        assert_int_equal(count("SELECT max(version) FROM schema_version"), ENV_SCHEMA_VERSION);
        struct wh_job *j = claim_all(q, 5);
        struct {
                int64_t id;
                enum wh_job_kind kind;
                const char *ref;
        } want[] = {{norm, WH_JOB_NORMALISER, "hostnames"},
                    {scan, WH_JOB_BOEFJE, "dns-records"},
                    {path, WH_JOB_BOEFJE, "/srv/boefjes/dns"},
                    {upper, WH_JOB_NORMALISER, "BOEFJE:y"},
                    {bare, WH_JOB_NORMALISER, "boefje:"}};
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(j[i].id, want[i].id);
                assert_int_equal(j[i].kind, want[i].kind);
                assert_string_equal(j[i].normaliser, want[i].ref);
        }
        wh_jobs_free(j, 5);
        /* Opened again: nothing more to do, nothing changed. */
        wh_queue_close(q);
        OK(wh_queue_open(E.url, &q, &err));
        assert_int_equal(count("SELECT count(*) FROM job_payload WHERE kind = 'boefje'"), 2);
        assert_int_equal(count("SELECT count(*) FROM schema_version"), ENV_SCHEMA_VERSION);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kind_on_every_read),
            cmocka_unit_test(test_other_kinds_refused),
            cmocka_unit_test(test_unknown_kind_refused),
            cmocka_unit_test(test_migration_to_v4),
        };
        return ENV_RUN_BOTH_BACKENDS("queue kinds", tests);
}
