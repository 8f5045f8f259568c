/* A normaliser directory as the sorted list of entries its layer holds, and
 * the deterministic layer written from it. */
#ifndef WH_PACKAGE_TREE_H
#define WH_PACKAGE_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <whiskers/package/store.h>

enum wh_tree_type { WH_TREE_DIR, WH_TREE_FILE, WH_TREE_SYMLINK };

struct wh_tree_entry {
        char *path; /* relative, no trailing '/' */
        enum wh_tree_type type;
        bool exec;     /* owner execute bit set (files) */
        uint64_t size; /* files */
        char *target;  /* symlinks */
};

struct wh_tree {
        size_t n;
        struct wh_tree_entry *e;
};

/* Scan below root_fd, skipping hidden names (".git", editor files) and
 * __pycache__; sorted bytewise by path. Only directories, regular files and
 * symlinks that stay inside are accepted. */
int wh_tree_scan(int root_fd, const char *origin, struct wh_tree *t, struct wh_err *err);
const struct wh_tree_entry *wh_tree_find(const struct wh_tree *t, const char *path);
void wh_tree_clear(struct wh_tree *t);

/* The layer: pax tar (sorted entries, mtime = `mtime`, uid/gid 0, no user
 * or group names, modes 0755 for directories and executables, 0644 for other
 * files) compressed by gzip level 6 with no name and no timestamp. */
int wh_layer_write(int root_fd, const struct wh_tree *t, int64_t mtime, struct wh_blob_writer *w,
                   struct wh_err *err);

#endif
