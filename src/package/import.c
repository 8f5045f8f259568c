/* Importing a layout archive (package.h: wh_store_import).
 *
 * Only a layout's own names are accepted, so no entry can point anywhere
 * else: "oci-layout", "index.json", the directories "blobs" and
 * "blobs/sha256", and files "blobs/sha256/<64 hex>". Each blob is streamed
 * into a staged temporary file and checked against its name; then every
 * index.json entry's closure is checked (wh_store_check: complete, intact,
 * layers within the unpacker's rules) with the staged blobs visible to this
 * handle only. Only then are the blobs renamed into place and index.json
 * updated. A failure leaves the store as it was. */
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package/bundle.h>

#define LAYOUT_DOC_MAX 4096

struct import {
        struct wh_store *s;
        struct wh_strset names;
        struct wh_blob_writer **staged;
        size_t nstaged;
        char *layout_doc, *index_doc;
        uint64_t bytes, max_bytes;
        char buf[1 << 16];
};

static int refuse(const char *name, const char *why, struct wh_err *err)
{
        return wh_err_set(err, 0, "import", "refused entry '%s': %s", name, why);
}

static int take_bytes(struct import *im, size_t n, const char *name, struct wh_err *err)
{
        if (n > im->max_bytes - im->bytes)
                return wh_err_set(err, 0, "import",
                                  "more than %llu bytes at '%s' (a decompression bomb?)",
                                  (unsigned long long)im->max_bytes, name);
        im->bytes += n;
        return 0;
}

/* The current entry's data, a chunk at a time into put(ctx): more than max
 * bytes are refused, and each chunk counts against the import's byte limit
 * before it is put anywhere. */
static int read_entry(struct import *im, struct archive *a, const char *name, size_t max,
                      int (*put)(void *ctx, const void *buf, size_t n, struct wh_err *err),
                      void *ctx, struct wh_err *err)
{
        size_t len = 0;
        for (;;) {
                la_ssize_t n = archive_read_data(a, im->buf, sizeof(im->buf));
                if (n < 0)
                        return wh_err_set(err, 0, "import", "reading %s: %s", name,
                                          archive_error_string(a));
                if (n == 0)
                        return 0;
                if ((size_t)n > max - len)
                        return refuse(name, "larger than allowed", err);
                if (take_bytes(im, (size_t)n, name, err) < 0 ||
                    put(ctx, im->buf, (size_t)n, err) < 0)
                        return -1;
                len += (size_t)n;
        }
}

struct doc {
        char *text;
        size_t len;
};

static int put_doc(void *ctx, const void *buf, size_t n, struct wh_err *err)
{
        (void)err;
        struct doc *d = ctx;
        memcpy(d->text + d->len, buf, n);
        d->len += n;
        return 0;
}

static int read_doc(struct import *im, struct archive *a, const char *name, char **out, size_t max,
                    struct wh_err *err)
{
        cleanup_free char *text = malloc(max + 1);
        if (!text)
                return wh_err_set(err, ENOMEM, "import", "%s", name);
        struct doc d = {.text = text};
        if (read_entry(im, a, name, max, put_doc, &d, err) < 0)
                return -1;
        text[d.len] = '\0';
        *out = steal_pointer(&text);
        return 0;
}

static int put_blob(void *ctx, const void *buf, size_t n, struct wh_err *err)
{
        return wh_blob_writer_write(ctx, buf, n, err);
}

static int stage_blob(struct import *im, struct archive *a, const char *name, const char *digest,
                      struct wh_err *err)
{
        struct wh_blob_writer **grown = realloc(im->staged, (im->nstaged + 1) * sizeof(*grown));
        if (!grown)
                return wh_err_set(err, ENOMEM, "import", "%s", name);
        im->staged = grown;
        struct wh_blob_writer *w;
        if (wh_blob_writer_new(im->s, &w, err) < 0)
                return -1;
        im->staged[im->nstaged++] = w; /* freed with the import, committed or not */
        if (read_entry(im, a, name, SIZE_MAX, put_blob, w, err) < 0)
                return -1;
        if (wh_blob_writer_seal(w, digest, NULL, NULL, err) < 0)
                return wh_err_prefix(err, "%s", name);
        return 0;
}

static int take_entry(struct import *im, struct archive *a, struct archive_entry *ae,
                      struct wh_err *err)
{
        const char *raw = archive_entry_pathname(ae);
        char name[256];
        if (!raw || wh_entry_name_normalize(raw, name, sizeof(name)) < 0)
                return refuse(raw ? raw : "?", "not part of an OCI layout", err);
        bool is_dir = archive_entry_filetype(ae) == AE_IFDIR;
        bool is_file = archive_entry_filetype(ae) == AE_IFREG && !archive_entry_hardlink(ae);
        if (strcmp(name, "blobs") == 0 || strcmp(name, "blobs/sha256") == 0 || !name[0]) {
                if (!is_dir)
                        return refuse(name, "must be a directory", err);
        } else if (!is_file) {
                return refuse(name, "links, devices and other special files are not allowed", err);
        }
        int added = wh_strset_add(&im->names, name);
        if (added < 0)
                return wh_err_set(err, ENOMEM, "import", "%s", name);
        if (added == 0)
                return refuse(name, "duplicate entry", err);
        if (is_dir)
                return 0;
        if (strcmp(name, "oci-layout") == 0)
                return read_doc(im, a, name, &im->layout_doc, LAYOUT_DOC_MAX, err);
        if (strcmp(name, "index.json") == 0)
                return read_doc(im, a, name, &im->index_doc, WH_INDEX_MAX, err);
        char digest[WH_DIGEST_BUF];
        if (strncmp(name, "blobs/sha256/", 13) != 0 ||
            snprintf(digest, sizeof(digest), "sha256:%s", name + 13) >= (int)sizeof(digest) ||
            !wh_digest_valid(digest))
                return refuse(name, "not part of an OCI layout (or not a sha256 blob)", err);
        return stage_blob(im, a, name, digest, err);
}

static int read_archive(struct import *im, const char *path, uint64_t max_entries,
                        struct wh_err *err)
{
        cleanup_archive_read struct archive *a = archive_read_new();
        if (!a)
                return wh_err_set(err, ENOMEM, "import", "allocating an archive reader");
        int rc = 0;
        /* zip through its central directory (seekable); tar plain or gzip'd. */
        if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
            archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK)
                rc = wh_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "import",
                                "cannot read %s: %s", path, archive_error_string(a));
        uint64_t entries = 0;
        struct archive_entry *ae;
        while (rc == 0) {
                int r = archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        rc = wh_err_set(err, 0, "import", "%s is damaged: %s", path,
                                        archive_error_string(a));
                else if (++entries > max_entries)
                        rc = wh_err_set(err, 0, "import", "%s has more than %llu entries", path,
                                        (unsigned long long)max_entries);
                else
                        rc = take_entry(im, a, ae, err);
        }
        return rc;
}

static int check_layout(struct import *im, const char *path, struct wh_index_entry **e, size_t *n,
                        struct wh_err *err)
{
        if (!im->layout_doc || !im->index_doc)
                return wh_err_set(err, 0, "import",
                                  "%s is not an OCI layout archive (no oci-layout or index.json)",
                                  path);
        cleanup_json json_t *layout = json_loads(im->layout_doc, 0, NULL);
        const char *v = json_string_value(json_object_get(layout, "imageLayoutVersion"));
        bool ok = v && strncmp(v, "1.", 2) == 0;
        if (!ok)
                return wh_err_set(err, 0, "import", "%s: oci-layout is not version 1.x", path);
        json_error_t jerr;
        cleanup_json json_t *index = json_loads(im->index_doc, JSON_REJECT_DUPLICATES, &jerr);
        int rc = index ? wh_index_entries(index, e, n, err)
                       : wh_err_set(err, 0, "import", "%s: index.json: %s", path, jerr.text);
        return rc;
}

/* With the staged blobs visible: everything each entry reaches is there,
 * intact, and every layer passes the unpacker's rules. */
static int check_closures(struct import *im, struct wh_index_entry *e, size_t n, struct wh_err *err)
{
        wh_store_stage(im->s, im->staged, im->nstaged);
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
                wh_index_entry_fill_subject(im->s, &e[i]);
                if (e[i].subject[0] && !wh_store_blob_exists(im->s, e[i].subject))
                        rc = wh_err_set(err, 0, "import",
                                        "signature %s names subject %s, which is missing",
                                        e[i].desc.digest, e[i].subject);
                else
                        rc = wh_store_check(im->s, &e[i].desc, err);
        }
        wh_store_stage(im->s, NULL, 0);
        return rc;
}

int wh_store_import(struct wh_store *s, const char *path, const struct wh_import_limits *lim,
                    struct wh_index_entry **added, size_t *nadded, struct wh_err *err)
{
        struct import *im = calloc(1, sizeof(*im));
        if (!im)
                return wh_err_set(err, ENOMEM, "import", "importing %s", path);
        im->s = s;
        im->max_bytes = lim && lim->max_bytes ? lim->max_bytes : WH_IMPORT_DEFAULT_MAX_BYTES;
        uint64_t max_entries =
            lim && lim->max_entries ? lim->max_entries : WH_IMPORT_DEFAULT_MAX_ENTRIES;
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        int rc = s->writable ? 0 : wh_err_set(err, 0, "import", "%s is read-only", s->path);
        if (rc == 0)
                rc = read_archive(im, path, max_entries, err);
        if (rc == 0)
                rc = check_layout(im, path, &e, &n, err);
        if (rc == 0)
                rc = check_closures(im, e, n, err);
        for (size_t i = 0; rc == 0 && i < im->nstaged; i++)
                rc = wh_blob_writer_commit(im->staged[i], err);
        if (rc == 0)
                rc = wh_store_index_add_many(s, e, n, err);
        for (size_t i = 0; i < im->nstaged; i++)
                wh_blob_writer_free(im->staged[i]);
        free(im->staged);
        free(im->layout_doc);
        free(im->index_doc);
        wh_strset_clear(&im->names);
        free(im);
        return wh_import_hand_over(rc, e, n, added, nadded);
}

int wh_import_hand_over(int rc, struct wh_index_entry *e, size_t n, struct wh_index_entry **added,
                        size_t *nadded)
{
        if (rc < 0 || !added) {
                free(e);
                return rc < 0 ? -1 : 0;
        }
        *added = e;
        *nadded = n;
        return 0;
}
