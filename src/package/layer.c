/* The deterministic layer (tree.h): every input that varies between
 * checkouts (mtimes, owners, umask, readdir order, gzip header) is fixed. */
#include "package/cleanup_archive.h"
#include "package/tree.h"
#include "base/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sink {
        struct wh_blob_writer *w;
        struct wh_err inner;
        bool failed;
};

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
        struct sink *s = ctx;
        if (wh_blob_writer_write(s->w, buf, len, &s->inner) < 0) {
                s->failed = true;
                archive_set_error(a, EIO, "%s", s->inner.msg);
                return -1;
        }
        return (la_ssize_t)len;
}

static int fail(struct archive *a, struct sink *s, const char *what, struct wh_err *err)
{
        if (s->failed) {
                if (err)
                        *err = s->inner;
                return wh_err_prefix(err, "%s", what);
        }
        return wh_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "pack", "%s: %s", what,
                          archive_error_string(a) ? archive_error_string(a) : "libarchive error");
}

static int copy_file(struct archive *a, int root_fd, const struct wh_tree_entry *e, struct sink *s,
                     struct wh_err *err)
{
        cleanup_close int fd = openat(root_fd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return wh_err_set(err, errno, "pack", "cannot read %s", e->path);
        if ((uint64_t)st.st_size != e->size)
                return wh_err_set(err, 0, "pack", "%s changed while packing; pack again", e->path);
        enum { CHUNK = 1 << 16 };
        cleanup_free char *buf = malloc(CHUNK);
        if (!buf)
                return wh_err_set(err, ENOMEM, "pack", "packing %s", e->path);
        uint64_t left = e->size;
        while (left > 0) {
                ssize_t n = read(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return wh_err_set(err, n < 0 ? errno : EAGAIN, "pack",
                                          "cannot read %s (changed while packing?)", e->path);
                if (archive_write_data(a, buf, (size_t)n) != n)
                        return fail(a, s, e->path, err);
                left -= (uint64_t)n;
        }
        return 0;
}

static int write_entry(struct archive *a, int root_fd, const struct wh_tree_entry *e, int64_t mtime,
                       struct sink *s, struct wh_err *err)
{
        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return wh_err_set(err, ENOMEM, "pack", "packing %s", e->path);
        archive_entry_set_pathname(ae, e->path);
        archive_entry_set_mtime(ae, mtime, 0);
        archive_entry_set_uid(ae, 0);
        archive_entry_set_gid(ae, 0);
        switch (e->type) {
        case WH_TREE_DIR:
                archive_entry_set_filetype(ae, AE_IFDIR);
                archive_entry_set_perm(ae, 0755);
                break;
        case WH_TREE_FILE:
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, e->exec ? 0755 : 0644);
                archive_entry_set_size(ae, (la_int64_t)e->size);
                break;
        case WH_TREE_SYMLINK:
                archive_entry_set_filetype(ae, AE_IFLNK);
                archive_entry_set_perm(ae, 0777);
                archive_entry_set_symlink(ae, e->target);
                break;
        }
        int rc = archive_write_header(a, ae) == ARCHIVE_OK ? 0 : fail(a, s, e->path, err);
        archive_entry_free(ae);
        if (rc == 0 && e->type == WH_TREE_FILE)
                rc = copy_file(a, root_fd, e, s, err);
        return rc;
}

static int setup(struct archive *a, struct sink *s, struct wh_err *err)
{
        /* gzip:!timestamp keeps the header's MTIME zero; libarchive writes no
         * file name. The level is set (6: gzip's default, a third of level 9's
         * time for 2% more bytes) so a changed default cannot change digests.
         * No padding after the end-of-archive blocks. */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
            archive_write_set_filter_option(a, "gzip", "compression-level", "6") != ARCHIVE_OK ||
            archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open2(a, s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK)
                return fail(a, s, "cannot set up a deterministic tar+gzip writer", err);
        return 0;
}

int wh_layer_write(int root_fd, const struct wh_tree *t, int64_t mtime, struct wh_blob_writer *w,
                   struct wh_err *err)
{
        struct sink s = {.w = w};
        cleanup_archive_write struct archive *a = archive_write_new();
        if (!a)
                return wh_err_set(err, ENOMEM, "pack", "allocating a tar writer");
        int rc = setup(a, &s, err);
        for (size_t i = 0; rc == 0 && i < t->n; i++)
                rc = write_entry(a, root_fd, &t->e[i], mtime, &s, err);
        if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
                rc = fail(a, &s, "finishing the layer", err);
        return rc;
}
