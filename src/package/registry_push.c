/* whiskers push: a package and its signatures to a registry.
 *
 * Order matters to registries that check references: every blob first
 * (skipped when a HEAD finds it), then the manifests children first, the
 * root by its tag last but one, then the signatures (OCI 1.1 referrers, PUT
 * by digest) and, for registries without the referrers API (distribution
 * 2.x), the fallback index under the tag "sha256-<subject hex>" that lists
 * them, merged with what the registry already had. */
#include "package/digest.h"
#include "package/registry.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_RESUMES 3

struct push {
        struct wh_store *s;
        struct wh_reg *r;
        const struct wh_reg_ref *ref;
        const struct wh_registry_options *o;
        struct wh_registry_stats *st;
};

static int expect_status(struct push *p, const struct wh_reg_req *q, struct wh_reg_resp *resp,
                         long want, struct wh_err *err)
{
        if (resp->status == want)
                return 0;
        return wh_reg_status_error(p->r, q, resp, err);
}

static int with_digest(const char *location, const char *digest, char *out, size_t cap,
                       struct wh_err *err)
{
        if (!location[0])
                return wh_err_set(err, 0, "registry", "upload answer without a Location");
        if (snprintf(out, cap, "%s%cdigest=sha256%%3A%s", location,
                     strchr(location, '?') ? '&' : '?', wh_digest_hex(digest)) >= (int)cap)
                return wh_err_set(err, 0, "registry", "upload URL too long");
        return 0;
}

/* PATCH the blob in chunks; after a dropped PATCH ask the registry how much
 * it has (GET upload URL -> Range: 0-N) and go on from there. */
static int upload_chunked(struct push *p, int fd, const struct wh_descriptor *d, char *loc,
                          size_t loc_cap, struct wh_err *err)
{
        uint64_t off = 0;
        int resumes = 0;
        while (off < d->size) {
                uint64_t n = d->size - off < p->o->chunk_size ? d->size - off : p->o->chunk_size;
                char cr[64];
                snprintf(cr, sizeof(cr), "%llu-%llu", (unsigned long long)off,
                         (unsigned long long)(off + n - 1));
                struct wh_reg_req q = {.method = "PATCH",
                                       .url = loc,
                                       .body_fd = fd,
                                       .body_off = off,
                                       .body_len = n,
                                       .content_range = cr,
                                       .content_type = "application/octet-stream",
                                       .progress_label = p->o->progress ? d->digest : NULL,
                                       .progress_done = off,
                                       .progress_total = d->size};
                struct wh_reg_resp resp = {0};
                int rc = wh_reg_do(p->r, &q, &resp, err);
                if (rc < 0 && resp.transport_error && resumes++ < CHUNK_RESUMES) {
                        struct wh_reg_req st = {.method = "GET", .url = loc, .body_fd = -1};
                        rc = wh_reg_do(p->r, &st, &resp, err);
                        unsigned long long last;
                        if (rc == 0 && resp.status == 204 &&
                            sscanf(resp.range, "0-%llu", &last) == 1 && last < d->size) {
                                off = last + 1;
                                snprintf(loc, loc_cap, "%s",
                                         resp.location[0] ? resp.location : loc);
                                wh_reg_resp_clear(&resp);
                                continue;
                        }
                        if (rc == 0)
                                rc = wh_err_set(err, 0, "registry",
                                                "cannot resume the upload of %s", d->digest);
                }
                if (rc == 0)
                        rc = expect_status(p, &q, &resp, 202, err);
                if (rc == 0)
                        snprintf(loc, loc_cap, "%s", resp.location);
                wh_reg_resp_clear(&resp);
                if (rc < 0)
                        return -1;
                off += n;
        }
        return 0;
}

static int push_blob(struct push *p, const struct wh_descriptor *d, struct wh_err *err)
{
        char url[2400], loc[2048];
        snprintf(url, sizeof(url), "/v2/%s/blobs/%s", p->ref->repo, d->digest);
        struct wh_reg_req head = {.method = "HEAD", .url = url, .body_fd = -1};
        struct wh_reg_resp resp = {0};
        if (wh_reg_do(p->r, &head, &resp, err) < 0)
                return -1;
        if (resp.status == 200) {
                p->st->blobs_skipped++;
                wh_reg_resp_clear(&resp);
                return 0;
        }
        int rc = resp.status == 404 ? 0 : wh_reg_status_error(p->r, &head, &resp, err);
        snprintf(url, sizeof(url), "/v2/%s/blobs/uploads/", p->ref->repo);
        struct wh_reg_req post = {.method = "POST", .url = url, .body_fd = -1};
        if (rc == 0)
                rc = wh_reg_do(p->r, &post, &resp, err);
        if (rc == 0)
                rc = expect_status(p, &post, &resp, 202, err);
        snprintf(loc, sizeof(loc), "%s", resp.location);
        wh_reg_resp_clear(&resp);
        cleanup_close int fd = -1;
        uint64_t size = 0;
        if (rc == 0)
                rc = wh_store_blob_open(p->s, d->digest, &fd, &size, err);
        if (rc == 0 && size != d->size)
                rc = wh_err_set(err, 0, "registry",
                                "blob %s has %llu bytes, its descriptor says %llu", d->digest,
                                (unsigned long long)size, (unsigned long long)d->size);
        bool chunked = p->o->chunk_size && d->size > 0;
        if (rc == 0 && chunked)
                rc = upload_chunked(p, fd, d, loc, sizeof(loc), err);
        if (rc == 0)
                rc = with_digest(loc, d->digest, url, sizeof(url), err);
        struct wh_reg_req put = {.method = "PUT",
                                 .url = url,
                                 .body_fd = chunked ? -1 : fd,
                                 .body_len = chunked ? 0 : d->size,
                                 .body = chunked ? "" : NULL,
                                 .content_type = "application/octet-stream",
                                 .progress_label = p->o->progress && !chunked ? d->digest : NULL,
                                 .progress_total = d->size};
        if (rc == 0)
                rc = wh_reg_do(p->r, &put, &resp, err);
        if (rc == 0)
                rc = expect_status(p, &put, &resp, 201, err);
        wh_reg_resp_clear(&resp);
        if (rc == 0 && p->o->progress)
                wh_reg_progress(d->digest, d->size, d->size, true);
        if (rc == 0) {
                p->st->blobs_sent++;
                p->st->bytes_sent += d->size;
        }
        return rc;
}

static int put_manifest(struct push *p, const char *media_type, const char *doc, size_t len,
                        const char *reference, struct wh_err *err)
{
        char url[2400];
        snprintf(url, sizeof(url), "/v2/%s/manifests/%s", p->ref->repo, reference);
        struct wh_reg_req q = {.method = "PUT",
                               .url = url,
                               .body = doc,
                               .body_len = len,
                               .body_fd = -1,
                               .content_type = media_type};
        struct wh_reg_resp resp = {0};
        int rc = wh_reg_do(p->r, &q, &resp, err);
        if (rc == 0)
                rc = expect_status(p, &q, &resp, 201, err);
        wh_reg_resp_clear(&resp);
        if (rc == 0)
                p->st->manifests++;
        return rc;
}

static int push_stored_manifest(struct push *p, const struct wh_descriptor *d,
                                const char *reference, struct wh_err *err)
{
        cleanup_free char *doc = NULL;
        size_t len;
        if (wh_store_blob_read(p->s, d->digest, WH_JSON_BLOB_MAX, &doc, &len, err) < 0)
                return -1;
        return put_manifest(p, d->media_type, doc, len, reference, err);
}

static bool is_manifest(const struct wh_descriptor *d)
{
        return wh_media_type_is_manifest(d->media_type) || wh_media_type_is_index(d->media_type);
}

static int default_tag(struct push *p, const struct wh_descriptor *root, char *tag, size_t cap,
                       struct wh_err *err)
{
        cleanup_json json_t *doc = NULL;
        if (wh_store_read_json(p->s, root, "package", &doc, err) < 0)
                return -1;
        const char *v =
            json_string_value(json_object_get(json_object_get(doc, "annotations"), WH_ANN_VERSION));
        int rc =
            v ? 0
              : wh_err_set(err, 0, "registry",
                           "the package has no version annotation: name a tag (HOST/REPO:TAG)");
        if (rc == 0)
                snprintf(tag, cap, "%s", v);
        return rc;
}

static int push_all(struct push *p, const struct wh_descriptor *root, const char *tag,
                    struct wh_err *err)
{
        struct wh_desc_list l;
        if (wh_store_closure(p->s, root, true, &l, err) < 0)
                return -1;
        cleanup_free struct wh_index_entry *e = NULL;
        size_t n = 0;
        int rc = wh_store_list(p->s, &e, &n, err);
        /* Referrers of what we push are the index.json entries with a subject
         * in the closure; mark them so the manifest pass skips them. */
        size_t nsig = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
                bool in = false;
                for (size_t k = 0; k < l.n && !in; k++)
                        in = strcmp(l.items[k].digest, e[i].subject) == 0;
                if (e[i].subject[0] && in)
                        e[nsig++] = e[i];
        }
        /* Nothing leaves a damaged store or one holding a layer the
         * unpacker would refuse: every blob is checked before the first
         * upload (the registry would only catch a wrong digest, after it). */
        for (size_t i = 0; rc == 0 && i < l.n; i++)
                if ((rc = wh_store_check_blob(p->s, &l.items[i], err)) < 0)
                        wh_err_prefix(err, "nothing was pushed");
        for (size_t i = 0; rc == 0 && i < l.n; i++)
                if (!is_manifest(&l.items[i]))
                        rc = push_blob(p, &l.items[i], err);
        for (size_t i = l.n; rc == 0 && i-- > 0;) {
                const struct wh_descriptor *d = &l.items[i];
                bool sig = false;
                for (size_t k = 0; k < nsig && !sig; k++)
                        sig = strcmp(e[k].desc.digest, d->digest) == 0;
                if (is_manifest(d) && !sig)
                        rc = push_stored_manifest(p, d, i == 0 ? tag : d->digest, err);
        }
        for (size_t k = 0; rc == 0 && k < nsig; k++)
                if ((rc = push_stored_manifest(p, &e[k].desc, e[k].desc.digest, err)) == 0)
                        p->st->signatures++;
        /* One fallback index per signed subject. */
        for (size_t k = 0; rc == 0 && k < nsig; k++) {
                bool first = true;
                for (size_t j = 0; j < k && first; j++)
                        first = strcmp(e[j].subject, e[k].subject) != 0;
                if (first)
                        rc = wh_reg_push_referrers(p->r, p->ref, e[k].subject, e, nsig, err);
        }
        wh_desc_list_clear(&l);
        return rc;
}

int wh_registry_push(struct wh_store *s, const char *ref, const char *remote,
                     const struct wh_registry_options *o, struct wh_registry_stats *st,
                     char digest_out[WH_DIGEST_BUF], struct wh_err *err)
{
        static const struct wh_registry_options defaults = {0};
        struct wh_registry_stats ignored;
        struct wh_reg_ref rref;
        struct wh_descriptor root;
        struct push p = {.s = s, .ref = &rref, .o = o ? o : &defaults, .st = st ? st : &ignored};
        *p.st = (struct wh_registry_stats){0};
        if (wh_reg_ref_parse(remote, &rref, err) < 0 || wh_store_resolve(s, ref, &root, err) < 0)
                return -1;
        if (rref.digest[0] && strcmp(rref.digest, root.digest) != 0)
                return wh_err_set(err, 0, "registry", "%s names %s but the package is %s", remote,
                                  rref.digest, root.digest);
        char tag[WH_REF_MAX];
        if (rref.digest[0])
                snprintf(tag, sizeof(tag), "%s", root.digest);
        else if (rref.tag[0])
                snprintf(tag, sizeof(tag), "%s", rref.tag);
        else if (default_tag(&p, &root, tag, sizeof(tag), err) < 0)
                return -1;
        if (wh_reg_open(&rref, o, true, &p.r, err) < 0)
                return -1;
        int rc = push_all(&p, &root, tag, err);
        wh_reg_close(p.r);
        if (rc == 0 && digest_out)
                memcpy(digest_out, root.digest, WH_DIGEST_BUF);
        return rc;
}
