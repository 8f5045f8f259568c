/* whiskers bundle export: the air-gap file.
 *
 * The layout part is exactly what wh_store_export writes as a tar (the same
 * closure, signatures and determinism), produced into a temporary file
 * beside the destination; this file reads it once to build the checksum
 * manifest (every blob's digest and size, the digest of index.json), then
 * writes the bundle: the manifest first, so an import knows what to expect
 * before the first blob, then the layout's entries unchanged, through the
 * optional zstd filter into one file or parts. */
#include "package/bundle.h"
#include "package/cleanup_archive.h"
#include "package/digest.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_BUF (256u << 10)

static int lib_fail(struct archive *a, const char *what, struct wh_err *err)
{
        return wh_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "bundle", "%s: %s",
                          what, archive_error_string(a) ? archive_error_string(a) : "libarchive");
}

static int open_layout(const char *tmp, struct archive **out, struct wh_err *err)
{
        cleanup_archive_read struct archive *a = archive_read_new();
        if (!a)
                return wh_err_set(err, ENOMEM, "bundle", "reading %s", tmp);
        if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_open_filename(a, tmp, COPY_BUF) != ARCHIVE_OK)
                return lib_fail(a, tmp, err);
        *out = steal_pointer(&a);
        return 0;
}

static int hash_entry(struct archive *a, char *buf, char digest[WH_DIGEST_BUF], struct wh_err *err)
{
        struct wh_hasher h;
        if (wh_hasher_init(&h, err) < 0)
                return -1;
        la_ssize_t n;
        int rc = 0;
        while (rc == 0 && (n = archive_read_data(a, buf, COPY_BUF)) > 0)
                rc = wh_hasher_update(&h, buf, (size_t)n, err);
        if (rc == 0 && n < 0)
                rc = lib_fail(a, "index.json", err);
        if (rc == 0)
                rc = wh_hasher_final(&h, digest, err);
        wh_hasher_free(&h);
        return rc;
}

/* {"blobs": {digest: size}, "index": digest of index.json, ...} */
static int build_manifest(const char *tmp, char **out, struct wh_err *err)
{
        cleanup_archive_read struct archive *a = NULL;
        if (open_layout(tmp, &a, err) < 0)
                return -1;
        cleanup_json json_t *blobs = json_object();
        char index_digest[WH_DIGEST_BUF] = "";
        cleanup_free char *buf = malloc(COPY_BUF);
        int rc = blobs && buf ? 0 : wh_err_set(err, ENOMEM, "bundle", "building the manifest");
        struct archive_entry *ae;
        while (rc == 0) {
                int r = archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK) {
                        rc = lib_fail(a, tmp, err);
                        break;
                }
                const char *name = archive_entry_pathname(ae);
                char digest[WH_DIGEST_BUF];
                if (strcmp(name, "index.json") == 0) {
                        rc = hash_entry(a, buf, index_digest, err);
                } else if (strncmp(name, "blobs/sha256/", 13) == 0 && name[13]) {
                        snprintf(digest, sizeof(digest), "sha256:%s", name + 13);
                        if (json_object_set_new(blobs, digest,
                                                json_integer(archive_entry_size(ae))) < 0)
                                rc = wh_err_set(err, ENOMEM, "bundle", "building the manifest");
                }
        }
        cleanup_json json_t *m =
            rc == 0 ? json_pack("{s:i,s:s,s:s,s:O}", "bundleVersion", 1, "index", index_digest,
                                "created_by", "whiskers", "blobs", blobs)
                    : NULL;
        if (rc == 0 && (!m || !(*out = wh_json_canonical(m))))
                rc = wh_err_set(err, ENOMEM, "bundle", "building the manifest");
        return rc;
}

static int put_manifest(struct archive *w, const char *doc, struct wh_err *err)
{
        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return wh_err_set(err, ENOMEM, "bundle", "writing the manifest");
        size_t len = strlen(doc);
        archive_entry_set_pathname(ae, WH_BUNDLE_MANIFEST);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)len);
        archive_entry_set_mtime(ae, 0, 0);
        int rc = archive_write_header(w, ae) != ARCHIVE_OK ||
                         archive_write_data(w, doc, len) != (la_ssize_t)len
                     ? lib_fail(w, WH_BUNDLE_MANIFEST, err)
                     : 0;
        archive_entry_free(ae);
        return rc;
}

static int copy_entries(struct archive *r, struct archive *w, const char *tmp, struct wh_err *err)
{
        cleanup_free char *buf = malloc(COPY_BUF);
        if (!buf)
                return wh_err_set(err, ENOMEM, "bundle", "copying");
        struct archive_entry *ae;
        for (;;) {
                int rc = archive_read_next_header(r, &ae);
                if (rc == ARCHIVE_EOF)
                        return 0;
                if (rc != ARCHIVE_OK)
                        return lib_fail(r, tmp, err);
                if (archive_write_header(w, ae) != ARCHIVE_OK)
                        return lib_fail(w, archive_entry_pathname(ae), err);
                la_ssize_t n;
                while ((n = archive_read_data(r, buf, COPY_BUF)) > 0)
                        if (archive_write_data(w, buf, (size_t)n) != n)
                                return lib_fail(w, archive_entry_pathname(ae), err);
                if (n < 0)
                        return lib_fail(r, tmp, err);
        }
}

static int write_bundle(const char *tmp, const char *path, const char *manifest,
                        const struct wh_bundle_options *o, struct wh_err *err)
{
        struct archive *w = archive_write_new(), *r = NULL;
        struct wh_bundle_sink *sink = NULL;
        char level[16];
        snprintf(level, sizeof(level), "%d", o->zstd_level ? o->zstd_level : 3);
        int rc = w ? 0 : wh_err_set(err, ENOMEM, "bundle", "writing %s", path);
        if (rc == 0 && (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
                        archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
                        (o->zstd && (archive_write_add_filter_zstd(w) != ARCHIVE_OK ||
                                     archive_write_set_filter_option(w, "zstd", "compression-level",
                                                                     level) != ARCHIVE_OK))))
                rc = lib_fail(w, "setting up the bundle writer", err);
        if (rc == 0)
                rc = wh_bundle_sink_open(w, path, o->split_size, &sink, err);
        if (rc == 0)
                rc = open_layout(tmp, &r, err);
        if (rc == 0)
                rc = put_manifest(w, manifest, err);
        if (rc == 0)
                rc = copy_entries(r, w, tmp, err);
        if (rc == 0 && archive_write_close(w) != ARCHIVE_OK)
                rc = lib_fail(w, "finishing the bundle", err);
        if (r)
                archive_read_free(r);
        archive_write_free(w);
        if (sink && wh_bundle_sink_finish(sink, rc == 0, err) < 0)
                rc = -1;
        return rc;
}

int wh_bundle_export(struct wh_store *s, const char *const *refs, size_t nrefs, const char *path,
                     const struct wh_bundle_options *o, struct wh_err *err)
{
        static const struct wh_bundle_options defaults = {0};
        char tmp[4200];
        if (snprintf(tmp, sizeof(tmp), "%s.layout.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
                return wh_err_set(err, ENAMETOOLONG, "bundle", "%s", path);
        if (!nrefs)
                return wh_err_set(err, 0, "bundle", "name at least one package to export");
        if (o && o->zstd_level && (o->zstd_level < 1 || o->zstd_level > 19))
                return wh_err_set(err, 0, "bundle", "zstd level %d is outside 1..19",
                                  o->zstd_level);
        cleanup_free char *manifest = NULL;
        int rc = wh_store_export(s, refs, nrefs, WH_ARCHIVE_TAR, tmp, err);
        if (rc == 0)
                rc = build_manifest(tmp, &manifest, err);
        if (rc == 0)
                rc = write_bundle(tmp, path, manifest, o ? o : &defaults, err);
        unlink(tmp);
        return rc;
}
