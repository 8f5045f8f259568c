/* Walking what a descriptor reaches: index -> manifests -> config + layers.
 * Shared by closure, gc (mark), verify and index checks. */
#ifndef WH_PACKAGE_WALK_H
#define WH_PACKAGE_WALK_H

#include "package/store.h"
#include "base/strset.h"

struct wh_walk_ops {
        /* Called once per reachable descriptor, parents first; may be NULL. */
        int (*visit)(const struct wh_descriptor *d, void *ctx, struct wh_err *err);
        /* A missing, unreadable, malformed or wrong-size blob (`parent` is the
         * digest that named it, or "" for the root). Return 0 to go on (a
         * wrong-size manifest's children are still walked).
         * NULL: the walk fails with that problem as its error. */
        int (*problem)(const struct wh_descriptor *d, const char *parent, const char *what,
                       void *ctx, struct wh_err *err);
};

/* Digests already in `seen` are skipped (so several roots share one set). */
int wh_walk(struct wh_store *s, const struct wh_descriptor *root, const struct wh_walk_ops *ops,
            void *ctx, struct wh_strset *seen, struct wh_err *err);

#endif
