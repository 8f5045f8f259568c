/* Internals of runtime images (package.h: wh_runtime_build). */
#ifndef WH_PACKAGE_RUNTIME_H
#define WH_PACKAGE_RUNTIME_H

#include <dirent.h>
#include <whiskers/package/runtime.h>

struct wh_runtime_info {
        char name[WH_NAME_MAX]; /* "python3.11" */
        char interpreter[4096]; /* absolute path inside the image */
};

/* Copy what the Python interpreter `python` needs to run (itself, its
 * stdlib, the shared objects it and its extension modules map, the dynamic
 * loader, their soname links) below root_fd, at the same paths. */
int wh_runtime_python_tree(const char *python, int root_fd, struct wh_runtime_info *info,
                           struct wh_err *err);

/* Empty mount points the sandbox binds onto in a read-only image root:
 * proc, dev, tmp, normaliser, input and the Python layers' slots
 * (WH_SANDBOX_PYTHON_DIR/0..WH_PYTHON_LAYERS_MAX-1). */
int wh_runtime_mount_points(int root_fd, struct wh_err *err);

/* The tree below root_fd as a deterministic layer (every mtime `mtime`),
 * an OCI image config and manifest (the runtime annotations plus
 * `annotations`, which may be NULL), tagged `tag`. */
int wh_runtime_write_image(struct wh_store *s, int root_fd, const char *origin, int64_t mtime,
                           const struct wh_runtime_info *info, json_t *annotations, const char *tag,
                           struct wh_descriptor *root, struct wh_err *err);

/* What a Debian image is built from (runtime_debian.c). */
struct wh_debian_recipe {
        const char *suite, *mirror;
        json_t *packages;    /* sorted, distinct names */
        const char *release; /* digest of the InRelease the cache key holds */
};
/* mmdebstrap into STAGE/root, its output in STAGE/log; a failure names a
 * package the archive does not have, or quotes mmdebstrap's error. */
int wh_mmdebstrap_run(const struct wh_debian_recipe *r, const char *stage, struct wh_err *err);
/* Check the tree came from r->release, record its package versions in
 * whiskers/debian-packages, prune it to what runs, add the mount points and
 * the link to its dist-packages, and name its interpreter. */
int wh_debian_tree_finish(int root_fd, const struct wh_debian_recipe *r,
                          struct wh_runtime_info *info, struct wh_err *err);

/* The update-alternatives links the postinst scripts of the .debs (names
 * without ".deb") in ROOT/var/cache/apt/archives declare, made without
 * running them (runtime_alternatives.c); listed in
 * whiskers/debian-alternatives. */
int wh_debian_alternatives(int root_fd, char *const *debs, size_t n, struct wh_err *err);

/* Prune a Debian root to what runs (runtime_prune.c). */
int wh_debian_prune(int root_fd, struct wh_err *err);

/* wh_runtime_build for o->debian_suite (runtime_debian.c). */
int wh_runtime_build_debian(struct wh_store *s, const struct wh_runtime_build_options *o,
                            struct wh_descriptor *root, struct wh_err *err);

#endif
