/* Packages as normaliser references (jobs.h): the one door to the package
 * store for submission, routing and the worker's loads. A store handle is
 * opened per call: loads happen once per slot and normaliser, and a read
 * handle takes no lock, so nothing is shared between slot threads. */
#define _GNU_SOURCE
#include "base/cleanup.h"
#include "base/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/jobs.h>

static bool applies(const struct wh_package_source *src, const char *ref)
{
        return src && src->store && ref && !strchr(ref, '/');
}

int wh_package_ref_exists(const struct wh_package_source *src, const char *ref, bool *found,
                          struct wh_err *err)
{
        *found = false;
        if (!applies(src, ref))
                return 0;
        struct wh_store *s;
        if (wh_store_open(src->store, WH_STORE_READ, &s, err) < 0)
                return -1;
        struct wh_descriptor d;
        int rc = wh_store_lookup(s, ref, &d, found, err);
        wh_store_close(s);
        return rc;
}

int wh_package_ref_load(const struct wh_package_source *src, const char *ref,
                        struct wh_normaliser_options *opts, struct wh_normaliser **out, bool *found,
                        struct wh_err *err)
{
        *found = false;
        return applies(src, ref) ? wh_package_normaliser_load(src, ref, opts, out, found, err) : 0;
}

/* "a,b,c" lists mime as one of its items. */
static bool listed(const char *list, const char *mime)
{
        size_t n = strlen(mime);
        for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                if (strncmp(p, mime, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int wh_packages_for_mime(const char *store, const char *mime, char ***tags, size_t *n,
                         struct wh_err *err)
{
        struct wh_store *s;
        struct wh_index_entry *e = NULL;
        size_t ne = 0, found = 0;
        *tags = NULL;
        *n = 0;
        if (wh_store_open(store, WH_STORE_READ, &s, err) < 0)
                return -1;
        int rc = wh_store_list(s, &e, &ne, err);
        char **out = rc == 0 ? calloc(ne + 1, sizeof(*out)) : NULL;
        if (rc == 0 && !out)
                rc = wh_err_set(err, ENOMEM, "normaliser", "out of memory");
        for (size_t i = 0; rc == 0 && i < ne; i++) {
                if (!e[i].ref_name[0] || e[i].subject[0])
                        continue;
                json_t *ann = wh_store_annotations(s, e[i].desc.digest);
                const char *consumes = json_string_value(json_object_get(ann, WH_ANN_CONSUMES));
                if (listed(consumes, mime) && !(out[found++] = strdup(e[i].ref_name)))
                        rc = wh_err_set(err, ENOMEM, "normaliser", "out of memory");
                json_decref(ann);
        }
        free(e);
        wh_store_close(s);
        if (rc < 0) {
                wh_strv_free(out, found);
                return -1;
        }
        qsort(out, found, sizeof(*out), cmp_str);
        *tags = out;
        *n = found;
        return 0;
}
