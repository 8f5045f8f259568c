/* The HTTP sink: POST a result's NormalizerResults JSON to an object-store
 * API (OpenKAT's Octopoes, or anything that takes JSON), with retries.
 *
 * A 2xx answer is delivery. 5xx, 408, 429 and network errors are retried
 * after base * 2^(n-1) ms (capped), up to `attempts` tries; another 4xx is
 * final at once (the request itself is wrong: retrying cannot help). The
 * URL may hold "{tenant}", replaced by the URL-escaped tenant, because
 * object stores keep one namespace per organisation. Only http and https,
 * no redirects. One handle per thread (it keeps the connection open). */
#ifndef WH_WORKER_SINK_H
#define WH_WORKER_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <whiskers/error.h>

struct wh_sink_config {
        const char *url;
        uint32_t attempts, backoff_ms, backoff_max_ms, timeout_ms;
};

struct wh_sink_delivery {
        int64_t job_id;
        const char *tenant, *normaliser, *input_digest;
        const char *body; /* JSON */
};

struct wh_sink_outcome {
        bool delivered;
        uint32_t attempts;
        long http_status; /* of the last answer; 0 when none came */
        char error[256];  /* why the last attempt failed; "" when delivered */
};

/* Process-wide set-up of libcurl: once, before any thread uses a sink. */
int wh_sink_global_init(struct wh_err *err);

struct wh_sink;
int wh_sink_new(const struct wh_sink_config *c, struct wh_sink **out, struct wh_err *err);
void wh_sink_free(struct wh_sink *s);

/* Deliver with retries; stops retrying when *cancel becomes non-zero. */
void wh_sink_post(struct wh_sink *s, const struct wh_sink_delivery *d, const volatile int *cancel,
                  struct wh_sink_outcome *out);

#endif
