/* Normaliser references and MIME routing over normaliser directories: a
 * reference becomes a directory here when the package store (packages.c,
 * asked first) does not hold it (see jobs.h).
 *
 * Only the two fields routing needs are read here ("id", "consumes"); the
 * normaliser contract validates the whole file when it loads one. */
#define _GNU_SOURCE
#include "base/cleanup.h"
#include "base/strv.h"
#include "base/io.h"
#include "jobs/internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <whiskers/jobs.h>

#define META_MAX (1u << 20)

const char *wh_normalisers_dir_default(void)
{
        const char *dir = getenv("WHISKERS_NORMALISERS");
        return dir && *dir ? dir : "examples/normalisers";
}

/* An error the user fixes by naming another normaliser, without
 * strerror's "No such file or directory" after a message that says more. */
static int not_found(struct wh_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int not_found(struct wh_err *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        wh_err_setkv(err, WH_ERR_NOT_FOUND, 0, "normaliser", fmt, ap);
        va_end(ap);
        return -1;
}

json_t *jobs_normaliser_json(const char *dir, struct wh_err *err)
{
        cleanup_free char *path = NULL, *text = NULL;
        size_t len;
        if (asprintf(&path, "%s/normalizer.json", dir) < 0)
                return wh_err_set(err, ENOMEM, "normaliser", "out of memory"), NULL;
        if (wh_read_file(path, META_MAX, &text, &len, err) < 0)
                return NULL;
        json_error_t je;
        json_t *meta = json_loadb(text, len, 0, &je);
        if (!json_is_object(meta)) {
                json_decref(meta);
                wh_err_setk(err, WH_ERR_INVALID, EINVAL, "normaliser",
                            "%s: not a JSON object (line %d: %s)", path, je.line, je.text);
                return NULL;
        }
        return meta;
}

/* Calls fn for each subdirectory of dir that holds a normalizer.json, with
 * its path and parsed file; stops at the first error. */
typedef int (*each_fn)(void *ctx, const char *path, json_t *meta, struct wh_err *err);

static int for_each(const char *dir, each_fn fn, void *ctx, struct wh_err *err)
{
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return wh_err_set(err, errno, "normaliser",
                                  "cannot list the normaliser directory %s (set --normalisers)",
                                  dir);
        int ret = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                cleanup_free char *path = NULL, *file = NULL;
                struct stat st;
                if (ret < 0 || name[0] == '.' || asprintf(&path, "%s/%s", dir, name) < 0 ||
                    asprintf(&file, "%s/normalizer.json", path) < 0 || stat(file, &st) < 0)
                        goto next;
                json_t *meta = jobs_normaliser_json(path, err);
                ret = meta ? fn(ctx, path, meta, err) : -1;
                json_decref(meta);
        next:
                free(names[i]);
        }
        free(names);
        return ret;
}

struct find_ctx {
        const char *ref;
        char *found;
};

static int match_id(void *ctx, const char *path, json_t *meta, struct wh_err *err)
{
        struct find_ctx *f = ctx;
        const char *id = json_string_value(json_object_get(meta, "id"));
        if (!id || strcmp(id, f->ref) != 0)
                return 0;
        if (f->found)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "normaliser",
                                   "both %s and %s have the id '%s'; ids must be unique", f->found,
                                   path, id);
        f->found = strdup(path);
        return f->found ? 0 : wh_err_set(err, ENOMEM, "normaliser", "out of memory");
}

int wh_normaliser_find(const char *dir, const char *ref, char **path, struct wh_err *err)
{
        if (!ref || !*ref)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "normaliser",
                                   "empty normaliser reference");
        if (strchr(ref, '/')) {
                char real[PATH_MAX];
                struct stat st;
                cleanup_free char *file = NULL;
                if (!realpath(ref, real))
                        return wh_err_set(err, errno, "normaliser", "no normaliser at %s", ref);
                if (asprintf(&file, "%s/normalizer.json", real) < 0)
                        return wh_err_set(err, ENOMEM, "normaliser", "out of memory");
                if (stat(file, &st) < 0)
                        return wh_err_set(err, errno, "normaliser",
                                          "%s is not a normaliser directory (no normalizer.json)",
                                          ref);
                *path = strdup(real);
                return *path ? 0 : wh_err_set(err, ENOMEM, "normaliser", "out of memory");
        }
        struct find_ctx f = {.ref = ref};
        if (for_each(dir, match_id, &f, err) < 0) {
                free(f.found);
                return -1;
        }
        if (!f.found)
                return not_found(err,
                                 "no normaliser with the id '%s' in %s (a path needs a '/': ./%s)",
                                 ref, dir, ref);
        *path = f.found;
        return 0;
}

struct mime_ctx {
        const char *mime;
        char **ids;
        size_t n;
};

static int match_mime(void *ctx, const char *path, json_t *meta, struct wh_err *err)
{
        struct mime_ctx *m = ctx;
        json_t *consumes = json_object_get(meta, "consumes"), *v;
        const char *id = json_string_value(json_object_get(meta, "id"));
        size_t i;
        bool wanted = false;
        json_array_foreach(consumes, i, v) wanted |=
            json_is_string(v) && strcmp(json_string_value(v), m->mime) == 0;
        if (!wanted)
                return 0;
        if (!id)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "normaliser",
                                   "%s/normalizer.json has no \"id\"", path);
        for (i = 0; i < m->n; i++)
                if (strcmp(m->ids[i], id) == 0)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "normaliser",
                                           "two normalisers in the directory of %s have the id "
                                           "'%s'; ids must be unique",
                                           path, id);
        char **grown = realloc(m->ids, (m->n + 1) * sizeof(*grown));
        if (!grown)
                return wh_err_set(err, ENOMEM, "normaliser", "out of memory");
        m->ids = grown;
        if (!(m->ids[m->n] = strdup(id)))
                return wh_err_set(err, ENOMEM, "normaliser", "out of memory");
        m->n++;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int wh_normalisers_for_mime(const char *dir, const char *mime, char ***ids, size_t *n,
                            struct wh_err *err)
{
        struct mime_ctx m = {.mime = mime};
        if (for_each(dir, match_mime, &m, err) < 0) {
                wh_strv_free(m.ids, m.n);
                return -1;
        }
        if (m.n)
                qsort(m.ids, m.n, sizeof(*m.ids), cmp_str);
        *ids = m.ids;
        *n = m.n;
        return 0;
}
