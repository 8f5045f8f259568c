/* The job store under several processes at once, on both backends:
 * concurrent migrations, batch claims that never overlap, a chaos run
 * (a worker killed with SIGKILL, PostgreSQL crashed and restarted mid-run:
 * every job ends exactly once), and a throughput figure (printed, never
 * asserted). Children are forked before they open their own handle (a
 * handle never crosses fork()) and report through exit codes and files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>

#include "queue_env.h"

/* A worker as the real one will be, minus the sandbox: claim a batch,
 * "run" each job, complete it, log each success; reap now and then; ride
 * out transient errors. Exits when every job is done. */
static int chaos_worker(const char *url, int id, int log_fd, long long jobs)
{
        char name[32];
        snprintf(name, sizeof(name), "chaos%d", id);
        struct wh_err err;
        struct wh_queue *q = open_retry(url, &err);
        if (!q)
                return 1;
        int64_t deadline = env_now_ms() + 120000, last_reap = 0;
        while (env_now_ms() < deadline) {
                if (env_now_ms() - last_reap > 100) {
                        size_t r, d;
                        if (wh_queue_reap(q, &r, &d, &err) < 0 && !wh_queue_err_is_transient(&err))
                                return 2;
                        last_reap = env_now_ms();
                }
                struct wh_job *j;
                size_t n;
                if (wh_queue_claim(q, name, 5, 500, &j, &n, &err) < 0) {
                        if (!wh_queue_err_is_transient(&err))
                                return 3;
                        env_sleep_ms(50);
                        continue;
                }
                for (size_t k = 0; k < n; k++) {
                        env_sleep_ms(2); /* the normaliser */
                        struct wh_job_completion c = {.id = j[k].id,
                                                      .token = j[k].token,
                                                      .worker_id = name,
                                                      .outcome = "ok",
                                                      .output_json = "[]",
                                                      .provenance_json = "{}"};
                        int64_t rid;
                        if (wh_queue_complete(q, &c, 1, &rid, &err) == 0) {
                                if (write(log_fd, &j[k].id, sizeof(j[k].id)) != 8)
                                        return 4;
                        } else if (!wh_queue_err_is_fenced(&err) &&
                                   !wh_queue_err_is_transient(&err)) {
                                fprintf(stderr, "%s: %s\n", name, err.msg);
                                return 5;
                        }
                }
                wh_jobs_free(j, n);
                if (n == 0) {
                        struct wh_queue_stats st;
                        if (wh_queue_stats(q, 1000, &st, &err) == 0 && (long long)st.done == jobs) {
                                wh_queue_close(q);
                                return 0;
                        }
                        env_sleep_ms(20);
                }
        }
        return 6;
}

static void test_concurrent_migrations(void **state)
{
        (void)state;
        for (int round = 0; round < 3; round++) {
                const char *url = env_fresh();
                int go[2];
                assert_int_equal(pipe2(go, O_CLOEXEC), 0);
                pid_t pids[2];
                for (int i = 0; i < 2; i++) {
                        pids[i] = fork();
                        if (pids[i] == 0) {
                                char c;
                                close(go[1]);
                                if (read(go[0], &c, 1) != 0)
                                        _exit(2);
                                struct wh_err err;
                                struct wh_queue *q;
                                if (wh_queue_open(url, &q, &err) < 0) {
                                        fprintf(stderr, "child open: %s\n", err.msg);
                                        _exit(1);
                                }
                                wh_queue_close(q);
                                _exit(0);
                        }
                }
                close(go[0]);
                close(go[1]); /* both start at once */
                assert_int_equal(wait_child(pids[0]), 0);
                assert_int_equal(wait_child(pids[1]), 0);
                assert_int_equal(count("SELECT count(*) FROM schema_version"), ENV_SCHEMA_VERSION);
        }
}

static void test_batch_claims_never_overlap(void **state)
{
        (void)state;
        enum { JOBS = 500, CLAIMERS = 4 };
        struct wh_err err;
        struct wh_queue *q;
        OK(wh_queue_open(env_fresh(), &q, &err));
        int64_t *ids = calloc(JOBS, sizeof(*ids));
        OK(env_submit(q, "one input", JOBS, ids, 0, &err));
        wh_queue_close(q);
        int fds[CLAIMERS];
        pid_t pids[CLAIMERS];
        for (int i = 0; i < CLAIMERS; i++) {
                int p[2];
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                pids[i] = fork();
                if (pids[i] == 0) {
                        char name[16];
                        snprintf(name, sizeof(name), "claimer%d", i);
                        if (wh_queue_open(E.url, &q, &err) < 0)
                                _exit(1);
                        for (;;) {
                                struct wh_job *j;
                                size_t n;
                                if (wh_queue_claim(q, name, 7, 600000, &j, &n, &err) < 0) {
                                        fprintf(stderr, "%s: %s\n", name, err.msg);
                                        _exit(1);
                                }
                                for (size_t k = 0; k < n; k++)
                                        if (write(p[1], &j[k].id, sizeof(j[k].id)) != 8)
                                                _exit(1);
                                wh_jobs_free(j, n);
                                if (n == 0)
                                        break;
                        }
                        wh_queue_close(q);
                        _exit(0);
                }
                close(p[1]);
                fds[i] = p[0];
        }
        int *seen = calloc(JOBS + 1, sizeof(int));
        size_t total = 0;
        for (int i = 0; i < CLAIMERS; i++) {
                int64_t id;
                while (read(fds[i], &id, sizeof(id)) == sizeof(id)) {
                        assert_true(id >= ids[0] && id <= ids[JOBS - 1]);
                        seen[id - ids[0]]++;
                        total++;
                }
                close(fds[i]);
                assert_int_equal(wait_child(pids[i]), 0);
        }
        assert_int_equal(total, JOBS);
        for (int i = 0; i < JOBS; i++)
                assert_int_equal(seen[i], 1);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 1 AND attempt = 1"), JOBS);
        free(seen);
        free(ids);
}

static void test_chaos(void **state)
{
        (void)state;
        enum { JOBS = 300, WORKERS = 3 };
        struct wh_err err;
        struct wh_queue *q;
        OK(wh_queue_open(env_fresh(), &q, &err));
        int64_t ids[JOBS];
        OK(env_submit(q, "chaos input", JOBS, ids, 0, &err));
        char logs[WORKERS][256];
        pid_t pids[WORKERS];
        for (int i = 0; i < WORKERS; i++) {
                snprintf(logs[i], sizeof(logs[i]), "%s/chaos%d-%d.log", E.tmp, E.serial, i);
                int fd = open(logs[i], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                pids[i] = fork();
                if (pids[i] == 0)
                        _exit(chaos_worker(E.url, i, fd, JOBS));
                close(fd);
        }
        bool killed = false, restarted = !E.pg || !E.pg_ours;
        int64_t deadline = env_now_ms() + 120000;
        struct wh_queue_stats st = {0};
        while (env_now_ms() < deadline && (!killed || !restarted)) {
                if (wh_queue_stats(q, 1000, &st, &err) < 0) {
                        assert_true(wh_queue_err_is_transient(&err));
                        env_sleep_ms(20);
                        continue;
                }
                if (!killed && st.done >= JOBS / 3) {
                        assert_int_equal(kill(pids[0], SIGKILL), 0);
                        killed = true;
                }
                if (killed && !restarted && st.done >= JOBS / 2) {
                        /* As a crash would: clients cut off, no checkpoint. */
                        assert_int_equal(env_pg_stop(true), 0);
                        env_sleep_ms(300);
                        assert_int_equal(env_pg_start(), 0);
                        restarted = true;
                }
                env_sleep_ms(10);
        }
        assert_true(killed);
        assert_int_equal(wait_child(pids[0]), 128 + SIGKILL);
        for (int i = 1; i < WORKERS; i++)
                assert_int_equal(wait_child(pids[i]), 0);
        wh_queue_close(q);

        assert_int_equal(count("SELECT count(*) FROM results"), JOBS);
        assert_int_equal(count("SELECT count(DISTINCT job_id) FROM results"), JOBS);
        assert_int_equal(count("SELECT count(*) FROM jobs WHERE state = 2"), JOBS);
        assert_int_equal(count("SELECT count(*) FROM dead_letter"), 0);
        /* No job was reported completed twice, by anyone. */
        int seen[JOBS] = {0};
        for (int i = 0; i < WORKERS; i++) {
                int fd = open(logs[i], O_RDONLY | O_CLOEXEC);
                int64_t id;
                while (read(fd, &id, sizeof(id)) == sizeof(id))
                        seen[id - ids[0]]++;
                close(fd);
        }
        int reported = 0;
        for (int i = 0; i < JOBS; i++) {
                assert_true(seen[i] <= 1);
                reported += seen[i];
        }
        /* The killed worker may have completed a job and died before it
         * could log it; nothing else may be missing. */
        assert_true(reported >= JOBS - 5);
        printf("chaos (%s): %d jobs, 1 of %d workers killed%s; %lld jobs needed a second "
               "lease\n",
               E.pg ? "postgres" : "sqlite", JOBS, WORKERS,
               E.pg && E.pg_ours ? ", server restarted" : "",
               count("SELECT count(*) FROM results WHERE token > 1"));
}

static void test_throughput(void **state)
{
        (void)state;
        const char *env_jobs = getenv("WH_QUEUE_BENCH_JOBS");
        const char *env_procs = getenv("WH_QUEUE_BENCH_PROCS");
        const char *env_batch = getenv("WH_QUEUE_BENCH_BATCH");
        /* 1: complete each job on its own, as a worker finishing runs one by
         * one would; otherwise the whole claimed batch in one call. */
        const char *env_single = getenv("WH_QUEUE_BENCH_SINGLE");
        bool single = env_single && *env_single == '1';
        long jobs = env_jobs ? atol(env_jobs) : 2000;
        int procs = env_procs ? atoi(env_procs) : 2;
        size_t batch = env_batch ? (size_t)atol(env_batch) : 100;
        struct wh_err err;
        struct wh_queue *q;
        OK(wh_queue_open(env_fresh(), &q, &err));
        int64_t *ids = calloc((size_t)jobs, sizeof(*ids));
        int64_t t0 = env_now_ms();
        for (long done = 0; done < jobs; done += 1000)
                OK(env_submit(q, "noop", (size_t)(jobs - done < 1000 ? jobs - done : 1000),
                              ids + done, 0, &err));
        int64_t t1 = env_now_ms();
        pid_t pids[16];
        for (int i = 0; i < procs && i < 16; i++) {
                pids[i] = fork();
                if (pids[i] != 0)
                        continue;
                char name[16];
                snprintf(name, sizeof(name), "bench%d", i);
                struct wh_queue *wq;
                if (wh_queue_open(E.url, &wq, &err) < 0)
                        _exit(1);
                struct wh_job_completion *c = calloc(batch, sizeof(*c));
                int64_t *rids = calloc(batch, sizeof(*rids));
                for (;;) {
                        struct wh_job *j;
                        size_t n;
                        if (wh_queue_claim(wq, name, batch, 60000, &j, &n, &err) < 0)
                                _exit(2);
                        for (size_t k = 0; k < n; k++)
                                c[k] = (struct wh_job_completion){.id = j[k].id,
                                                                  .token = j[k].token,
                                                                  .worker_id = name,
                                                                  .outcome = "ok",
                                                                  .output_json = "[]",
                                                                  .provenance_json = "{}"};
                        for (size_t k = 0; k < n; k += single ? 1 : n) {
                                if (wh_queue_complete(wq, c + k, single ? 1 : n, rids, &err) < 0) {
                                        fprintf(stderr, "%s: %s\n", name, err.msg);
                                        _exit(3);
                                }
                        }
                        wh_jobs_free(j, n);
                        if (n == 0)
                                break;
                }
                wh_queue_close(wq);
                _exit(0);
        }
        for (int i = 0; i < procs && i < 16; i++)
                assert_int_equal(wait_child(pids[i]), 0);
        int64_t t2 = env_now_ms();
        assert_int_equal(count("SELECT count(*) FROM results"), jobs);
        printf("throughput (%s): %ld no-op jobs, %d processes, claim batch %zu, complete %s: "
               "submit %.0f jobs/s, claim+complete %.0f jobs/s\n",
               E.pg ? "postgres" : "sqlite", jobs, procs, batch, single ? "one by one" : "batched",
               (double)jobs * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1),
               (double)jobs * 1000.0 / (double)(t2 - t1 ? t2 - t1 : 1));
        free(ids);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_concurrent_migrations),
            cmocka_unit_test(test_batch_claims_never_overlap),
            cmocka_unit_test(test_chaos),
            cmocka_unit_test(test_throughput),
        };
        return ENV_RUN_BOTH_BACKENDS("queue concurrency", tests);
}
