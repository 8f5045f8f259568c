/* Internals of the registry client (package.h: wh_registry_push / pull).
 *
 * registry_ref.c parses "HOST[:PORT]/REPO[:TAG|@DIGEST]"; registry_http.c
 * runs one HTTP request over libcurl and answers the registry's 401
 * challenges (basic, or a bearer token fetched from the realm it names), a
 * bounded number of times; registry_progress.c draws the progress line. */
#ifndef WH_PACKAGE_REGISTRY_H
#define WH_PACKAGE_REGISTRY_H

#include <whiskers/package/registry.h>
#include <whiskers/package/trust.h>

struct wh_reg_ref {
        char host[256]; /* "host", "host:port", "[::1]:port" */
        char repo[256]; /* lowercase components joined by '/' */
        char tag[WH_REF_MAX];
        char digest[WH_DIGEST_BUF];
};

/* tag and digest may both be empty (the caller picks a default). */
int wh_reg_ref_parse(const char *text, struct wh_reg_ref *r, struct wh_err *err);
/* localhost, 127.0.0.0/8 and [::1]: plain http is the default there. */
bool wh_reg_host_is_loopback(const char *host);

/* A session: the curl handle (its connection is reused) and what auth
 * learnt so far. */
struct wh_reg {
        void *curl; /* CURL *, opaque so this header needs no curl headers */
        char base[300];
        char scope[400]; /* "repository:REPO:pull[,push]" */
        const char *user, *pass;
        bool basic;   /* send the credentials with every request */
        char *bearer; /* "Authorization: Bearer ..." once a token was issued */
};

/* A session with one repository. Loopback hosts and o->plain_http use
 * http://, anything else https:// with certificate checks. */
int wh_reg_open(const struct wh_reg_ref *ref, const struct wh_registry_options *o, bool push,
                struct wh_reg **out, struct wh_err *err);
void wh_reg_close(struct wh_reg *r);
const char *wh_reg_base(const struct wh_reg *r); /* "http://host:port" */

/* A sink gets the body of a 2xx answer (206 included). */
typedef int (*wh_reg_sink)(void *ctx, const void *buf, size_t len, struct wh_err *err);

struct wh_reg_req {
        const char *method; /* GET, HEAD, PUT, POST, PATCH */
        const char *url;    /* absolute, or a path below the base ("/v2/...") */
        const char *accept;
        const char *content_type;
        const char *range; /* request header "Range: ..." */
        const char *content_range;
        /* Upload body: a buffer, or body_len bytes of fd from body_off. */
        const void *body;
        int body_fd; /* -1 = none */
        uint64_t body_off, body_len;
        wh_reg_sink sink; /* NULL: the body is kept in resp->body (capped) */
        void *sink_ctx;
        const char *progress_label; /* NULL = no progress line */
        uint64_t progress_done, progress_total;
};

struct wh_reg_resp {
        long status;
        char location[2048];
        char content_type[WH_MEDIA_TYPE_MAX];
        char digest[WH_DIGEST_BUF]; /* Docker-Content-Digest */
        char range[64];             /* Range (upload status) */
        char *body;                 /* NUL-terminated; free() it */
        size_t body_len;
        bool transport_error; /* connection refused, dropped, timed out */
};

/* One request, answering auth challenges. Fails on transport errors (with
 * resp->transport_error set) and on 401 after authenticating; any other
 * status is returned for the caller to judge. */
int wh_reg_do(struct wh_reg *r, const struct wh_reg_req *q, struct wh_reg_resp *resp,
              struct wh_err *err);
void wh_reg_resp_clear(struct wh_reg_resp *resp);
/* "registry answered 500 to GET ...: <its error message>" */
int wh_reg_status_error(struct wh_reg *r, const struct wh_reg_req *q,
                        const struct wh_reg_resp *resp, struct wh_err *err);

/* Answer a "Bearer realm=..." challenge: fetch a token, keep it in r. */
int wh_reg_fetch_token(struct wh_reg *r, const char *challenge, struct wh_err *err);

/* The referrers of subject as a JSON array of descriptors (empty when
 * none): the referrers API when the registry has it, else the fallback
 * index under the tag "sha256-<hex>". */
int wh_reg_referrers(struct wh_reg *r, const struct wh_reg_ref *ref, const char *subject,
                     json_t **out, struct wh_err *err);
/* Merge the entries of sigs whose subject is `subject` into the fallback
 * index (PUT only when something is new). */
int wh_reg_push_referrers(struct wh_reg *r, const struct wh_reg_ref *ref, const char *subject,
                          const struct wh_index_entry *sigs, size_t n, struct wh_err *err);

/* Progress line on stderr: "\r  label  12.0/45.3 MiB". */
void wh_reg_progress(const char *label, uint64_t done, uint64_t total, bool final);

#endif
