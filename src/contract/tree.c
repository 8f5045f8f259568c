/* The tree digest of a normaliser directory (docs/contract.md "Tree
 * digest"): what provenance records until the normaliser comes from a
 * package, whose digest then takes its place.
 *
 * Every directory, regular file and symlink below the root, nothing
 * skipped (the whole directory is visible in the sandbox, so all of it
 * can matter), sorted bytewise by relative path, one line each:
 *   D <path>
 *   F <x or -> <size> <sha256 of content> <path>
 *   L <sha256 of target> <path>
 * and the digest is the SHA-256 of those lines. Symlinks are not followed.
 * Anything else (devices, fifos, sockets) is refused. */
#define _GNU_SOURCE
#include "contract/internal.h"
#include "base/dir.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 10000
#define MAX_BYTES   (256ull << 20)

struct entry {
        char *path;
        char type; /* 'D', 'F', 'L' */
};

struct walk {
        struct entry *e;
        size_t n, cap;
        int root_fd;
        const char *root;
        uint64_t bytes;
};

static int add(struct walk *w, const char *path, char type, struct wh_err *err)
{
        if (strchr(path, '\n'))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "digest",
                                   "%s/%s: a name with a newline", w->root, path);
        if (w->n >= MAX_ENTRIES)
                return wh_err_set(err, EFBIG, "digest",
                                  "%s has more than %d entries: too big to run as a directory",
                                  w->root, MAX_ENTRIES);
        if (w->n == w->cap) {
                size_t ncap = w->cap ? w->cap * 2 : 64;
                struct entry *ne = realloc(w->e, ncap * sizeof(*ne));
                if (!ne)
                        return wh_err_set(err, ENOMEM, "digest", "%s", w->root);
                w->e = ne;
                w->cap = ncap;
        }
        if (!(w->e[w->n].path = strdup(path)))
                return wh_err_set(err, ENOMEM, "digest", "%s", w->root);
        w->e[w->n++].type = type;
        return 0;
}

static int scan(struct walk *w, const char *rel, struct wh_err *err)
{
        cleanup_closedir DIR *d = wh_dir_at(w->root_fd, *rel ? rel : ".");
        if (!d)
                return wh_err_set(err, errno, "digest", "cannot read %s/%s", w->root, rel);
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char path[4096];
                if (snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
                    (int)sizeof(path)) {
                        rc = wh_err_set(err, ENAMETOOLONG, "digest", "%s/%s", w->root, rel);
                        break;
                }
                struct stat st;
                if (fstatat(w->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        rc = wh_err_set(err, errno, "digest", "%s/%s", w->root, path);
                else if (S_ISDIR(st.st_mode))
                        rc = add(w, path, 'D', err) < 0 ? -1 : scan(w, path, err);
                else if (S_ISREG(st.st_mode) && (w->bytes += (uint64_t)st.st_size) > MAX_BYTES)
                        rc =
                            wh_err_set(err, EFBIG, "digest", "%s holds more than 256 MiB", w->root);
                else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
                        rc = add(w, path, S_ISREG(st.st_mode) ? 'F' : 'L', err);
                else
                        rc = wh_err_setk(err, WH_ERR_INVALID, EINVAL, "digest",
                                         "%s/%s is not a directory, regular file or symlink",
                                         w->root, path);
        }
        if (rc == 0 && errno)
                rc = wh_err_set(err, errno, "digest", "reading %s/%s", w->root, rel);
        return rc;
}

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static int hash_file(struct walk *w, const char *path, char hex[65], struct stat *st,
                     struct wh_err *err)
{
        cleanup_close int fd = openat(w->root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, st) < 0)
                return wh_err_set(err, errno, "digest", "cannot read %s/%s", w->root, path);
        struct wh_sha256 h;
        wh_sha256_init(&h);
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return wh_err_set(err, errno, "digest", "reading %s/%s", w->root, path);
                wh_sha256_update(&h, buf, (size_t)n);
        }
        uint8_t d[WH_SHA256_LEN];
        wh_sha256_final(&h, d);
        wh_hex_encode(d, sizeof(d), hex);
        return 0;
}

static int emit(struct walk *w, const struct entry *e, struct wh_sha256 *h, struct wh_err *err)
{
        char line[4096 + 128], hex[65];
        int n;
        if (e->type == 'D') {
                n = snprintf(line, sizeof(line), "D %s\n", e->path);
        } else if (e->type == 'F') {
                struct stat st;
                if (hash_file(w, e->path, hex, &st, err) < 0)
                        return -1;
                n = snprintf(line, sizeof(line), "F %c %llu %s %s\n",
                             st.st_mode & S_IXUSR ? 'x' : '-', (unsigned long long)st.st_size, hex,
                             e->path);
        } else {
                char target[4096];
                ssize_t tl = readlinkat(w->root_fd, e->path, target, sizeof(target));
                if (tl < 0 || tl == (ssize_t)sizeof(target))
                        return wh_err_set(err, tl < 0 ? errno : ENAMETOOLONG, "digest",
                                          "cannot read the symlink %s/%s", w->root, e->path);
                wh_sha256_hex(target, (size_t)tl, hex);
                n = snprintf(line, sizeof(line), "L %s %s\n", hex, e->path);
        }
        wh_sha256_update(h, line, (size_t)n);
        return 0;
}

int wh_tree_digest(const char *dir, char out[WH_DIGEST_BUF], struct wh_err *err)
{
        struct walk w = {.root = dir};
        w.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w.root_fd < 0)
                return wh_err_set(err, errno, "digest", "cannot open the directory %s", dir);
        int rc = scan(&w, "", err);
        struct wh_sha256 h;
        wh_sha256_init(&h);
        if (rc == 0)
                qsort(w.e, w.n, sizeof(*w.e), cmp_entry);
        for (size_t i = 0; rc == 0 && i < w.n; i++)
                rc = emit(&w, &w.e[i], &h, err);
        if (rc == 0) {
                uint8_t d[WH_SHA256_LEN];
                wh_sha256_final(&h, d);
                memcpy(out, "sha256:", 7);
                wh_hex_encode(d, sizeof(d), out + 7);
        }
        for (size_t i = 0; i < w.n; i++)
                free(w.e[i].path);
        free(w.e);
        close(w.root_fd);
        return rc;
}
