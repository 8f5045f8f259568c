/* Inside the worker: the state the loop (loop.c, flush.c, beat.c) and the
 * slot threads (slot.c) share.
 *
 * Threads: the loop thread owns the store handle that claims, completes,
 * fails, releases, heartbeats and reaps, and it alone adds and removes
 * tasks. Each slot thread runs one task at a time with its own store handle
 * for reads (the raw input, deduplication) and never writes job state: it
 * fills the task's result and marks it DONE. `mu` guards the task list,
 * the counts and every task's state, lost flag and slot; a task's result
 * fields belong to its slot until the task is DONE, then to the loop. */
#ifndef WH_WORKER_CORE_H
#define WH_WORKER_CORE_H

#include "worker/metrics.h"
#include "worker/runner.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <whiskers/queue.h>
#include <whiskers/worker.h>

enum task_state { TASK_WAITING, TASK_RUNNING, TASK_DONE };

struct wh_deliverer;
struct wh_listener;
struct wh_pool;

/* What the loop does with a DONE task. */
enum task_action {
        ACT_COMPLETE, /* store the result */
        ACT_RETRY,    /* wh_queue_fail, retryable */
        ACT_REJECT,   /* wh_queue_fail, final: dead letter */
        ACT_RELEASE,  /* hand back unrun (shutdown) */
};

struct slot;

struct task {
        struct wh_job job;
        enum task_state state;
        bool lost; /* the lease is gone: drop the task, touch nothing */
        struct slot *slot;
        int64_t done_ms; /* monotonic: when it became DONE */
        /* The result, filled by the slot. */
        enum task_action action;
        char *outcome, *output_json, *provenance_json, *status_json;
        bool have_key;
        char package_digest[WH_DIGEST_BUF], policy_hash[WH_DIGEST_BUF];
        int64_t reused_from;
        struct wh_routed_jobs follow_ups; /* queued with the result */
        /* Store answers fetched before it runs (slot.c): reused_from, and
         * the raw input unless it is large, looked up with package_digest
         * and policy_hash. Written under mu while WAITING, by any slot. */
        bool prefetched;
        void *raw; /* NULL: read when it runs */
        size_t raw_len;
};

struct wh_worker {
        struct wh_worker_config cfg; /* defaults filled in */
        const struct wh_runner *runner;
        struct wh_pool *pool; /* loaded normalisers, shared by the slots */
        const volatile sig_atomic_t *stop;
        char id[128];
        struct wh_metrics metrics;
        struct wh_worker_summary sum;

        pthread_mutex_t mu;
        pthread_cond_t work; /* a task is waiting, or the slots must exit */
        pthread_cond_t done; /* a task is DONE */
        struct task **tasks; /* every lease held, in claim order */
        size_t ntasks, cap, nwaiting, nrunning, ndone;
        bool slots_exit;
        struct slot *slots;
        unsigned nslots;
        struct wh_deliverer *deliverer; /* the sink's thread; NULL without a sink */
        struct wh_listener *listener;   /* NOTIFY wake-ups; NULL on SQLite */
        atomic_bool jobs_notified;      /* set by the listener: claim now */

        /* The loop's own, touched by no other thread. */
        struct wh_queue *q;
        int64_t db_ready_ms; /* no store call before this (backing off) */
        uint32_t db_backoff_ms;
        int64_t next_beat_ms, next_claim_ms, next_stats_ms, next_sweep_ms, next_leftovers_ms,
            grace_end_ms, next_kick_ms;
        uint32_t poll_ms;
        bool claim_adaptive;                         /* no --batch given: claim_size() decides */
        uint64_t runs_seen, run_us_seen, run_avg_us; /* claim_size(): recent run time */
        bool draining, cancelled, idle, fatal;
        struct wh_err fatal_err;
};

int64_t wh_mono_ms(void);

/* Slots (slot.c). */
int wh_slots_start(struct wh_worker *w, struct wh_err *err);
/* Wake every slot and join them; none may be running a task. */
void wh_slots_join(struct wh_worker *w);
/* Ask the slot running t to stop (mu held). */
void wh_slot_cancel(struct task *t);

/* The delivery thread (slot_deliver.c): POSTs due outbox rows to the
 * sink. kick: results to deliver were just stored. */
int wh_deliverer_start(struct wh_worker *w, struct wh_err *err);
void wh_deliverer_kick(struct wh_worker *w);
void wh_deliverer_stop(struct wh_worker *w);

/* The listener thread (slot_listen.c): on PostgreSQL, LISTENs for new
 * jobs, sets jobs_notified and wakes the loop. */
int wh_listener_start(struct wh_worker *w, struct wh_err *err);
void wh_listener_stop(struct wh_worker *w);

/* Open a store handle with the worker's settings (statement timeout). */
int wh_worker_open_store(const struct wh_worker *w, struct wh_queue **q, struct wh_err *err);

/* A store call failed: wait and retry (transient, disk full) or stop
 * (anything else). Returns true when the caller should simply try later. */
bool wh_worker_db_error(struct wh_worker *w, const char *what, const struct wh_err *err);

/* Leases (beat.c): heartbeat every held lease, mark lost ones, reap
 * expired leases. */
void wh_worker_beat(struct wh_worker *w, int64_t now);
/* The queue gauges of the metrics (beat.c). */
void wh_worker_stats(struct wh_worker *w, int64_t now);

/* Finished tasks into the store (flush.c). force: do not wait to gather
 * a bigger batch. */
void wh_worker_flush(struct wh_worker *w, int64_t now, bool force);
/* Remove tasks (mu held) and free them. */
void wh_tasks_remove(struct wh_worker *w, struct task *const *gone, size_t n);
void wh_task_free(struct task *t);
/* A claimed job's strings (wh_jobs_free() frees a whole claim array). */
void wh_job_strings_free(struct wh_job *j);

/* The loop (loop.c): until stopped; < 0 when the store became unusable. */
int wh_worker_loop(struct wh_worker *w);

/* The loop (loop.c), with any runner: the tests pass a fake one. */
int wh_worker_run_with(const struct wh_worker_config *cfg, const struct wh_runner *runner,
                       const volatile sig_atomic_t *stop, struct wh_worker_summary *summary,
                       struct wh_err *err);

#endif
