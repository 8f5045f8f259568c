/* Normaliser references that name packages (worker.h, struct
 * wh_package_source): the worker's one door to the package store. */
#ifndef WH_WORKER_PACKAGES_H
#define WH_WORKER_PACKAGES_H

#include <stdbool.h>
#include <whiskers/contract.h>
#include <whiskers/worker.h>

/* Whether ref names a package of src's store (never for a path with '/',
 * nor without a store). *found false and 0 when it does not. */
int worker_package_exists(const struct wh_package_source *src, const char *ref, bool *found,
                          struct wh_err *err);
/* Check the package out (signature policy, variant, unpacked layer) and
 * load it with opts; *found false and 0 when ref names no package. */
int worker_package_load(const struct wh_package_source *src, const char *ref,
                        struct wh_normaliser_options *opts, struct wh_normaliser **out, bool *found,
                        struct wh_err *err);

#endif
