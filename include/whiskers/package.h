/* whiskers packages: normalisers as content-addressed OCI artifacts.
 *
 * The store is an OCI image layout (oci-layout, index.json, blobs/sha256/)
 * that any OCI tool can read. A package is either one image manifest (a
 * single variant) or an image index with one manifest per runtime variant.
 * Signatures are OCI 1.1 referrers listed in index.json, so they travel with
 * any copy of the layout. docs/packages.md is the manual; these headers are the
 * contract.
 *
 * This header is the loader on top: normaliser metadata, packing, variants,
 * unpacking, and loading or checking a package out to run it. The parts it
 * builds on have their own headers, included here: whiskers/package/store.h,
 * trust.h, registry.h, bundle.h and runtime.h (docs/design.md). */
#ifndef WHISKERS_PACKAGE_H
#define WHISKERS_PACKAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <whiskers/contract.h>
#include <whiskers/error.h>
#include <whiskers/package/bundle.h>
#include <whiskers/package/registry.h>
#include <whiskers/package/runtime.h>
#include <whiskers/package/store.h>
#include <whiskers/package/trust.h>

/* ---- Normaliser metadata (normalizer.json, and the config blob) --------- */

/* One runtime variant. In normalizer.json: "runtime" at the top level and
 * "variant": {"name": ..., "baseline": bool, "platform": {"os": "linux",
 * "architecture": "amd64", "variant": "v3"}} (all optional: no "variant"
 * means the baseline variant named "baseline"). */
struct wh_variant {
        char name[WH_NAME_MAX];
        bool baseline;
        char runtime[WH_NAME_MAX];         /* "exec", "python3" or "python3.N" */
        char os[WH_NAME_MAX];              /* "" = any */
        char arch[WH_NAME_MAX];            /* OCI architecture ("amd64", "arm64"); "" = any */
        char arch_variant[WH_NAME_MAX];    /* amd64 level "v1".."v4"; "" = none */
        char runtime_image[WH_DIGEST_BUF]; /* carried runtime image; "" = the host's */
};

struct wh_package_meta {
        json_t *json; /* owned: the whole object; the pointers below borrow from it */
        const char *id, *name, *description, *version, *runtime, *entrypoint;
        json_t *consumes, *produces; /* arrays of strings */
        json_t *limits;              /* object, or NULL when absent */
        /* Configs only (pack computes it): {"manifest": digest, "layer":
         * descriptor, "name", "interpreter"} of the runtime image the
         * manifest carries as its second layer; NULL: the host runtime. */
        json_t *runtime_image;
        /* Configs only (pack --python-path computes it): the descriptors of
         * the Python layers, in sys.path order, which the manifest lists
         * after the files (and the runtime image); NULL: none. */
        json_t *python_layers;
        struct wh_variant variant;
};

/* Validate a normalizer.json object (or a config). Takes its own reference to
 * obj. `origin` names the file in messages. Every error names the field. */
int wh_package_meta_parse(json_t *obj, const char *origin, struct wh_package_meta *out,
                          struct wh_err *err);
void wh_package_meta_clear(struct wh_package_meta *n);

/* ---- Packing ------------------------------------------------------------- */

struct wh_pack_options {
        const char *tag;           /* ref name; NULL = "<id>:<version>" */
        int64_t source_date_epoch; /* -1 = unset: mtimes 0, no created annotation */
        /* A runtime image in the same store (a ref, see wh_runtime_build)
         * that every variant carries: its layer becomes each manifest's
         * second layer and its digests go into the config, so the package
         * runs on a host without that interpreter, air-gapped included.
         * NULL: the host runtime. */
        const char *runtime_image;
        /* Directories of Python code (e.g. OpenKAT's octopoes and boefjes
         * sources, or a site-packages tree), each packed as its own
         * deterministic layer: the same directory is the same blob in every
         * package of a store and is unpacked once. At run time layer i is
         * bound read-only at WH_SANDBOX_PYTHON_DIR/i and is on sys.path in
         * this order (at most WH_PYTHON_LAYERS_MAX). */
        const char *const *python_paths;
        size_t n_python_paths;
        /* Several runtime images (instead of runtime_image) with one
         * directory: one variant per image, named after it ("python3.13"),
         * the first the baseline; the choice rule picks among them. */
        const char *const *runtime_images;
        size_t n_runtime_images;
        /* The version of a normalizer.json that has none (OpenKAT's form);
         * NULL: "unversioned", so the tag and the provenance say so. */
        const char *version;
};

/* Pack normaliser directories into the store and tag the result. One
 * directory gives an image manifest; several give an image index with one
 * manifest per variant (they must agree on id, version, consumes and
 * produces, and exactly one must be the baseline). The same directories give
 * the same digests on any machine. root receives the tagged descriptor. */
int wh_pack(struct wh_store *s, const char *const *dirs, size_t ndirs,
            const struct wh_pack_options *o, struct wh_descriptor *root, struct wh_err *err);

/* Every normaliser of a plugin tree (each directory below `tree` holding a
 * normalizer.json, nested ones included; hidden names and __pycache__
 * skipped), sorted by path, packed as its own package with o (o->tag must
 * be NULL: each is tagged <id>:<version>). Every normalizer.json is checked
 * and the ids must be distinct before anything is written; `packed` (may be
 * NULL) hears of each package. */
typedef void (*wh_pack_tree_cb)(void *ctx, const char *dir, const char *tag,
                                const struct wh_descriptor *root);
int wh_pack_tree(struct wh_store *s, const char *tree, const struct wh_pack_options *o,
                 wh_pack_tree_cb packed, void *ctx, struct wh_err *err);

/* ---- Variants ------------------------------------------------------------ */

#define WH_HOST_RUNTIMES_MAX 16

struct wh_host {
        char os[WH_NAME_MAX];
        char arch[WH_NAME_MAX];
        int arch_level; /* amd64 micro-architecture level 1..4; 0 elsewhere */
        size_t nruntimes;
        char runtimes[WH_HOST_RUNTIMES_MAX][WH_NAME_MAX];
};

/* This machine: os, OCI architecture, amd64 level (cpuid), and runtimes:
 * "exec" always, "python3" and every "python3.N" found in /usr/bin and
 * /usr/local/bin. */
int wh_host_detect(struct wh_host *h, struct wh_err *err);
int wh_host_add_runtime(struct wh_host *h, const char *runtime, struct wh_err *err);

struct wh_variant_option {
        struct wh_variant variant;
        struct wh_descriptor manifest;
        bool runnable;
        char why[192]; /* why not runnable; "" when runnable */
};

struct wh_variant_choice {
        size_t n;
        struct wh_variant_option *options; /* in index order */
        ssize_t chosen;                    /* index into options, -1 before a choice */
        char reason[WH_ERR_MSG_MAX];       /* which rule decided */
};

/* The variants of a package (a manifest is one baseline variant). */
int wh_variants_read(struct wh_store *s, const struct wh_descriptor *root,
                     struct wh_variant_choice *out, struct wh_err *err);
/* The choice rule (docs/packages.md "Choosing a variant"):
 *  0. a forced name (may be NULL) must exist and be runnable;
 *  1. drop variants this host cannot run (os, architecture, amd64 level,
 *     runtime), recording why;
 *  2. highest amd64 level (an architecture-independent variant counts 0,
 *     an amd64 one without level counts 1);
 *  3. highest runtime version (python3.N by N; plain "python3" and "exec"
 *     count lowest);
 *  4. a non-baseline variant before the baseline;
 *  5. the smaller name (bytewise).
 * Fails when nothing is runnable, naming every variant's reason. */
int wh_variant_choose(struct wh_variant_choice *c, const struct wh_host *h, const char *force,
                      struct wh_err *err);
void wh_variant_choice_clear(struct wh_variant_choice *c);

/* ---- Loading a package to run it ----------------------------------------- */

struct wh_load_options {
        const struct wh_host *host;   /* NULL = wh_host_detect(), a directory scan:
                                         detect once when loading often */
        const struct wh_trust *trust; /* required unless allow_unsigned */
        bool allow_unsigned;          /* development only: skip the signature policy */
        const char *variant;          /* force a variant by name; NULL = choose */
};

struct wh_package {
        struct wh_descriptor root;     /* what the ref named (manifest or index) */
        struct wh_descriptor manifest; /* the chosen variant */
        struct wh_descriptor config;
        struct wh_descriptor layer;
        struct wh_descriptor runtime_layer; /* digest "" without a runtime image */
        struct wh_descriptor python_layers[WH_PYTHON_LAYERS_MAX];
        size_t n_python_layers;
        struct wh_package_meta meta; /* parsed config */
        struct wh_variant_choice choice;
        char signed_by[WH_DIGEST_BUF]; /* key id of an accepted signature; "" if unsigned */
};

/* Resolve ref, enforce the signature policy (a valid signature by a trusted,
 * unrevoked key on the root or on the chosen manifest), choose the variant,
 * read and validate its config. */
int wh_package_load(struct wh_store *s, const char *ref, const struct wh_load_options *o,
                    struct wh_package *out, struct wh_err *err);
void wh_package_clear(struct wh_package *p);
/* wh_unpack_tar of the package's layer (digest-checked) into dest. */
int wh_package_unpack(struct wh_store *s, const struct wh_package *p, const char *dest,
                      const struct wh_unpack_limits *lim, struct wh_err *err);

/* ---- Checking a package out to run it ------------------------------------ */

struct wh_checkout {
        struct wh_package pkg;
        char dir[4096];    /* the chosen variant's files: CACHE/layers/<hex of the layer digest> */
        char rootfs[4096]; /* its runtime image's root, unpacked alike; "" = host runtime */
        const char *interpreter; /* the image's interpreter (borrowed from pkg); NULL without */
        char *python_dirs[WH_PYTHON_LAYERS_MAX]; /* the Python layers, unpacked alike */
        size_t n_python_dirs;
        json_t *provenance; /* {"ref", "root", "manifest", "layer", "variant", "variant_reason",
                               "runtime", "signed_by", "python_layers"} for the run's
                               provenance record */
};

/* The cache for unpacked layers: $WHISKERS_CACHE, else /var/cache/whiskers
 * for root, else $XDG_CACHE_HOME/whiskers or ~/.cache/whiskers. */
int wh_package_cache_default(char *out, size_t cap, struct wh_err *err);
/* wh_package_load, then the chosen variant's layer (and its runtime image's
 * layer) unpacked once (digest checked, wh_unpack_tar's rules) into
 * cache_dir/layers/<hex>, shared by
 * every later checkout of the same content. The cache must be writable by
 * its owner only: its entries are trusted as the store is. */
int wh_package_checkout(struct wh_store *s, const char *ref, const struct wh_load_options *o,
                        const char *cache_dir, struct wh_checkout *out, struct wh_err *err);
void wh_checkout_clear(struct wh_checkout *c);

/* Where normalisers that are packages come from, and the policy they run
 * under: what `whiskers run --store` and the worker share. */
struct wh_package_source {
        const char *store;     /* an OCI layout; NULL: no packages */
        const char *trust_dir; /* trusted public keys; NULL: only with allow_unsigned */
        bool allow_unsigned;   /* development: run unsigned packages */
        const char *variant;   /* force a variant by name; NULL: the choice rule */
        const char *cache_dir; /* unpacked layers; NULL: wh_package_cache_default() */
};
/* Check ref out of src's store and load it as a normaliser with opts, its
 * origin the package (manifest digest, provenance, carried runtime). When
 * the store holds no such ref, *found is false and 0 is returned. */
int wh_package_normaliser_load(const struct wh_package_source *src, const char *ref,
                               struct wh_normaliser_options *opts, struct wh_normaliser **out,
                               bool *found, struct wh_err *err);

#endif
