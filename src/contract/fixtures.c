/* A normaliser's fixtures (docs/contract.md "Fixtures"): every directory
 * under DIR/fixtures/ with a raw file "raw" and "meta.json"; expected.json
 * holds the NormalizerResults the run must produce (it may be missing
 * until `whiskers test --update` writes it). Sorted by name. */
#define _GNU_SOURCE
#include "contract/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_fixture(const void *a, const void *b)
{
        return strcmp(((const struct wh_fixture *)a)->name, ((const struct wh_fixture *)b)->name);
}

static char *join(const char *base, const char *name, const char *leaf)
{
        size_t len = strlen(base) + strlen(name) + strlen(leaf) + 3;
        char *p = malloc(len);
        if (p)
                snprintf(p, len, "%s/%s/%s", base, name, leaf);
        return p;
}

static int add_fixture(const char *base, const char *name, struct wh_fixture **f, size_t *n,
                       struct wh_err *err)
{
        struct wh_fixture *nf = realloc(*f, (*n + 1) * sizeof(*nf));
        if (!nf)
                return wh_err_set(err, ENOMEM, "fixtures", "%s", base);
        *f = nf;
        struct wh_fixture *x = &nf[*n];
        *x = (struct wh_fixture){0};
        x->name = strdup(name);
        x->raw_path = join(base, name, "raw");
        x->meta_path = join(base, name, "meta.json");
        x->expected_path = join(base, name, "expected.json");
        (*n)++;
        if (!x->name || !x->raw_path || !x->meta_path || !x->expected_path)
                return wh_err_set(err, ENOMEM, "fixtures", "%s", base);
        if (access(x->raw_path, R_OK) < 0 || access(x->meta_path, R_OK) < 0)
                return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "fixtures",
                                   "fixture %s/%s needs a file \"raw\" and a file \"meta.json\"",
                                   base, name);
        return 0;
}

int wh_fixtures_list(const char *dir, struct wh_fixture **out, size_t *n, struct wh_err *err)
{
        char base[4096];
        snprintf(base, sizeof(base), "%s/fixtures", dir);
        *out = NULL;
        *n = 0;
        DIR *d = opendir(base);
        if (!d)
                return wh_err_set(err, errno, "fixtures",
                                  "no fixtures in %s: add fixtures/NAME/{raw,meta.json}", base);
        struct dirent *de;
        int rc = 0;
        while (rc == 0 && (de = readdir(d))) {
                struct stat st;
                char sub[8192];
                snprintf(sub, sizeof(sub), "%s/%s", base, de->d_name);
                if (de->d_name[0] == '.' || stat(sub, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                rc = add_fixture(base, de->d_name, out, n, err);
        }
        closedir(d);
        if (rc == 0 && *n == 0)
                rc = wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "fixtures",
                                 "no fixtures in %s: add fixtures/NAME/{raw,meta.json}", base);
        if (rc < 0) {
                wh_fixtures_free(*out, *n);
                *out = NULL;
                *n = 0;
                return -1;
        }
        qsort(*out, *n, sizeof(**out), cmp_fixture);
        return 0;
}

void wh_fixtures_free(struct wh_fixture *f, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(f[i].name);
                free(f[i].raw_path);
                free(f[i].meta_path);
                free(f[i].expected_path);
        }
        free(f);
}
