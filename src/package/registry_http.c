/* One registry request over libcurl, with the auth dance of the
 * distribution spec: a 401 names a scheme in WWW-Authenticate; "Basic" is
 * answered with the user's credentials, "Bearer realm=...,service=...,
 * scope=..." with a token fetched from the realm (credentials sent there
 * when we have them, anonymous otherwise) and kept for later requests.
 * Each request authenticates at most twice, so a registry that keeps
 * answering 401 gives an error, not a loop. Only http and https are spoken,
 * redirects (blob downloads) are followed at most 5 times, and curl drops
 * the Authorization header when a redirect leaves the host. */
#include "package/registry.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ERROR_BODY_MAX (64u << 10)
#define AUTH_ROUNDS    2

struct call {
        struct wh_reg *r;
        const struct wh_reg_req *q;
        struct wh_reg_resp *resp;
        char challenge[1024];
        uint64_t sent;
        size_t body_cap;
        struct wh_err *sink_err;
        int sink_failed;
        struct timespec last_draw;
};

const char *wh_reg_base(const struct wh_reg *r)
{
        return r->base;
}

int wh_reg_open(const struct wh_reg_ref *ref, const struct wh_registry_options *o, bool push,
                struct wh_reg **out, struct wh_err *err)
{
        static bool global_done;
        if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
                return wh_err_set(err, 0, "registry", "libcurl initialisation failed");
        global_done = true;
        struct wh_reg *r = calloc(1, sizeof(*r));
        if (!r || !(r->curl = curl_easy_init())) {
                free(r);
                return wh_err_set(err, ENOMEM, "registry", "starting an HTTP client");
        }
        bool plain = (o && o->plain_http) || wh_reg_host_is_loopback(ref->host);
        snprintf(r->base, sizeof(r->base), "%s://%s", plain ? "http" : "https", ref->host);
        snprintf(r->scope, sizeof(r->scope), "repository:%s:%s", ref->repo,
                 push ? "pull,push" : "pull");
        if (o && o->username && o->password) {
                r->user = o->username;
                r->pass = o->password;
        }
        *out = r;
        return 0;
}

void wh_reg_close(struct wh_reg *r)
{
        if (!r)
                return;
        curl_easy_cleanup(r->curl);
        free(r->bearer);
        free(r);
}

void wh_reg_resp_clear(struct wh_reg_resp *resp)
{
        free(resp->body);
        *resp = (struct wh_reg_resp){0};
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
        while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
                n--;
        while (n && *v == ' ')
                v++, n--;
        if (n >= cap)
                n = cap - 1; /* too long to be valid: truncated values fail later checks */
        memcpy(dst, v, n);
        dst[n] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ctx)
{
        struct call *c = ctx;
        size_t n = size * nitems;
        struct {
                const char *name;
                char *dst;
                size_t cap;
        } fields[] = {
            {"location:", c->resp->location, sizeof(c->resp->location)},
            {"content-type:", c->resp->content_type, sizeof(c->resp->content_type)},
            {"docker-content-digest:", c->resp->digest, sizeof(c->resp->digest)},
            {"range:", c->resp->range, sizeof(c->resp->range)},
            {"www-authenticate:", c->challenge, sizeof(c->challenge)},
        };
        if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) /* a new answer (after a redirect) */
                for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
                        fields[i].dst[0] = '\0';
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                size_t k = strlen(fields[i].name);
                if (n > k && strncasecmp(line, fields[i].name, k) == 0)
                        copy_value(fields[i].dst, fields[i].cap, line + k, n - k);
        }
        return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
        struct call *c = ctx;
        size_t n = size * nmemb;
        long status = 0;
        curl_easy_getinfo(c->r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status / 100 == 2 && c->q->sink) {
                if (c->q->sink(c->q->sink_ctx, data, n, c->sink_err) < 0) {
                        c->sink_failed = 1;
                        return 0;
                }
                return n;
        }
        size_t cap = status / 100 == 2 ? c->body_cap : ERROR_BODY_MAX;
        if (c->resp->body_len + n > cap) {
                if (status / 100 != 2)
                        return n; /* an error page: its start is enough */
                c->sink_failed = 1;
                wh_err_set(c->sink_err, 0, "registry", "answer to %s is larger than %zu bytes",
                           c->q->url, cap);
                return 0;
        }
        char *grown = realloc(c->resp->body, c->resp->body_len + n + 1);
        if (!grown)
                return 0;
        memcpy(grown + c->resp->body_len, data, n);
        c->resp->body = grown;
        c->resp->body_len += n;
        grown[c->resp->body_len] = '\0';
        return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
        struct call *c = ctx;
        size_t want = size * nitems;
        uint64_t left = c->q->body_len - c->sent;
        if (want > left)
                want = (size_t)left;
        if (c->q->body) {
                memcpy(buf, (const char *)c->q->body + c->sent, want);
        } else {
                ssize_t got = pread(c->q->body_fd, buf, want, (off_t)(c->q->body_off + c->sent));
                if (got < 0)
                        return CURL_READFUNC_ABORT;
                want = (size_t)got;
        }
        c->sent += want;
        return want;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        (void)dltotal, (void)ultotal;
        struct call *c = ctx;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - c->last_draw.tv_sec) * 1000 +
                (now.tv_nsec - c->last_draw.tv_nsec) / 1000000 <
            200)
                return 0;
        c->last_draw = now;
        uint64_t done = c->q->progress_done + (uint64_t)(dlnow > ulnow ? dlnow : ulnow);
        wh_reg_progress(c->q->progress_label, done, c->q->progress_total, false);
        return 0;
}

static bool add_header(struct curl_slist **list, const char *line)
{
        struct curl_slist *grown = curl_slist_append(*list, line);
        if (grown)
                *list = grown;
        return grown != NULL;
}

static int setup(struct call *c, struct curl_slist **hdrs, struct wh_err *err)
{
        CURL *h = c->r->curl;
        const struct wh_reg_req *q = c->q;
        char url[4096], line[2400];
        size_t blen = strlen(c->r->base);
        /* Upload locations come from the registry: an absolute one must stay
         * on the registry, or our credentials and token would go wherever it
         * points (curl drops them only on redirects). */
        if (q->url[0] != '/' && (strncmp(q->url, c->r->base, blen) != 0 || q->url[blen] != '/'))
                return wh_err_set(err, 0, "registry",
                                  "%s sent us to another server (%.200s): refused", c->r->base,
                                  q->url);
        if (snprintf(url, sizeof(url), "%s%s", q->url[0] == '/' ? c->r->base : "", q->url) >=
            (int)sizeof(url))
                return wh_err_set(err, 0, "registry", "URL too long: %s", q->url);
        curl_easy_reset(h);
        const char *extra[] = {q->accept ? "Accept: " : NULL,
                               q->accept,
                               q->content_type ? "Content-Type: " : NULL,
                               q->content_type,
                               q->range ? "Range: " : NULL,
                               q->range,
                               q->content_range ? "Content-Range: " : NULL,
                               q->content_range};
        bool ok = true;
        for (size_t i = 0; ok && i < sizeof(extra) / sizeof(extra[0]); i += 2) {
                if (!extra[i])
                        continue;
                snprintf(line, sizeof(line), "%s%s", extra[i], extra[i + 1]);
                ok = add_header(hdrs, line);
        }
        ok = ok && add_header(hdrs, "Expect:"); /* no 100-continue round trip */
        if (ok && c->r->bearer)
                ok = add_header(hdrs, c->r->bearer);
        if (!ok)
                return wh_err_set(err, ENOMEM, "registry", "building request headers");
        bool get = strcmp(q->method, "GET") == 0, head = strcmp(q->method, "HEAD") == 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
        /* Never anything but http(s), even where a redirect points. */
        if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
                return wh_err_set(err, 0, "registry", "libcurl cannot restrict protocols (7.85+)");
        /* Blob reads may be redirected to storage; writes never are. */
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, get || head ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "whiskers");
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
        if (c->r->basic) {
                curl_easy_setopt(h, CURLOPT_USERNAME, c->r->user);
                curl_easy_setopt(h, CURLOPT_PASSWORD, c->r->pass);
        }
        if (head) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (strcmp(q->method, "POST") == 0) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
        } else if (!get) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, c);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
        }
        if (q->progress_label) {
                curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
        }
        return 0;
}

/* Answer a challenge; fails when there is nothing new to try. */
static int authenticate(struct wh_reg *r, const char *challenge, struct wh_err *err)
{
        if (strncasecmp(challenge, "Bearer ", 7) == 0)
                return wh_reg_fetch_token(r, challenge, err);
        if (strncasecmp(challenge, "Basic", 5) == 0) {
                if (!r->user)
                        return wh_err_set(err, 0, "registry",
                                          "%s wants a user name and password: give --user USER "
                                          "and the password in WHISKERS_REGISTRY_PASSWORD",
                                          r->base);
                if (r->basic)
                        return wh_err_set(err, 0, "registry",
                                          "%s refused the user name and password (401)", r->base);
                r->basic = true;
                return 0;
        }
        return wh_err_set(err, 0, "registry", "%s answered 401 with an unknown challenge '%.60s'",
                          r->base, challenge);
}

static int perform(struct wh_reg *r, const struct wh_reg_req *q, struct wh_reg_resp *resp,
                   struct call *c, struct wh_err *err)
{
        struct curl_slist *hdrs = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        int rc = setup(c, &hdrs, err);
        if (rc == 0) {
                curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, errbuf);
                CURLcode cc = curl_easy_perform(r->curl);
                curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &resp->status);
                if (c->sink_failed)
                        rc = -1; /* err already filled by the sink */
                else if (cc != CURLE_OK) {
                        resp->transport_error = true;
                        rc = wh_err_set(err, 0, "registry", "%s %s%s: %s", q->method,
                                        q->url[0] == '/' ? r->base : "", q->url,
                                        errbuf[0] ? errbuf : curl_easy_strerror(cc));
                }
        }
        curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdrs);
        return rc;
}

int wh_reg_do(struct wh_reg *r, const struct wh_reg_req *q, struct wh_reg_resp *resp,
              struct wh_err *err)
{
        for (int round = 0;; round++) {
                wh_reg_resp_clear(resp);
                struct call c = {
                    .r = r, .q = q, .resp = resp, .body_cap = WH_JSON_BLOB_MAX, .sink_err = err};
                if (perform(r, q, resp, &c, err) < 0)
                        return -1;
                if (resp->status != 401)
                        return 0;
                if (round == AUTH_ROUNDS)
                        return wh_err_set(err, 0, "registry",
                                          "%s keeps answering 401 to %s %s after authenticating: "
                                          "check the user name, password and its permissions",
                                          r->base, q->method, q->url);
                if (!c.challenge[0])
                        return wh_err_set(err, 0, "registry",
                                          "%s answered 401 without a WWW-Authenticate challenge",
                                          r->base);
                if (authenticate(r, c.challenge, err) < 0)
                        return -1;
        }
}

int wh_reg_status_error(struct wh_reg *r, const struct wh_reg_req *q,
                        const struct wh_reg_resp *resp, struct wh_err *err)
{
        /* The distribution spec's error body: {"errors":[{"code","message"}]}. */
        cleanup_json json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
        json_t *first = json_array_get(json_object_get(j, "errors"), 0);
        const char *code = json_string_value(json_object_get(first, "code"));
        const char *msg = json_string_value(json_object_get(first, "message"));
        wh_err_set(err, 0, "registry", "%s answered %ld to %s %s%s%s%s%s", r->base, resp->status,
                   q->method, q->url, code ? ": " : "", code ? code : "", msg ? ": " : "",
                   msg ? msg : "");
        return -1;
}
