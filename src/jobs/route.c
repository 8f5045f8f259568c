/* MIME routing (jobs.h): which normalisers a raw file goes to, and the
 * jobs a boefje's raw files make. One path for `whiskers submit --mime`,
 * `whiskers scan` (run here or queued) and the worker's boefje jobs. */
#define _GNU_SOURCE
#include "base/cleanup.h"
#include "base/strv.h"
#include "jobs/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <whiskers/jobs.h>

int wh_route_mime(const char *dir, const struct wh_package_source *packages, const char *mime,
                  char ***refs, size_t *n, struct wh_err *err)
{
        if (packages && packages->store)
                return wh_packages_for_mime(packages->store, mime, refs, n, err);
        return wh_normalisers_for_mime(dir ? dir : wh_normalisers_dir_default(), mime, refs, n,
                                       err);
}

static int add_unique(char ***refs, size_t *n, const char *ref, struct wh_err *err)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*refs)[i], ref) == 0)
                        return 0;
        char **grown = realloc(*refs, (*n + 1) * sizeof(*grown));
        if (!grown)
                return wh_err_set(err, ENOMEM, "route", "out of memory");
        *refs = grown;
        if (!(grown[*n] = strdup(ref)))
                return wh_err_set(err, ENOMEM, "route", "out of memory");
        (*n)++;
        return 0;
}

/* dir is one normaliser: its absolute path when it consumes one of them. */
static int route_one(const char *dir, json_t *mime_types, char ***refs, size_t *n,
                     struct wh_err *err)
{
        json_t *meta = jobs_normaliser_json(dir, err);
        if (!meta)
                return -1;
        json_t *consumes = json_object_get(meta, "consumes");
        bool wanted = false;
        for (size_t i = 0; i < json_array_size(mime_types); i++)
                for (size_t j = 0; j < json_array_size(consumes); j++)
                        wanted |=
                            json_equal(json_array_get(mime_types, i), json_array_get(consumes, j));
        json_decref(meta);
        if (!wanted)
                return 0;
        char real[PATH_MAX];
        if (!realpath(dir, real))
                return wh_err_set(err, errno, "route", "no normaliser at %s", dir);
        return add_unique(refs, n, real, err);
}

static bool is_one_normaliser(const char *dir)
{
        char file[PATH_MAX];
        struct stat st;
        snprintf(file, sizeof(file), "%s/normalizer.json", dir);
        return stat(file, &st) == 0;
}

/* Every normaliser under dir (or package) consuming one of mime_types. */
static int route_each(const char *dir, const struct wh_package_source *packages, json_t *mime_types,
                      char ***refs, size_t *n, struct wh_err *err)
{
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < json_array_size(mime_types); i++) {
                char **found = NULL;
                size_t nfound = 0;
                const char *mime = json_string_value(json_array_get(mime_types, i));
                rc = mime ? wh_route_mime(dir, packages, mime, &found, &nfound, err) : 0;
                for (size_t k = 0; rc == 0 && k < nfound; k++)
                        rc = add_unique(refs, n, found[k], err);
                wh_strv_free(found, nfound);
        }
        return rc;
}

int wh_route_mime_types(const struct wh_route *r, json_t *mime_types, char ***refs, size_t *n,
                        struct wh_err *err)
{
        *refs = NULL;
        *n = 0;
        const char *dir = r->normalisers_dir ? r->normalisers_dir : wh_normalisers_dir_default();
        int rc = 0;
        if (!(r->packages && r->packages->store) && is_one_normaliser(dir))
                rc = route_one(dir, mime_types, refs, n, err);
        else
                rc = route_each(dir, r->packages, mime_types, refs, n, err);
        if (rc < 0) {
                wh_strv_free(*refs, *n);
                *refs = NULL;
                *n = 0;
        }
        return rc;
}

void wh_routed_jobs_clear(struct wh_routed_jobs *r)
{
        /* The specs' strings are the routing's own copies. */
        for (size_t i = 0; r->specs && i < r->n; i++) {
                free((char *)r->specs[i].tenant);
                free((char *)r->specs[i].normaliser);
                free((char *)r->specs[i].raw_digest);
                free((char *)r->specs[i].meta_json);
                free((char *)r->specs[i].mime);
        }
        free(r->specs);
        *r = (struct wh_routed_jobs){0};
}

static int add_job(struct wh_routed_jobs *out, const char *tenant, const struct wh_boefje_raw *raw,
                   const char *ref, char *meta, struct wh_err *err)
{
        struct wh_job_spec *grown = realloc(out->specs, (out->n + 1) * sizeof(*grown));
        if (!grown) {
                free(meta);
                return wh_err_set(err, ENOMEM, "route", "out of memory");
        }
        out->specs = grown;
        const char *mime = json_string_value(json_array_get(raw->mime_types, 0));
        struct wh_job_spec *s = &out->specs[out->n++];
        *s = (struct wh_job_spec){.tenant = strdup(tenant),
                                  .normaliser = strdup(ref),
                                  .raw_digest = strdup(raw->digest),
                                  .meta_json = meta,
                                  .mime = mime ? strdup(mime) : NULL};
        if (!s->tenant || !s->normaliser || !s->raw_digest || !s->meta_json || (mime && !s->mime))
                return wh_err_set(err, ENOMEM, "route", "out of memory");
        return 0;
}

/* The normaliser's id for its NormalizerMeta: a path reference's manifest
 * says it; an id or a package tag is one. */
static char *normaliser_id(const char *ref)
{
        struct wh_err ignored = {0};
        json_t *meta = strchr(ref, '/') ? jobs_normaliser_json(ref, &ignored) : NULL;
        const char *id = json_string_value(json_object_get(meta, "id"));
        char *copy = strdup(id ? id : ref);
        json_decref(meta);
        return copy;
}

static int route_raw(struct wh_queue *q, const struct wh_route *r, const char *tenant,
                     const struct wh_boefje_result *res, const struct wh_boefje_raw *raw,
                     struct wh_routed_jobs *out, struct wh_err *err)
{
        char **refs = NULL;
        size_t n = 0;
        if (wh_route_mime_types(r, raw->mime_types, &refs, &n, err) < 0)
                return -1;
        char digest[WH_DIGEST_BUF];
        int rc = q ? wh_queue_put_raw(q, raw->data, raw->len, digest, NULL, err) : 0;
        for (size_t k = 0; rc == 0 && k < n; k++) {
                cleanup_free char *id = normaliser_id(refs[k]);
                char *meta = id ? wh_boefje_normalizer_meta(res, raw, id, out->n + 1) : NULL;
                rc = meta ? add_job(out, tenant, raw, refs[k], meta, err)
                          : wh_err_set(err, ENOMEM, "route", "out of memory");
        }
        wh_strv_free(refs, n);
        return rc;
}

int wh_route_raw_files(struct wh_queue *q, const struct wh_route *routes, size_t nroutes,
                       const char *tenant, const struct wh_boefje_result *res,
                       struct wh_routed_jobs *out, struct wh_err *err)
{
        *out = (struct wh_routed_jobs){0};
        if (!res->ok)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "route",
                                   "a failed boefje run has no raw files to route");
        for (size_t i = 0; i < res->n_raws; i++)
                for (size_t d = 0; d < nroutes; d++)
                        if (route_raw(q, &routes[d], tenant, res, &res->raws[i], out, err) < 0) {
                                wh_routed_jobs_clear(out);
                                return -1;
                        }
        return 0;
}
