/* One run of a loaded normaliser, top to bottom:
 *
 *   check the meta -> stage raw and meta.json -> wh_sandbox_run (stdin:
 *   the raw file; stdout: checked line by line as it arrives, and the run
 *   stopped once that is pointless; stderr: a memory file) -> how the
 *   sandbox ended becomes the first error -> references ->
 *   NormalizerResults -> provenance.
 *
 * After the meta check, nothing the normaliser does makes this fail: it
 * all ends up in res->errors. */
#define _GNU_SOURCE
#include "contract/internal.h"
#include "base/cleanup.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t us_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)((t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000);
}

/* Why the checker stopped the run (c->stop), as the first error. */
static void stopped_early(const struct wh_normaliser *n, struct checker *c)
{
        char why[160] = "whiskers ran out of memory checking the output";
        if (c->stop && strcmp(c->stop, "too_many_items") == 0)
                snprintf(why, sizeof(why), "more than %llu items (limit \"items\")",
                         (unsigned long long)n->limits.max_items);
        else if (c->stop && strcmp(c->stop, "too_many_errors") == 0)
                snprintf(why, sizeof(why),
                         "%llu errors, %d times as many as are listed (fix the first ones)",
                         (unsigned long long)c->error_budget, CHECK_BUDGET_PER_LISTED_ERROR);
        cerr_add(c->errors, "stopped_early", 0, NULL, 0,
                 "stopped while running: %s; the rest of the output was not read", why);
}

static void status_errors(const struct wh_normaliser *n, const struct wh_report *r,
                          struct checker *c)
{
        const struct wh_normaliser_limits *l = &n->limits;
        struct wh_contract_errors *e = c->errors;
        const char *name = wh_status_name(r->status);
        switch (r->status) {
        case WH_STATUS_OK:
                return;
        case WH_STATUS_EXIT_NONZERO:
                cerr_add(e, name, 0, NULL, 0,
                         "the normaliser exited with status %d (an error item or its stderr may "
                         "say why)",
                         r->exit_code);
                return;
        case WH_STATUS_SIGNAL:
                cerr_add(e, name, 0, NULL, 0, "the normaliser was killed by signal %d (SIG%s)",
                         r->signal, sigabbrev_np(r->signal) ? sigabbrev_np(r->signal) : "?");
                return;
        case WH_STATUS_TIMEOUT_WALL:
                cerr_add(e, name, 0, NULL, 0,
                         "stopped after %llu ms of wall-clock time (limit wall_ms)",
                         (unsigned long long)l->run.wall_ms);
                return;
        case WH_STATUS_TIMEOUT_CPU:
                cerr_add(e, name, 0, NULL, 0, "stopped after %llu ms of CPU time (limit cpu_ms)",
                         (unsigned long long)l->run.cpu_ms);
                return;
        case WH_STATUS_OOM:
                cerr_add(e, name, 0, NULL, 0, "ran out of memory (limit memory: %llu bytes)",
                         (unsigned long long)l->run.memory_bytes);
                return;
        case WH_STATUS_OUTPUT_LIMIT:
                cerr_add(e, name, 0, NULL, 0,
                         "wrote more than %llu bytes to stdout or stderr (limit output_limit): "
                         "stopped, the rest was not read",
                         (unsigned long long)l->run.output_bytes);
                return;
        case WH_STATUS_SECCOMP_KILL:
                cerr_add(e, name, 0, NULL, 0,
                         "killed for the forbidden system call %s (%d, %s): normalisers may not "
                         "use it",
                         r->syscall_name, r->syscall_nr, r->syscall_arch);
                return;
        case WH_STATUS_SANDBOX_ERROR:
                if (strcmp(r->stage, "output") == 0)
                        stopped_early(n, c);
                else
                        cerr_add(e, name, 0, NULL, 0, "the sandbox could not run it: stage %s: %s",
                                 r->stage, r->message);
                return;
        }
}

/* How the run ended goes first: the lines were checked while it ran, and a
 * flood of bad ones must not hide it. */
static void status_error_first(const struct wh_normaliser *n, const struct wh_report *r,
                               struct checker *c)
{
        struct wh_contract_errors *e = c->errors;
        size_t before = e->n;
        status_errors(n, r, c);
        if (e->n == before || e->n == 1)
                return;
        struct wh_contract_error last = e->items[e->n - 1];
        memmove(e->items + 1, e->items, (e->n - 1) * sizeof(*e->items));
        e->items[0] = last;
}

static void mime_warning(const struct wh_normaliser *n, json_t *mimes, struct checker *c)
{
        json_t *consumes = n->manifest.consumes;
        for (size_t i = 0; i < json_array_size(mimes); i++)
                for (size_t j = 0; j < json_array_size(consumes); j++)
                        if (json_equal(json_array_get(mimes, i), json_array_get(consumes, j)))
                                return;
        if (json_array_size(mimes))
                cerr_add(c->warnings, "mime_not_consumed", 0, NULL, 0,
                         "none of the raw file's MIME types is in \"consumes\" of normalizer.json");
}

/* Runs the sandbox with stdout streamed into rd and stderr captured. */
static int run_sandboxed(struct wh_normaliser *n, const struct wh_run_options *o,
                         const char *pinned, int raw_fd, struct reader *rd,
                         struct wh_run_result *res, struct wh_err *err)
{
        if (reader_open(rd, err) < 0)
                return -1;
        /* A pinned clock reaches the Python runtime as WHISKERS_CLOCK: its
         * shim fixes datetime's now() to it (runtimes/python/shim.py). */
        char clock[sizeof("WHISKERS_CLOCK=") + WH_CLOCK_MAX];
        const char *envp[RUN_N_ENV + 2] = {0};
        memcpy(envp, run_base_env, sizeof(run_base_env));
        if (pinned) {
                snprintf(clock, sizeof(clock), "WHISKERS_CLOCK=%s", pinned);
                envp[RUN_N_ENV] = clock;
        }
        struct wh_run_spec spec = {.argv = n->argv,
                                   .envp = envp,
                                   .cwd = WH_SANDBOX_NORMALISER_DIR,
                                   .stdin_fd = raw_fd,
                                   .stdout_fd = -1,
                                   .stderr_fd = rd->err_fd,
                                   .limits = n->limits.run,
                                   .cancel = o->cancel,
                                   .on_stdout = reader_on_stdout,
                                   .stdout_ctx = rd};
        return run_warm_or_cold(n, &spec, pinned != NULL, &res->report, &res->warnings, err);
}

static void take_stderr(struct reader *rd, struct wh_run_result *res)
{
        res->stderr_text = rd->err_buf;
        res->stderr_len = rd->err_len;
        res->stderr_bytes = rd->err_bytes;
        rd->err_buf = NULL;
}

static void warnings(const struct wh_normaliser *n, json_t *mimes, struct checker *c)
{
        mime_warning(n, mimes, c);
        for (size_t i = 0; i < n->types.n_warnings; i++)
                cerr_add(c->warnings, "schema_warning", 0, NULL, 0, "%s", n->types.warnings[i]);
        if (c->items == 0 && c->errors->n == 0)
                cerr_add(c->warnings, "no_output", 0, NULL, 0,
                         "the normaliser emitted no items (fine if the raw file holds nothing to "
                         "report)");
}

/* After the output was read: references, results, provenance. */
static int assemble(const struct wh_normaliser *n, struct checker *c, struct reader *rd,
                    struct run_facts *f, const struct timespec *t0, struct wh_run_result *res,
                    struct wh_err *err)
{
        uint8_t d[WH_SHA256_LEN];
        wh_sha256_final(&rd->out_hash, d);
        memcpy(f->out_digest, "sha256:", 7);
        wh_hex_encode(d, sizeof(d), f->out_digest + 7);
        f->out_bytes = rd->out_bytes;
        f->err_bytes = rd->err_bytes;
        take_stderr(rd, res);
        checker_finish(c, f->input_pk);
        warnings(n, f->mime_types, c);
        res->items = f->items = c->items;
        f->runtime = c->runtime;
        res->results = results_build(c, f->input_pk);
        f->check_us = us_since(t0) - f->stage_us - f->sandbox_us;
        f->total_us = us_since(t0);
        res->provenance = res->results ? provenance_build(n, f, res->results, &res->report) : NULL;
        res->ok = res->errors.n == 0 && res->errors.dropped == 0;
        if (!res->results || !res->provenance)
                return wh_err_set(err, ENOMEM, "run", "building the results");
        return 0;
}

/* An ISO 8601 instant as Python's datetime.fromisoformat reads it:
 * YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM]; only the Python runtime
 * can have its clock pinned. iso NULL: "scan" asked for a time the meta
 * does not have. */
static int clock_check(const struct wh_normaliser *n, const char *iso, struct wh_err *err)
{
        if (!iso)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "clock",
                                   "clock \"scan\": the meta has no boefje_meta.ended_at (OpenKAT: "
                                   "raw_data.boefje_meta.ended_at) to pin the clock to; give an "
                                   "instant instead");
        int y, mo, d, used = 0;
        size_t len = strlen(iso);
        bool chars_ok = len >= 10 && len < WH_CLOCK_MAX && strspn(iso, "0123456789-:T.+Z") == len &&
                        sscanf(iso, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10 &&
                        mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
        if (!chars_ok)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "clock",
                                   "clock \"%.60s\" is not an ISO 8601 instant such as "
                                   "2024-05-01T12:00:00+00:00",
                                   iso);
        if (!n->interpreter)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "clock",
                                   "runtime %s cannot have its clock pinned: only the Python "
                                   "runtime can (docs/contract.md \"A pinned clock\")",
                                   n->manifest.runtime);
        return 0;
}

static int run_locked(struct wh_normaliser *n, const struct wh_run_input *in,
                      const struct wh_run_options *o, json_t *meta, struct wh_run_result *res,
                      struct wh_err *err)
{
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct wh_meta_facts mf;
        if (wh_meta_facts(meta, &mf) < 0)
                return wh_err_set(err, ENOMEM, "meta", "reading the meta document");
        struct run_facts f = {.task_id = mf.task_id,
                              .input_pk = mf.input_pk,
                              .mime_types = mf.mime_types,
                              .clock = o->clock,
                              .clock_from_scan = o->clock && strcmp(o->clock, WH_CLOCK_SCAN) == 0};
        if (f.clock_from_scan)
                f.clock = mf.scan_time;
        if (o->clock && clock_check(n, f.clock, err) < 0) {
                wh_meta_facts_clear(&mf);
                return -1;
        }
        time_t now = time(NULL);
        struct tm tm;
        strftime(f.started_at, sizeof(f.started_at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        const char *meta_text = in->meta ? in->meta : "{}";
        f.meta_bytes = in->meta ? in->meta_len : 2;
        sha256_prefixed(meta_text, f.meta_bytes, f.meta_digest);
        int raw_fd = -1;
        if (stage_write(&n->stage, in, meta_text, f.meta_bytes, f.raw_digest, &f.raw_bytes, &raw_fd,
                        err) < 0) {
                wh_meta_facts_clear(&mf);
                return -1;
        }
        f.stage_us = us_since(&t0);

        struct checker c = {.types = &n->types,
                            .manifest = &n->manifest,
                            .limits = &n->limits,
                            .errors = &res->errors,
                            .warnings = &res->warnings,
                            .python = n->interpreter != NULL,
                            .error_budget = (uint64_t)CHECK_BUDGET_PER_LISTED_ERROR *
                                            (o->max_errors ? o->max_errors : 100)};
        checker_init(&c);
        struct reader rd = {
            .err_fd = -1, .checker = &c, .err_keep = o->stderr_keep ? o->stderr_keep : 65536};
        ndjson_init(&rd.lines, n->limits.max_item_bytes, checker_line, checker_too_long, &c);
        int rc = run_sandboxed(n, o, f.clock, raw_fd, &rd, res, err);
        close(raw_fd);
        f.sandbox_us = us_since(&t0) - f.stage_us;
        if (rc == 0)
                rc = reader_collect(&rd, err);
        else
                ndjson_finish(&rd.lines);
        reader_close(&rd);
        if (rc == 0) {
                status_error_first(n, &res->report, &c);
                rc = assemble(n, &c, &rd, &f, &t0, res, err);
        }
        free(rd.err_buf);
        checker_clear(&c);
        wh_meta_facts_clear(&mf);
        return rc;
}

int wh_normaliser_run(struct wh_normaliser *n, const struct wh_run_input *in,
                      const struct wh_run_options *opts, struct wh_run_result *res,
                      struct wh_err *err)
{
        static const struct wh_run_options none;
        const struct wh_run_options *o = opts ? opts : &none;
        *res = (struct wh_run_result){0};
        cerrs_init(&res->errors, o->max_errors);
        cerrs_init(&res->warnings, o->max_errors);
        if (!in || (!in->raw && !in->raw_path))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "run", "no raw file to run on");
        cleanup_json json_t *meta = NULL;
        const char *meta_text = in->meta ? in->meta : "{}";
        if (wh_meta_check(meta_text, in->meta ? in->meta_len : 2, &meta, err) < 0)
                return -1;
        if (__atomic_exchange_n(&n->busy, true, __ATOMIC_ACQUIRE))
                return wh_err_set(err, EBUSY, "run",
                                  "this normaliser is already running an input: load one handle "
                                  "per thread");
        int rc = run_locked(n, in, o, meta, res, err);
        __atomic_store_n(&n->busy, false, __ATOMIC_RELEASE);
        if (rc < 0)
                wh_run_result_clear(res);
        return rc;
}
