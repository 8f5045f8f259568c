/* whiskers pull: a package, everything it reaches and its signatures from a
 * registry into the store.
 *
 * Every manifest is hashed as received and must match the digest that names
 * it (a tag's manifest becomes the root digest); every blob is streamed into
 * a staged blob writer capped at its descriptor's size and sealed against
 * its digest. A dropped download resumes with a Range request (up to
 * RESUMES times). Staged blobs are published only when all arrived and
 * passed wh_store_check (layers within the unpacker's rules), and
 * index.json changes last: a failure leaves the store's roots untouched. */
#include "package/digest.h"
#include "package/registry.h"
#include "package/store.h"
#include "base/strset.h"
#include "base/cleanup.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESUMES 3
/* Docker's schema 2 types too: walk.c reads them, and a registry asked only
 * for OCI types may try to convert a Docker manifest (changing its digest). */
#define ACCEPT_MANIFESTS                                                                           \
        WH_MT_MANIFEST ", " WH_MT_INDEX ", application/vnd.docker.distribution.manifest.v2+json, " \
                       "application/vnd.docker.distribution.manifest.list.v2+json"

struct pull {
        struct wh_store *s;
        struct wh_reg *r;
        const struct wh_reg_ref *ref;
        const struct wh_registry_options *o;
        struct wh_registry_stats *st;
        struct wh_blob_writer **staged;
        size_t nstaged;
        struct wh_strset seen;
        struct wh_index_entry *sigs;
        size_t nsigs;
};

static int stage(struct pull *p, struct wh_blob_writer *w, struct wh_err *err)
{
        struct wh_blob_writer **grown = realloc(p->staged, (p->nstaged + 1) * sizeof(*grown));
        if (!grown) {
                wh_blob_writer_free(w);
                return wh_err_set(err, ENOMEM, "registry", "staging blobs");
        }
        p->staged = grown;
        p->staged[p->nstaged++] = w;
        return 0;
}

static int stage_buffer(struct pull *p, const char *data, size_t len, const char *digest,
                        struct wh_err *err)
{
        struct wh_blob_writer *w;
        if (wh_blob_writer_new(p->s, &w, err) < 0)
                return -1;
        if (wh_blob_writer_write(w, data, len, err) < 0 ||
            wh_blob_writer_seal(w, digest, NULL, NULL, err) < 0) {
                wh_blob_writer_free(w);
                return -1;
        }
        return stage(p, w, err);
}

/* GET a manifest or index by tag or digest; check it and stage it. */
static int fetch_manifest(struct pull *p, const char *reference, const struct wh_descriptor *want,
                          struct wh_descriptor *got, json_t **doc, struct wh_err *err)
{
        char url[600];
        snprintf(url, sizeof(url), "/v2/%s/manifests/%s", p->ref->repo, reference);
        struct wh_reg_req q = {
            .method = "GET", .url = url, .body_fd = -1, .accept = ACCEPT_MANIFESTS};
        struct wh_reg_resp resp = {0};
        int rc = wh_reg_do(p->r, &q, &resp, err);
        if (rc == 0 && resp.status == 404)
                rc = wh_err_set(err, 0, "registry", "%s/%s:%s not found", wh_reg_base(p->r),
                                p->ref->repo, reference);
        else if (rc == 0 && resp.status != 200)
                rc = wh_reg_status_error(p->r, &q, &resp, err);
        const char *body = resp.body ? resp.body : "";
        if (rc == 0)
                rc = wh_digest_buffer(body, resp.body_len, got->digest, err);
        /* The registry's own claim (Docker-Content-Digest) must agree too. */
        if (rc == 0 && ((wh_digest_valid(reference) && strcmp(reference, got->digest) != 0) ||
                        (resp.digest[0] && strcmp(resp.digest, got->digest) != 0) ||
                        (want && want->size != resp.body_len)))
                rc = wh_err_set(err, 0, "registry",
                                "manifest %s does not match its digest or size (got %s, %zu "
                                "bytes): refusing it",
                                reference, got->digest, resp.body_len);
        got->size = resp.body_len;
        cleanup_json json_t *j =
            rc == 0 ? json_loadb(body, resp.body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        snprintf(got->media_type, sizeof(got->media_type), "%s",
                 mt ? mt : (want ? want->media_type : resp.content_type));
        if (rc == 0 && (!j || (!wh_media_type_is_manifest(got->media_type) &&
                               !wh_media_type_is_index(got->media_type))))
                rc = wh_err_set(err, 0, "registry", "%s is not an OCI manifest or index (%s)",
                                reference, got->media_type);
        if (rc == 0 && !wh_store_blob_exists(p->s, got->digest))
                rc = stage_buffer(p, body, resp.body_len, got->digest, err);
        wh_reg_resp_clear(&resp);
        if (rc < 0)
                return -1;
        *doc = steal_pointer(&j);
        return 0;
}

struct download {
        struct pull *p;
        struct wh_blob_writer *w;
        uint64_t have, max;
        bool checked; /* the answer's status was looked at */
};

static int take(void *ctx, const void *buf, size_t len, struct wh_err *err)
{
        struct download *d = ctx;
        if (!d->checked) {
                long status = 0;
                curl_easy_getinfo(d->p->r->curl, CURLINFO_RESPONSE_CODE, &status);
                d->checked = true;
                if (d->have && status != 206) { /* the registry ignored Range: start over */
                        struct wh_blob_writer *fresh;
                        if (wh_blob_writer_new(d->p->s, &fresh, err) < 0)
                                return -1;
                        wh_blob_writer_set_max(fresh, d->max);
                        wh_blob_writer_free(d->w);
                        d->w = fresh;
                        d->have = 0;
                }
        }
        if (wh_blob_writer_write(d->w, buf, len, err) < 0)
                return -1;
        d->have += len;
        return 0;
}

static int download(struct pull *p, const struct wh_descriptor *desc, struct wh_blob_writer *w,
                    struct wh_blob_writer **out, struct wh_err *err)
{
        char url[600], range[64];
        snprintf(url, sizeof(url), "/v2/%s/blobs/%s", p->ref->repo, desc->digest);
        struct download d = {.p = p, .w = w, .max = desc->size};
        int rc = -1;
        for (int attempt = 0; attempt <= RESUMES; attempt++) {
                snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)d.have);
                struct wh_reg_req q = {.method = "GET",
                                       .url = url,
                                       .body_fd = -1,
                                       .range = d.have ? range : NULL,
                                       .sink = take,
                                       .sink_ctx = &d,
                                       .progress_label = p->o->progress ? desc->digest : NULL,
                                       .progress_done = d.have,
                                       .progress_total = desc->size};
                struct wh_reg_resp resp = {0};
                d.checked = false;
                rc = wh_reg_do(p->r, &q, &resp, err);
                bool retry = rc < 0 && resp.transport_error && d.have < desc->size;
                if (rc == 0 && resp.status / 100 != 2)
                        rc = wh_reg_status_error(p->r, &q, &resp, err);
                wh_reg_resp_clear(&resp);
                if (!retry)
                        break;
        }
        *out = d.w;
        if (rc < 0)
                return wh_err_prefix(err, "downloading %s", desc->digest);
        return 0;
}

static int fetch_blob(struct pull *p, const struct wh_descriptor *desc, struct wh_err *err)
{
        if (wh_store_blob_exists(p->s, desc->digest)) {
                p->st->blobs_skipped++;
                return 0;
        }
        struct wh_blob_writer *w;
        if (wh_blob_writer_new(p->s, &w, err) < 0)
                return -1;
        wh_blob_writer_set_max(w, desc->size);
        uint64_t size = 0;
        int rc = download(p, desc, w, &w, err);
        if (rc == 0 && (rc = wh_blob_writer_seal(w, desc->digest, NULL, &size, err)) < 0)
                wh_err_prefix(err, "%s", desc->digest);
        if (rc == 0 && size != desc->size)
                rc = wh_err_set(err, 0, "registry", "blob %s has %llu bytes, its descriptor %llu",
                                desc->digest, (unsigned long long)size,
                                (unsigned long long)desc->size);
        if (p->o->progress)
                wh_reg_progress(desc->digest, size, desc->size, true);
        if (rc < 0) {
                wh_blob_writer_free(w);
                return -1;
        }
        p->st->blobs_sent++;
        p->st->bytes_sent += size;
        return stage(p, w, err);
}

static int walk(struct pull *p, const struct wh_descriptor *d, json_t *doc, struct wh_err *err);

static int visit(struct pull *p, json_t *jdesc, const char *what, struct wh_err *err)
{
        struct wh_descriptor d;
        if (wh_descriptor_from_json(jdesc, what, &d, err) < 0)
                return -1;
        int added = wh_strset_add(&p->seen, d.digest);
        if (added <= 0)
                return added < 0 ? wh_err_set(err, ENOMEM, "registry", "pulling") : 0;
        if (!wh_media_type_is_manifest(d.media_type) && !wh_media_type_is_index(d.media_type))
                return fetch_blob(p, &d, err);
        struct wh_descriptor got;
        cleanup_json json_t *child = NULL;
        if (fetch_manifest(p, d.digest, &d, &got, &child, err) < 0)
                return -1;
        int rc = walk(p, &got, child, err);
        return rc;
}

/* Children of a manifest (config, layers) or an index (manifests). */
static int walk(struct pull *p, const struct wh_descriptor *d, json_t *doc, struct wh_err *err)
{
        p->st->manifests++;
        if (wh_media_type_is_index(d->media_type)) {
                json_t *m = json_object_get(doc, "manifests");
                for (size_t i = 0; i < json_array_size(m); i++)
                        if (visit(p, json_array_get(m, i), "index entry", err) < 0)
                                return -1;
                return 0;
        }
        json_t *layers = json_object_get(doc, "layers");
        if (visit(p, json_object_get(doc, "config"), "config", err) < 0)
                return -1;
        for (size_t i = 0; i < json_array_size(layers); i++)
                if (visit(p, json_array_get(layers, i), "layer", err) < 0)
                        return -1;
        return 0;
}

static int add_signature(struct pull *p, const struct wh_descriptor *d, const char *subject,
                         struct wh_err *err)
{
        struct wh_index_entry *grown = realloc(p->sigs, (p->nsigs + 1) * sizeof(*grown));
        if (!grown)
                return wh_err_set(err, ENOMEM, "registry", "pulling signatures");
        p->sigs = grown;
        struct wh_index_entry *e = &p->sigs[p->nsigs++];
        *e = (struct wh_index_entry){.desc = *d};
        snprintf(e->artifact_type, sizeof(e->artifact_type), "%s", WH_AT_SIGNATURE);
        snprintf(e->subject, sizeof(e->subject), "%s", subject);
        p->st->signatures++;
        return 0;
}

/* The whiskers signatures the registry lists for subject. Other referrers
 * (SBOMs, foreign signatures) are left on the registry. */
static int pull_signatures(struct pull *p, const char *subject, struct wh_err *err)
{
        cleanup_json json_t *list = NULL;
        if (wh_reg_referrers(p->r, p->ref, subject, &list, err) < 0)
                return -1;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
                json_t *jd = json_array_get(list, i);
                const char *at = json_string_value(json_object_get(jd, "artifactType"));
                struct wh_descriptor want, got;
                cleanup_json json_t *doc = NULL;
                if (!at || strcmp(at, WH_AT_SIGNATURE) != 0)
                        continue;
                rc = wh_descriptor_from_json(jd, "referrer", &want, err);
                if (rc == 0 && wh_strset_add(&p->seen, want.digest) == 0)
                        continue;
                if (rc == 0)
                        rc = fetch_manifest(p, want.digest, &want, &got, &doc, err);
                const char *subj =
                    json_string_value(json_object_get(json_object_get(doc, "subject"), "digest"));
                if (rc == 0 && (!subj || strcmp(subj, subject) != 0))
                        rc = wh_err_set(err, 0, "registry",
                                        "signature %s is listed for %s but names another subject",
                                        want.digest, subject);
                if (rc == 0)
                        rc = walk(p, &got, doc, err);
                if (rc == 0)
                        rc = add_signature(p, &got, subject, err);
        }
        return rc;
}

static int local_tag(struct pull *p, json_t *root_doc, char tag[WH_REF_MAX], struct wh_err *err)
{
        json_t *ann = json_object_get(root_doc, "annotations");
        const char *id = json_string_value(json_object_get(ann, WH_ANN_ID));
        const char *ver = json_string_value(json_object_get(ann, WH_ANN_VERSION));
        const char *last = strrchr(p->ref->repo, '/');
        last = last ? last + 1 : p->ref->repo;
        int n;
        if (p->o->tag)
                n = snprintf(tag, WH_REF_MAX, "%s", p->o->tag);
        else if (id && ver)
                n = snprintf(tag, WH_REF_MAX, "%s:%s", id, ver);
        else
                n = snprintf(tag, WH_REF_MAX, "%s:%.64s", last,
                             p->ref->tag[0] ? p->ref->tag : "latest");
        if (n < 0 || n >= WH_REF_MAX || !wh_ref_name_valid(tag))
                return wh_err_set(err, 0, "registry", "'%s' is not a valid tag: give --tag", tag);
        return 0;
}

static int pull_all(struct pull *p, struct wh_index_entry *root, struct wh_err *err)
{
        cleanup_json json_t *doc = NULL;
        const char *reference = p->ref->digest[0] ? p->ref->digest : p->ref->tag;
        int rc = fetch_manifest(p, reference, NULL, &root->desc, &doc, err);
        if (rc == 0 && wh_strset_add(&p->seen, root->desc.digest) < 0)
                rc = wh_err_set(err, ENOMEM, "registry", "pulling");
        if (rc == 0)
                rc = local_tag(p, doc, root->ref_name, err);
        /* Kept in index.json as pack writes it, so a pulled store lists the
         * same entry as the one it was pushed from. */
        const char *at = json_string_value(json_object_get(doc, "artifactType"));
        if (rc == 0 && at)
                snprintf(root->artifact_type, sizeof(root->artifact_type), "%s", at);
        if (rc == 0)
                rc = walk(p, &root->desc, doc, err);
        if (rc == 0)
                rc = pull_signatures(p, root->desc.digest, err);
        /* A variant's own signatures: the index entries' manifests. */
        json_t *m = json_object_get(doc, "manifests");
        for (size_t i = 0; rc == 0 && i < json_array_size(m); i++) {
                const char *d = json_string_value(json_object_get(json_array_get(m, i), "digest"));
                rc = d ? pull_signatures(p, d, err) : 0;
        }
        return rc;
}

/* Everything arrived: the package (with the staged blobs visible to this
 * handle only) must be intact and its layers within the unpacker's rules
 * before any blob is published or any tag moves. */
static int check_staged(struct pull *p, const struct wh_index_entry *root, struct wh_err *err)
{
        wh_store_stage(p->s, p->staged, p->nstaged);
        int rc = wh_store_check(p->s, &root->desc, err);
        for (size_t i = 0; rc == 0 && i < p->nsigs; i++)
                rc = wh_store_check(p->s, &p->sigs[i].desc, err);
        wh_store_stage(p->s, NULL, 0);
        return rc < 0 ? wh_err_prefix(err, "refusing %s", root->desc.digest) : 0;
}

int wh_registry_pull(struct wh_store *s, const char *remote, const struct wh_registry_options *o,
                     struct wh_registry_stats *st, struct wh_index_entry *root_out,
                     struct wh_err *err)
{
        static const struct wh_registry_options defaults = {0};
        struct wh_registry_stats ignored;
        struct wh_reg_ref rref;
        struct wh_index_entry root = {0};
        struct pull p = {.s = s, .ref = &rref, .o = o ? o : &defaults, .st = st ? st : &ignored};
        *p.st = (struct wh_registry_stats){0};
        if (wh_reg_ref_parse(remote, &rref, err) < 0)
                return -1;
        if (!rref.tag[0] && !rref.digest[0])
                return wh_err_set(err, 0, "registry",
                                  "name a tag or digest: %s:TAG or %s@sha256:...", remote, remote);
        if (!s->writable)
                return wh_err_set(err, 0, "registry", "%s is read-only", s->path);
        if (wh_reg_open(&rref, o, false, &p.r, err) < 0)
                return -1;
        int rc = pull_all(&p, &root, err);
        if (rc == 0)
                rc = check_staged(&p, &root, err);
        for (size_t i = 0; rc == 0 && i < p.nstaged; i++)
                rc = wh_blob_writer_commit(p.staged[i], err);
        if (rc == 0) {
                struct wh_index_entry *all = realloc(p.sigs, (p.nsigs + 1) * sizeof(*all));
                if (!all)
                        rc = wh_err_set(err, ENOMEM, "registry", "tagging");
                else {
                        p.sigs = all;
                        memmove(all + 1, all, p.nsigs * sizeof(*all));
                        all[0] = root;
                        rc = wh_store_index_add_many(s, all, p.nsigs + 1, err);
                }
        }
        for (size_t i = 0; i < p.nstaged; i++)
                wh_blob_writer_free(p.staged[i]);
        free(p.staged);
        free(p.sigs);
        wh_strset_clear(&p.seen);
        wh_reg_close(p.r);
        if (rc == 0 && root_out)
                *root_out = root;
        return rc;
}
