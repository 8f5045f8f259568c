/* Boefje references (boefje.h): a directory, or the id of one under a
 * directory of boefjes, as normaliser references are (jobs.h); and the
 * NormalizerMeta a raw file of a boefje job hands its normalisers. */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *wh_boefjes_dir_default(void)
{
        const char *dir = getenv("WHISKERS_BOEFJES");
        return dir && *dir ? dir : "examples/boefjes";
}

/* The subdirectory of dir whose boefje.json says id; NULL when none. */
static char *find_id(const char *dir, const char *id, struct wh_err *err)
{
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return wh_err_set(err, errno, "boefje",
                                  "cannot list the boefje directory %s (set --boefjes)", dir),
                       NULL;
        char *found = NULL;
        for (int i = 0; i < n; i++) {
                struct wh_boefje_manifest m;
                struct wh_err ignored = {0};
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                if (!found && names[i]->d_name[0] != '.' &&
                    wh_boefje_manifest_load(path, &m, &ignored) == 0) {
                        if (strcmp(m.id, id) == 0)
                                found = realpath(path, NULL);
                        wh_boefje_manifest_clear(&m);
                }
                free(names[i]);
        }
        free(names);
        if (!found)
                wh_err_setk(err, WH_ERR_NOT_FOUND, 0, "boefje",
                            "no boefje with the id '%s' in %s (a path needs a '/': ./%s)", id, dir,
                            id);
        return found;
}

int wh_boefje_find(const char *dir, const char *ref, char **path, struct wh_err *err)
{
        if (!ref || !*ref)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "boefje", "empty boefje reference");
        if (!strchr(ref, '/')) {
                *path = find_id(dir ? dir : wh_boefjes_dir_default(), ref, err);
                return *path ? 0 : -1;
        }
        if (!(*path = realpath(ref, NULL)))
                return wh_err_set(err, errno, "boefje", "no boefje at %s", ref);
        return 0;
}

char *wh_boefje_normalizer_meta(const struct wh_boefje_result *res, const struct wh_boefje_raw *r,
                                const char *normaliser, size_t n)
{
        json_t *mimes = json_array(), *v;
        size_t i;
        json_array_foreach(r->mime_types, i, v)
            json_array_append_new(mimes, json_pack("{s:O}", "value", v));
        const char *task = json_string_value(json_object_get(res->boefje_meta, "id"));
        char id[160];
        snprintf(id, sizeof(id), "%s-n%zu", task ? task : "scan", n);
        json_t *meta = json_pack("{s:s, s:{s:s, s:O, s:o}, s:{s:s, s:n}}", "id", id, "raw_data",
                                 "id", r->digest, "boefje_meta", res->boefje_meta, "mime_types",
                                 mimes, "normalizer", "id", normaliser, "version");
        char *text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
        json_decref(meta);
        return text;
}
