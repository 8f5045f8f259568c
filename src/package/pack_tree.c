/* wh_pack_tree: every normaliser of a plugin tree (OpenKAT's
 * boefjes/plugins: kat_dns/, kat_manual/csv/, ...) packed as its own
 * package, with the same options (runtime image, Python layers, version),
 * so a shared Python layer is written once for all of them.
 *
 * A normaliser directory is one that holds a normalizer.json; the walk
 * goes on below it (nested normalisers), skips hidden names and
 * __pycache__, does not follow symlinks, and sorts the directories by
 * path. Every normalizer.json is read and checked, and the ids must be
 * distinct (a second one would take the first one's tag), before any blob
 * is written. */
#define _GNU_SOURCE
#include "package/pack.h"
#include "base/dir.h"
#include "package/runtime.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/package.h>

#define TREE_DEPTH_MAX 16

struct found {
        char **dirs;
        size_t n, cap;
};

static int add_dir(struct found *f, const char *path, struct wh_err *err)
{
        if (f->n == f->cap) {
                char **v = realloc(f->dirs, (f->cap = f->cap * 2 + 16) * sizeof(*v));
                if (!v)
                        return wh_err_set(err, ENOMEM, "pack", "plugin tree");
                f->dirs = v;
        }
        return (f->dirs[f->n] = strdup(path)) ? (f->n++, 0)
                                              : wh_err_set(err, ENOMEM, "pack", "plugin tree");
}

static int walk(int dir_fd, const char *path, int depth, struct found *f, struct wh_err *err)
{
        struct stat st;
        if (fstatat(dir_fd, "normalizer.json", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && add_dir(f, path, err) < 0)
                return -1;
        DIR *d = depth < TREE_DEPTH_MAX ? wh_dir_at(dir_fd, ".") : NULL;
        if (!d)
                return depth < TREE_DEPTH_MAX
                           ? wh_err_set(err, errno, "pack", "cannot list %s", path)
                           : wh_err_set(err, 0, "pack", "%s: more than %d levels deep", path,
                                        TREE_DEPTH_MAX);
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.' || strcmp(de->d_name, "__pycache__") == 0 ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode))
                        continue;
                cleanup_free char *sub = NULL;
                int fd = asprintf(&sub, "%s/%s", path, de->d_name) < 0
                             ? -1
                             : openat(dirfd(d), de->d_name,
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                rc = fd < 0 ? wh_err_set(err, errno, "pack", "cannot open %s/%s", path, de->d_name)
                            : walk(fd, sub, depth + 1, f, err);
                if (fd >= 0)
                        close(fd);
        }
        closedir(d);
        return rc;
}

static int by_path(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read every normalizer.json; ids must be distinct. */
static int check_all(const struct found *f, const char *version, char (*tags)[WH_REF_MAX],
                     struct wh_err *err)
{
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < f->n; i++) {
                struct wh_package_meta m;
                if (wh_pack_meta(f->dirs[i], version, &m, err) < 0)
                        return -1;
                snprintf(tags[i], WH_REF_MAX, "%s:%s", m.id, m.version);
                for (size_t j = 0; rc == 0 && j < i; j++)
                        if (strncmp(tags[i], tags[j], strlen(m.id) + 1) == 0)
                                rc = wh_err_set(err, 0, "pack",
                                                "%s and %s both have the id %s: one would "
                                                "replace the other's tag",
                                                f->dirs[j], f->dirs[i], m.id);
                wh_package_meta_clear(&m);
        }
        return rc;
}

int wh_pack_tree(struct wh_store *s, const char *tree, const struct wh_pack_options *o,
                 wh_pack_tree_cb packed, void *ctx, struct wh_err *err)
{
        if (o->tag)
                return wh_err_set(err, 0, "pack",
                                  "a plugin tree gives one package per normaliser, tagged "
                                  "<id>:<version>: drop --tag");
        struct found f = {0};
        int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = fd < 0 ? wh_err_set(err, errno, "pack", "cannot open plugin tree %s", tree)
                        : walk(fd, tree, 0, &f, err);
        if (fd >= 0)
                close(fd);
        if (rc == 0 && f.n == 0)
                rc = wh_err_set(err, 0, "pack", "%s holds no normalizer.json", tree);
        if (f.n > 1) /* qsort's base may not be NULL, even for no elements */
                qsort(f.dirs, f.n, sizeof(*f.dirs), by_path);
        cleanup_free char(*tags)[WH_REF_MAX] = rc == 0 ? calloc(f.n, WH_REF_MAX) : NULL;
        if (rc == 0 && !tags)
                rc = wh_err_set(err, ENOMEM, "pack", "plugin tree");
        if (rc == 0)
                rc = check_all(&f, o->version ? o->version : "unversioned", tags, err);
        for (size_t i = 0; rc == 0 && i < f.n; i++) {
                struct wh_descriptor root;
                const char *dir = f.dirs[i];
                rc = wh_pack(s, &dir, 1, o, &root, err);
                if (rc == 0 && packed)
                        packed(ctx, dir, tags[i], &root);
        }
        for (size_t i = 0; i < f.n; i++)
                free(f.dirs[i]);
        free(f.dirs);
        return rc;
}
