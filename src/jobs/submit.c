/* Submission (see jobs.h): raw files into the store, one job per
 * (input, normaliser), all jobs in one transaction. References are checked
 * here so that a typo fails at once, not later as a dead-lettered job. */
#define _GNU_SOURCE
#include "base/cleanup.h"
#include "base/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/jobs.h>

void wh_submitted_free(struct wh_submitted *jobs, size_t n)
{
        for (size_t i = 0; jobs && i < n; i++)
                free(jobs[i].normaliser);
        free(jobs);
}

/* The normalisers the jobs name, as stored: one for a reference (a path
 * made absolute, an id checked and kept), or every one consuming mime. */
static int targets(const struct wh_submission *s, const char *dir, char ***out, size_t *n,
                   struct wh_err *err)
{
        if (!s->normaliser) {
                if (!s->mime)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "submit",
                                           "name a normaliser, or a MIME type to route by");
                if (wh_route_mime(dir, &s->packages, s->mime, out, n, err) < 0)
                        return -1;
                if (*n == 0)
                        return wh_err_setk(err, WH_ERR_NOT_FOUND, 0, "submit",
                                           "no normaliser in %s consumes '%s'",
                                           s->packages.store ? s->packages.store : dir, s->mime);
                return 0;
        }
        cleanup_free char *path = NULL;
        bool package;
        if (wh_package_ref_exists(&s->packages, s->normaliser, &package, err) < 0 ||
            (!package && wh_normaliser_find(dir, s->normaliser, &path, err) < 0))
                return -1;
        *out = calloc(1, sizeof(char *));
        if (!*out)
                return wh_err_set(err, ENOMEM, "submit", "out of memory");
        (*out)[0] = strchr(s->normaliser, '/') ? steal_pointer(&path) : strdup(s->normaliser);
        *n = 1;
        return (*out)[0] ? 0 : wh_err_set(err, ENOMEM, "submit", "out of memory");
}

int wh_submit(struct wh_queue *q, const struct wh_submission *s,
              const struct wh_submit_input *inputs, size_t ninputs, struct wh_submitted **jobs,
              size_t *njobs, struct wh_err *err)
{
        if (!s->tenant || !*s->tenant)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "submit", "a tenant is required");
        if (ninputs == 0)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "submit", "nothing to submit");
        const char *dir = s->normalisers_dir ? s->normalisers_dir : wh_normalisers_dir_default();
        char **norms = NULL;
        size_t nnorms = 0;
        if (targets(s, dir, &norms, &nnorms, err) < 0) {
                wh_strv_free(norms, nnorms);
                return -1;
        }
        size_t n = ninputs * nnorms;
        struct wh_submitted *out = calloc(n, sizeof(*out));
        struct wh_job_spec *specs = calloc(n, sizeof(*specs));
        int64_t *ids = calloc(n, sizeof(*ids));
        int ret = -1;
        if (!out || !specs || !ids) {
                wh_err_set(err, ENOMEM, "submit", "out of memory");
                goto done;
        }
        for (size_t i = 0; i < ninputs; i++) {
                char digest[WH_DIGEST_BUF];
                if (wh_queue_put_raw(q, inputs[i].data, inputs[i].len, digest, NULL, err) < 0)
                        goto done;
                for (size_t k = 0; k < nnorms; k++) {
                        struct wh_submitted *o = &out[i * nnorms + k];
                        o->input = i;
                        memcpy(o->raw_digest, digest, sizeof(digest));
                        if (!(o->normaliser = strdup(norms[k]))) {
                                wh_err_set(err, ENOMEM, "submit", "out of memory");
                                goto done;
                        }
                        specs[i * nnorms + k] = (struct wh_job_spec){
                            .tenant = s->tenant,
                            .normaliser = o->normaliser,
                            .raw_digest = o->raw_digest,
                            .meta_json = s->meta_json,
                            .mime = s->mime,
                            .priority = s->priority,
                            .max_attempts = s->max_attempts,
                        };
                }
        }
        if (wh_queue_submit(q, specs, n, ids, err) < 0)
                goto done;
        for (size_t i = 0; i < n; i++)
                out[i].job_id = ids[i];
        *jobs = steal_pointer(&out);
        *njobs = n;
        ret = 0;
done:
        wh_submitted_free(out, n);
        wh_strv_free(norms, nnorms);
        free(specs);
        free(ids);
        return ret;
}
