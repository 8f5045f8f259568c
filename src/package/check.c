/* Checking a package whole (package.h: wh_store_check): what imports, pull
 * and push run before anything becomes visible, and what sign and verify
 * run before they vouch for a digest. A signature covers one digest; this
 * is what makes that digest stand for intact, unpackable content. */
#include "package/digest.h"
#include "package/layer_read.h"
#include "package/walk.h"
#include "base/cleanup.h"

#include <stdio.h>
#include <string.h>

int wh_store_check_blob(struct wh_store *s, const struct wh_descriptor *d, struct wh_err *err)
{
        cleanup_close int fd = -1;
        if (wh_store_blob_open_desc(s, d, &fd, err) < 0)
                return -1;
        if (wh_media_type_is_layer(d->media_type)) {
                if (wh_layer_read(fd, d->digest, NULL, NULL, NULL, err) < 0)
                        return wh_err_prefix(err, "layer %s", d->digest);
                return 0;
        }
        char actual[WH_DIGEST_BUF];
        if (wh_digest_fd(fd, actual, NULL, err) < 0)
                return -1;
        if (strcmp(actual, d->digest) != 0)
                return wh_err_set(err, 0, "check",
                                  "blob %s in %s does not match its digest (its content is %s); "
                                  "'whiskers store verify %s' lists damaged blobs",
                                  d->digest, wh_store_path(s), actual, wh_store_path(s));
        return 0;
}

static int check_one(const struct wh_descriptor *d, void *ctx, struct wh_err *err)
{
        return wh_store_check_blob(ctx, d, err);
}

int wh_store_check(struct wh_store *s, const struct wh_descriptor *root, struct wh_err *err)
{
        struct wh_strset seen = {0};
        const struct wh_walk_ops ops = {.visit = check_one};
        int rc = wh_walk(s, root, &ops, s, &seen, err);
        wh_strset_clear(&seen);
        return rc;
}
