/* The HTTP sink over libcurl (see sink.h). */
#define _GNU_SOURCE
#include "worker/sink.h"

#include "base/cleanup.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wh_sink {
        struct wh_sink_config c;
        CURL *curl;
};

int wh_sink_global_init(struct wh_err *err)
{
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK)
                return wh_err_set(err, EIO, "sink", "cannot initialise libcurl: %s",
                                  curl_easy_strerror(rc));
        return 0;
}

int wh_sink_new(const struct wh_sink_config *c, struct wh_sink **out, struct wh_err *err)
{
        struct wh_sink *s = calloc(1, sizeof(*s));
        if (!s)
                return wh_err_set(err, ENOMEM, "sink", "out of memory");
        s->c = *c;
        s->curl = curl_easy_init();
        if (!s->curl) {
                free(s);
                return wh_err_set(err, ENOMEM, "sink", "cannot create a libcurl handle");
        }
        *out = s;
        return 0;
}

void wh_sink_free(struct wh_sink *s)
{
        if (!s)
                return;
        curl_easy_cleanup(s->curl);
        free(s);
}

/* The URL with every "{tenant}" replaced by the escaped tenant. */
static char *expand_url(CURL *curl, const char *url, const char *tenant)
{
        cleanup_free char *esc = curl_easy_escape(curl, tenant, 0);
        if (!esc)
                return NULL;
        size_t cap = strlen(url) + 1, tl = strlen(esc);
        for (const char *p = strstr(url, "{tenant}"); p; p = strstr(p + 8, "{tenant}"))
                cap += tl;
        char *out = malloc(cap), *o = out;
        if (!out)
                return NULL;
        for (const char *p = url; *p;) {
                if (strncmp(p, "{tenant}", 8) == 0) {
                        memcpy(o, esc, tl);
                        o += tl;
                        p += 8;
                } else {
                        *o++ = *p++;
                }
        }
        *o = '\0';
        return out;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
        (void)ptr;
        (void)ctx;
        return size * n;
}

static struct curl_slist *headers_for(const struct wh_sink_delivery *d)
{
        char line[512];
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        snprintf(line, sizeof(line), "X-Whiskers-Job: %lld", (long long)d->job_id);
        h = h ? curl_slist_append(h, line) : NULL;
        /* Values come from submitters: strip anything that could end a header. */
        const char *names[] = {"X-Whiskers-Tenant", "X-Whiskers-Normaliser", "X-Whiskers-Input"};
        const char *values[] = {d->tenant, d->normaliser, d->input_digest};
        for (int i = 0; h && i < 3; i++) {
                int n =
                    snprintf(line, sizeof(line), "%s: %s", names[i], values[i] ? values[i] : "");
                for (int k = 0; k < n && k < (int)sizeof(line) - 1; k++)
                        if (line[k] == '\r' || line[k] == '\n')
                                line[k] = ' ';
                h = curl_slist_append(h, line);
        }
        return h;
}

/* One POST: true when delivered; *retry says whether another try may help. */
static bool post_once(struct wh_sink *s, const char *url, struct curl_slist *headers,
                      const char *body, struct wh_sink_outcome *out, bool *retry)
{
        CURL *c = s->curl;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->c.timeout_ms);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        CURLcode rc = curl_easy_perform(c);
        out->attempts++;
        out->http_status = 0;
        if (rc != CURLE_OK) {
                snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
                *retry = true;
                return false;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->http_status);
        long st = out->http_status;
        if (st >= 200 && st < 300) {
                out->error[0] = '\0';
                return true;
        }
        snprintf(out->error, sizeof(out->error), "the sink answered HTTP %ld", st);
        *retry = st >= 500 || st == 408 || st == 429;
        return false;
}

/* Sleep ms, in short steps so that a cancel is seen quickly. */
static bool pause_ms(uint64_t ms, const volatile int *cancel)
{
        while (ms > 0) {
                if (cancel && *cancel)
                        return false;
                uint64_t step = ms < 50 ? ms : 50;
                struct timespec ts = {0, (long)step * 1000000L};
                nanosleep(&ts, NULL);
                ms -= step;
        }
        return !(cancel && *cancel);
}

void wh_sink_post(struct wh_sink *s, const struct wh_sink_delivery *d, const volatile int *cancel,
                  struct wh_sink_outcome *out)
{
        *out = (struct wh_sink_outcome){0};
        cleanup_free char *url = expand_url(s->curl, s->c.url, d->tenant ? d->tenant : "");
        struct curl_slist *headers = headers_for(d);
        if (!url || !headers) {
                snprintf(out->error, sizeof(out->error), "out of memory");
                curl_slist_free_all(headers);
                return;
        }
        uint64_t delay = s->c.backoff_ms;
        for (;;) {
                bool retry = false;
                out->delivered = post_once(s, url, headers, d->body, out, &retry);
                if (out->delivered || !retry || out->attempts >= s->c.attempts)
                        break;
                if (!pause_ms(delay, cancel)) {
                        snprintf(out->error + strlen(out->error),
                                 sizeof(out->error) - strlen(out->error),
                                 "; stopped retrying: the worker is shutting down");
                        break;
                }
                delay = delay * 2 > s->c.backoff_max_ms ? s->c.backoff_max_ms : delay * 2;
        }
        curl_slist_free_all(headers);
}
