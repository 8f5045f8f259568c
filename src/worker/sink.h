/* The HTTP sink: POST a result's NormalizerResults JSON to an object-store
 * API (OpenKAT's Octopoes, or anything that takes JSON).
 *
 * One call is one attempt: retries, backoff and the cap live in the store's
 * outbox (wh_queue_delivery_report), so they survive the worker. A 2xx
 * answer is delivery; 5xx, 408, 429 and network errors are worth another
 * attempt; another 4xx is final (the request itself is wrong). The URL may
 * hold "{tenant}", replaced by the URL-escaped tenant, because object
 * stores keep one namespace per organisation. Only http and https, no
 * redirects. One handle per thread (it keeps the connection open). */
#ifndef WH_WORKER_SINK_H
#define WH_WORKER_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <whiskers/error.h>

struct wh_sink_config {
        const char *url;
        uint32_t timeout_ms; /* per request */
};

struct wh_sink_delivery {
        int64_t job_id;
        const char *tenant;
        const char *kind; /* the job's: wh_job_kind_name() */
        const char *normaliser, *input_digest;
        const char *body; /* JSON */
};

struct wh_sink_outcome {
        bool delivered;
        bool retryable;   /* not delivered, and another attempt may help */
        long http_status; /* 0 when no answer came */
        char error[256];  /* why it was not delivered; "" when it was */
};

/* Process-wide set-up of libcurl: once, before any thread uses a sink. */
int wh_sink_global_init(struct wh_err *err);

struct wh_sink;
int wh_sink_new(const struct wh_sink_config *c, struct wh_sink **out, struct wh_err *err);
void wh_sink_free(struct wh_sink *s);

/* One POST; aborted (retryable) as soon as *cancel becomes non-zero. */
void wh_sink_post(struct wh_sink *s, const struct wh_sink_delivery *d, const volatile int *cancel,
                  struct wh_sink_outcome *out);

#endif
