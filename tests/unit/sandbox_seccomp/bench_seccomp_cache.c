/* Hand-run timing of the seccomp BPF cache (not a test: timings vary).
 * Compares, for the built-in default policy, compiling with libseccomp to
 * reading a cache entry, and the whole first-use path either way.
 *
 * Build and run from the repository root after building wh_sandbox_seccomp
 * in build-seccomp:
 *
 *   cc -O2 -Isrc -Iinclude tests/unit/sandbox_seccomp/bench_seccomp_cache.c \
 *      build-seccomp/src/sandbox/libwh_sandbox_seccomp.a \
 *      build-seccomp/src/base/libwh_base.a -l:libseccomp.a -o /tmp/bench_seccomp
 *   WHISKERS_CACHE_DIR=$(mktemp -d) /tmp/bench_seccomp 200 */
#define _GNU_SOURCE
#include "sandbox/seccomp_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static void report(const char *what, double *samples, int n)
{
        qsort(samples, (size_t)n, sizeof(double), cmp_double);
        double sum = 0;
        for (int i = 0; i < n; i++)
                sum += samples[i];
        printf("%-44s mean %8.1f us  median %8.1f us  min %8.1f us\n", what, sum / n,
               samples[n / 2], samples[0]);
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 100;
        char dir[PATH_MAX], key[256];
        struct wh_err err;
        struct wh_seccomp_policy *policy;
        if (n < 1 || wh_seccomp_cache_dir(dir, sizeof(dir)) < 0 ||
            wh_seccomp_policy_load(NULL, &policy, &err) < 0) {
                fprintf(stderr, "usage: WHISKERS_CACHE_DIR=DIR %s [ROUNDS]\n", argv[0]);
                return 2;
        }
        wh_seccomp_cache_key(wh_seccomp_policy_hash(policy), key, sizeof(key));
        double *compile = calloc((size_t)n, sizeof(double));
        double *cached = calloc((size_t)n, sizeof(double));
        double *parse = calloc((size_t)n, sizeof(double));
        double *cold = calloc((size_t)n, sizeof(double));
        double *warm = calloc((size_t)n, sizeof(double));
        double *text_hit = calloc((size_t)n, sizeof(double));
        size_t len = 0;
        for (int i = 0; i < n; i++) {
                struct sock_filter *insns;
                double t0 = now_us();
                if (wh_seccomp_compile(policy->rules, policy->n_rules, &insns, &len, &err) < 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        return 1;
                }
                compile[i] = now_us() - t0;
                if (wh_seccomp_cache_store(dir, key, insns, len, &err) < 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        return 1;
                }
                free(insns);
                t0 = now_us();
                if (wh_seccomp_cache_load(dir, key, &insns, &len) < 0) {
                        fprintf(stderr, "cache entry rejected\n");
                        return 1;
                }
                cached[i] = now_us() - t0;
                free(insns);
        }
        /* The whole path a run takes: load the policy, then get its BPF. */
        for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < n; i++) {
                        char path[PATH_MAX];
                        if (pass == 0 && wh_seccomp_cache_path(dir, key, path, sizeof(path)) == 0)
                                remove(path);
                        struct wh_seccomp_policy *p;
                        const struct sock_fprog *prog;
                        double t0 = now_us();
                        if (wh_seccomp_policy_load(NULL, &p, &err) < 0)
                                return 1;
                        double t1 = now_us();
                        if (wh_seccomp_policy_bpf(p, &prog, &err) < 0)
                                return 1;
                        (pass == 0 ? cold : warm)[i] = now_us() - t0;
                        parse[i] = t1 - t0;
                        if (p->from_cache != (pass == 1))
                                fprintf(stderr, "unexpected cache %s\n", pass ? "miss" : "hit");
                        wh_seccomp_policy_free(p);
                }
        }
        /* What the sandbox calls: a text entry hit skips the parse. */
        for (int i = 0; i < n; i++) {
                struct wh_seccomp_policy *p;
                double t0 = now_us();
                if (wh_seccomp_policy_load_compiled(NULL, &p, &err) < 0)
                        return 1;
                text_hit[i] = now_us() - t0;
                if (i > 0 && wh_seccomp_policy_canonical(p))
                        fprintf(stderr, "unexpected text entry miss\n");
                wh_seccomp_policy_free(p);
        }
        printf("default policy: %zu rules, %zu BPF instructions, %d rounds\n", policy->n_rules, len,
               n);
        report("libseccomp compile (wh_seccomp_compile)", compile, n);
        report("cache read (wh_seccomp_cache_load)", cached, n);
        report("policy parse + hash (wh_seccomp_policy_load)", parse, n);
        report("load + bpf, cache miss (compile + store)", cold, n);
        report("load + bpf, cache hit", warm, n);
        if (n > 1)
                report("load_compiled, text entry hit (no parse)", text_hit + 1, n - 1);
        wh_seccomp_policy_free(policy);
        return 0;
}
