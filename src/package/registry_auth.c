/* Bearer tokens (the Docker token flow the distribution spec describes): a
 * 401 carries `Bearer realm="URL",service="S",scope="S"`; we GET
 * URL?service=S&scope=S (with basic credentials when we have them, else
 * anonymously) and send the returned token as "Authorization: Bearer" from
 * then on. The session's own scope (pull, or pull,push) is asked for beside
 * the challenge's, so one token serves the whole push. */
#define _GNU_SOURCE
#include "package/registry.h"
#include "base/cleanup.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_ANSWER_MAX (64u << 10)

/* The value of key="value" in a challenge's parameter list. */
static bool challenge_param(const char *ch, const char *key, char *out, size_t cap)
{
        size_t klen = strlen(key);
        for (const char *p = ch; (p = strcasestr(p, key)) != NULL; p += klen) {
                bool starts = p == ch || p[-1] == ' ' || p[-1] == ',';
                if (!starts || strncmp(p + klen, "=\"", 2) != 0)
                        continue;
                const char *v = p + klen + 2, *end = strchr(v, '"');
                if (!end || (size_t)(end - v) >= cap)
                        return false;
                memcpy(out, v, (size_t)(end - v));
                out[end - v] = '\0';
                return true;
        }
        return false;
}

struct answer {
        char *buf;
        size_t len;
};

static size_t keep(char *data, size_t size, size_t nmemb, void *ctx)
{
        struct answer *a = ctx;
        size_t n = size * nmemb;
        if (a->len + n > TOKEN_ANSWER_MAX)
                return 0;
        char *grown = realloc(a->buf, a->len + n + 1);
        if (!grown)
                return 0;
        memcpy(grown + a->len, data, n);
        a->buf = grown;
        a->len += n;
        grown[a->len] = '\0';
        return n;
}

static int token_url(CURL *h, const char *challenge, const char *own_scope, char *url, size_t cap,
                     struct wh_err *err)
{
        char realm[1024], service[256] = "", scope[512] = "";
        if (!challenge_param(challenge, "realm", realm, sizeof(realm)) ||
            (strncmp(realm, "http://", 7) != 0 && strncmp(realm, "https://", 8) != 0))
                return wh_err_set(err, 0, "registry", "bearer challenge without an http(s) realm");
        challenge_param(challenge, "service", service, sizeof(service));
        challenge_param(challenge, "scope", scope, sizeof(scope));
        char *es = curl_easy_escape(h, service, 0), *sc = curl_easy_escape(h, scope, 0),
             *own = curl_easy_escape(h, own_scope, 0);
        int n = -1;
        if (es && sc && own)
                n = snprintf(url, cap, "%s%sservice=%s&scope=%s%s%s", realm,
                             strchr(realm, '?') ? "&" : "?", es, own,
                             scope[0] && strcmp(scope, own_scope) ? "&scope=" : "",
                             scope[0] && strcmp(scope, own_scope) ? sc : "");
        curl_free(es);
        curl_free(sc);
        curl_free(own);
        if (n < 0 || (size_t)n >= cap)
                return wh_err_set(err, 0, "registry", "token URL too long");
        return 0;
}

static int parse_token(struct wh_reg *r, const char *url, const char *body, struct wh_err *err)
{
        cleanup_json json_t *j = json_loads(body, 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok)
                tok = json_string_value(json_object_get(j, "access_token"));
        int rc = 0;
        if (!tok || !tok[0] || strpbrk(tok, "\r\n"))
                rc = wh_err_set(err, 0, "registry", "token server %s gave no usable token", url);
        char *line = NULL;
        if (rc == 0 && asprintf(&line, "Authorization: Bearer %s", tok) < 0)
                rc = wh_err_set(err, ENOMEM, "registry", "keeping the token");
        if (rc == 0) {
                free(r->bearer);
                r->bearer = line;
        }
        return rc;
}

int wh_reg_fetch_token(struct wh_reg *r, const char *challenge, struct wh_err *err)
{
        CURL *h = curl_easy_init();
        if (!h)
                return wh_err_set(err, ENOMEM, "registry", "starting an HTTP client");
        char url[4096], errbuf[CURL_ERROR_SIZE] = "";
        struct answer a = {0};
        long status = 0;
        int rc = token_url(h, challenge, r->scope, url, sizeof(url), err);
        if (rc == 0 && curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
                rc = wh_err_set(err, 0, "registry", "libcurl cannot restrict protocols (7.85+)");
        if (rc == 0) {
                curl_easy_setopt(h, CURLOPT_URL, url);
                curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
                curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
                curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
                curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
                curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
                if (r->user) {
                        curl_easy_setopt(h, CURLOPT_USERNAME, r->user);
                        curl_easy_setopt(h, CURLOPT_PASSWORD, r->pass);
                }
                CURLcode cc = curl_easy_perform(h);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
                if (cc != CURLE_OK)
                        rc = wh_err_set(err, 0, "registry", "token server: %s",
                                        errbuf[0] ? errbuf : curl_easy_strerror(cc));
                else if (status == 401 || status == 403)
                        rc = wh_err_set(err, 0, "registry",
                                        "token server refused %s (%ld): check --user and "
                                        "WHISKERS_REGISTRY_PASSWORD",
                                        r->user ? "the credentials" : "anonymous access", status);
                else if (status != 200)
                        rc = wh_err_set(err, 0, "registry", "token server answered %ld", status);
        }
        if (rc == 0)
                rc = parse_token(r, url, a.buf ? a.buf : "", err);
        free(a.buf);
        curl_easy_cleanup(h);
        return rc;
}
