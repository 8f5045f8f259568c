/* Reading a layer: the one place that decides what a layer may hold.
 *
 * wh_unpack_tar extracts through it and every import, push, sign and
 * verify checks layers through it, so a layer the unpacker would refuse
 * never gets into a store, onto a registry or under a signature. The rules
 * (docs/packages.md §7): relative names without ".." or empty components;
 * only files, directories, symlinks that stay inside and hardlinks to a
 * file earlier in the archive; no setuid, setgid or sticky bit; each name
 * once, never below a non-directory and never a non-directory where a
 * directory was implied; at most max_entries entries (implied directories
 * count) and max_bytes of file data. Every byte of fd is hashed, including
 * what follows the tar end marker. */
#ifndef WH_PACKAGE_LAYER_READ_H
#define WH_PACKAGE_LAYER_READ_H

#include <sys/types.h>
#include <whiskers/package/store.h>

enum wh_layer_kind { WH_LAYER_FILE, WH_LAYER_DIR, WH_LAYER_SYMLINK, WH_LAYER_HARDLINK };

struct wh_layer_entry {
        const char *name; /* normalised: relative, no "./" prefix, no trailing '/' */
        enum wh_layer_kind kind;
        const char *target; /* symlink target, or the normalised name a hardlink names */
        mode_t perm;        /* at most 0755 */
};

struct wh_layer_reader;
/* Called for every entry that passed the rules, in archive order. A file's
 * data is read with wh_layer_data (what is left unread is skipped). */
typedef int (*wh_layer_fn)(struct wh_layer_reader *r, const struct wh_layer_entry *e, void *ctx,
                           struct wh_err *err);

/* Read the tar (plain, gzip or zstd) on fd through the rules. expect_digest
 * (may be NULL) must be the hash of every byte of fd; when it is not, that
 * is the error, whatever else went wrong on the way. fn NULL: check only
 * (file data is read and counted, nothing is written). lim NULL: the
 * unpacker's defaults. */
int wh_layer_read(int fd, const char *expect_digest, const struct wh_unpack_limits *lim,
                  wh_layer_fn fn, void *ctx, struct wh_err *err);

/* The next piece of the current file's data, counted against max_bytes: its
 * length (0 at the end of the file), or -1 with err set. */
ssize_t wh_layer_data(struct wh_layer_reader *r, const void **buf, struct wh_err *err);

bool wh_media_type_is_layer(const char *mt);

#endif
