/* The worker loop's own cost: claim, deduplication lookup, a no-op run,
 * batched completion, on SQLite and PostgreSQL. A printed figure, never
 * asserted (beyond every job being done once); bench/queue runs it bigger:
 *   WH_WORKER_BENCH_JOBS   jobs (default 1000)
 *   WH_WORKER_BENCH_SLOTS  concurrency (default 2)
 *   WH_WORKER_BENCH_BATCH  claim batch (default 100)
 *   WHISKERS_TEST_PG_URL   an existing server instead of a private one */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../queue/queue_env.h"
#include "fake_runner.h"
#include "worker/core.h"

static long env_long(const char *name, long dflt)
{
        const char *v = getenv(name);
        return v && *v ? atol(v) : dflt;
}

static void test_throughput(void **state)
{
        (void)state;
        long jobs = env_long("WH_WORKER_BENCH_JOBS", 1000);
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "raw", 3, digest, NULL, &err));
        /* Distinct meta: every job misses the deduplication lookup. */
        struct wh_job_spec *specs = calloc((size_t)jobs, sizeof(*specs));
        char(*metas)[32] = calloc((size_t)jobs, 32);
        int64_t *ids = calloc((size_t)jobs, sizeof(*ids));
        for (long i = 0; i < jobs; i++) {
                snprintf(metas[i], 32, "{\"n\":%ld}", i);
                specs[i] = (struct wh_job_spec){.tenant = "acme",
                                                .normaliser = "noop",
                                                .raw_digest = digest,
                                                .meta_json = metas[i]};
        }
        for (long i = 0; i < jobs; i += 1000)
                OK(wh_queue_submit(q, specs + i, (size_t)(jobs - i < 1000 ? jobs - i : 1000),
                                   ids + i, &err));
        struct wh_worker_config c = {
            .db_url = E.url,
            .worker_id = "bench",
            .concurrency = (unsigned)env_long("WH_WORKER_BENCH_SLOTS", 2),
            .claim_batch = (uint32_t)env_long("WH_WORKER_BENCH_BATCH", 100),
            .exit_when_idle = true,
            .poll_max_ms = 10,
            .log_fd = -1,
        };
        static volatile sig_atomic_t no_stop;
        struct wh_worker_summary s;
        int64_t t0 = env_now_ms();
        if (wh_worker_run_with(&c, &fake_runner, &no_stop, &s, &err) < 0)
                fail_msg("worker: %s", err.msg);
        int64_t ms = env_now_ms() - t0;
        assert_int_equal(s.completed, jobs);
        assert_int_equal(count("SELECT count(*) FROM results"), jobs);
        printf("worker throughput (%s, no-op runner, %u slots, claim batch %u): %ld jobs in %lld "
               "ms = %.0f jobs/s, %llu completion transactions\n",
               E.pg ? "postgres" : "sqlite", c.concurrency, c.claim_batch, jobs, (long long)ms,
               ms ? jobs * 1000.0 / (double)ms : 0.0, (unsigned long long)s.complete_calls);
        free(specs);
        free(metas);
        free(ids);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_throughput)};
        return ENV_RUN_BOTH_BACKENDS("worker throughput", tests);
}
