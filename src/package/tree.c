#include "package/tree.h"
#include "package/paths.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TREE_MAX_ENTRIES 100000
#define TREE_MAX_DEPTH   64

struct scan {
        const char *origin;
        struct wh_tree *t;
        size_t cap;
};

static bool skipped(const char *name)
{
        return name[0] == '.' || strcmp(name, "__pycache__") == 0;
}

static int push(struct scan *sc, struct wh_tree_entry *e, struct wh_err *err)
{
        if (sc->t->n >= TREE_MAX_ENTRIES)
                return wh_err_set(err, 0, "pack", "%s has more than %d entries", sc->origin,
                                  TREE_MAX_ENTRIES);
        if (sc->t->n == sc->cap) {
                size_t cap = sc->cap ? sc->cap * 2 : 64;
                struct wh_tree_entry *grown = realloc(sc->t->e, cap * sizeof(*grown));
                if (!grown)
                        return wh_err_set(err, ENOMEM, "pack", "scanning %s", sc->origin);
                sc->t->e = grown;
                sc->cap = cap;
        }
        sc->t->e[sc->t->n++] = *e;
        return 0;
}

static int scan_dir(struct scan *sc, int dirfd, const char *prefix, int depth, struct wh_err *err);

/* Printable ASCII only: a tar writer turns other bytes into pax headers that
 * depend on the locale, and the same tree must give the same layer anywhere. */
static bool portable_name(const char *name)
{
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        return false;
        return true;
}

static int scan_one(struct scan *sc, int dirfd, const char *name, const char *path, int depth,
                    struct wh_err *err)
{
        if (!portable_name(name))
                return wh_err_set(err, 0, "pack",
                                  "a name in %s/%s is not printable ASCII; rename it", sc->origin,
                                  path);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return wh_err_set(err, errno, "pack", "cannot stat %s/%s", sc->origin, path);
        struct wh_tree_entry e = {.path = strdup(path)};
        if (!e.path)
                return wh_err_set(err, ENOMEM, "pack", "scanning %s", sc->origin);
        if (S_ISDIR(st.st_mode)) {
                e.type = WH_TREE_DIR;
        } else if (S_ISREG(st.st_mode)) {
                e.type = WH_TREE_FILE;
                e.exec = st.st_mode & S_IXUSR;
                e.size = (uint64_t)st.st_size;
        } else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
                if (n < 0) {
                        free(e.path);
                        return wh_err_set(err, errno, "pack", "cannot read link %s/%s", sc->origin,
                                          path);
                }
                target[n] = '\0';
                if (!wh_symlink_inside(path, target)) {
                        free(e.path);
                        return wh_err_set(err, 0, "pack",
                                          "%s/%s -> %s leads outside the package (use a relative "
                                          "target with '..' only at its start)",
                                          sc->origin, path, target);
                }
                e.type = WH_TREE_SYMLINK;
                e.target = strdup(target);
        } else {
                free(e.path);
                return wh_err_set(err, 0, "pack",
                                  "%s/%s is not a file, directory or symlink; remove it",
                                  sc->origin, path);
        }
        if (e.type == WH_TREE_SYMLINK && !e.target) {
                free(e.path);
                return wh_err_set(err, ENOMEM, "pack", "scanning %s", sc->origin);
        }
        if (push(sc, &e, err) < 0) {
                free(e.path);
                free(e.target);
                return -1;
        }
        if (e.type != WH_TREE_DIR)
                return 0;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return wh_err_set(err, errno, "pack", "cannot open %s/%s", sc->origin, path);
        return scan_dir(sc, fd, path, depth + 1, err); /* takes fd */
}

static int scan_dir(struct scan *sc, int fd, const char *prefix, int depth, struct wh_err *err)
{
        DIR *dir = fdopendir(fd);
        if (!dir) {
                close(fd);
                return wh_err_set(err, errno, "pack", "cannot list %s/%s", sc->origin, prefix);
        }
        if (depth > TREE_MAX_DEPTH) {
                closedir(dir);
                return wh_err_set(err, 0, "pack", "%s is nested deeper than %d", sc->origin,
                                  TREE_MAX_DEPTH);
        }
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(dir))) {
                if (skipped(de->d_name))
                        continue;
                char path[4096];
                if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "",
                             de->d_name) >= (int)sizeof(path))
                        rc = wh_err_set(err, ENAMETOOLONG, "pack", "a path in %s is too long",
                                        sc->origin);
                else
                        rc = scan_one(sc, dirfd(dir), de->d_name, path, depth, err);
        }
        closedir(dir);
        return rc;
}

static int by_path(const void *a, const void *b)
{
        return strcmp(((const struct wh_tree_entry *)a)->path,
                      ((const struct wh_tree_entry *)b)->path);
}

int wh_tree_scan(int root_fd, const char *origin, struct wh_tree *t, struct wh_err *err)
{
        *t = (struct wh_tree){0};
        struct scan sc = {origin, t, 0};
        int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return wh_err_set(err, errno, "pack", "cannot open %s", origin);
        if (scan_dir(&sc, fd, "", 0, err) < 0) {
                wh_tree_clear(t);
                return -1;
        }
        /* readdir order depends on the filesystem; the layer must not. */
        qsort(t->e, t->n, sizeof(*t->e), by_path);
        return 0;
}

const struct wh_tree_entry *wh_tree_find(const struct wh_tree *t, const char *path)
{
        struct wh_tree_entry key = {.path = (char *)path};
        return bsearch(&key, t->e, t->n, sizeof(*t->e), by_path);
}

void wh_tree_clear(struct wh_tree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->e[i].path);
                free(t->e[i].target);
        }
        free(t->e);
        *t = (struct wh_tree){0};
}
