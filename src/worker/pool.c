/* The worker's pool of loaded normalisers (see pool.h). Loading and
 * unloading (starting or killing a sandbox) happen outside the lock, and so
 * does reading an entry's resident memory (two /proc files, at most once a
 * second per entry, by the slot giving it back or, with a recycle_rss
 * bound, after each job). */
#define _GNU_SOURCE
#include "worker/pool.h"

#include "worker/core.h"
#include "worker/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
        struct wh_runner_norm norm; /* first: give() finds the entry from it */
        char *ref, *tenant;
        bool taken;
        uint32_t jobs;
        int64_t used_ms;
        uint64_t rss;   /* bytes, as last measured */
        int64_t rss_ms; /* when; 0: never */
        struct entry *next;
};

struct wh_pool {
        const struct wh_runner *runner;
        struct wh_pool_limits lim;
        struct wh_metrics *m;
        pthread_mutex_t mu;
        struct entry *head;
        uint32_t n;
        uint64_t rss; /* the entries' sum */
};

#define RSS_EVERY_MS 1000

int wh_pool_new(const struct wh_runner *runner, const struct wh_pool_limits *limits,
                struct wh_metrics *m, struct wh_pool **out, struct wh_err *err)
{
        struct wh_pool *p = calloc(1, sizeof(*p));
        if (!p || pthread_mutex_init(&p->mu, NULL)) {
                free(p);
                return wh_err_set(err, ENOMEM, "worker", "out of memory for the pool");
        }
        p->runner = runner;
        p->lim = *limits;
        if (!p->lim.max)
                p->lim.max = 8;
        p->m = m;
        *out = p;
        return 0;
}

static void entry_free(struct wh_pool *p, struct entry *e)
{
        p->runner->unload(p->runner->ctx, e->norm.handle);
        free(e->ref);
        free(e->tenant);
        free(e);
}

static void free_list(struct wh_pool *p, struct entry *e)
{
        while (e) {
                struct entry *next = e->next;
                entry_free(p, e);
                e = next;
        }
}

/* Move e (mu held) from the pool to *gone, saying why in the log. */
static void unlink_to(struct wh_pool *p, struct entry **link, struct entry **gone, const char *why)
{
        struct entry *e = *link;
        wh_wlog(WH_LOG_INFO, 0, "unloaded normaliser %s for tenant %s: %s", e->ref,
                e->tenant ? e->tenant : "-", why);
        *link = e->next;
        e->next = *gone;
        *gone = e;
        p->n--;
        p->rss -= e->rss;
        atomic_store(&p->m->pool_size, p->n);
        atomic_store(&p->m->pool_rss, p->rss);
}

static bool same(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

/* The link to the least recently used idle entry (of_tenant: of that
 * entry's tenant), NULL if all are taken. */
static struct entry **lru_idle(struct wh_pool *p, const struct entry *of_tenant)
{
        struct entry **lru = NULL;
        for (struct entry **l = &p->head; *l; l = &(*l)->next)
                if (!(*l)->taken && (!of_tenant || same((*l)->tenant, of_tenant->tenant)) &&
                    (!lru || (*l)->used_ms < (*lru)->used_ms))
                        lru = l;
        return lru;
}

static uint32_t entries_of(const struct wh_pool *p, const char *tenant)
{
        uint32_t n = 0;
        for (const struct entry *e = p->head; e; e = e->next)
                n += same(e->tenant, tenant);
        return n;
}

/* A tenant above max_per_tenant gives up its own least recently used idle
 * entry, so that its loads do not push out other tenants' (mu held). */
static void trim_tenants(struct wh_pool *p, struct entry **gone)
{
        char why[96];
        for (bool unloaded = p->lim.max_per_tenant > 0; unloaded;) {
                unloaded = false;
                for (struct entry *e = p->head; e && !unloaded; e = e->next) {
                        uint32_t n = entries_of(p, e->tenant);
                        struct entry **lru;
                        if (n <= p->lim.max_per_tenant || !(lru = lru_idle(p, e)))
                                continue;
                        snprintf(
                            why, sizeof(why),
                            "least recently used of the tenant's %u (--warm-max-per-tenant %u)", n,
                            p->lim.max_per_tenant);
                        unlink_to(p, lru, gone, why);
                        atomic_fetch_add(&p->m->pool_quota_unloads, 1);
                        unloaded = true;
                }
        }
}

/* Those idle too long, then the least recently used idle entries of a
 * tenant beyond max_per_tenant, beyond max and while the memory is above
 * max_mem, into *gone (mu held). */
static void trim(struct wh_pool *p, int64_t now, struct entry **gone)
{
        char why[96];
        for (struct entry **l = &p->head; *l;) {
                if (!(*l)->taken && p->lim.idle_ms && now - (*l)->used_ms >= p->lim.idle_ms) {
                        snprintf(why, sizeof(why), "idle for %u s", p->lim.idle_ms / 1000);
                        unlink_to(p, l, gone, why);
                } else {
                        l = &(*l)->next;
                }
        }
        trim_tenants(p, gone);
        struct entry **lru;
        while (p->n > p->lim.max && (lru = lru_idle(p, NULL))) {
                snprintf(why, sizeof(why), "least recently used of %u (--warm-max %u)", p->n,
                         p->lim.max);
                unlink_to(p, lru, gone, why);
        }
        while (p->lim.max_mem && p->rss > p->lim.max_mem && (lru = lru_idle(p, NULL))) {
                snprintf(why, sizeof(why),
                         "least recently used, the pool's %llu kB above --warm-max-mem %llu kB",
                         (unsigned long long)p->rss / 1024,
                         (unsigned long long)p->lim.max_mem / 1024);
                unlink_to(p, lru, gone, why);
        }
}

int wh_pool_take(struct wh_pool *p, const char *ref, const char *tenant,
                 const struct wh_runner_norm **out, struct wh_err *err)
{
        pthread_mutex_lock(&p->mu);
        for (struct entry *e = p->head; e; e = e->next) {
                if (!e->taken && strcmp(e->ref, ref) == 0 && same(e->tenant, tenant)) {
                        e->taken = true;
                        pthread_mutex_unlock(&p->mu);
                        *out = &e->norm;
                        return 0;
                }
        }
        pthread_mutex_unlock(&p->mu);
        struct entry *e = calloc(1, sizeof(*e));
        if (!e || !(e->ref = strdup(ref)) || (tenant && !(e->tenant = strdup(tenant)))) {
                if (e)
                        free(e->ref);
                free(e);
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        }
        if (p->runner->load(p->runner->ctx, ref, tenant, &e->norm, err) < 0) {
                free(e->ref);
                free(e->tenant);
                free(e);
                return -1;
        }
        atomic_fetch_add(&p->m->pool_loads, 1);
        wh_wlog(WH_LOG_INFO, 0, "loaded normaliser %s for tenant %s (package %s)", ref,
                tenant ? tenant : "-", e->norm.package_digest);
        e->taken = true;
        struct entry *gone = NULL;
        pthread_mutex_lock(&p->mu);
        e->next = p->head;
        p->head = e;
        p->n++;
        atomic_store(&p->m->pool_size, p->n);
        trim(p, wh_mono_ms(), &gone);
        pthread_mutex_unlock(&p->mu);
        free_list(p, gone);
        *out = &e->norm;
        return 0;
}

/* Read e's resident memory if the last reading is a second old (e taken:
 * no other thread touches it or its handle); false if not read. */
static bool read_rss(struct wh_pool *p, struct entry *e, int64_t now, uint64_t *rss)
{
        if (!p->runner->rss || now - e->rss_ms < RSS_EVERY_MS)
                return false;
        *rss = p->runner->rss(p->runner->ctx, e->norm.handle);
        return true;
}

/* Record a reading of read_rss (mu held). */
static void note_rss(struct wh_pool *p, struct entry *e, int64_t now, uint64_t rss)
{
        p->rss = p->rss - e->rss + rss;
        e->rss = rss;
        e->rss_ms = now;
        atomic_store(&p->m->pool_rss, p->rss);
}

/* Whether e is due for a recycle, why in why (mu held). */
static bool spent(const struct wh_pool *p, const struct entry *e, char *why, size_t size)
{
        if (p->lim.recycle && e->jobs >= p->lim.recycle) {
                snprintf(why, size, "recycled after --warm-recycle jobs");
                return true;
        }
        if (p->lim.recycle_rss && e->rss > p->lim.recycle_rss) {
                snprintf(why, size, "recycled for rss, %llu kB above --warm-recycle-rss %llu kB",
                         (unsigned long long)e->rss / 1024,
                         (unsigned long long)p->lim.recycle_rss / 1024);
                return true;
        }
        return false;
}

void wh_pool_give(struct wh_pool *p, const struct wh_runner_norm *norm)
{
        struct entry *e = (struct entry *)norm, *gone = NULL;
        int64_t now = wh_mono_ms();
        uint64_t rss;
        bool measured = read_rss(p, e, now, &rss);
        char why[96];
        pthread_mutex_lock(&p->mu);
        e->taken = false;
        e->used_ms = now;
        if (measured)
                note_rss(p, e, now, rss);
        if (spent(p, e, why, sizeof(why))) {
                for (struct entry **l = &p->head; *l; l = &(*l)->next) {
                        if (*l == e) {
                                unlink_to(p, l, &gone, why);
                                atomic_fetch_add(&p->m->pool_recycles, 1);
                                break;
                        }
                }
        }
        trim(p, now, &gone);
        pthread_mutex_unlock(&p->mu);
        free_list(p, gone);
}

bool wh_pool_ran(struct wh_pool *p, const struct wh_runner_norm *norm)
{
        struct entry *e = (struct entry *)norm;
        int64_t now = wh_mono_ms();
        uint64_t rss;
        /* Only the RSS bound needs a reading between jobs of one take. */
        bool measured = p->lim.recycle_rss && read_rss(p, e, now, &rss);
        char why[96];
        pthread_mutex_lock(&p->mu);
        e->jobs++;
        if (measured)
                note_rss(p, e, now, rss);
        bool more = !spent(p, e, why, sizeof(why));
        pthread_mutex_unlock(&p->mu);
        return more;
}

void wh_pool_sweep(struct wh_pool *p, int64_t now_ms)
{
        struct entry *gone = NULL;
        pthread_mutex_lock(&p->mu);
        trim(p, now_ms, &gone);
        pthread_mutex_unlock(&p->mu);
        free_list(p, gone);
}

void wh_pool_free(struct wh_pool *p)
{
        if (!p)
                return;
        free_list(p, p->head);
        pthread_mutex_destroy(&p->mu);
        free(p);
}
