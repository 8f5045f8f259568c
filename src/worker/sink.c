/* The HTTP sink over libcurl (see sink.h). */
#define _GNU_SOURCE
#include "worker/sink.h"

#include "base/cleanup.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        const char *names[] = {"X-Whiskers-Tenant", "X-Whiskers-Kind", "X-Whiskers-Normaliser",
                               "X-Whiskers-Input"};
        const char *values[] = {d->tenant, d->kind, d->normaliser, d->input_digest};
        for (int i = 0; h && i < 4; i++) {
                int n =
                    snprintf(line, sizeof(line), "%s: %s", names[i], values[i] ? values[i] : "");
                for (int k = 0; k < n && k < (int)sizeof(line) - 1; k++)
                        if (line[k] == '\r' || line[k] == '\n')
                                line[k] = ' ';
                h = curl_slist_append(h, line);
        }
        return h;
}

/* libcurl calls this during the transfer: non-zero aborts it. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        (void)dltotal;
        (void)dlnow;
        (void)ultotal;
        (void)ulnow;
        const volatile int *cancel = ctx;
        return cancel && *cancel;
}

void wh_sink_post(struct wh_sink *s, const struct wh_sink_delivery *d, const volatile int *cancel,
                  struct wh_sink_outcome *out)
{
        *out = (struct wh_sink_outcome){.retryable = true};
        cleanup_free char *url = expand_url(s->curl, s->c.url, d->tenant ? d->tenant : "");
        struct curl_slist *headers = headers_for(d);
        if (!url || !headers) {
                snprintf(out->error, sizeof(out->error), "out of memory");
                curl_slist_free_all(headers);
                return;
        }
        CURL *c = s->curl;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->c.timeout_ms);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cancel);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(headers);
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
                snprintf(out->error, sizeof(out->error),
                         "stopped: the worker is shutting down; delivered again later");
                return;
        }
        if (rc != CURLE_OK) {
                snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
                return;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->http_status);
        long st = out->http_status;
        if (st >= 200 && st < 300) {
                out->delivered = true;
                out->retryable = false;
                return;
        }
        snprintf(out->error, sizeof(out->error), "the sink answered HTTP %ld", st);
        out->retryable = st >= 500 || st == 408 || st == 429;
}
