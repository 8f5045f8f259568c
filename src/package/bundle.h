/* Internals shared by the bundle part's files (bundle_*.c, import.c). */
#ifndef WH_PACKAGE_BUNDLE_H
#define WH_PACKAGE_BUNDLE_H

#include <whiskers/package/bundle.h>

struct archive;

/* A libarchive writer whose output goes to path, or to parts path.000,
 * path.001, ... of split_size bytes, all through temporary names that
 * wh_bundle_sink_finish renames into place (or removes on failure). */
struct wh_bundle_sink;
int wh_bundle_sink_open(struct archive *a, const char *path, uint64_t split_size,
                        struct wh_bundle_sink **out, struct wh_err *err);
/* ok: rename into place and drop stale parts; !ok: remove everything. */
int wh_bundle_sink_finish(struct wh_bundle_sink *k, bool ok, struct wh_err *err);

/* The files a bundle at path is made of: path itself, or path.000, .001, ...
 * (a NULL-terminated array of malloc'd strings; free with
 * wh_bundle_parts_free). */
int wh_bundle_parts(const char *path, char ***parts, struct wh_err *err);
void wh_bundle_parts_free(char **parts);

/* Read the bundle made of parts into the scratch store (blobs committed
 * there), checking it against its checksum manifest; index_doc receives the
 * bundle's index.json (free()). */
int wh_bundle_read(struct wh_store *scratch, char **parts, const char *path, uint64_t max_bytes,
                   char **index_doc, struct wh_err *err);

/* The end of an import: the entries it added go to the caller who asked
 * for them (added, nadded), else are freed; on failure (rc < 0) they are
 * freed. Returns 0 or -1 as rc says. */
int wh_import_hand_over(int rc, struct wh_index_entry *e, size_t n, struct wh_index_entry **added,
                        size_t *nadded);

#endif
