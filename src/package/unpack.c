/* Safe extraction of a layer (contract in package.h: wh_unpack_tar).
 *
 * Everything is created below a fresh temporary directory through file
 * descriptors: each parent is opened component by component with
 * O_NOFOLLOW|O_DIRECTORY, each leaf with O_EXCL|O_NOFOLLOW. Since no entry
 * may replace another, a name that was a real directory stays one, so a
 * symlink can never redirect a later write. Ownership, xattrs, ACLs and
 * mtimes from the archive are ignored; modes keep at most 0755. Only when
 * every entry passed and the digest matched is the directory renamed to its
 * destination. */
#define _GNU_SOURCE /* renameat2, syncfs */
#include "package/digest.h"
#include "package/paths.h"
#include "base/strset.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1 << 16)

struct unpack {
        int src_fd, root_fd;
        /* Two buffers: libarchive keeps reading the compressed input from
         * `in` while archive_read_data fills `out`. */
        unsigned char *in, *out;
        struct wh_hasher hash;
        struct wh_strset names, files;
        uint64_t bytes, entries, max_bytes, max_entries;
};

/* Every byte read from the layer goes through here, into the digest. */
static ssize_t read_chunk(struct unpack *u)
{
        ssize_t n;
        do
                n = read(u->src_fd, u->in, CHUNK);
        while (n < 0 && errno == EINTR);
        if (n > 0 && wh_hasher_update(&u->hash, u->in, (size_t)n, NULL) < 0) {
                errno = EIO;
                return -1;
        }
        return n;
}

static la_ssize_t src_read(struct archive *a, void *ctx, const void **out)
{
        struct unpack *u = ctx;
        ssize_t n = read_chunk(u);
        if (n < 0)
                archive_set_error(a, errno, "cannot read the layer");
        *out = u->in;
        return n;
}

static int refuse(const char *name, const char *why, struct wh_err *err)
{
        return wh_err_set(err, 0, "unpack", "refused entry '%s': %s", name, why);
}

static int count_entry(struct unpack *u, const char *name, struct wh_err *err)
{
        if (++u->entries > u->max_entries)
                return wh_err_set(err, 0, "unpack",
                                  "more than %llu entries at '%s': refusing the layer",
                                  (unsigned long long)u->max_entries, name);
        return 0;
}

/* Open (creating as needed) the directory holding `name`; *last points at
 * its final component. */
static int open_parent(struct unpack *u, char *name, int *parent, char **last, struct wh_err *err)
{
        int cur = dup(u->root_fd);
        if (cur < 0)
                return wh_err_set(err, errno, "unpack", "dup");
        char *p = name, *slash;
        while ((slash = strchr(p, '/'))) {
                *slash = '\0';
                int fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        int rc = count_entry(u, name, err);
                        if (rc == 0 && mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
                                rc = wh_err_set(err, errno, "unpack",
                                                "cannot create a parent of '%s'", name);
                        if (rc < 0) {
                                *slash = '/';
                                close(cur);
                                return -1;
                        }
                        fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                int e = errno;
                *slash = '/';
                close(cur);
                if (fd < 0)
                        return refuse(name,
                                      e == ELOOP || e == ENOTDIR
                                          ? "a parent is not a directory (a symlink?)"
                                          : strerror(e),
                                      err);
                cur = fd;
                p = slash + 1;
        }
        *parent = cur;
        *last = p;
        return 0;
}

static int write_file(struct unpack *u, struct archive *a, struct archive_entry *ae, int dirfd,
                      const char *leaf, const char *name, struct wh_err *err)
{
        if (archive_entry_size_is_set(ae) &&
            (uint64_t)archive_entry_size(ae) > u->max_bytes - u->bytes)
                return wh_err_set(err, 0, "unpack",
                                  "'%s' would exceed the %llu-byte limit (a decompression bomb?)",
                                  name, (unsigned long long)u->max_bytes);
        cleanup_close int fd =
            openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return wh_err_set(err, errno, "unpack", "cannot create '%s'", name);
        for (;;) {
                la_ssize_t n = archive_read_data(a, u->out, CHUNK);
                if (n < 0)
                        return wh_err_set(err, 0, "unpack", "reading '%s': %s", name,
                                          archive_error_string(a));
                if (n == 0)
                        break;
                if ((uint64_t)n > u->max_bytes - u->bytes)
                        return wh_err_set(err, 0, "unpack",
                                          "more than %llu bytes unpacked at '%s' (a "
                                          "decompression bomb?)",
                                          (unsigned long long)u->max_bytes, name);
                u->bytes += (uint64_t)n;
                if (wh_write_all(fd, u->out, (size_t)n) < 0)
                        return wh_err_set(err, errno, "unpack", "cannot write '%s'", name);
        }
        if (fchmod(fd, archive_entry_perm(ae) & 0755) < 0)
                return wh_err_set(err, errno, "unpack", "cannot chmod '%s'", name);
        return wh_strset_add(&u->files, name) < 0 ? wh_err_set(err, ENOMEM, "unpack", "%s", name)
                                                  : 0;
}

static int make_dir(int dirfd, const char *leaf, mode_t perm, const char *name, struct wh_err *err)
{
        struct stat st;
        if (mkdirat(dirfd, leaf, 0700) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "unpack", "cannot create directory '%s'", name);
        /* EEXIST: created earlier as a parent; it must still be a directory. */
        if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return refuse(name, "exists and is not a directory", err);
        if (fchmodat(dirfd, leaf, (perm & 0755) | 0700, 0) < 0)
                return wh_err_set(err, errno, "unpack", "cannot chmod '%s'", name);
        return 0;
}

static int make_hardlink(struct unpack *u, int dirfd, const char *leaf, const char *name,
                         const char *target_raw, struct wh_err *err)
{
        char target[4096];
        if (wh_entry_name_normalize(target_raw, target, sizeof(target)) < 0 ||
            !wh_relpath_valid(target))
                return refuse(name, "hardlink target is absolute or contains '..'", err);
        if (!wh_strset_has(&u->files, target))
                return refuse(name, "hardlink target is not a file unpacked before it", err);
        int tparent;
        char *tlast;
        if (open_parent(u, target, &tparent, &tlast, err) < 0)
                return -1;
        int rc = linkat(tparent, tlast, dirfd, leaf, 0);
        int e = errno;
        close(tparent);
        if (rc < 0)
                return wh_err_set(err, e, "unpack", "cannot link '%s'", name);
        return 0;
}

static int check_header(struct unpack *u, struct archive_entry *ae, const char *name,
                        struct wh_err *err)
{
        mode_t type = archive_entry_filetype(ae);
        if (!wh_relpath_valid(name))
                return refuse(name, "absolute, or contains '..' or empty components", err);
        if (archive_entry_perm(ae) & (S_ISUID | S_ISGID | S_ISVTX))
                return refuse(name, "setuid, setgid or sticky bit", err);
        if (!archive_entry_hardlink(ae) && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
                return refuse(name, "device, fifo or socket", err);
        int added = wh_strset_add(&u->names, name);
        if (added < 0)
                return wh_err_set(err, ENOMEM, "unpack", "%s", name);
        if (added == 0)
                return refuse(name, "duplicate entry", err);
        return 0;
}

static int extract_entry(struct unpack *u, struct archive *a, struct archive_entry *ae,
                         struct wh_err *err)
{
        const char *raw = archive_entry_pathname(ae);
        char name[4096];
        if (!raw || wh_entry_name_normalize(raw, name, sizeof(name)) < 0)
                return refuse(raw ? raw : "?", "unreadable or overlong name", err);
        if (count_entry(u, name, err) < 0)
                return -1;
        if (!name[0] && archive_entry_filetype(ae) == AE_IFDIR)
                return 0; /* "./": the root itself */
        if (check_header(u, ae, name, err) < 0)
                return -1;
        int dirfd;
        char *leaf;
        if (open_parent(u, name, &dirfd, &leaf, err) < 0)
                return -1;
        const char *link = archive_entry_symlink(ae);
        int rc;
        if (archive_entry_hardlink(ae))
                rc = make_hardlink(u, dirfd, leaf, name, archive_entry_hardlink(ae), err);
        else if (archive_entry_filetype(ae) == AE_IFDIR)
                rc = make_dir(dirfd, leaf, archive_entry_perm(ae), name, err);
        else if (archive_entry_filetype(ae) == AE_IFLNK &&
                 (!link || !wh_symlink_inside(name, link)))
                rc = refuse(name, "symlink leads outside the package", err);
        else if (archive_entry_filetype(ae) == AE_IFLNK)
                rc = symlinkat(link, dirfd, leaf) < 0
                         ? wh_err_set(err, errno, "unpack", "cannot create symlink '%s'", name)
                         : 0;
        else
                rc = write_file(u, a, ae, dirfd, leaf, name, err);
        close(dirfd);
        return rc;
}

static int extract_all(struct unpack *u, const char *expect_digest, struct wh_err *err)
{
        struct archive *a = archive_read_new();
        if (!a)
                return wh_err_set(err, ENOMEM, "unpack", "allocating a tar reader");
        int rc = 0;
        if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_open2(a, u, NULL, src_read, NULL, NULL) != ARCHIVE_OK)
                rc = wh_err_set(err, 0, "unpack", "not a tar layer: %s", archive_error_string(a));
        struct archive_entry *ae;
        while (rc == 0) {
                int r = archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        rc = wh_err_set(err, 0, "unpack", "corrupt layer: %s",
                                        archive_error_string(a));
                else
                        rc = extract_entry(u, a, ae, err);
        }
        archive_read_free(a);
        /* The digest covers the whole blob, including what follows the tar
         * end marker. */
        ssize_t n = 1;
        while (rc == 0 && n > 0)
                if ((n = read_chunk(u)) < 0)
                        rc = wh_err_set(err, errno, "unpack", "cannot read the layer");
        char actual[WH_DIGEST_BUF];
        if (rc == 0 && wh_hasher_final(&u->hash, actual, err) < 0)
                rc = -1;
        if (rc == 0 && expect_digest && strcmp(actual, expect_digest) != 0)
                rc = wh_err_set(err, 0, "unpack", "layer does not match its digest %s (it is %s)",
                                expect_digest, actual);
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
        struct unpack u = {
            .src_fd = fd,
            .max_bytes = lim && lim->max_bytes ? lim->max_bytes : WH_UNPACK_DEFAULT_MAX_BYTES,
            .max_entries =
                lim && lim->max_entries ? lim->max_entries : WH_UNPACK_DEFAULT_MAX_ENTRIES,
        };
        cleanup_free unsigned char *buf = malloc(2 * CHUNK);
        if (!buf)
                return wh_err_set(err, ENOMEM, "unpack", "allocating");
        u.in = buf;
        u.out = buf + CHUNK;
        if (wh_hasher_init(&u.hash, err) < 0)
                return -1;
        int rc = make_tmpdir(parent_fd, base, tmp, sizeof(tmp), err);
        if (rc == 0) {
                u.root_fd = openat(parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (u.root_fd < 0)
                        rc = wh_err_set(err, errno, "unpack", "cannot open %s/%s", parent, tmp);
                if (rc == 0)
                        rc = extract_all(&u, expect_digest, err);
                if (rc == 0)
                        rc = publish(parent_fd, tmp, base, u.root_fd, err);
                if (u.root_fd >= 0)
                        close(u.root_fd);
                if (rc != 0)
                        wh_rmtree_at(parent_fd, tmp);
        }
        wh_hasher_free(&u.hash);
        wh_strset_clear(&u.names);
        wh_strset_clear(&u.files);
        return rc < 0 ? -1 : 0;
}
