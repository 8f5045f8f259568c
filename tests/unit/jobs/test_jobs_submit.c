/* Normaliser references, MIME routing and submission (jobs.h), on a
 * directory of normalisers made here and an SQLite store. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/jobs.h>

#include "base/strv.h"

static char dir[64];  /* the normalisers */
static char url[128]; /* the store */

static void put(const char *id, const char *consumes)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, id);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%s/normalizer.json", dir, id);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "{\"id\": \"%s\", \"version\": \"1\", \"consumes\": [%s]}\n", id, consumes);
        fclose(f);
}

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/wh-jobs-submit.XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        put("nmap", "\"boefje/nmap\"");
        put("nmap-udp", "\"boefje/nmap\", \"boefje/nmap-udp\"");
        put("dns", "\"boefje/dns\"");
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/not-a-normaliser", dir);
        snprintf(url, sizeof(url), "sqlite://%s/store.db", dir);
        return mkdir(sub, 0755);
}

static int teardown(void **state)
{
        (void)state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_find(void **state)
{
        (void)state;
        struct wh_err err;
        char *path = NULL, want[PATH_MAX];
        assert_int_equal(wh_normaliser_find(dir, "nmap", &path, &err), 0);
        snprintf(want, sizeof(want), "%s/nmap", dir);
        assert_string_equal(path, want);
        free(path);
        /* A path: used as it is, made absolute. */
        assert_int_equal(chdir(dir), 0);
        assert_int_equal(wh_normaliser_find("/nonexistent", "./dns", &path, &err), 0);
        snprintf(want, sizeof(want), "%s/dns", dir);
        assert_string_equal(path, want);
        free(path);
        assert_int_equal(chdir("/"), 0);
        assert_int_equal(wh_normaliser_find(dir, "whois", &path, &err), -1);
        assert_int_equal(err.kind, WH_ERR_NOT_FOUND);
        assert_non_null(strstr(err.msg, "no normaliser with the id 'whois'"));
        snprintf(want, sizeof(want), "%s/not-a-normaliser", dir);
        assert_int_equal(wh_normaliser_find(dir, want, &path, &err), -1);
        assert_non_null(strstr(err.msg, "no normalizer.json"));
}

static void test_duplicate_ids_are_refused(void **state)
{
        (void)state;
        put("nmap-copy", "\"boefje/nmap\"");
        char path[256];
        snprintf(path, sizeof(path), "%s/nmap-copy/normalizer.json", dir);
        FILE *f = fopen(path, "we");
        fprintf(f, "{\"id\": \"nmap\", \"consumes\": [\"boefje/nmap\"]}\n");
        fclose(f);
        struct wh_err err;
        char *found = NULL;
        assert_int_equal(wh_normaliser_find(dir, "nmap", &found, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        assert_non_null(strstr(err.msg, "ids must be unique"));
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -r '%s/nmap-copy'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_routing_by_mime(void **state)
{
        (void)state;
        struct wh_err err;
        char **ids;
        size_t n;
        assert_int_equal(wh_normalisers_for_mime(dir, "boefje/nmap", &ids, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(ids[0], "nmap");
        assert_string_equal(ids[1], "nmap-udp");
        wh_strv_free(ids, n);
        assert_int_equal(wh_normalisers_for_mime(dir, "boefje/whois", &ids, &n, &err), 0);
        assert_int_equal(n, 0);
        wh_strv_free(ids, n);
}

/* A raw file with several MIME types: each consuming normaliser once; a
 * directory that is one normaliser routes to its absolute path. */
static void test_routing_by_mime_types(void **state)
{
        (void)state;
        struct wh_err err;
        char **refs;
        size_t n;
        json_t *types = json_pack("[s, s, s]", "boefje/nmap", "boefje/nmap-udp", "text/plain");
        struct wh_route route = {.normalisers_dir = dir};
        assert_int_equal(wh_route_mime_types(&route, types, &refs, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(refs[0], "nmap");
        assert_string_equal(refs[1], "nmap-udp");
        wh_strv_free(refs, n);
        char one[PATH_MAX];
        snprintf(one, sizeof(one), "%s/nmap-udp", dir);
        route.normalisers_dir = one;
        assert_int_equal(wh_route_mime_types(&route, types, &refs, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(refs[0], one);
        wh_strv_free(refs, n);
        snprintf(one, sizeof(one), "%s/dns", dir);
        assert_int_equal(wh_route_mime_types(&route, types, &refs, &n, &err), 0);
        assert_int_equal(n, 0);
        wh_strv_free(refs, n);
        json_decref(types);
}

static void test_submit(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q;
        assert_int_equal(wh_queue_open(url, &q, &err), 0);
        struct wh_submit_input in[2] = {{"scan one", 8}, {"scan two", 8}};
        struct wh_submission s = {.tenant = "acme",
                                  .mime = "boefje/nmap",
                                  .normalisers_dir = dir,
                                  .meta_json = "{\"task_id\": \"t1\"}"};
        struct wh_submitted *jobs;
        size_t n;
        assert_int_equal(wh_submit(q, &s, in, 2, &jobs, &n, &err), 0);
        /* Two files, two normalisers consuming boefje/nmap: four jobs. */
        assert_int_equal(n, 4);
        for (size_t i = 0; i < n; i++) {
                struct wh_job_info *info;
                assert_int_equal(wh_queue_show(q, jobs[i].job_id, &info, &err), 0);
                assert_string_equal(info->normaliser, jobs[i].normaliser);
                assert_string_equal(info->mime, "boefje/nmap");
                assert_string_equal(info->raw_digest, jobs[i].raw_digest);
                assert_string_equal(info->tenant, "acme");
                wh_job_info_free(info);
        }
        assert_string_equal(jobs[0].normaliser, "nmap");
        assert_string_equal(jobs[1].normaliser, "nmap-udp");
        assert_int_equal(jobs[2].input, 1);
        assert_string_not_equal(jobs[0].raw_digest, jobs[2].raw_digest);
        wh_submitted_free(jobs, n);

        /* An unknown reference queues nothing. */
        s.mime = NULL;
        s.normaliser = "whois";
        assert_int_equal(wh_submit(q, &s, in, 2, &jobs, &n, &err), -1);
        assert_int_equal(err.kind, WH_ERR_NOT_FOUND);
        s.normaliser = NULL;
        s.mime = "boefje/whois";
        assert_int_equal(wh_submit(q, &s, in, 2, &jobs, &n, &err), -1);
        assert_non_null(strstr(err.msg, "consumes 'boefje/whois'"));
        struct wh_queue_stats st;
        assert_int_equal(wh_queue_stats(q, 1000, &st, &err), 0);
        assert_int_equal(st.ready, 4);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_find),
            cmocka_unit_test(test_duplicate_ids_are_refused),
            cmocka_unit_test(test_routing_by_mime),
            cmocka_unit_test(test_routing_by_mime_types),
            cmocka_unit_test(test_submit),
        };
        return cmocka_run_group_tests_name("job submission", tests, setup, teardown);
}
