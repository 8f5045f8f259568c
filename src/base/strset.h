/* A set of strings (digests, archive entry names, primary keys): open
 * addressing with FNV-1a hashes, keys copied. Used to catch duplicates, mark
 * reachable blobs and resolve references. */
#ifndef WH_BASE_STRSET_H
#define WH_BASE_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct wh_strset {
        char **slots;
        size_t cap, n;
};

/* 1 when added, 0 when already present, -1 on allocation failure. */
int wh_strset_add(struct wh_strset *set, const char *key);
bool wh_strset_has(const struct wh_strset *set, const char *key);
void wh_strset_clear(struct wh_strset *set);

#endif
