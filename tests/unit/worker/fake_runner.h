/* A runner without sandboxes for the worker loop's tests. Each job's meta
 * says what its "run" does:
 *   {"do":"ok"}      a result with outcome ok (the default)
 *   {"do":"fail"}    a result with outcome exit_nonzero
 *   {"do":"retry"}   an infrastructure failure (retried)
 *   {"do":"reject"}  a job that can never run (dead-lettered)
 *   {"do":"block"}   waits until cancelled
 *   {"do":"slow","ms":N}  takes N ms, then ok
 *   {"do":"steal"}   while "running", another worker takes the job over
 *                    (its lease is expired behind the worker's back, reaped,
 *                    claimed and completed by "thief"), then returns ok
 * The normaliser "missing" does not exist; loading "einval" fails the way a
 * system call deep in a load can, with errno EINVAL. Counters let tests wait. */
#ifndef WH_TEST_FAKE_RUNNER_H
#define WH_TEST_FAKE_RUNNER_H

#include "worker/core.h"
#include "worker/runner.h"

#include <jansson.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int fake_started, fake_loads;

static int fake_load(void *ctx, const char *ref, const char *tenant, struct wh_runner_norm *out,
                     struct wh_err *err)
{
        (void)ctx, (void)tenant;
        if (strcmp(ref, "missing") == 0)
                return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "normaliser",
                                   "no normaliser 'missing'");
        if (strcmp(ref, "einval") == 0)
                return wh_err_set(err, EINVAL, "load", "cannot map the runtime image");
        atomic_fetch_add(&fake_loads, 1);
        out->handle = NULL;
        snprintf(out->package_digest, sizeof(out->package_digest), "%s", P);
        snprintf(out->policy_hash, sizeof(out->policy_hash), "%s", POL);
        return 0;
}

static void fake_unload(void *ctx, void *handle)
{
        (void)ctx;
        (void)handle;
}

/* The thief: another worker that took the job over while this one ran it
 * (its lease expired and was claimed again), in one statement so that the
 * worker's own claims cannot get in between; then it completes the job.
 * Runs on a slot thread: failures are counted, the test asserts them. */
static atomic_int fake_steal_failures;

/* Each step is retried a few times: on a loaded machine the worker may hold
 * the store's write lock for a moment (SQLite answers "busy"). */
static void fake_steal(const struct wh_job *job)
{
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "UPDATE jobs SET token = token + 1, lease_owner = 'thief',"
                 " lease_expires_at = lease_expires_at + 600000 WHERE id = %lld",
                 (long long)job->id);
        struct wh_job stolen = *job;
        stolen.token = job->token + 1;
        int tries = 0;
        while (env_exec(sql) < 0)
                if (++tries == 50 || usleep(20000) < 0)
                        goto failed;
        for (tries = 0;; tries++) {
                struct wh_err err = {0};
                struct wh_queue *q = NULL;
                int rc = wh_queue_open(E.url, &q, &err) < 0
                             ? -1
                             : complete_ok(q, &stolen, "thief", "{\"by\":\"thief\"}", &err);
                wh_queue_close(q);
                if (rc > 0)
                        return;
                if (tries == 50 || !wh_queue_err_is_transient(&err))
                        goto failed;
                usleep(20000);
        }
failed:
        atomic_fetch_add(&fake_steal_failures, 1);
}

static int fake_run(void *ctx, void *handle, const struct wh_runner_input *in,
                    struct wh_runner_result *out, struct wh_err *err)
{
        (void)ctx;
        (void)handle;
        (void)err;
        atomic_fetch_add(&fake_started, 1);
        json_t *meta = json_loads(in->job->meta_json, 0, NULL);
        const char *what = json_string_value(json_object_get(meta, "do"));
        int ms = (int)json_integer_value(json_object_get(meta, "ms"));
        char *what_copy = strdup(what ? what : "ok");
        json_decref(meta);
        what = what_copy;
        if (strcmp(what, "block") == 0) {
                while (!*in->cancel)
                        env_sleep_ms(1);
                out->cancelled = true;
        } else if (strcmp(what, "slow") == 0) {
                env_sleep_ms((unsigned)ms);
        } else if (strcmp(what, "steal") == 0) {
                fake_steal(in->job);
        }
        if (strcmp(what, "retry") == 0 || strcmp(what, "reject") == 0) {
                out->action = strcmp(what, "retry") == 0 ? WH_RUNNER_RETRY : WH_RUNNER_REJECT;
                out->status_json = strdup("{\"status\":\"sandbox_error\",\"stage\":\"test\"}");
        } else {
                char output[128];
                snprintf(output, sizeof(output), "{\"observations\":[{\"bytes\":%zu}]}",
                         in->raw_len);
                out->action = WH_RUNNER_COMPLETE;
                out->outcome = strdup(strcmp(what, "fail") == 0 ? "exit_nonzero" : "ok");
                out->output_json = strdup(output);
                out->provenance_json = strdup("{\"fake\":true}");
                out->status_json = strdup("{\"status\":\"ok\"}");
        }
        free(what_copy);
        return 0;
}

static const struct wh_runner fake_runner = {
    .load = fake_load,
    .run = fake_run,
    .unload = fake_unload,
};

/* A worker on a thread of the test (pthread_create(..., bg_worker, &b)),
 * stopped by setting b.stop. */
struct bg {
        struct wh_worker_config c;
        volatile sig_atomic_t stop;
        struct wh_worker_summary sum;
        int rc;
};

static inline void *bg_worker(void *arg)
{
        struct bg *b = arg;
        struct wh_err err;
        b->rc = wh_worker_run_with(&b->c, &fake_runner, &b->stop, &b->sum, &err);
        return NULL;
}

#endif
