/* Runtime images (src/package/runtime_*.c): root filesystems with an
 * interpreter and the contract shim, built (from Debian or a directory),
 * stored as OCI images and unpacked into a cache. */
#ifndef WHISKERS_PACKAGE_RUNTIME_H
#define WHISKERS_PACKAGE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/package/store.h>

/* ---- Runtime images --------------------------------------------------------- */

/* A runtime is an OCI image (image config, one layer) holding a root
 * filesystem with an interpreter and the contract shim. Its manifest
 * carries these annotations. */
#define WH_ANN_RUNTIME_NAME        "io.whiskers.runtime.name"
#define WH_ANN_RUNTIME_INTERPRETER "io.whiskers.runtime.interpreter"
/* Debian images: the build's cache key, suite, packages (comma-separated,
 * sorted) and the digest of the suite's InRelease file. */
#define WH_ANN_RUNTIME_DEBIAN_KEY      "io.whiskers.runtime.debian.key"
#define WH_ANN_RUNTIME_DEBIAN_SUITE    "io.whiskers.runtime.debian.suite"
#define WH_ANN_RUNTIME_DEBIAN_PACKAGES "io.whiskers.runtime.debian.packages"
#define WH_ANN_RUNTIME_DEBIAN_RELEASE  "io.whiskers.runtime.debian.release"

struct wh_runtime_build_options {
        const char *python;      /* this machine's interpreter, e.g. /usr/bin/python3 */
        const char *tree;        /* or a prepared root filesystem (debootstrap) */
        const char *shim;        /* with python: copied to /whiskers/shim.py; may be NULL */
        const char *name;        /* with tree: the runtime name ("tree") */
        const char *interpreter; /* with tree: the interpreter's path inside it */
        const char *tag;         /* NULL = "runtime-<name>:host" (":<suite>" for Debian) */
        /* Or a Debian suite ("trixie") and packages installed from its
         * archive by mmdebstrap (docs/packages.md "Runtime images from
         * Debian packages"); mirror NULL = http://deb.debian.org/debian. */
        const char *debian_suite;
        const char *const *debian_packages;
        size_t n_debian_packages;
        const char *mirror;
        int64_t source_date_epoch; /* every entry's mtime (0 when unset) */
        bool *reused;              /* set when an image built from the same inputs was reused */
};

/* Build the image into the store and tag it. With a Debian suite, the
 * image is keyed by the suite's Release file digest, the sorted package
 * list and the architecture: a store holding an image with that key gets it
 * tagged again and mmdebstrap does not run. With python, the tree holds
 * what that interpreter needs to run (itself, its stdlib without
 * site/dist-packages, tests and __pycache__, every shared object it and its
 * extension modules map, the dynamic loader); the same machine state gives
 * the same digest. */
int wh_runtime_build(struct wh_store *s, const struct wh_runtime_build_options *o,
                     struct wh_descriptor *root, struct wh_err *err);

/* The runtime `ref` unpacked in cache_dir/<hex of its manifest digest>
 * (path_out), once: a later call, from any process, finds it there.
 * Unpacking is wh_unpack_tar's (digest-checked, no escaping entries,
 * renamed into place whole, the first of two racing unpackers wins). Runs
 * share the directory and must bind it read-only. */
int wh_runtime_unpack(struct wh_store *s, const char *ref, const char *cache_dir, char *path_out,
                      size_t cap, struct wh_err *err);

/* A runtime image as a package refers to it. */
struct wh_runtime_ref {
        struct wh_descriptor manifest, layer;
        char name[WH_NAME_MAX]; /* "python3.11" */
        char interpreter[4096]; /* absolute path inside the image */
};
/* Resolve ref to a runtime image of the store and read what a package
 * needs of it. */
int wh_runtime_read(struct wh_store *s, const char *ref, struct wh_runtime_ref *out,
                    struct wh_err *err);

#endif
