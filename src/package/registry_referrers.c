/* OCI 1.1 referrers on a registry. A registry with the referrers API
 * answers GET /v2/REPO/referrers/DIGEST with an image index; one without it
 * (distribution 2.x, Debian's docker-registry) gets the spec's fallback: an
 * image index stored under the tag "sha256-<hex of the subject>", which the
 * pusher reads, extends and writes back. */
#include "package/digest.h"
#include "package/registry.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_index(struct wh_reg *r, const char *url, json_t **out, long *status,
                     struct wh_err *err)
{
        struct wh_reg_req q = {.method = "GET", .url = url, .accept = WH_MT_INDEX, .body_fd = -1};
        struct wh_reg_resp resp = {0};
        *out = NULL;
        int rc = wh_reg_do(r, &q, &resp, err);
        *status = resp.status;
        if (rc == 0 && resp.status == 200) {
                cleanup_json json_t *j =
                    json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
                if (!json_is_array(json_object_get(j, "manifests")))
                        rc = wh_err_set(err, 0, "registry", "%s is not an image index", url);
                else
                        *out = steal_pointer(&j);
        } else if (rc == 0 && resp.status != 404) {
                rc = wh_reg_status_error(r, &q, &resp, err);
        }
        wh_reg_resp_clear(&resp);
        return rc;
}

int wh_reg_referrers(struct wh_reg *r, const struct wh_reg_ref *ref, const char *subject,
                     json_t **out, struct wh_err *err)
{
        char url[600];
        cleanup_json json_t *index = NULL;
        long status;
        snprintf(url, sizeof(url), "/v2/%s/referrers/%s", ref->repo, subject);
        /* distribution 2.x answers 404 here: that is the signal to fall back. */
        int rc = get_index(r, url, &index, &status, err);
        if (rc == 0 && !index) {
                snprintf(url, sizeof(url), "/v2/%s/manifests/sha256-%s", ref->repo,
                         wh_digest_hex(subject));
                rc = get_index(r, url, &index, &status, err);
        }
        if (rc < 0)
                return -1;
        *out = index ? json_incref(json_object_get(index, "manifests")) : json_array();
        return *out ? 0 : wh_err_set(err, ENOMEM, "registry", "listing referrers");
}

static bool listed(json_t *manifests, const char *digest)
{
        size_t i;
        json_t *m;
        json_array_foreach(manifests, i, m)
        {
                const char *d = json_string_value(json_object_get(m, "digest"));
                if (d && strcmp(d, digest) == 0)
                        return true;
        }
        return false;
}

static json_t *referrer_descriptor(const struct wh_index_entry *e)
{
        json_t *j = wh_descriptor_to_json(&e->desc);
        if (j && e->artifact_type[0])
                json_object_set_new(j, "artifactType", json_string(e->artifact_type));
        return j;
}

int wh_reg_push_referrers(struct wh_reg *r, const struct wh_reg_ref *ref, const char *subject,
                          const struct wh_index_entry *sigs, size_t n, struct wh_err *err)
{
        char url[600];
        snprintf(url, sizeof(url), "/v2/%s/manifests/sha256-%s", ref->repo, wh_digest_hex(subject));
        cleanup_json json_t *index = NULL;
        long status;
        if (get_index(r, url, &index, &status, err) < 0)
                return -1;
        if (!index)
                index = json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType", WH_MT_INDEX,
                                  "manifests");
        json_t *manifests = json_object_get(index, "manifests");
        bool changed = false;
        int rc = manifests ? 0 : wh_err_set(err, ENOMEM, "registry", "building referrers");
        for (size_t i = 0; rc == 0 && i < n; i++) {
                if (strcmp(sigs[i].subject, subject) != 0 || listed(manifests, sigs[i].desc.digest))
                        continue;
                if (json_array_append_new(manifests, referrer_descriptor(&sigs[i])) < 0)
                        rc = wh_err_set(err, ENOMEM, "registry", "building referrers");
                changed = true;
        }
        char *doc = rc == 0 && changed ? wh_json_canonical(index) : NULL;
        if (rc == 0 && changed && !doc)
                rc = wh_err_set(err, ENOMEM, "registry", "building referrers");
        if (doc) {
                struct wh_reg_req q = {.method = "PUT",
                                       .url = url,
                                       .body = doc,
                                       .body_len = strlen(doc),
                                       .body_fd = -1,
                                       .content_type = WH_MT_INDEX};
                struct wh_reg_resp resp = {0};
                rc = wh_reg_do(r, &q, &resp, err);
                if (rc == 0 && resp.status != 201)
                        rc = wh_reg_status_error(r, &q, &resp, err);
                wh_reg_resp_clear(&resp);
        }
        free(doc);
        return rc;
}
