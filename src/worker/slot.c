/* Slot threads: each runs one task at a time (see core.h for who owns
 * what). For a task: take its normaliser from the pool (pool.h), and for
 * it and the waiting tasks of the same (normaliser, tenant) that follow:
 * look for a result to reuse and read the raw input — for up to GROUP_MAX
 * of them in one store call (on PostgreSQL one round trip, not two per
 * job); inputs above WH_PREFETCH_RAW_MAX are read when they run, the last
 * one cached (routing by MIME type sends one file to several normalisers
 * in a row) — run it, and hand the result to the loop. The sink's delivery thread and the NOTIFY
 * listener start and stop with the slots (slot_deliver.c, slot_listen.c).
 *
 * A slot reads the store through its own handle and retries transient
 * errors a few times; what still fails goes back to the queue as a retry.
 * Cancelling (shutdown, lost lease) sets the slot's flag and signals the
 * thread so that the sandbox's poll() returns at once and sees it. */
#define _GNU_SOURCE
#include "base/cleanup.h"
#include "worker/core.h"
#include "worker/log.h"
#include "worker/pool.h"
#include "worker/runner_boefje.h"
#include "worker/slot_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Jobs of one (normaliser, tenant) a slot runs in a row with one pool
 * entry before it looks at the others again. */
#define GROUP_MAX 16

static void set_result(struct task *t, enum task_action a, char *status)
{
        t->action = a;
        free(t->status_json);
        t->status_json = status;
}

/* A job that can never run here: dead-letter it with why. */
static void reject(struct slot *s, struct task *t, const char *status, const struct wh_err *err)
{
        wh_wlog(WH_LOG_ERROR, t->job.id, "%s: %s", status, err->msg);
        set_result(t, ACT_REJECT, wh_worker_status(s->w, status, err));
}

static void retry(struct slot *s, struct task *t, const struct wh_err *err)
{
        wh_wlog(WH_LOG_WARN, t->job.id, "will retry: %s", err->msg);
        set_result(t, s->cancel ? ACT_RELEASE : ACT_RETRY,
                   wh_worker_status(s->w, "worker_error", err));
}

static void take_run_result(struct task *t, struct wh_runner_result *r)
{
        t->outcome = steal_pointer(&r->outcome);
        t->output_json = steal_pointer(&r->output_json);
        t->provenance_json = steal_pointer(&r->provenance_json);
        enum task_action a = r->action == WH_RUNNER_COMPLETE ? ACT_COMPLETE
                             : r->action == WH_RUNNER_RETRY  ? ACT_RETRY
                                                             : ACT_REJECT;
        set_result(t, a, steal_pointer(&r->status_json));
        t->follow_ups = r->follow_ups;
        r->follow_ups = (struct wh_routed_jobs){0};
}

/* One job's run: the normaliser norm, or without one the boefje job t is. */
static void run_job(struct slot *s, struct task *t, const struct wh_runner_norm *norm)
{
        struct wh_worker *w = s->w;
        struct wh_err err = {0};
        const void *raw;
        size_t len;
        int rc = 0;
        if (t->raw) {
                raw = t->raw;
                len = t->raw_len;
        } else {
                rc = wh_slot_raw(s, t->job.raw_digest, &raw, &len, &err);
        }
        if (rc < 0 && err.kind == WH_ERR_NOT_FOUND) {
                reject(s, t, "input_missing", &err);
                return;
        }
        if (rc < 0) {
                retry(s, t, &err);
                return;
        }
        struct wh_runner_input in = {
            .job = &t->job, .raw = raw, .raw_len = len, .cancel = &s->cancel};
        struct wh_runner_result r = {0};
        int64_t t0 = wh_mono_us();
        rc = norm ? w->runner->run(w->runner->ctx, norm->handle, &in, &r, &err)
                  : wh_slot_boefje_run(s, &in, &r, &err);
        wh_metrics_run(&w->metrics, t->job.kind, (uint64_t)(wh_mono_us() - t0));
        free(t->raw); /* not needed again: the task's memory is its result's now */
        t->raw = NULL;
        if (rc == 0)
                atomic_fetch_add(r.warm ? &w->metrics.runs_warm : &w->metrics.runs_cold, 1);
        if (rc < 0) {
                wh_runner_result_clear(&r);
                retry(s, t, &err);
                return;
        }
        if (r.cancelled) {
                wh_runner_result_clear(&r);
                set_result(t, ACT_RELEASE, NULL);
                return;
        }
        if (r.action == WH_RUNNER_COMPLETE &&
            (!r.outcome || !r.output_json || !r.provenance_json)) {
                wh_runner_result_clear(&r);
                wh_err_set(&err, EINVAL, "runner",
                           "the runner gave a result without outcome, output or provenance");
                retry(s, t, &err);
                return;
        }
        take_run_result(t, &r);
        if (t->action != ACT_COMPLETE)
                wh_wlog(WH_LOG_WARN, t->job.id, "run failed: %s", t->status_json);
}

static bool same_key(const struct task *a, const struct task *b)
{
        return a->job.kind == b->job.kind && strcmp(a->job.normaliser, b->job.normaliser) == 0 &&
               (a->job.tenant == b->job.tenant ||
                (a->job.tenant && b->job.tenant && strcmp(a->job.tenant, b->job.tenant) == 0));
}

/* Copies of what a prefetch needs of a task: a waiting one may be dropped
 * by the loop (lost lease) while the store is asked. */
struct wanted {
        struct task *t;
        int64_t id, token;
        char raw_digest[WH_DIGEST_BUF], meta_digest[WH_DIGEST_BUF];
};

static void want(struct wanted *wt, struct task *t)
{
        *wt = (struct wanted){.t = t, .id = t->job.id, .token = t->job.token};
        snprintf(wt->raw_digest, sizeof(wt->raw_digest), "%s", t->job.raw_digest);
        snprintf(wt->meta_digest, sizeof(wt->meta_digest), "%s", t->job.meta_digest);
}

/* mu held: whether wt's task is still held, not run by another slot. */
static bool still_ours(const struct wh_worker *w, const struct wanted *wt, const struct task *t)
{
        for (size_t i = 0; i < w->ntasks; i++)
                if (w->tasks[i] == wt->t)
                        return !wt->t->lost && wt->t->job.id == wt->id &&
                               wt->t->job.token == wt->token &&
                               (wt->t == t || wt->t->state == TASK_WAITING);
        return false;
}

/* One store call for t (running on this slot) and the waiting tasks of its
 * kind not yet prefetched, up to GROUP_MAX: the result each may reuse and
 * its raw input, kept in the tasks for whichever slot runs them. A task
 * run before its answers arrived, or after the call failed, has prefetched
 * set but not its digests: process_with asks again. */
static int prefetch(struct slot *s, struct task *t, const struct wh_runner_norm *norm,
                    struct wh_err *err)
{
        struct wh_worker *w = s->w;
        struct wanted wt[GROUP_MAX];
        size_t n = 0;
        want(&wt[n++], t);
        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; i < w->ntasks && n < GROUP_MAX; i++) {
                struct task *o = w->tasks[i];
                if (o != t && o->state == TASK_WAITING && !o->lost && !o->prefetched &&
                    same_key(o, t)) {
                        /* Another slot looking now leaves it to this one. */
                        o->prefetched = true;
                        want(&wt[n++], o);
                }
        }
        pthread_mutex_unlock(&w->mu);
        struct wh_job_prefetch jobs[GROUP_MAX];
        for (size_t i = 0; i < n; i++)
                jobs[i] = (struct wh_job_prefetch){.key = {norm->package_digest, wt[i].raw_digest,
                                                           wt[i].meta_digest, norm->policy_hash}};
        if (wh_slot_prefetch(s, t->job.tenant, jobs, n, err) < 0)
                return -1;
        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; i < n; i++) {
                struct task *o = wt[i].t;
                if (!still_ours(w, &wt[i], t))
                        continue;
                free(o->raw);
                o->raw = steal_pointer(&jobs[i].raw);
                o->raw_len = jobs[i].raw_len;
                o->reused_from = jobs[i].reused_from;
                memcpy(o->package_digest, norm->package_digest, WH_DIGEST_BUF);
                memcpy(o->policy_hash, norm->policy_hash, WH_DIGEST_BUF);
                o->prefetched = true;
        }
        pthread_mutex_unlock(&w->mu);
        for (size_t i = 0; i < n; i++)
                free(jobs[i].raw);
        return 0;
}

static void process_with(struct slot *s, struct task *t, const struct wh_runner_norm *norm)
{
        struct wh_err err = {0};
        if (t->job.package_digest && strcmp(t->job.package_digest, norm->package_digest) != 0) {
                wh_err_set(&err, 0, "normaliser",
                           "the job wants package %s, this worker's '%s' is %s",
                           t->job.package_digest, t->job.normaliser, norm->package_digest);
                reject(s, t, "package_mismatch", &err);
                return;
        }
        /* Prefetched with another load of the normaliser that differed
         * (a directory changed on disk meanwhile): ask again. */
        bool fresh = t->prefetched && strcmp(t->package_digest, norm->package_digest) == 0 &&
                     strcmp(t->policy_hash, norm->policy_hash) == 0;
        if (!fresh && prefetch(s, t, norm, &err) < 0) {
                retry(s, t, &err);
                return;
        }
        t->have_key = true;
        if (t->reused_from) {
                t->outcome = strdup("ok");
                set_result(t, ACT_COMPLETE, NULL);
                if (!t->outcome) {
                        wh_err_set(&err, ENOMEM, "worker", "out of memory");
                        retry(s, t, &err);
                }
        } else {
                run_job(s, t, norm);
        }
}

/* mu held: t is this slot's now. */
static void start_task(struct slot *s, struct task *t)
{
        struct wh_worker *w = s->w;
        t->state = TASK_RUNNING;
        t->slot = s;
        s->cancel = 0;
        w->nwaiting--;
        w->nrunning++;
        atomic_fetch_add(&w->metrics.slots_busy, 1);
}

/* mu held: t's result is the loop's now. */
static void finish_task(struct slot *s, struct task *t)
{
        struct wh_worker *w = s->w;
        atomic_fetch_sub(&w->metrics.slots_busy, 1);
        t->state = TASK_DONE;
        t->slot = NULL;
        t->done_ms = wh_mono_ms();
        w->nrunning--;
        w->ndone++;
        pthread_cond_signal(&w->done);
}

static bool is_boefje(const struct task *t)
{
        return t->job.kind == WH_JOB_BOEFJE;
}

/* mu held: --boefje-slots boefje jobs run already. */
static bool boefjes_full(const struct wh_worker *w)
{
        uint32_t running = 0;
        for (size_t i = 0; w->cfg.boefje_slots && i < w->ntasks; i++)
                running += w->tasks[i]->state == TASK_RUNNING && is_boefje(w->tasks[i]);
        return w->cfg.boefje_slots && running >= w->cfg.boefje_slots;
}

/* mu held: the first waiting task, in claim order, preferring one whose
 * (normaliser, tenant) no slot is running: the slot running it takes the
 * next of its kind with the same pool entry (run_group), where another
 * slot would load a second entry for it. Boefje jobs wait while
 * --boefje-slots of them run. */
static struct task *next_waiting(struct wh_worker *w)
{
        if (!w->nwaiting)
                return NULL;
        struct task *first = NULL;
        bool no_boefje = boefjes_full(w);
        for (size_t i = 0; i < w->ntasks; i++) {
                struct task *t = w->tasks[i];
                if (t->state != TASK_WAITING || (no_boefje && is_boefje(t)))
                        continue;
                if (!first)
                        first = t;
                bool busy = false;
                for (size_t j = 0; j < w->ntasks && !busy; j++)
                        busy = w->tasks[j]->state == TASK_RUNNING && same_key(w->tasks[j], t);
                if (!busy)
                        return t;
        }
        return first;
}

/* mu held: a waiting task of t's (normaliser, tenant), in claim order. */
static struct task *next_of_kind(struct wh_worker *w, const struct task *t)
{
        for (size_t i = 0; w->nwaiting && i < w->ntasks; i++)
                if (w->tasks[i]->state == TASK_WAITING && same_key(w->tasks[i], t))
                        return w->tasks[i];
        return NULL;
}

/* The job's normaliser from the pool: its tenant's own (a warm sandbox is
 * never shared across tenants), kept for the waiting jobs of the same
 * (normaliser, tenant) that follow — up to GROUP_MAX, so that other kinds
 * are not starved — and given back. Returns the last task run, still
 * RUNNING. */
static struct task *run_group(struct slot *s, struct task *t)
{
        struct wh_err err = {0};
        const struct wh_runner_norm *norm;
        if (is_boefje(t)) { /* never warm, never reused */
                run_job(s, t, NULL);
                return t;
        }
        if (wh_pool_take(s->w->pool, t->job.normaliser, t->job.tenant, &norm, &err) < 0) {
                /* Missing or broken: no retry helps. Anything else (no
                 * memory, a full /tmp for the input directory) may pass. */
                if (err.kind == WH_ERR_NOT_FOUND)
                        reject(s, t, "normaliser_missing", &err);
                else if (err.kind == WH_ERR_INVALID)
                        reject(s, t, "normaliser_invalid", &err);
                else
                        retry(s, t, &err);
                return t;
        }
        process_with(s, t, norm);
        /* wh_pool_ran first: it counts each job run exactly once. */
        for (unsigned n = 1; wh_pool_ran(s->w->pool, norm) && n < GROUP_MAX; n++) {
                struct wh_worker *w = s->w;
                pthread_mutex_lock(&w->mu);
                struct task *next = next_of_kind(w, t);
                if (next) {
                        finish_task(s, t);
                        start_task(s, next);
                }
                pthread_mutex_unlock(&w->mu);
                if (!next)
                        break;
                t = next;
                process_with(s, t, norm);
        }
        wh_pool_give(s->w->pool, norm);
        return t;
}

static void *slot_main(void *arg)
{
        struct slot *s = arg;
        struct wh_worker *w = s->w;
        pthread_mutex_lock(&w->mu);
        for (;;) {
                struct task *t;
                while (!(t = next_waiting(w)) && !w->slots_exit)
                        pthread_cond_wait(&w->work, &w->mu);
                if (!t)
                        break;
                start_task(s, t);
                pthread_mutex_unlock(&w->mu);

                t = run_group(s, t);

                pthread_mutex_lock(&w->mu);
                finish_task(s, t);
        }
        pthread_mutex_unlock(&w->mu);
        wh_slot_io_clear(s);
        return NULL;
}

void wh_slot_cancel(struct task *t)
{
        if (t->state != TASK_RUNNING || !t->slot)
                return;
        t->slot->cancel = 1;
        /* Interrupt a blocking poll() in the sandbox supervisor; the
         * handler does nothing, the EINTR is the point. */
        pthread_kill(t->slot->thread, WH_SLOT_WAKE_SIGNAL);
}

int wh_slots_start(struct wh_worker *w, struct wh_err *err)
{
        w->slots = calloc(w->cfg.concurrency, sizeof(*w->slots));
        if (!w->slots)
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        for (unsigned i = 0; i < w->cfg.concurrency; i++) {
                struct slot *s = &w->slots[i];
                s->w = w;
                int e = pthread_create(&s->thread, NULL, slot_main, s);
                if (e) {
                        wh_slot_io_clear(s);
                        return wh_err_set(err, e, "worker", "cannot start slot thread %u", i);
                }
                w->nslots++;
        }
        atomic_store(&w->metrics.slots, w->nslots);
        if (wh_deliverer_start(w, err) < 0 || wh_listener_start(w, err) < 0)
                return -1;
        return 0;
}

void wh_slots_join(struct wh_worker *w)
{
        wh_listener_stop(w);
        wh_deliverer_stop(w);
        pthread_mutex_lock(&w->mu);
        w->slots_exit = true;
        pthread_cond_broadcast(&w->work);
        pthread_mutex_unlock(&w->mu);
        for (unsigned i = 0; i < w->nslots; i++)
                pthread_join(w->slots[i].thread, NULL);
        free(w->slots);
        w->slots = NULL;
        w->nslots = 0;
}
