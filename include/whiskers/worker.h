/* libwhiskers workers: the worker that runs the jobs (docs/worker.md is
 * the manual). Submitting jobs and routing raw files to normalisers are
 * <whiskers/jobs.h>, included here for the worker's callers.
 *
 * The worker: wh_worker_run() claims jobs in batches, runs each one in the
 * sandbox through the normaliser contract on one of `concurrency` slots,
 * keeps the leases alive by heartbeats, completes the results in batches
 * (fenced by the lease's token), fails or dead-letters what could not run,
 * reaps expired leases of dead workers, serves Prometheus metrics and logs
 * JSON lines. With a sink, each ok result is queued for delivery in the
 * transaction that stores it (the store's outbox) and a delivery thread
 * POSTs due deliveries, any worker's, retrying with backoff up to a cap.
 * On PostgreSQL an idle worker is woken by LISTEN/NOTIFY when jobs are
 * submitted; polling stays as the fallback. It returns
 * when *stop becomes non-zero (a signal handler's flag): no more claims,
 * running jobs get `grace_ms` to finish, the rest are released. The sandbox
 * never sees the database URL: the worker alone talks to the store. */
#ifndef WHISKERS_WORKER_H
#define WHISKERS_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/error.h>
#include <whiskers/jobs.h>
#include <whiskers/package.h>
#include <whiskers/queue.h>
#include <whiskers/warm.h>

/* --- the worker --------------------------------------------------------- */

enum wh_log_level { WH_LOG_DEBUG, WH_LOG_INFO, WH_LOG_WARN, WH_LOG_ERROR };
/* "debug", "info", "warn", "error"; -1 for anything else. */
int wh_log_level_parse(const char *name);

struct wh_worker_config {
        const char *db_url;            /* required */
        const char *worker_id;         /* NULL: "<host>:<pid>" */
        const char *normalisers_dir;   /* NULL: wh_normalisers_dir_default() */
        unsigned concurrency;          /* runs at once; 0: the number of CPUs */
        uint32_t claim_batch;          /* jobs claimed per statement and held beyond
                                          the running ones; 0: as many as the slots
                                          run in 100 ms at the recent run time, from
                                          concurrency up to 32 (or concurrency) */
        uint32_t complete_batch_ms;    /* gather finished jobs this long into one
                                          completion; 0: 5 */
        uint32_t lease_ms;             /* 0: 30000; heartbeats every third of it */
        uint32_t grace_ms;             /* on stop, time running jobs get; 0: 10000 */
        uint32_t poll_max_ms;          /* idle polling interval cap; 0: 500 */
        uint32_t retry_base_ms;        /* job retry backoff (wh_queue_set_backoff); */
        uint32_t retry_max_ms;         /* 0: the store's defaults */
        bool exit_when_idle;           /* return once no job is ready, delayed or running */
        uint16_t metrics_port;         /* Prometheus text on 127.0.0.1:port; 0: none */
        const char *sink_url;          /* POST each ok result here; "{tenant}" is replaced */
        uint32_t sink_attempts;        /* per delivery, then it fails (kept); 0: 5 */
        uint32_t sink_backoff_ms;      /* first retry delay, doubling; 0: 200 */
        uint32_t sink_backoff_max_ms;  /* 0: 10000 */
        uint32_t sink_timeout_ms;      /* per request; 0: 10000 */
        uint32_t statement_timeout_ms; /* PostgreSQL; 0: the store's default (30 s) */
        /* Reuse another tenant's result for the same key. Off by default:
         * a reuse tells one tenant about another's work (timing, ids). */
        bool reuse_across_tenants;
        int log_fd; /* JSON lines; -1: none (2 for stderr) */
        enum wh_log_level log_level;
        /* Passed to every sandbox (the normaliser contract). */
        bool allow_unenforced_limits;
        const char *cgroup_driver; /* NULL: auto */
        const char *cgroup_parent; /* NULL: the worker's own cgroup (docs/cgroups.md) */
        const char *work_dir;      /* where inputs are staged; NULL: as the contract's */
        /* The pool of loaded normalisers (docs/worker.md "Warm pool"): runs
         * are warm where the normaliser can (cold: never), one kept sandbox
         * per (normaliser, tenant), at most warm_max (0: 8) kept, unloaded
         * after warm_idle_s idle (0: 300) or warm_recycle jobs (0: 1000). */
        bool cold;
        uint32_t warm_max, warm_idle_s, warm_recycle;
        /* Entries one tenant may keep (0: warm_max): above it, its own
         * least recently used idle entry is unloaded, not another's. */
        uint32_t warm_max_per_tenant;
        /* Unload least recently used idle entries while the pool's
         * resident memory (its zygotes and inits) is above this; 0: none. */
        uint64_t warm_max_mem;
        /* Unload an entry whose resident memory is above this when it
         * has run a job (its next job loads afresh); 0: never. */
        uint64_t warm_recycle_rss;
        /* Warm isolation (docs/warm.md "Persistent"): fork (default) or
         * persistent for every key, overridden per tenant or normaliser by
         * isolation_for ("acme=persistent,normaliser:kat_dns=fork"; first
         * match wins). Persistent applies where the normaliser declares it
         * ("warm": "persistent"); elsewhere runs stay fork. */
        enum wh_isolation isolation;
        const char *isolation_for;
        /* References that name packages. */
        struct wh_package_source packages;
        /* Boefje jobs (docs/boefjes.md "In the worker"): ids looked up in
         * boefjes_dir (NULL: wh_boefjes_dir_default()), run on
         * boefje_runtime_root (NULL: the host's /usr), with the settings in
         * boefje_settings_dir/<tenant>/<id>.json, else .../<id>.json (NULL:
         * none). Settings never travel in the job store. */
        const char *boefjes_dir, *boefje_runtime_root, *boefje_settings_dir;
        /* Boefje jobs running at once, of the concurrency slots (a scan
         * waits on the network; normalisers keep the other slots); 0: any. */
        uint32_t boefje_slots;
};

/* The isolation level for jobs of ref and tenant; -1 when isolation_for
 * is malformed (the CLI checks it at start). */
int wh_worker_isolation(const struct wh_worker_config *c, const char *ref, const char *tenant,
                        enum wh_isolation *out);

/* What a worker did; filled when wh_worker_run() returns. */
struct wh_worker_summary {
        uint64_t claimed, completed, reused, retried, dead, fenced, released;
        uint64_t complete_calls; /* store transactions the completions took */
        uint64_t leases_reaped;  /* expired leases of others this worker reaped */
};

/* Run until *stop becomes non-zero (or, with exit_when_idle, until the
 * queue is empty). Returns 0 after a clean stop, < 0 when the store became
 * unusable (corrupt, refused login, newer schema: err says what to do);
 * leases not completed are released where the store still answers. A
 * database that is down or full is waited for, with the error logged, not
 * returned. Installs a handler for SIGUSR2, which the worker sends its slot
 * threads to interrupt a run it cancels. */
int wh_worker_run(const struct wh_worker_config *cfg, const volatile sig_atomic_t *stop,
                  struct wh_worker_summary *summary, struct wh_err *err);

#endif
