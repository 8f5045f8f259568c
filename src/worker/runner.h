/* What the worker loop needs from whatever runs a normaliser: load one
 * (once per slot, cached), run it on one job's input. The real runner is
 * the normaliser contract in the sandbox (runner_contract.c); the unit tests
 * plug in a fake one to drive the loop through fencing, batching and
 * shutdown without sandboxes.
 *
 * A runner is used by several slot threads at once; a loaded handle is only
 * used by the slot that loaded it. */
#ifndef WH_WORKER_RUNNER_H
#define WH_WORKER_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <whiskers/error.h>
#include <whiskers/jobs.h>
#include <whiskers/queue.h>

struct wh_runner_norm {
        void *handle;
        /* The deduplication key's parts the runner decides. */
        char package_digest[WH_DIGEST_BUF];
        char policy_hash[WH_DIGEST_BUF];
};

enum wh_runner_action {
        WH_RUNNER_COMPLETE, /* a result: ok, or how the normaliser failed (stored) */
        WH_RUNNER_RETRY,    /* the infrastructure failed: try again later */
        WH_RUNNER_REJECT,   /* this job can never run: dead-letter it */
};

struct wh_runner_input {
        const struct wh_job *job;
        const void *raw;
        size_t raw_len;
        /* Becomes non-zero when the run must stop (shutdown, lease lost). */
        const volatile int *cancel;
};

/* Strings are malloc'd and freed by the loop. */
struct wh_runner_result {
        enum wh_runner_action action;
        bool cancelled;        /* stopped through *cancel: the loop decides */
        bool warm;             /* ran in a warm sandbox (metrics) */
        char *outcome;         /* COMPLETE: "ok" or the run's status name */
        char *output_json;     /* COMPLETE: NormalizerResults, or the error record */
        char *provenance_json; /* COMPLETE */
        char *status_json;     /* the status record; RETRY/REJECT store it */
        /* COMPLETE of a boefje job: the normaliser jobs its raw files make,
         * queued with the result (runner_boefje.h). */
        struct wh_routed_jobs follow_ups;
};
static inline void wh_runner_result_clear(struct wh_runner_result *r)
{
        free(r->outcome);
        free(r->output_json);
        free(r->provenance_json);
        free(r->status_json);
        wh_routed_jobs_clear(&r->follow_ups);
        *r = (struct wh_runner_result){0};
}

struct wh_runner {
        void *ctx;
        /* Resolve and load a normaliser reference for one tenant's jobs
         * (NULL: none). ENOENT: no such normaliser (the job is
         * dead-lettered); other errors: likewise, with the message as the
         * reason. */
        int (*load)(void *ctx, const char *ref, const char *tenant, struct wh_runner_norm *out,
                    struct wh_err *err);
        /* < 0 only when not even a result could be made (then retried). */
        int (*run)(void *ctx, void *handle, const struct wh_runner_input *in,
                   struct wh_runner_result *out, struct wh_err *err);
        void (*unload)(void *ctx, void *handle);
        /* Optional: bytes a loaded handle keeps resident between runs
         * (a warm sandbox's init and zygote). */
        uint64_t (*rss)(void *ctx, void *handle);
        /* Optional: remove what killed workers left behind (their
         * sandboxes' cgroups, staged inputs). The loop calls it at start
         * and every minute. */
        void (*sweep)(void *ctx);
};

#endif
