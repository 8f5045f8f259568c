/* Scope-bound cleanup of libarchive handles, in the style of
 * src/base/cleanup.h (kept here: only the package library links libarchive).
 *
 *   cleanup_archive_read struct archive *a = archive_read_new();
 *   cleanup_archive_write struct archive *w = archive_write_new();
 *
 * freed when they leave scope; both free functions accept NULL. Freeing a
 * writer closes it: on success call archive_write_close() first and check it,
 * so a failure to finish the archive is reported, not dropped. */
#ifndef WH_PACKAGE_CLEANUP_ARCHIVE_H
#define WH_PACKAGE_CLEANUP_ARCHIVE_H

#include <archive.h>

static inline void wh_archive_read_freep(struct archive **a)
{
        archive_read_free(*a);
}

static inline void wh_archive_write_freep(struct archive **a)
{
        archive_write_free(*a);
}

#define cleanup_archive_read  __attribute__((cleanup(wh_archive_read_freep)))
#define cleanup_archive_write __attribute__((cleanup(wh_archive_write_freep)))

#endif
