/* The closure of a package: what a copy of it must carry. */
#include "package/walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int append(const struct wh_descriptor *d, void *ctx, struct wh_err *err)
{
        struct wh_desc_list *l = ctx;
        struct wh_descriptor *items = realloc(l->items, (l->n + 1) * sizeof(*items));
        if (!items)
                return wh_err_set(err, ENOMEM, "closure", "listing blobs");
        items[l->n++] = *d;
        l->items = items;
        return 0;
}

/* Referrers of anything in the closure, until none is new (a signature may
 * itself be signed). */
static int add_referrers(struct wh_store *s, struct wh_strset *seen, const struct wh_walk_ops *ops,
                         struct wh_desc_list *out, struct wh_err *err)
{
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_store_list(s, &e, &n, err) < 0)
                return -1;
        int rc = 0;
        for (bool grew = true; grew && rc == 0;) {
                grew = false;
                for (size_t i = 0; i < n && rc == 0; i++) {
                        if (!e[i].subject[0] || !wh_strset_has(seen, e[i].subject) ||
                            wh_strset_has(seen, e[i].desc.digest))
                                continue;
                        rc = wh_walk(s, &e[i].desc, ops, out, seen, err);
                        grew = true;
                }
        }
        free(e);
        return rc;
}

int wh_store_closure(struct wh_store *s, const struct wh_descriptor *root, bool referrers,
                     struct wh_desc_list *out, struct wh_err *err)
{
        struct wh_strset seen = {0};
        struct wh_walk_ops ops = {.visit = append};
        *out = (struct wh_desc_list){0};
        int rc = wh_walk(s, root, &ops, out, &seen, err);
        if (rc == 0 && referrers)
                rc = add_referrers(s, &seen, &ops, out, err);
        wh_strset_clear(&seen);
        if (rc < 0)
                wh_desc_list_clear(out);
        return rc;
}

void wh_desc_list_clear(struct wh_desc_list *l)
{
        free(l->items);
        l->items = NULL;
        l->n = 0;
}
