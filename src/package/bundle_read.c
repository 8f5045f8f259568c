/* Reading a bundle into a scratch layout (bundle_import.c decides what
 * becomes visible).
 *
 * The first entry must be the checksum manifest; after it only a layout's
 * own names are accepted ("oci-layout", "index.json", directories "blobs"
 * and "blobs/sha256", files "blobs/sha256/<64 hex>"), regular files only,
 * each once. Every blob must be listed in the manifest with its size, is
 * streamed into the scratch store capped at that size and sealed against
 * its name; index.json must hash to the manifest's digest; every listed
 * blob must have arrived. A truncated file, a part missing or a bad zstd
 * frame surface as libarchive errors, named with the bundle. */
#include "package/bundle.h"
#include "package/cleanup_archive.h"
#include "package/digest.h"
#include "package/paths.h"
#include "package/store.h"
#include "base/strset.h"
#include "base/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_BUF     (256u << 10)
#define MANIFEST_MAX (64u << 20)

struct reader {
        struct wh_store *scratch;
        const char *path;
        json_t *manifest, *blobs; /* blobs borrows from manifest */
        char *index_doc;
        bool have_layout;
        struct wh_strset names;
        size_t nblobs;
        uint64_t bytes, max_bytes;
        char *buf;
};

static int refuse(const struct reader *rd, const char *name, const char *why, struct wh_err *err)
{
        return wh_err_set(err, 0, "bundle", "%s: refused entry '%s': %s", rd->path, name, why);
}

static int damaged(struct reader *rd, struct archive *a, struct wh_err *err)
{
        return wh_err_set(err, 0, "bundle", "%s is damaged or truncated: %s", rd->path,
                          archive_error_string(a) ? archive_error_string(a) : "read error");
}

/* A whole small entry, at most max bytes. */
static int read_small(struct reader *rd, struct archive *a, const char *name, size_t max,
                      char **out, size_t *len_out, struct wh_err *err)
{
        size_t len = 0, cap = 0;
        cleanup_free char *doc = NULL;
        for (;;) {
                la_ssize_t n = archive_read_data(a, rd->buf, READ_BUF);
                if (n < 0)
                        return damaged(rd, a, err);
                if (n == 0)
                        break;
                if ((size_t)n > max - len)
                        return refuse(rd, name, "larger than allowed", err);
                if (len + (size_t)n + 1 > cap) {
                        cap = (len + (size_t)n + 1) * 2;
                        char *grown = realloc(doc, cap);
                        if (!grown)
                                return wh_err_set(err, ENOMEM, "bundle", "%s", name);
                        doc = grown;
                }
                memcpy(doc + len, rd->buf, (size_t)n);
                len += (size_t)n;
        }
        rd->bytes += len;
        if (!doc && !(doc = calloc(1, 1)))
                return wh_err_set(err, ENOMEM, "bundle", "%s", name);
        doc[len] = '\0';
        *out = steal_pointer(&doc);
        if (len_out)
                *len_out = len;
        return 0;
}

static int read_manifest(struct reader *rd, struct archive *a, struct wh_err *err)
{
        cleanup_free char *doc = NULL;
        if (read_small(rd, a, WH_BUNDLE_MANIFEST, MANIFEST_MAX, &doc, NULL, err) < 0)
                return -1;
        json_error_t jerr;
        rd->manifest = json_loads(doc, JSON_REJECT_DUPLICATES, &jerr);
        json_t *v = json_object_get(rd->manifest, "bundleVersion");
        rd->blobs = json_object_get(rd->manifest, "blobs");
        if (!rd->manifest || !json_is_integer(v) || !json_is_object(rd->blobs) ||
            !wh_digest_valid(json_string_value(json_object_get(rd->manifest, "index"))))
                return wh_err_set(err, 0, "bundle", "%s: %s is not a whiskers bundle manifest%s%s",
                                  rd->path, WH_BUNDLE_MANIFEST, rd->manifest ? "" : ": ",
                                  rd->manifest ? "" : jerr.text);
        if (json_integer_value(v) != 1)
                return wh_err_set(err, 0, "bundle",
                                  "%s: bundle version %lld is newer than this whiskers reads (1)",
                                  rd->path, (long long)json_integer_value(v));
        return 0;
}

static int read_blob(struct reader *rd, struct archive *a, struct archive_entry *ae,
                     const char *name, struct wh_err *err)
{
        char digest[WH_DIGEST_BUF];
        if (snprintf(digest, sizeof(digest), "sha256:%s", name + 13) >= (int)sizeof(digest) ||
            !wh_digest_valid(digest))
                return refuse(rd, name, "not a sha256 blob name", err);
        json_t *listed = json_object_get(rd->blobs, digest);
        if (!json_is_integer(listed))
                return refuse(rd, name, "not in the checksum manifest", err);
        uint64_t size = (uint64_t)json_integer_value(listed);
        if (json_integer_value(listed) < 0 ||
            (archive_entry_size_is_set(ae) && (uint64_t)archive_entry_size(ae) != size))
                return refuse(rd, name, "size differs from the checksum manifest", err);
        if (size > rd->max_bytes - rd->bytes)
                return wh_err_set(err, 0, "bundle", "%s holds more than %llu bytes", rd->path,
                                  (unsigned long long)rd->max_bytes);
        struct wh_blob_writer *w;
        if (wh_blob_writer_new(rd->scratch, &w, err) < 0)
                return -1;
        wh_blob_writer_set_max(w, size);
        uint64_t got = 0;
        int rc = 0;
        for (;;) {
                la_ssize_t n = archive_read_data(a, rd->buf, READ_BUF);
                if (n < 0)
                        rc = damaged(rd, a, err);
                if (n <= 0)
                        break;
                if ((rc = wh_blob_writer_write(w, rd->buf, (size_t)n, err)) < 0)
                        break;
                got += (uint64_t)n;
        }
        if (rc == 0 && got != size)
                rc = refuse(rd, name, "shorter than the checksum manifest says", err);
        if (rc == 0 && wh_blob_writer_seal(w, digest, NULL, NULL, err) < 0)
                rc = wh_err_prefix(err, "%s: %s", rd->path, name);
        if (rc == 0)
                rc = wh_blob_writer_commit(w, err);
        wh_blob_writer_free(w);
        rd->bytes += got;
        rd->nblobs++;
        return rc;
}

static int take_entry(struct reader *rd, struct archive *a, struct archive_entry *ae,
                      struct wh_err *err)
{
        const char *raw = archive_entry_pathname(ae);
        char name[256];
        if (!raw || wh_entry_name_normalize(raw, name, sizeof(name)) < 0)
                return refuse(rd, raw ? raw : "?", "not part of a bundle", err);
        bool is_dir = archive_entry_filetype(ae) == AE_IFDIR;
        bool is_file = archive_entry_filetype(ae) == AE_IFREG && !archive_entry_hardlink(ae);
        if (strcmp(name, "blobs") == 0 || strcmp(name, "blobs/sha256") == 0 || !name[0]) {
                if (!is_dir)
                        return refuse(rd, name, "must be a directory", err);
        } else if (!is_file) {
                return refuse(rd, name, "links, devices and other special files are not allowed",
                              err);
        }
        int added = wh_strset_add(&rd->names, name);
        if (added <= 0)
                return added < 0 ? wh_err_set(err, ENOMEM, "bundle", "%s", name)
                                 : refuse(rd, name, "duplicate entry", err);
        if (is_dir)
                return 0;
        if (strcmp(name, WH_BUNDLE_MANIFEST) == 0)
                return refuse(rd, name, "the checksum manifest must be the first entry", err);
        if (strcmp(name, "oci-layout") == 0) {
                cleanup_free char *doc = NULL;
                if (read_small(rd, a, name, 4096, &doc, NULL, err) < 0)
                        return -1;
                cleanup_json json_t *j = json_loads(doc, 0, NULL);
                const char *v = json_string_value(json_object_get(j, "imageLayoutVersion"));
                rd->have_layout = v && strncmp(v, "1.", 2) == 0;
                return rd->have_layout ? 0 : refuse(rd, name, "not an OCI layout 1.x", err);
        }
        if (strcmp(name, "index.json") == 0) {
                size_t len;
                char digest[WH_DIGEST_BUF];
                if (read_small(rd, a, name, WH_INDEX_MAX, &rd->index_doc, &len, err) < 0 ||
                    wh_digest_buffer(rd->index_doc, len, digest, err) < 0)
                        return -1;
                if (strcmp(digest, json_string_value(json_object_get(rd->manifest, "index"))) != 0)
                        return refuse(rd, name, "does not match the checksum manifest", err);
                return 0;
        }
        if (strncmp(name, "blobs/sha256/", 13) != 0)
                return refuse(rd, name, "not part of a bundle", err);
        return read_blob(rd, a, ae, name, err);
}

static int read_all(struct reader *rd, struct archive *a, struct wh_err *err)
{
        struct archive_entry *ae;
        for (bool first = true;; first = false) {
                int r = archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF && first)
                        return wh_err_set(err, 0, "bundle", "%s is empty", rd->path);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return damaged(rd, a, err);
                const char *name = archive_entry_pathname(ae);
                if (first && (!name || strcmp(name, WH_BUNDLE_MANIFEST) != 0))
                        return wh_err_set(err, 0, "bundle",
                                          "%s is not a whiskers bundle (it does not start with %s)",
                                          rd->path, WH_BUNDLE_MANIFEST);
                if ((first ? read_manifest(rd, a, err) : take_entry(rd, a, ae, err)) < 0)
                        return -1;
        }
        if (!rd->have_layout || !rd->index_doc)
                return wh_err_set(err, 0, "bundle", "%s has no oci-layout or index.json", rd->path);
        if (rd->nblobs != json_object_size(rd->blobs))
                return wh_err_set(err, 0, "bundle",
                                  "%s lists %zu blobs in its checksum manifest but holds %zu",
                                  rd->path, json_object_size(rd->blobs), rd->nblobs);
        return 0;
}

/* The parts, read one after the other as one stream. (libarchive's own
 * archive_read_open_filenames crashes in 3.6.2 when a compression filter
 * spans several files.) */
struct parts_source {
        char **parts;
        size_t next;
        int fd;
        char *buf;
};

static la_ssize_t parts_read(struct archive *a, void *ctx, const void **out)
{
        struct parts_source *src = ctx;
        for (;;) {
                if (src->fd < 0) {
                        if (!src->parts[src->next])
                                return 0;
                        src->fd = open(src->parts[src->next], O_RDONLY | O_CLOEXEC);
                        if (src->fd < 0) {
                                archive_set_error(a, errno, "cannot open %s",
                                                  src->parts[src->next]);
                                return -1;
                        }
                        src->next++;
                }
                ssize_t n = read(src->fd, src->buf, READ_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        archive_set_error(a, errno, "cannot read %s", src->parts[src->next - 1]);
                        return -1;
                }
                if (n > 0) {
                        *out = src->buf;
                        return n;
                }
                close(src->fd);
                src->fd = -1;
        }
}

int wh_bundle_read(struct wh_store *scratch, char **parts, const char *path, uint64_t max_bytes,
                   char **index_doc, struct wh_err *err)
{
        struct reader rd = {.scratch = scratch, .path = path, .max_bytes = max_bytes};
        struct parts_source src = {.parts = parts, .fd = -1, .buf = malloc(READ_BUF)};
        cleanup_archive_read struct archive *a = archive_read_new();
        rd.buf = malloc(READ_BUF);
        int rc = a && rd.buf && src.buf ? 0 : wh_err_set(err, ENOMEM, "bundle", "reading %s", path);
        if (rc == 0 && (archive_read_support_format_tar(a) != ARCHIVE_OK ||
                        archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
                        archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
                        archive_read_open2(a, &src, NULL, parts_read, NULL, NULL) != ARCHIVE_OK))
                rc = wh_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "bundle",
                                "cannot read %s: %s", path, archive_error_string(a));
        if (rc == 0)
                rc = read_all(&rd, a, err);
        if (src.fd >= 0)
                close(src.fd);
        free(src.buf);
        free(rd.buf);
        json_decref(rd.manifest);
        wh_strset_clear(&rd.names);
        if (rc == 0)
                *index_doc = rd.index_doc;
        else
                free(rd.index_doc);
        return rc;
}
