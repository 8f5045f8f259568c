/* The layer rules (layer_read.h), checked on the archive's headers alone so
 * that a check without extraction refuses exactly what unpacking refuses.
 * The unpacker keeps its own filesystem defences (O_NOFOLLOW, O_EXCL) on
 * top: these rules are what decides, those only make a mistake here
 * harmless. */
#include "package/layer_read.h"
#include "package/digest.h"
#include "package/paths.h"
#include "base/strset.h"
#include "base/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1 << 16)

struct wh_layer_reader {
        int fd;
        struct archive *a;
        /* Two buffers: libarchive keeps reading the compressed input from
         * `in` while archive_read_data fills `out`. */
        unsigned char *in, *out;
        struct wh_hasher hash;
        struct wh_strset names; /* every entry: duplicates */
        struct wh_strset dirs;  /* directories, named or implied by a path */
        struct wh_strset files; /* regular files: what a hardlink may name */
        uint64_t bytes, entries, max_bytes, max_entries;
        const char *name; /* the current entry, for messages */
};

bool wh_media_type_is_layer(const char *mt)
{
        return strncmp(mt, "application/vnd.oci.image.layer.", 32) == 0 ||
               strncmp(mt, "application/vnd.docker.image.rootfs.", 36) == 0;
}

/* Every byte read from the layer goes through here, into the digest. */
static ssize_t read_chunk(struct wh_layer_reader *r)
{
        ssize_t n;
        do
                n = read(r->fd, r->in, CHUNK);
        while (n < 0 && errno == EINTR);
        if (n > 0 && wh_hasher_update(&r->hash, r->in, (size_t)n, NULL) < 0) {
                errno = EIO;
                return -1;
        }
        return n;
}

static la_ssize_t src_read(struct archive *a, void *ctx, const void **out)
{
        struct wh_layer_reader *r = ctx;
        ssize_t n = read_chunk(r);
        if (n < 0)
                archive_set_error(a, errno, "cannot read the layer");
        *out = r->in;
        return n;
}

static int refuse(const char *name, const char *why, struct wh_err *err)
{
        return wh_err_set(err, 0, "layer", "refused entry '%s': %s", name, why);
}

static int count_entry(struct wh_layer_reader *r, const char *name, struct wh_err *err)
{
        if (++r->entries > r->max_entries)
                return wh_err_set(err, 0, "layer",
                                  "more than %llu entries at '%s': refusing the layer",
                                  (unsigned long long)r->max_entries, name);
        return 0;
}

static int remember(struct wh_strset *set, const char *name, struct wh_err *err)
{
        return wh_strset_add(set, name) < 0 ? wh_err_set(err, ENOMEM, "layer", "%s", name) : 0;
}

/* Each parent must be a directory: one named earlier, or implied now (and
 * counted, since extraction creates it). */
static int check_parents(struct wh_layer_reader *r, const char *name, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s", name);
        for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (!wh_strset_has(&r->dirs, path)) {
                        if (wh_strset_has(&r->names, path))
                                return refuse(name, "a parent is not a directory (a symlink?)",
                                              err);
                        if (count_entry(r, name, err) < 0 || remember(&r->dirs, path, err) < 0)
                                return -1;
                }
                *slash = '/';
        }
        return 0;
}

static int classify(struct wh_layer_reader *r, struct archive_entry *ae, const char *name,
                    struct wh_layer_entry *e, char *target, size_t cap, struct wh_err *err)
{
        mode_t type = archive_entry_filetype(ae);
        const char *hard = archive_entry_hardlink(ae), *sym = archive_entry_symlink(ae);
        e->name = name;
        e->perm = archive_entry_perm(ae) & 0755;
        e->target = NULL;
        if (hard) {
                e->kind = WH_LAYER_HARDLINK;
                if (wh_entry_name_normalize(hard, target, cap) < 0 || !wh_relpath_valid(target))
                        return refuse(name, "hardlink target is absolute or contains '..'", err);
                if (!wh_strset_has(&r->files, target))
                        return refuse(name, "hardlink target is not a file unpacked before it",
                                      err);
                e->target = target;
        } else if (type == AE_IFDIR) {
                e->kind = WH_LAYER_DIR;
        } else if (type == AE_IFLNK) {
                e->kind = WH_LAYER_SYMLINK;
                if (!sym || !wh_symlink_inside(name, sym))
                        return refuse(name, "symlink leads outside the package", err);
                e->target = sym;
        } else if (type == AE_IFREG) {
                e->kind = WH_LAYER_FILE;
                if (archive_entry_size_is_set(ae) &&
                    (uint64_t)archive_entry_size(ae) > r->max_bytes - r->bytes)
                        return wh_err_set(
                            err, 0, "layer",
                            "'%s' would exceed the %llu-byte limit (a decompression bomb?)", name,
                            (unsigned long long)r->max_bytes);
        } else {
                return refuse(name, "device, fifo or socket", err);
        }
        return 0;
}

/* 1: the archive's root ("./"), nothing to do; 0: e passed; -1: refused. */
static int check_entry(struct wh_layer_reader *r, struct archive_entry *ae, char *name,
                       size_t namecap, struct wh_layer_entry *e, char *target, size_t cap,
                       struct wh_err *err)
{
        const char *raw = archive_entry_pathname(ae);
        if (!raw || wh_entry_name_normalize(raw, name, namecap) < 0)
                return refuse(raw ? raw : "?", "unreadable or overlong name", err);
        r->name = name;
        if (count_entry(r, name, err) < 0)
                return -1;
        if (!name[0] && archive_entry_filetype(ae) == AE_IFDIR && !archive_entry_hardlink(ae))
                return 1;
        if (!wh_relpath_valid(name))
                return refuse(name, "absolute, or contains '..' or empty components", err);
        if (archive_entry_perm(ae) & (S_ISUID | S_ISGID | S_ISVTX))
                return refuse(name, "setuid, setgid or sticky bit", err);
        if (classify(r, ae, name, e, target, cap, err) < 0)
                return -1;
        int added = wh_strset_add(&r->names, name);
        if (added < 0)
                return wh_err_set(err, ENOMEM, "layer", "%s", name);
        if (added == 0)
                return refuse(name, "duplicate entry", err);
        if (e->kind != WH_LAYER_DIR && wh_strset_has(&r->dirs, name))
                return refuse(name, "a directory of that name is implied by an earlier entry", err);
        if (check_parents(r, name, err) < 0)
                return -1;
        if (e->kind == WH_LAYER_DIR)
                return remember(&r->dirs, name, err);
        if (e->kind == WH_LAYER_FILE)
                return remember(&r->files, name, err);
        return 0;
}

ssize_t wh_layer_data(struct wh_layer_reader *r, const void **buf, struct wh_err *err)
{
        la_ssize_t n = archive_read_data(r->a, r->out, CHUNK);
        if (n < 0)
                return wh_err_set(err, 0, "layer", "reading '%s': %s", r->name,
                                  archive_error_string(r->a));
        if ((uint64_t)n > r->max_bytes - r->bytes)
                return wh_err_set(err, 0, "layer",
                                  "more than %llu bytes unpacked at '%s' (a decompression bomb?)",
                                  (unsigned long long)r->max_bytes, r->name);
        r->bytes += (uint64_t)n;
        *buf = r->out;
        return n;
}

static int take_entry(struct wh_layer_reader *r, struct archive_entry *ae, wh_layer_fn fn,
                      void *ctx, struct wh_err *err)
{
        char name[4096], target[4096];
        struct wh_layer_entry e = {0};
        int rc = check_entry(r, ae, name, sizeof(name), &e, target, sizeof(target), err);
        if (rc == 0 && fn)
                rc = fn(r, &e, ctx, err);
        /* Check only: the data still counts against the limit. */
        const void *buf;
        for (ssize_t n = 1; rc == 0 && !fn && e.kind == WH_LAYER_FILE && n > 0;)
                if ((n = wh_layer_data(r, &buf, err)) < 0)
                        rc = -1;
        r->name = ""; /* `name` ends with this call */
        return rc < 0 ? -1 : 0;
}

static int read_entries(struct wh_layer_reader *r, wh_layer_fn fn, void *ctx, struct wh_err *err)
{
        r->a = archive_read_new();
        if (!r->a)
                return wh_err_set(err, ENOMEM, "layer", "allocating a tar reader");
        int rc = 0;
        if (archive_read_support_filter_gzip(r->a) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(r->a) != ARCHIVE_OK ||
            archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
            archive_read_open2(r->a, r, NULL, src_read, NULL, NULL) != ARCHIVE_OK)
                rc = wh_err_set(err, 0, "layer", "not a tar layer: %s", archive_error_string(r->a));
        struct archive_entry *ae;
        while (rc == 0) {
                int got = archive_read_next_header(r->a, &ae);
                if (got == ARCHIVE_EOF)
                        break;
                if (got != ARCHIVE_OK)
                        rc = wh_err_set(err, 0, "layer", "corrupt layer: %s",
                                        archive_error_string(r->a));
                else
                        rc = take_entry(r, ae, fn, ctx, err);
        }
        archive_read_free(r->a);
        r->a = NULL;
        return rc;
}

/* The digest covers the whole blob, including what follows the tar end
 * marker, and is read to the end even after a failure: a damaged blob is
 * reported as damaged, not as whatever libarchive tripped over first. */
static int check_digest(struct wh_layer_reader *r, const char *expect, int rc, struct wh_err *err)
{
        ssize_t n = 1;
        while (n > 0)
                if ((n = read_chunk(r)) < 0)
                        return rc < 0 ? rc
                                      : wh_err_set(err, errno, "layer", "cannot read the layer");
        char actual[WH_DIGEST_BUF];
        if (wh_hasher_final(&r->hash, actual, rc < 0 ? NULL : err) < 0)
                return -1;
        if (strcmp(actual, expect) != 0)
                return wh_err_set(err, 0, "layer",
                                  "layer does not match its digest %s (its content is %s): the "
                                  "blob is damaged; 'whiskers store verify' lists damaged blobs",
                                  expect, actual);
        return rc;
}

int wh_layer_read(int fd, const char *expect_digest, const struct wh_unpack_limits *lim,
                  wh_layer_fn fn, void *ctx, struct wh_err *err)
{
        struct wh_layer_reader r = {
            .fd = fd,
            .max_bytes = lim && lim->max_bytes ? lim->max_bytes : WH_UNPACK_DEFAULT_MAX_BYTES,
            .max_entries =
                lim && lim->max_entries ? lim->max_entries : WH_UNPACK_DEFAULT_MAX_ENTRIES,
            .name = "",
        };
        cleanup_free unsigned char *buf = malloc(2 * CHUNK);
        if (!buf)
                return wh_err_set(err, ENOMEM, "layer", "allocating");
        r.in = buf;
        r.out = buf + CHUNK;
        if (wh_hasher_init(&r.hash, err) < 0)
                return -1;
        int rc = read_entries(&r, fn, ctx, err);
        if (expect_digest)
                rc = check_digest(&r, expect_digest, rc, err);
        wh_hasher_free(&r.hash);
        wh_strset_clear(&r.names);
        wh_strset_clear(&r.dirs);
        wh_strset_clear(&r.files);
        return rc;
}
