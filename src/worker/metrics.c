/* Metric updates and the Prometheus text rendering (see metrics.h). */
#define _GNU_SOURCE
#include "worker/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[WH_OUT_COUNT] = {
    [WH_OUT_OK] = "ok",
    [WH_OUT_EXIT_NONZERO] = "exit_nonzero",
    [WH_OUT_SIGNAL] = "signal",
    [WH_OUT_TIMEOUT_WALL] = "timeout_wall",
    [WH_OUT_TIMEOUT_CPU] = "timeout_cpu",
    [WH_OUT_OOM] = "oom",
    [WH_OUT_OUTPUT_LIMIT] = "output_limit",
    [WH_OUT_SECCOMP_KILL] = "seccomp_kill",
    [WH_OUT_INVALID_OUTPUT] = "invalid_output",
    [WH_OUT_OTHER] = "other",
    [WH_OUT_REUSED] = "reused",
    [WH_OUT_RETRIED] = "retried",
    [WH_OUT_DEAD_LETTER] = "dead_letter",
    [WH_OUT_FENCED] = "fenced",
    [WH_OUT_RELEASED] = "released",
};

/* Upper bounds in microseconds: a warm run is sub-millisecond, a cold
 * sandboxed Python normaliser tens of milliseconds, a slow one seconds. */
static const uint64_t bucket_us[WH_RUN_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000, 30000000};

enum wh_outcome_label wh_outcome_label_of(const char *outcome)
{
        for (int i = 0; i < WH_OUT_OTHER; i++)
                if (strcmp(outcome, outcome_names[i]) == 0)
                        return (enum wh_outcome_label)i;
        return WH_OUT_OTHER;
}

void wh_metrics_job(struct wh_metrics *m, enum wh_outcome_label label)
{
        atomic_fetch_add(&m->jobs[label], 1);
}

void wh_metrics_run(struct wh_metrics *m, enum wh_job_kind kind, uint64_t run_us)
{
        for (int i = 0; i < WH_RUN_BUCKETS; i++) {
                if (run_us <= bucket_us[i]) {
                        atomic_fetch_add(&m->run_bucket[kind][i], 1);
                        break;
                }
        }
        atomic_fetch_add(&m->run_count[kind], 1);
        atomic_fetch_add(&m->run_sum_us[kind], run_us);
}

void wh_metrics_runs(struct wh_metrics *m, uint64_t *count, uint64_t *sum_us)
{
        *count = *sum_us = 0;
        for (int k = 0; k < WH_JOB_KINDS; k++) {
                *count += atomic_load(&m->run_count[k]);
                *sum_us += atomic_load(&m->run_sum_us[k]);
        }
}

void wh_metrics_stats(struct wh_metrics *m, const struct wh_queue_stats *s, int64_t now_ms)
{
        atomic_store(&m->q_ready, s->ready);
        atomic_store(&m->q_delayed, s->delayed);
        atomic_store(&m->q_running, s->running);
        atomic_store(&m->q_done, s->done);
        atomic_store(&m->q_dead, s->dead);
        atomic_store(&m->live_workers, s->live_workers);
        atomic_store(&m->outbox_pending, s->deliveries_pending);
        atomic_store(&m->outbox_failed, s->deliveries_failed);
        atomic_store(&m->stats_ms, now_ms);
}

/* Lines go to an open_memstream; a failed write shows at fclose(), so the
 * lines need no check of their own. */
static void line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(FILE *f, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
}

static void render_jobs(FILE *f, struct wh_metrics *m)
{
        line(f, "# HELP whiskers_jobs_total Finished job attempts by outcome.\n"
                "# TYPE whiskers_jobs_total counter\n");
        for (int i = 0; i < WH_OUT_COUNT; i++)
                line(f, "whiskers_jobs_total{outcome=\"%s\"} %llu\n", outcome_names[i],
                     (unsigned long long)atomic_load(&m->jobs[i]));
}

static void render_runs(FILE *f, struct wh_metrics *m)
{
        line(f, "# HELP whiskers_run_seconds Latency of sandboxed runs by job kind.\n"
                "# TYPE whiskers_run_seconds histogram\n");
        for (enum wh_job_kind k = WH_JOB_NORMALISER; k < WH_JOB_KINDS; k++) {
                const char *kind = wh_job_kind_name(k);
                unsigned long long count = atomic_load(&m->run_count[k]), cumulative = 0;
                for (int i = 0; i < WH_RUN_BUCKETS; i++) {
                        cumulative += atomic_load(&m->run_bucket[k][i]);
                        line(f, "whiskers_run_seconds_bucket{kind=\"%s\",le=\"%g\"} %llu\n", kind,
                             bucket_us[i] / 1e6, cumulative);
                }
                line(f, "whiskers_run_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %llu\n", kind, count);
                line(f, "whiskers_run_seconds_sum{kind=\"%s\"} %.6f\n", kind,
                     atomic_load(&m->run_sum_us[k]) / 1e6);
                line(f, "whiskers_run_seconds_count{kind=\"%s\"} %llu\n", kind, count);
        }
}

static void render_queue(FILE *f, struct wh_metrics *m)
{
        if (!atomic_load(&m->stats_ms))
                return;
        static const char *const states[] = {"ready", "delayed", "running", "done", "dead"};
        atomic_uint_least64_t *values[] = {&m->q_ready, &m->q_delayed, &m->q_running, &m->q_done,
                                           &m->q_dead};
        line(f, "# HELP whiskers_queue_jobs Jobs in the store by state.\n"
                "# TYPE whiskers_queue_jobs gauge\n");
        for (int i = 0; i < 5; i++)
                line(f, "whiskers_queue_jobs{state=\"%s\"} %llu\n", states[i],
                     (unsigned long long)atomic_load(values[i]));
        line(f,
             "# HELP whiskers_live_workers Workers with a recent heartbeat.\n"
             "# TYPE whiskers_live_workers gauge\nwhiskers_live_workers %llu\n",
             (unsigned long long)atomic_load(&m->live_workers));
        line(f,
             "# HELP whiskers_sink_outbox Deliveries in the store: pending, or failed for good "
             "(re-queue with whiskers results --redeliver).\n"
             "# TYPE whiskers_sink_outbox gauge\n"
             "whiskers_sink_outbox{state=\"pending\"} %llu\n"
             "whiskers_sink_outbox{state=\"failed\"} %llu\n",
             (unsigned long long)atomic_load(&m->outbox_pending),
             (unsigned long long)atomic_load(&m->outbox_failed));
}

static void counter(FILE *f, const char *name, const char *help, atomic_uint_least64_t *v)
{
        line(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
             (unsigned long long)atomic_load(v));
}

char *wh_metrics_render(struct wh_metrics *m)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        render_jobs(f, m);
        render_runs(f, m);
        render_queue(f, m);
        counter(f, "whiskers_leases_expired_total", "Expired leases this worker returned.",
                &m->leases_expired);
        line(f, "# HELP whiskers_sink_deliveries_total Delivery attempts by this worker.\n"
                "# TYPE whiskers_sink_deliveries_total counter\n");
        line(f, "whiskers_sink_deliveries_total{result=\"delivered\"} %llu\n",
             (unsigned long long)atomic_load(&m->sink_delivered));
        line(f, "whiskers_sink_deliveries_total{result=\"retried\"} %llu\n",
             (unsigned long long)atomic_load(&m->sink_retried));
        line(f, "whiskers_sink_deliveries_total{result=\"failed\"} %llu\n",
             (unsigned long long)atomic_load(&m->sink_failed));
        counter(f, "whiskers_db_errors_total", "Store calls that failed and were retried.",
                &m->db_errors);
        line(f, "# HELP whiskers_runs_total Sandboxed runs by mode.\n"
                "# TYPE whiskers_runs_total counter\n");
        line(f, "whiskers_runs_total{mode=\"warm\"} %llu\n",
             (unsigned long long)atomic_load(&m->runs_warm));
        line(f, "whiskers_runs_total{mode=\"cold\"} %llu\n",
             (unsigned long long)atomic_load(&m->runs_cold));
        line(f,
             "# HELP whiskers_pool_normalisers Loaded normalisers (warm: kept sandboxes).\n"
             "# TYPE whiskers_pool_normalisers gauge\nwhiskers_pool_normalisers %llu\n",
             (unsigned long long)atomic_load(&m->pool_size));
        counter(f, "whiskers_pool_loads_total", "Normalisers the pool loaded.", &m->pool_loads);
        counter(f, "whiskers_pool_recycles_total",
                "Pool entries unloaded after --warm-recycle jobs or above --warm-recycle-rss.",
                &m->pool_recycles);
        counter(f, "whiskers_pool_quota_unloads_total",
                "Pool entries unloaded because their tenant was above --warm-max-per-tenant.",
                &m->pool_quota_unloads);
        line(f,
             "# HELP whiskers_pool_rss_bytes Resident memory of the pool's warm sandboxes "
             "(zygotes and inits, VmRSS).\n"
             "# TYPE whiskers_pool_rss_bytes gauge\nwhiskers_pool_rss_bytes %llu\n",
             (unsigned long long)atomic_load(&m->pool_rss));
        line(f,
             "# HELP whiskers_slots_busy Jobs running now.\n# TYPE whiskers_slots_busy gauge\n"
             "whiskers_slots_busy %llu\n"
             "# HELP whiskers_slots Concurrent runs this worker allows.\n"
             "# TYPE whiskers_slots gauge\nwhiskers_slots %llu\n",
             (unsigned long long)atomic_load(&m->slots_busy),
             (unsigned long long)atomic_load(&m->slots));
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
