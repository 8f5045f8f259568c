/* Worker metrics: lock-free counters the slots and the loop bump, rendered
 * in the Prometheus text format (version 0.0.4) and served on
 * 127.0.0.1:PORT by a small HTTP listener thread.
 *
 *   whiskers_jobs_total{outcome}       every finished attempt: the result's
 *                                      outcome (ok, exit_nonzero, timeout_wall...,
 *                                      reused) or what happened instead
 *                                      (retried, dead_letter, fenced, released)
 *   whiskers_run_seconds{kind}         histogram of sandboxed run latency by
 *                                      job kind (normaliser, boefje)
 *   whiskers_queue_jobs{state}         the store's job counts (refreshed by the loop)
 *   whiskers_live_workers              workers with a recent heartbeat
 *   whiskers_leases_expired_total      expired leases this worker reaped
 *   whiskers_sink_deliveries_total{result}  attempts: delivered, retried
 *                                      (failed, tried again later), failed
 *                                      (the last attempt failed: kept)
 *   whiskers_sink_outbox{state}        the store's pending / failed deliveries
 *   whiskers_slots_busy, whiskers_slots  running jobs and slots
 *   whiskers_db_errors_total           store calls that failed (then retried)
 *   whiskers_runs_total{mode}          sandboxed runs: warm (a zygote's fork) or cold
 *   whiskers_pool_normalisers          loaded normalisers (warm: kept sandboxes)
 *   whiskers_pool_loads_total, whiskers_pool_recycles_total  loads; entries unloaded
 *                                      after --warm-recycle jobs or
 *                                      above --warm-recycle-rss
 *   whiskers_pool_quota_unloads_total  entries unloaded because their tenant
 *                                      was above --warm-max-per-tenant
 *   whiskers_pool_rss_bytes            resident memory of the pool's warm sandboxes */
#ifndef WH_WORKER_METRICS_H
#define WH_WORKER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <whiskers/error.h>
#include <whiskers/queue.h>

enum wh_outcome_label {
        WH_OUT_OK,
        WH_OUT_EXIT_NONZERO,
        WH_OUT_SIGNAL,
        WH_OUT_TIMEOUT_WALL,
        WH_OUT_TIMEOUT_CPU,
        WH_OUT_OOM,
        WH_OUT_OUTPUT_LIMIT,
        WH_OUT_SECCOMP_KILL,
        WH_OUT_INVALID_OUTPUT,
        WH_OUT_OTHER, /* any other result outcome */
        WH_OUT_REUSED,
        WH_OUT_RETRIED,
        WH_OUT_DEAD_LETTER,
        WH_OUT_FENCED,
        WH_OUT_RELEASED,
        WH_OUT_COUNT,
};

#define WH_RUN_BUCKETS 12

struct wh_metrics {
        atomic_uint_least64_t jobs[WH_OUT_COUNT];
        /* By job kind: a scan's seconds apart from a normaliser's milliseconds. */
        atomic_uint_least64_t run_bucket[WH_JOB_KINDS][WH_RUN_BUCKETS]; /* not cumulative */
        atomic_uint_least64_t run_count[WH_JOB_KINDS], run_sum_us[WH_JOB_KINDS];
        atomic_uint_least64_t leases_expired, sink_delivered, sink_retried, sink_failed, db_errors;
        atomic_uint_least64_t slots_busy, slots;
        atomic_uint_least64_t runs_warm, runs_cold, pool_size, pool_loads, pool_recycles, pool_rss,
            pool_quota_unloads;
        /* Gauges from wh_queue_stats(); stats_ms is 0 until the first read. */
        atomic_uint_least64_t q_ready, q_delayed, q_running, q_done, q_dead, live_workers;
        atomic_uint_least64_t outbox_pending, outbox_failed;
        atomic_int_least64_t stats_ms;
};

/* The label a result outcome counts under. */
enum wh_outcome_label wh_outcome_label_of(const char *outcome);
void wh_metrics_job(struct wh_metrics *m, enum wh_outcome_label label);
void wh_metrics_run(struct wh_metrics *m, enum wh_job_kind kind, uint64_t run_us);
/* Runs of every kind so far and their total time. */
void wh_metrics_runs(struct wh_metrics *m, uint64_t *count, uint64_t *sum_us);
void wh_metrics_stats(struct wh_metrics *m, const struct wh_queue_stats *s, int64_t now_ms);
/* The exposition text, malloc'd. */
char *wh_metrics_render(struct wh_metrics *m);

/* The listener: binds 127.0.0.1:port at once (so a port in use is an error
 * of the caller, not of a thread), then serves GET /metrics until stopped. */
struct wh_metrics_server;
int wh_metrics_serve(struct wh_metrics *m, uint16_t port, struct wh_metrics_server **out,
                     struct wh_err *err);
void wh_metrics_server_stop(struct wh_metrics_server *s);

#endif
