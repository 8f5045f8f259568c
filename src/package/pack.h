/* Packing one normaliser directory into a manifest (pack_dir.c); pack.c
 * joins variants into an index and tags the result. */
#ifndef WH_PACKAGE_PACK_H
#define WH_PACKAGE_PACK_H

#include "package/store.h"

#include <whiskers/package.h>

struct wh_packed {
        struct wh_package_meta meta;
        struct wh_descriptor manifest;
};

/* Read and validate DIR/normalizer.json; `version` goes in when it has
 * none (OpenKAT's form). */
int wh_pack_meta(const char *dir, const char *version, struct wh_package_meta *out,
                 struct wh_err *err);
/* Write p->meta's layer, config and manifest; fills p->manifest. */
int wh_pack_dir(struct wh_store *s, const char *dir, int64_t source_date_epoch, struct wh_packed *p,
                struct wh_err *err);
/* A directory of Python code as one deterministic layer blob. */
int wh_pack_python_layer(struct wh_store *s, const char *dir, int64_t source_date_epoch,
                         struct wh_descriptor *out, struct wh_err *err);
/* The annotations every package manifest and index carries. */
json_t *wh_package_annotations(const struct wh_package_meta *m, int64_t source_date_epoch);
/* "a,b,c" from an array of strings (malloc'd). */
char *wh_join_names(json_t *arr);

#endif
