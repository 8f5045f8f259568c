/* The delivery thread: beside the run slots, with its own store handle and
 * sink handle, it empties the store's outbox (queue.h, "the sink outbox").
 *
 * Each round claims one due delivery (any worker's: there is no leader),
 * POSTs it once and reports how it went; the store decides the next try
 * (backoff, doubling, capped) or gives up after sink_attempts and keeps
 * the delivery as failed for `whiskers results --redeliver`. One delivery
 * per claim keeps the claim's lease at one request's timeout, so a
 * delivery whose worker died is due again soon.
 *
 * The thread wakes when the loop stored results to deliver (kick), and
 * otherwise polls every poll_max_ms for retries that became due and for
 * deliveries other workers left; while one of its own attempts waits for a
 * retry, every sink_backoff_ms at least, so a long poll interval does not
 * stretch the sink's backoff. On stop it aborts a POST in flight; that
 * delivery is claimed again when its lease ends: delivery is at least once. */
#include "worker/core.h"
#include "worker/log.h"
#include "worker/sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Above the request timeout: the report follows the answer at once. */
#define LEASE_MARGIN_MS 2000
#define REPORT_TRIES    4

struct wh_deliverer {
        struct wh_worker *w;
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cond; /* kicked or exit */
        bool kicked, exit;
        bool retry_soon;     /* an attempt of this thread is due again soon */
        volatile int cancel; /* for the sink: set on exit */
        struct wh_queue *q;  /* opened on first use */
        struct wh_sink *sink;
};

static void pause_ms(unsigned ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* Report, retrying transient store errors briefly. Giving up is safe: the
 * claim's lease ends and the delivery is tried again. */
static void report(struct wh_deliverer *d, const struct wh_delivery *dl,
                   const struct wh_sink_outcome *o)
{
        const struct wh_worker_config *c = &d->w->cfg;
        struct wh_delivery_attempt a = {.delivered = o->delivered,
                                        .retryable = o->retryable,
                                        .http_status = (int)o->http_status,
                                        .error = o->error,
                                        .max_attempts = c->sink_attempts,
                                        .backoff_ms = c->sink_backoff_ms,
                                        .backoff_max_ms = c->sink_backoff_max_ms};
        struct wh_metrics *m = &d->w->metrics;
        enum wh_delivery_state state;
        struct wh_err err;
        for (int i = 0; wh_queue_delivery_report(d->q, dl, &a, &state, &err) < 0; i++) {
                if (wh_queue_err_is_fenced(&err)) {
                        wh_wlog(WH_LOG_WARN, dl->job_id, "delivery report fenced: %s", err.msg);
                        return;
                }
                atomic_fetch_add(&m->db_errors, 1);
                if (!wh_queue_err_is_transient(&err) || i + 1 >= REPORT_TRIES) {
                        wh_wlog(WH_LOG_ERROR, dl->job_id,
                                "could not record the delivery (%s); it is tried again when its "
                                "lease ends",
                                err.msg);
                        return;
                }
                pause_ms(100u << i);
        }
        if (state == WH_DELIVERY_DELIVERED) {
                atomic_fetch_add(&m->sink_delivered, 1);
                wh_wlog(WH_LOG_DEBUG, dl->job_id, "delivered to the sink (attempt %u)",
                        dl->attempt);
        } else if (state == WH_DELIVERY_PENDING) {
                d->retry_soon = true;
                atomic_fetch_add(&m->sink_retried, 1);
                wh_wlog(WH_LOG_WARN, dl->job_id, "sink attempt %u of %u failed, retrying: %s",
                        dl->attempt, c->sink_attempts, o->error);
        } else {
                atomic_fetch_add(&m->sink_failed, 1);
                wh_wlog(WH_LOG_ERROR, dl->job_id,
                        "not delivered to the sink after %u attempts: %s; the result stays in "
                        "the store: 'whiskers results --undelivered' lists it, 'whiskers "
                        "results --redeliver' tries again",
                        dl->attempt, o->error);
        }
}

/* One claim and its POST; false when there was nothing due (or the store
 * is away: then wait for the next poll). */
static bool deliver_one(struct wh_deliverer *d)
{
        struct wh_err err;
        const struct wh_worker_config *c = &d->w->cfg;
        if (!d->q && wh_worker_open_store(d->w, &d->q, &err) < 0) {
                atomic_fetch_add(&d->w->metrics.db_errors, 1);
                wh_wlog(WH_LOG_WARN, 0, "delivery: cannot open the store: %s", err.msg);
                return false;
        }
        struct wh_delivery *dl = NULL;
        size_t n = 0;
        if (wh_queue_claim_deliveries(d->q, 1, c->sink_timeout_ms + LEASE_MARGIN_MS, &dl, &n,
                                      &err) < 0) {
                atomic_fetch_add(&d->w->metrics.db_errors, 1);
                wh_wlog(WH_LOG_WARN, 0, "delivery: claim failed, retrying later: %s", err.msg);
                return false;
        }
        if (!n) {
                wh_deliveries_free(dl, n);
                return false;
        }
        struct wh_sink_delivery sd = {.job_id = dl->job_id,
                                      .tenant = dl->tenant,
                                      .kind = wh_job_kind_name(dl->kind),
                                      .normaliser = dl->normaliser,
                                      .input_digest = dl->input_digest,
                                      .body = dl->body};
        struct wh_sink_outcome o;
        wh_sink_post(d->sink, &sd, &d->cancel, &o);
        if (d->cancel && !o.delivered)
                wh_wlog(WH_LOG_INFO, dl->job_id, "delivery stopped by shutdown; due again in %u ms",
                        c->sink_timeout_ms + LEASE_MARGIN_MS);
        else
                report(d, dl, &o);
        wh_deliveries_free(dl, n);
        return true;
}

static void *deliver_main(void *arg)
{
        struct wh_deliverer *d = arg;
        const struct wh_worker_config *c = &d->w->cfg;
        pthread_mutex_lock(&d->mu);
        while (!d->exit) {
                d->kicked = false;
                pthread_mutex_unlock(&d->mu);
                d->retry_soon = false;
                while (!d->cancel && deliver_one(d))
                        ;
                pthread_mutex_lock(&d->mu);
                if (d->kicked || d->exit)
                        continue;
                uint32_t poll = d->retry_soon && c->sink_backoff_ms < c->poll_max_ms
                                    ? c->sink_backoff_ms
                                    : c->poll_max_ms;
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += poll / 1000;
                ts.tv_nsec += (long)(poll % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&d->cond, &d->mu, &ts);
        }
        pthread_mutex_unlock(&d->mu);
        return NULL;
}

static void destroy(struct wh_deliverer *d)
{
        wh_sink_free(d->sink);
        wh_queue_close(d->q);
        pthread_cond_destroy(&d->cond);
        pthread_mutex_destroy(&d->mu);
        free(d);
}

int wh_deliverer_start(struct wh_worker *w, struct wh_err *err)
{
        if (!w->cfg.sink_url)
                return 0;
        struct wh_deliverer *d = calloc(1, sizeof(*d));
        if (!d)
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        d->w = w;
        pthread_condattr_t ca;
        if (pthread_mutex_init(&d->mu, NULL) || pthread_condattr_init(&ca) ||
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&d->cond, &ca)) {
                free(d);
                return wh_err_set(err, ENOMEM, "worker", "cannot initialise the delivery locks");
        }
        pthread_condattr_destroy(&ca);
        struct wh_sink_config sc = {.url = w->cfg.sink_url, .timeout_ms = w->cfg.sink_timeout_ms};
        if (wh_sink_new(&sc, &d->sink, err) < 0) {
                destroy(d);
                return -1;
        }
        int e = pthread_create(&d->thread, NULL, deliver_main, d);
        if (e) {
                destroy(d);
                return wh_err_set(err, e, "worker", "cannot start the delivery thread");
        }
        w->deliverer = d;
        return 0;
}

void wh_deliverer_kick(struct wh_worker *w)
{
        struct wh_deliverer *d = w->deliverer;
        if (!d)
                return;
        pthread_mutex_lock(&d->mu);
        d->kicked = true;
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->mu);
}

void wh_deliverer_stop(struct wh_worker *w)
{
        struct wh_deliverer *d = w->deliverer;
        if (!d)
                return;
        pthread_mutex_lock(&d->mu);
        d->exit = true;
        d->cancel = 1;
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
        destroy(d);
        w->deliverer = NULL;
}
