/* Safe extraction of a layer (contract in package.h: wh_unpack_tar).
 *
 * What a layer may hold is decided by layer_read.c, the rules every import
 * checks too; this file creates what passed. Everything is created below a
 * fresh temporary directory through file descriptors: each parent is opened
 * component by component with O_NOFOLLOW|O_DIRECTORY, each leaf with
 * O_EXCL|O_NOFOLLOW. Since no entry
 * may replace another, a name that was a real directory stays one, so a
 * symlink can never redirect a later write. Ownership, xattrs, ACLs and
 * mtimes from the archive are ignored; modes keep at most 0755. Only when
 * every entry passed and the digest matched is the directory renamed to its
 * destination. */
#define _GNU_SOURCE /* renameat2, syncfs */
#include "package/layer_read.h"
#include "base/dir.h"
#include "package/paths.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* Open (creating as needed) the directory holding `name`; *last points at
 * its final component. The rules made sure every parent is a directory;
 * O_NOFOLLOW makes a mistake there fail instead of following a link. */
static int open_parent(int root_fd, char *name, int *parent, char **last, struct wh_err *err)
{
        int cur = dup(root_fd);
        if (cur < 0)
                return wh_err_set(err, errno, "unpack", "dup");
        char *p = name, *slash;
        while ((slash = strchr(p, '/'))) {
                *slash = '\0';
                if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
                        int e = errno;
                        *slash = '/';
                        close(cur);
                        return wh_err_set(err, e, "unpack", "cannot create a parent of '%s'", name);
                }
                int fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int e = errno;
                *slash = '/';
                close(cur);
                if (fd < 0)
                        return wh_err_set(err, e, "unpack", "refused entry '%s': %s", name,
                                          e == ELOOP || e == ENOTDIR
                                              ? "a parent is not a directory (a symlink?)"
                                              : strerror(e));
                cur = fd;
                p = slash + 1;
        }
        *parent = cur;
        *last = p;
        return 0;
}

static int write_file(struct wh_layer_reader *r, const struct wh_layer_entry *e, int dirfd,
                      const char *leaf, struct wh_err *err)
{
        cleanup_close int fd =
            openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return wh_err_set(err, errno, "unpack", "cannot create '%s'", e->name);
        const void *buf;
        ssize_t n;
        while ((n = wh_layer_data(r, &buf, err)) > 0)
                if (wh_write_all(fd, buf, (size_t)n) < 0)
                        return wh_err_set(err, errno, "unpack", "cannot write '%s'", e->name);
        if (n < 0)
                return -1;
        if (fchmod(fd, e->perm) < 0)
                return wh_err_set(err, errno, "unpack", "cannot chmod '%s'", e->name);
        return 0;
}

static int make_dir(int dirfd, const char *leaf, const struct wh_layer_entry *e, struct wh_err *err)
{
        struct stat st;
        if (mkdirat(dirfd, leaf, 0700) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "unpack", "cannot create directory '%s'", e->name);
        /* EEXIST: created earlier as a parent; it must still be a directory. */
        if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return wh_err_set(err, 0, "unpack",
                                  "refused entry '%s': exists and is not a "
                                  "directory",
                                  e->name);
        if (fchmodat(dirfd, leaf, e->perm | 0700, 0) < 0)
                return wh_err_set(err, errno, "unpack", "cannot chmod '%s'", e->name);
        return 0;
}

static int make_hardlink(int root_fd, int dirfd, const char *leaf, const struct wh_layer_entry *e,
                         struct wh_err *err)
{
        char target[4096];
        snprintf(target, sizeof(target), "%s", e->target);
        int tparent;
        char *tlast;
        if (open_parent(root_fd, target, &tparent, &tlast, err) < 0)
                return -1;
        int rc = linkat(tparent, tlast, dirfd, leaf, 0);
        int errnum = errno;
        close(tparent);
        if (rc < 0)
                return wh_err_set(err, errnum, "unpack", "cannot link '%s'", e->name);
        return 0;
}

static int extract(struct wh_layer_reader *r, const struct wh_layer_entry *e, void *ctx,
                   struct wh_err *err)
{
        int root_fd = *(int *)ctx;
        char name[4096];
        snprintf(name, sizeof(name), "%s", e->name);
        int dirfd;
        char *leaf;
        if (open_parent(root_fd, name, &dirfd, &leaf, err) < 0)
                return -1;
        int rc = 0;
        switch (e->kind) {
        case WH_LAYER_HARDLINK:
                rc = make_hardlink(root_fd, dirfd, leaf, e, err);
                break;
        case WH_LAYER_DIR:
                rc = make_dir(dirfd, leaf, e, err);
                break;
        case WH_LAYER_SYMLINK:
                if (symlinkat(e->target, dirfd, leaf) < 0)
                        rc =
                            wh_err_set(err, errno, "unpack", "cannot create symlink '%s'", e->name);
                break;
        case WH_LAYER_FILE:
                rc = write_file(r, e, dirfd, leaf, err);
                break;
        }
        close(dirfd);
        return rc;
}

/* A hidden, unique sibling of dest: same filesystem, so the final rename is
 * atomic. */
static int make_tmpdir(int parent_fd, const char *base, char *name, size_t len, struct wh_err *err)
{
        for (int attempt = 0; attempt < 16; attempt++) {
                unsigned int rnd;
                if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        return wh_err_set(err, errno, "unpack", "getrandom");
                snprintf(name, len, ".%s.unpack.%d.%08x", base, (int)getpid(), rnd);
                if (mkdirat(parent_fd, name, 0700) == 0)
                        return 0;
                if (errno != EEXIST)
                        return wh_err_set(err, errno, "unpack",
                                          "cannot create a directory beside %s", base);
        }
        return wh_err_set(err, 0, "unpack", "no free temporary name beside %s", base);
}

static int publish(int parent_fd, const char *tmp, const char *base, int root_fd,
                   struct wh_err *err)
{
        if (fchmod(root_fd, 0755) < 0 || syncfs(root_fd) < 0)
                return wh_err_set(err, errno, "unpack", "cannot finish %s", base);
        if (renameat2(parent_fd, tmp, parent_fd, base, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno == EINVAL) { /* the filesystem lacks RENAME_NOREPLACE */
                if (faccessat(parent_fd, base, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
                    renameat(parent_fd, tmp, parent_fd, base) == 0)
                        return 0;
                errno = EEXIST;
        }
        /* Another process published the same content first: keep theirs. */
        if (errno == EEXIST || errno == ENOTEMPTY)
                return 1;
        return wh_err_set(err, errno, "unpack", "cannot rename into %s", base);
}

int wh_unpack_tar(int fd, const char *expect_digest, const char *dest,
                  const struct wh_unpack_limits *lim, struct wh_err *err)
{
        char parent[4096], tmp[320];
        const char *slash = strrchr(dest, '/');
        const char *base = slash ? slash + 1 : dest;
        snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - dest) : 1,
                 slash ? (slash == dest ? "/" : dest) : ".");
        if (!*base || strlen(base) > 200 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return wh_err_set(err, 0, "unpack", "'%s' is not a usable destination", dest);
        cleanup_close int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return wh_err_set(err, errno, "unpack", "cannot open %s", parent);
        if (faccessat(parent_fd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return wh_err_set(err, 0, "unpack", "%s already exists", dest);
        int rc = make_tmpdir(parent_fd, base, tmp, sizeof(tmp), err);
        if (rc < 0)
                return -1;
        int root_fd = openat(parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                rc = wh_err_set(err, errno, "unpack", "cannot open %s/%s", parent, tmp);
        if (rc == 0)
                rc = wh_layer_read(fd, expect_digest, lim, extract, &root_fd, err);
        if (rc == 0)
                rc = publish(parent_fd, tmp, base, root_fd, err);
        if (root_fd >= 0)
                close(root_fd);
        if (rc != 0)
                wh_rmtree_at(parent_fd, tmp);
        return rc < 0 ? -1 : 0;
}
