/* A sandboxed run from a multi-threaded caller (the worker runs several at
 * once). Regression test: glibc's setresuid() in the clone3 child waited
 * forever for the caller's other threads; glibc's fork() there could inherit
 * a malloc lock held by one of them. An alarm turns a hang into a failure. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <whiskers/sandbox.h>

#include "need_userns.h"

static volatile bool stop;

/* Keeps malloc's locks busy while the sandbox clones. */
static void *churn(void *arg)
{
        (void)arg;
        while (!stop)
                free(malloc(64 + (size_t)(rand() % 4096)));
        return NULL;
}

static void test_runs_beside_busy_threads(void **state)
{
        (void)state;
        need_userns();
        char cache[] = "/tmp/wh-threads-XXXXXX";
        assert_non_null(mkdtemp(cache));
        setenv("WHISKERS_CACHE_DIR", cache, 1);
        pthread_t threads[3];
        for (int i = 0; i < 3; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, churn, NULL), 0);
        alarm(60);

        struct wh_sandbox_config config = {
            .host_uid = (uid_t)-1, .host_gid = (gid_t)-1, .cgroup_driver = "none"};
        struct wh_sandbox *sb = NULL;
        struct wh_err err;
        assert_int_equal(wh_sandbox_new(&config, &sb, &err), 0);
        const char *argv[] = {"/bin/sh", "-c", "exit 7", NULL};
        for (int i = 0; i < 20; i++) {
                struct wh_run_spec run = {.argv = argv,
                                          .stdin_fd = -1,
                                          .stdout_fd = -1,
                                          .stderr_fd = -1,
                                          .limits = {.wall_ms = 10000}};
                struct wh_report report;
                assert_int_equal(wh_sandbox_run(sb, &run, &report, &err), 0);
                if (report.status == WH_STATUS_SANDBOX_ERROR)
                        fail_msg("sandbox error at %s: %s", report.stage, report.message);
                assert_int_equal(report.status, WH_STATUS_EXIT_NONZERO);
                assert_int_equal(report.exit_code, 7);
        }
        wh_sandbox_free(sb);
        alarm(0);
        stop = true;
        for (int i = 0; i < 3; i++)
                pthread_join(threads[i], NULL);
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", cache);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_runs_beside_busy_threads)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
