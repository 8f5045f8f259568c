/* A layout archive (zip or tar) holding some packages of a store: an OCI
 * image layout of its own (oci-layout, index.json, blobs/sha256/...), so
 * unpacked it is usable by any OCI tool.
 *
 * Deterministic: entries in a fixed order (layout files, then blobs by
 * digest), no timestamps (mtime 0; zip's DOS time becomes its 1980
 * minimum in any timezone), uid/gid 0, blobs stored without compression
 * (layers are gzip'd already). Blobs are re-hashed on the way out, so a
 * damaged store never ships. */
#include "package/cleanup_archive.h"
#include "package/digest.h"
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
#include <whiskers/package/bundle.h>

struct export
{
        struct wh_store *s;
        json_t *entries; /* the archive's index.json manifests */
        struct wh_desc_list blobs;
        struct wh_strset seen;
};

static int add_entry(struct export *x, const struct wh_index_entry *e, struct wh_err *err)
{
        json_t *j = wh_index_entry_to_json(e);
        if (!j || json_array_append_new(x->entries, j) < 0)
                return wh_err_set(err, ENOMEM, "export", "building index.json");
        return 0;
}

static bool names_ref(const char *tag, const char *ref)
{
        size_t n = strlen(ref);
        return strcmp(tag, ref) == 0 ||
               (strncmp(tag, ref, n) == 0 && tag[n] == ':' && !strchr(ref, ':'));
}

static int add_closure(struct export *x, const struct wh_descriptor *root, struct wh_err *err)
{
        struct wh_desc_list l;
        if (wh_store_closure(x->s, root, true, &l, err) < 0)
                return -1;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < l.n; i++) {
                int added = wh_strset_add(&x->seen, l.items[i].digest);
                if (added == 0)
                        continue;
                struct wh_descriptor *grown =
                    added < 0 ? NULL : realloc(x->blobs.items, (x->blobs.n + 1) * sizeof(*grown));
                if (!grown)
                        rc = wh_err_set(err, ENOMEM, "export", "listing blobs");
                else {
                        x->blobs.items = grown;
                        x->blobs.items[x->blobs.n++] = l.items[i];
                }
        }
        wh_desc_list_clear(&l);
        return rc;
}

static int by_digest(const void *a, const void *b)
{
        return strcmp(((const struct wh_index_entry *)a)->desc.digest,
                      ((const struct wh_index_entry *)b)->desc.digest);
}

static int collect(struct export *x, const char *const *refs, size_t nrefs, struct wh_err *err)
{
        cleanup_free struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_store_list(x->s, &e, &n, err) < 0)
                return -1;
        for (size_t r = 0; r < nrefs; r++) {
                struct wh_index_entry root = {0};
                if (wh_store_resolve(x->s, refs[r], &root.desc, err) < 0 ||
                    add_closure(x, &root.desc, err) < 0)
                        return -1;
                for (size_t i = 0; !wh_digest_valid(refs[r]) && i < n; i++)
                        if (strcmp(e[i].desc.digest, root.desc.digest) == 0 && e[i].ref_name[0] &&
                            names_ref(e[i].ref_name, refs[r]))
                                root = e[i];
                if (add_entry(x, &root, err) < 0)
                        return -1;
        }
        /* Signatures travel with what they sign; sorted for determinism. */
        qsort(e, n, sizeof(*e), by_digest);
        for (size_t i = 0; i < n; i++)
                if (e[i].subject[0] && wh_strset_has(&x->seen, e[i].subject) &&
                    add_entry(x, &e[i], err) < 0)
                        return -1;
        return 0;
}

static int fail(struct archive *a, const char *what, struct wh_err *err)
{
        return wh_err_set(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "export", "%s: %s",
                          what, archive_error_string(a) ? archive_error_string(a) : "libarchive");
}

static int put_header(struct archive *a, const char *name, bool dir, uint64_t size,
                      enum wh_archive_format f, struct wh_err *err)
{
        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return wh_err_set(err, ENOMEM, "export", "%s", name);
        archive_entry_set_pathname(ae, name);
        archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(ae, dir ? 0755 : 0644);
        archive_entry_set_size(ae, (la_int64_t)size);
        archive_entry_set_uid(ae, 0);
        archive_entry_set_gid(ae, 0);
        if (f == WH_ARCHIVE_TAR)
                archive_entry_set_mtime(ae, 0, 0);
        int rc = archive_write_header(a, ae) == ARCHIVE_OK ? 0 : fail(a, name, err);
        archive_entry_free(ae);
        return rc;
}

static int put_doc(struct archive *a, const char *name, const char *doc, enum wh_archive_format f,
                   struct wh_err *err)
{
        size_t len = strlen(doc);
        if (put_header(a, name, false, len, f, err) < 0)
                return -1;
        return archive_write_data(a, doc, len) == (la_ssize_t)len ? 0 : fail(a, name, err);
}

static int put_blob(struct export *x, struct archive *a, const struct wh_descriptor *d,
                    enum wh_archive_format f, struct wh_err *err)
{
        char name[96], actual[WH_DIGEST_BUF];
        snprintf(name, sizeof(name), "blobs/sha256/%s", wh_digest_hex(d->digest));
        cleanup_close int fd = -1;
        uint64_t size = d->size, left;
        struct wh_hasher h;
        if (wh_store_blob_open_desc(x->s, d, &fd, err) < 0 ||
            put_header(a, name, false, size, f, err) < 0 || wh_hasher_init(&h, err) < 0)
                return -1;
        enum { CHUNK = 1 << 16 };
        cleanup_free char *buf = malloc(CHUNK);
        int rc = buf ? 0 : wh_err_set(err, ENOMEM, "export", "%s", name);
        for (left = size; rc == 0 && left > 0;) {
                ssize_t n = read(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
                if (n <= 0)
                        rc = wh_err_set(err, n < 0 ? errno : EIO, "export", "cannot read %s", name);
                else if (wh_hasher_update(&h, buf, (size_t)n, err) < 0)
                        rc = -1;
                else if (archive_write_data(a, buf, (size_t)n) != n)
                        rc = fail(a, name, err);
                else
                        left -= (uint64_t)n;
        }
        if (rc == 0 && wh_hasher_final(&h, actual, err) < 0)
                rc = -1;
        wh_hasher_free(&h);
        if (rc == 0 && strcmp(actual, d->digest) != 0)
                rc = wh_err_set(err, 0, "export",
                                "blob %s in the store is damaged (it hashes to %s); run 'whiskers "
                                "store verify'",
                                d->digest, actual);
        return rc;
}

static int by_desc_digest(const void *a, const void *b)
{
        return strcmp(((const struct wh_descriptor *)a)->digest,
                      ((const struct wh_descriptor *)b)->digest);
}

static int write_archive(struct export *x, int fd, enum wh_archive_format f, struct wh_err *err)
{
        cleanup_json json_t *index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                                               WH_MT_INDEX, "manifests", x->entries);
        cleanup_free char *index_doc = index ? wh_json_canonical(index) : NULL;
        cleanup_archive_write struct archive *a = archive_write_new();
        if (!index_doc || !a)
                return wh_err_set(err, ENOMEM, "export", "building the archive");
        int rc = 0;
        if (f == WH_ARCHIVE_ZIP)
                rc =
                    archive_write_set_format_zip(a) != ARCHIVE_OK ||
                    archive_write_set_format_option(a, "zip", "compression", "store") != ARCHIVE_OK;
        else
                rc = archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
                     archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK;
        if (rc || archive_write_open_fd(a, fd) != ARCHIVE_OK)
                rc = fail(a, "cannot start the archive", err);
        qsort(x->blobs.items, x->blobs.n, sizeof(*x->blobs.items), by_desc_digest);
        if (rc == 0)
                rc = put_doc(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", f, err);
        if (rc == 0)
                rc = put_doc(a, "index.json", index_doc, f, err);
        if (rc == 0)
                rc = put_header(a, "blobs/", true, 0, f, err);
        if (rc == 0)
                rc = put_header(a, "blobs/sha256/", true, 0, f, err);
        for (size_t i = 0; rc == 0 && i < x->blobs.n; i++)
                rc = put_blob(x, a, &x->blobs.items[i], f, err);
        if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
                rc = fail(a, "cannot finish the archive", err);
        return rc;
}

int wh_store_export(struct wh_store *s, const char *const *refs, size_t nrefs,
                    enum wh_archive_format format, const char *path, struct wh_err *err)
{
        struct export x = {.s = s, .entries = json_array()};
        char tmp[4200];
        if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
                return wh_err_set(err, ENAMETOOLONG, "export", "%s", path);
        int rc = x.entries ? collect(&x, refs, nrefs, err)
                           : wh_err_set(err, ENOMEM, "export", "exporting");
        int fd = -1;
        if (rc == 0 && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
                rc = wh_err_set(err, errno, "export", "cannot create %s", tmp);
        if (rc == 0)
                rc = write_archive(&x, fd, format, err);
        if (rc == 0 && fsync(fd) < 0)
                rc = wh_err_set(err, errno, "export", "cannot write %s", tmp);
        if (fd >= 0 && close(fd) < 0 && rc == 0)
                rc = wh_err_set(err, errno, "export", "cannot write %s", tmp);
        if (rc == 0 && rename(tmp, path) < 0)
                rc = wh_err_set(err, errno, "export", "cannot rename %s to %s", tmp, path);
        if (rc < 0 && fd >= 0)
                unlink(tmp);
        json_decref(x.entries);
        wh_desc_list_clear(&x.blobs);
        wh_strset_clear(&x.seen);
        return rc;
}
