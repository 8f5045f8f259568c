/* Moving a store's packages as files (src/package: export, import,
 * bundle_*.c): layout archives (zip, or tar), and air-gap bundles that are
 * imported all or nothing and relocated to an internal registry. */
#ifndef WHISKERS_PACKAGE_BUNDLE_H
#define WHISKERS_PACKAGE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/package/registry.h>
#include <whiskers/package/store.h>
#include <whiskers/package/trust.h>

/* ---- Layout archives (the zip form; tar for bundles) -------------------- */

enum wh_archive_format { WH_ARCHIVE_ZIP, WH_ARCHIVE_TAR };

/* Write an archive holding an OCI layout with these refs (tags or digests),
 * everything they reach and their referrers. Deterministic: the same content
 * gives the same bytes. Written to a temporary sibling and renamed. */
int wh_store_export(struct wh_store *s, const char *const *refs, size_t nrefs,
                    enum wh_archive_format format, const char *path, struct wh_err *err);

struct wh_import_limits {
        uint64_t max_bytes;   /* sum of entry sizes; 0 = WH_IMPORT_DEFAULT_MAX_BYTES */
        uint64_t max_entries; /* 0 = WH_IMPORT_DEFAULT_MAX_ENTRIES */
};
#define WH_IMPORT_DEFAULT_MAX_BYTES   (4ull << 30)
#define WH_IMPORT_DEFAULT_MAX_ENTRIES 100000ull

/* Import an archived layout (zip or tar, optionally gzip'd). Only the layout's
 * own names are accepted; every blob is checked against its name, every entry
 * of the archive's index.json must be complete. All or nothing: index.json
 * changes only after every blob is verified and published. The added entries
 * are returned (free with free()). */
int wh_store_import(struct wh_store *s, const char *path, const struct wh_import_limits *lim,
                    struct wh_index_entry **added, size_t *nadded, struct wh_err *err);

/* ---- Air-gap bundles ------------------------------------------------------ */

/* A bundle is one pax tar (optionally zstd-compressed, optionally split into
 * parts FILE.000, FILE.001, ...): first "whiskers-bundle.json", the checksum
 * manifest (refs, every blob's digest and size, the digest of index.json),
 * then an OCI layout (oci-layout, index.json, blobs/sha256/...) holding the
 * packages, everything they reach (runtime images, schemas: any ref) and
 * their signatures. */
#define WH_BUNDLE_MANIFEST "whiskers-bundle.json"

struct wh_bundle_options {
        bool zstd;           /* compress with zstd (libarchive's filter, in-process) */
        int zstd_level;      /* 1..19; 0 = 3 */
        uint64_t split_size; /* > 0: parts FILE.000, FILE.001, ... of this size */
};

/* Write the refs of the store (tags or digests) as a bundle at path (or its
 * parts), through temporary siblings renamed at the end. Stale parts of an
 * earlier export with more parts are removed. */
int wh_bundle_export(struct wh_store *s, const char *const *refs, size_t nrefs, const char *path,
                     const struct wh_bundle_options *o, struct wh_err *err);

struct wh_bundle_import_options {
        const struct wh_trust *trust; /* each tagged package needs a valid signature */
        bool allow_unsigned;          /* development: no signature needed */
        uint64_t max_bytes;           /* 0 = WH_IMPORT_DEFAULT_MAX_BYTES */
};

/* Import a bundle (path, or path.000 and its following parts; plain or
 * zstd- or gzip-compressed). Offline and all or nothing: every blob is
 * hashed against its name and the checksum manifest, the layout must be
 * complete, and every tagged package must carry a valid signature by a
 * trusted key before any blob enters blobs/ or index.json changes. Work
 * happens in a scratch layout under LAYOUT/.whiskers/tmp. The added
 * index.json entries are returned (free()). */
int wh_bundle_import(struct wh_store *s, const char *path, const struct wh_bundle_import_options *o,
                     struct wh_index_entry **added, size_t *nadded, struct wh_err *err);

/* After an import: push each tagged entry of e to an internal registry as
 * "<prefix>/<name>:<tag>" (name: the tag's part before ':' in lowercase,
 * '+' in the tag becomes '_'), and record it in LAYOUT/relocations.json:
 * {"relocations": {"<local tag>": {"digest": ..., "location": ...}}},
 * merged with what is there. Manifests are pushed unchanged, so digests and
 * signatures stay valid. */
int wh_bundle_relocate(struct wh_store *s, const struct wh_index_entry *e, size_t n,
                       const char *prefix, const struct wh_registry_options *o, struct wh_err *err);

#endif
