/* The worker's pool of loaded normalisers (pool.c), shared by the slots.
 *
 * An entry is one loaded normaliser for one (reference, tenant): with warm
 * runs, one kept sandbox with its zygote (docs/warm.md). The tenant is part
 * of the key so that two tenants never share a zygote; the package digest,
 * variant and policy hash follow from the reference (the runner resolves
 * them at load), so equal (reference, tenant) means equal key. A slot takes
 * an entry for a run of jobs of its key and gives it back; a taken entry
 * is never shared or evicted. Bounds: at most `max` entries (the least recently used idle one
 * is unloaded first; while every entry is taken the pool may hold one per
 * slot more until they come back), an entry idle longer than `idle_ms` is
 * unloaded, an entry that ran `recycle` jobs is unloaded (its next job
 * loads afresh), and while the entries' resident memory (measured when a
 * slot gives one back, at most once a second each) is above `max_mem`,
 * the least recently used idle one is unloaded. An entry whose resident
 * memory is above `recycle_rss` is unloaded like one that ran `recycle`
 * jobs (its zygote grew: the next job loads afresh). A tenant with more
 * than `max_per_tenant` entries has its own least recently used idle one
 * unloaded, before `max` would take another tenant's. */
#ifndef WH_WORKER_POOL_H
#define WH_WORKER_POOL_H

#include "worker/metrics.h"
#include "worker/runner.h"

#include <stdbool.h>
#include <stdint.h>

struct wh_pool;

struct wh_pool_limits {
        uint32_t max;            /* entries; 0: 8 */
        uint32_t max_per_tenant; /* entries of one tenant; 0: max */
        uint32_t idle_ms;        /* 0: never */
        uint32_t recycle;        /* jobs per entry; 0: never */
        uint64_t max_mem;        /* bytes the entries keep resident (runner's rss); 0: any */
        uint64_t recycle_rss;    /* bytes one entry may keep resident; 0: any */
};

int wh_pool_new(const struct wh_runner *runner, const struct wh_pool_limits *limits,
                struct wh_metrics *m, struct wh_pool **out, struct wh_err *err);
/* The entry for (ref, tenant), loaded now unless an idle one is there.
 * Errors are the runner's load errors. */
int wh_pool_take(struct wh_pool *p, const char *ref, const char *tenant,
                 const struct wh_runner_norm **out, struct wh_err *err);
/* Count a job run with what wh_pool_take returned: false when the entry
 * has done its `recycle` jobs or is above `recycle_rss` (give it back; it
 * is then unloaded). */
bool wh_pool_ran(struct wh_pool *p, const struct wh_runner_norm *norm);
/* Give back what wh_pool_take returned. */
void wh_pool_give(struct wh_pool *p, const struct wh_runner_norm *norm);
/* Unload entries idle too long (the loop calls it now and then). */
void wh_pool_sweep(struct wh_pool *p, int64_t now_ms);
/* Unload everything; nothing may be taken. */
void wh_pool_free(struct wh_pool *p);

#endif
