/* The stdout sink of a run (wh_run_spec.on_stdout): it gets every byte the
 * payload wrote, in order, and nothing past the output limit; when it
 * returns non-zero the run is stopped at once and reported as sandbox_error
 * at stage "output". Real sandboxed runs of /bin/sh. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <whiskers/sandbox.h>

#include "need_userns.h"

struct sink {
        char *data;
        size_t len, cap;
        size_t calls;
        size_t stop_after; /* return non-zero on this call; 0: never */
};

static int collect(void *ctx, const char *data, size_t len)
{
        struct sink *s = ctx;
        if (s->len + len > s->cap) {
                s->cap = (s->len + len) * 2;
                s->data = realloc(s->data, s->cap);
                assert_non_null(s->data);
        }
        memcpy(s->data + s->len, data, len);
        s->len += len;
        s->calls++;
        return s->stop_after && s->calls == s->stop_after;
}

static struct wh_sandbox *sandbox(void)
{
        struct wh_sandbox_config config = {
            .host_uid = (uid_t)-1, .host_gid = (gid_t)-1, .cgroup_driver = "none"};
        struct wh_sandbox *sb = NULL;
        struct wh_err err = {0};
        need_userns();
        if (wh_sandbox_new(&config, &sb, &err) < 0)
                fail_msg("wh_sandbox_new: %s", err.msg);
        return sb;
}

/* Runs `sh -c script` with the sink; stdout also copied to copy_fd (-1: not). */
static void run(const char *script, struct sink *s, int copy_fd, uint64_t output_bytes,
                struct wh_report *report)
{
        struct wh_sandbox *sb = sandbox();
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        struct wh_run_spec spec = {.argv = argv,
                                   .stdin_fd = -1,
                                   .stdout_fd = copy_fd,
                                   .stderr_fd = -1,
                                   .limits = {.wall_ms = 60000, .output_bytes = output_bytes},
                                   .on_stdout = collect,
                                   .stdout_ctx = s};
        struct wh_err err = {0};
        assert_int_equal(wh_sandbox_run(sb, &spec, report, &err), 0);
        wh_sandbox_free(sb);
        if (report->status == WH_STATUS_SANDBOX_ERROR && strcmp(report->stage, "output") != 0)
                fail_msg("sandbox error at %s: %s", report->stage, report->message);
}

/* What `seq 1 n` prints. */
static char *seq_text(unsigned n, size_t *len)
{
        char *text = NULL;
        FILE *f = open_memstream(&text, len);
        assert_non_null(f);
        for (unsigned i = 1; i <= n; i++)
                fprintf(f, "%u\n", i);
        assert_int_equal(fclose(f), 0);
        return text;
}

static void test_every_byte_in_order(void **state)
{
        (void)state;
        size_t want_len = 0;
        char *want = seq_text(300000, &want_len); /* about 2 MB: many pipe-fulls */
        int copy = memfd_create("copy", MFD_CLOEXEC);
        assert_true(copy >= 0);
        struct sink s = {0};
        struct wh_report r;
        run("seq 1 300000", &s, copy, 0, &r);
        assert_int_equal(r.status, WH_STATUS_OK);
        assert_int_equal(r.stdout_bytes, want_len);
        assert_int_equal(s.len, want_len);
        assert_memory_equal(s.data, want, want_len);
        assert_true(s.calls > 1);
        /* The copy to stdout_fd is unchanged by the sink. */
        char *copied = malloc(want_len);
        assert_int_equal(pread(copy, copied, want_len, 0), (ssize_t)want_len);
        assert_memory_equal(copied, want, want_len);
        free(copied);
        close(copy);
        free(s.data);
        free(want);
}

static void test_sink_stops_the_run(void **state)
{
        (void)state;
        /* Would print for ever, then sleep 30 s: stopped at the first chunk. */
        struct sink s = {.stop_after = 1};
        struct wh_report r;
        run("echo first; sleep 30; yes", &s, -1, 0, &r);
        assert_int_equal(r.status, WH_STATUS_SANDBOX_ERROR);
        assert_string_equal(r.stage, "output");
        assert_non_null(strstr(r.message, "output"));
        assert_int_equal(s.calls, 1);
        assert_int_equal(s.len, 6);
        assert_memory_equal(s.data, "first\n", 6);
        assert_true(r.wall_ms < 20000); /* killed, not waited for */
        free(s.data);

        /* A flood: the sink is not called again once it said stop. */
        struct sink flood = {.stop_after = 3};
        run("yes", &flood, -1, 0, &r);
        assert_int_equal(r.status, WH_STATUS_SANDBOX_ERROR);
        assert_string_equal(r.stage, "output");
        assert_int_equal(flood.calls, 3);
        assert_int_equal(r.stdout_bytes, flood.len); /* stdout is not read after the stop */
        char *json = wh_report_to_json(&r);
        assert_non_null(strstr(json, "\"stage\":\"output\""));
        free(json);
        free(flood.data);
}

static void test_output_limit_with_sink(void **state)
{
        (void)state;
        struct sink s = {0};
        struct wh_report r;
        run("yes", &s, -1, 100000, &r);
        assert_int_equal(r.status, WH_STATUS_OUTPUT_LIMIT);
        assert_int_equal(r.stdout_bytes, 100000);
        assert_int_equal(s.len, 100000); /* exactly the limit, not a byte more */
        for (size_t i = 0; i < s.len; i += 2)
                assert_memory_equal(s.data + i, "y\n", 2);
        free(s.data);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_byte_in_order),
            cmocka_unit_test(test_sink_stops_the_run),
            cmocka_unit_test(test_output_limit_with_sink),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
