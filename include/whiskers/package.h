/* whiskers packages: normalisers as content-addressed OCI artifacts.
 *
 * The store is an OCI image layout (oci-layout, index.json, blobs/sha256/)
 * that any OCI tool can read. A package is either one image manifest (a
 * single variant) or an image index with one manifest per runtime variant.
 * Signatures are OCI 1.1 referrers listed in index.json, so they travel with
 * any copy of the layout. docs/packages.md is the manual; this header is the
 * contract.
 *
 * Concurrency: any number of processes may read and write one store. Blobs
 * are written to a temporary file, fsync'd, checked against their digest and
 * renamed into blobs/sha256/ (immutable after that); index.json is rewritten
 * under an flock and replaced by rename, so readers never lock and never see
 * half a file. A store opened with WH_STORE_WRITE holds a shared lock that
 * keeps garbage collection away until wh_store_close(): blobs written through
 * a handle survive until the handle is closed, referenced or not.
 *
 * Every function returns 0 on success or < 0 with `err` filled. */
#ifndef WHISKERS_PACKAGE_H
#define WHISKERS_PACKAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <whiskers/contract.h>
#include <whiskers/error.h>

/* ---- Media types --------------------------------------------------------- */

#define WH_MT_MANIFEST          "application/vnd.oci.image.manifest.v1+json"
#define WH_MT_INDEX             "application/vnd.oci.image.index.v1+json"
#define WH_MT_LAYER_TAR_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define WH_MT_EMPTY             "application/vnd.oci.empty.v1+json"
#define WH_MT_NORMALIZER_CONFIG "application/vnd.whiskers.normalizer.config.v1+json"
#define WH_MT_SIGNATURE         "application/vnd.whiskers.signature.v1+json"
#define WH_AT_NORMALIZER        "application/vnd.whiskers.normalizer.v1"
#define WH_AT_SIGNATURE         "application/vnd.whiskers.signature.v1"

/* Annotation keys whiskers writes (beside org.opencontainers.image.*): on
 * package manifests and indexes, on the variant descriptors of an index, and
 * on signature manifests. consumes and produces are comma-separated. */
#define WH_ANN_ID       "io.whiskers.normalizer.id"
#define WH_ANN_VERSION  "io.whiskers.normalizer.version"
#define WH_ANN_CONSUMES "io.whiskers.normalizer.consumes"
#define WH_ANN_PRODUCES "io.whiskers.normalizer.produces"
#define WH_ANN_RUNTIME  "io.whiskers.normalizer.runtime"
#define WH_ANN_VARIANT  "io.whiskers.variant.name"
#define WH_ANN_BASELINE "io.whiskers.variant.baseline"
#define WH_ANN_KEY_ID   "io.whiskers.signature.key_id"
/* On a package manifest and its variant descriptor: the manifest digest of
 * the runtime image the variant carries (see wh_pack_options). */
#define WH_ANN_RUNTIME_IMAGE "io.whiskers.runtime.image"

/* ---- Digests and descriptors --------------------------------------------- */

/* "sha256:" + 64 lowercase hex digits + NUL. Only sha256 is supported. */
#define WH_DIGEST_BUF     72
#define WH_MEDIA_TYPE_MAX 256
#define WH_REF_MAX        256

/* True for a well-formed "sha256:<64 lowercase hex>" (so it is also a safe
 * file name: digests never carry '/' or "..") */
bool wh_digest_valid(const char *digest);

struct wh_descriptor {
        char media_type[WH_MEDIA_TYPE_MAX];
        char digest[WH_DIGEST_BUF];
        uint64_t size;
};

/* ---- Store --------------------------------------------------------------- */

struct wh_store;

enum {
        WH_STORE_READ = 0,        /* no locks; the layout must exist */
        WH_STORE_WRITE = 1 << 0,  /* may add blobs and refs; blocks gc until closed */
        WH_STORE_CREATE = 1 << 1, /* create the layout if missing (implies WRITE) */
};

/* The write handle's lock belongs to its open file, which fork() shares: a
 * child forked while a write handle is open holds the lock until it execs
 * (the fd is O_CLOEXEC), exits or calls wh_store_close on its copy. */
int wh_store_open(const char *path, int flags, struct wh_store **out, struct wh_err *err);
void wh_store_close(struct wh_store *s);
/* Close after a failed first write: a store this handle created
 * (WH_STORE_CREATE of a missing directory) is removed when nobody else has
 * it open and it still lists nothing, so a refused import leaves no empty
 * layout behind. Otherwise the same as wh_store_close. */
void wh_store_abandon(struct wh_store *s);
const char *wh_store_path(const struct wh_store *s);

/* Blobs. Reading verifies nothing except wh_store_blob_read, which checks the
 * digest (it is for small JSON documents: manifests, indexes, configs). */
bool wh_store_blob_exists(struct wh_store *s, const char *digest);
int wh_store_blob_open(struct wh_store *s, const char *digest, int *fd, uint64_t *size,
                       struct wh_err *err);
int wh_store_blob_read(struct wh_store *s, const char *digest, size_t max, char **data, size_t *len,
                       struct wh_err *err);
/* The "annotations" object of a manifest or index in the store (a new
 * reference), or NULL when it has none or cannot be read. */
json_t *wh_store_annotations(struct wh_store *s, const char *digest);
/* Store a buffer; digest_out (may be NULL) receives its digest. */
int wh_store_put(struct wh_store *s, const void *data, size_t len, char digest_out[WH_DIGEST_BUF],
                 struct wh_err *err);

/* Streaming writer for big blobs: write, then seal (digest known, temporary
 * file fsync'd, optional expected digest and size checked), then commit
 * (renamed into blobs/). Sealing several blobs before committing any lets an
 * import publish all or nothing. Freeing an uncommitted writer deletes its
 * temporary file. */
struct wh_blob_writer;
int wh_blob_writer_new(struct wh_store *s, struct wh_blob_writer **out, struct wh_err *err);
int wh_blob_writer_write(struct wh_blob_writer *w, const void *buf, size_t len, struct wh_err *err);
/* Writes beyond max_size bytes fail (0, the default, means no limit). */
void wh_blob_writer_set_max(struct wh_blob_writer *w, uint64_t max_size);
/* expect_digest may be NULL (anything goes); digest_out and size_out too. */
int wh_blob_writer_seal(struct wh_blob_writer *w, const char *expect_digest,
                        char digest_out[WH_DIGEST_BUF], uint64_t *size_out, struct wh_err *err);
int wh_blob_writer_commit(struct wh_blob_writer *w, struct wh_err *err);
void wh_blob_writer_free(struct wh_blob_writer *w);

/* index.json: the store's roots. A package is an entry with a ref name (its
 * tag, org.opencontainers.image.ref.name); a signature is an entry with a
 * subject. */
struct wh_index_entry {
        struct wh_descriptor desc;
        char ref_name[WH_REF_MAX];             /* "" when untagged */
        char artifact_type[WH_MEDIA_TYPE_MAX]; /* "" when absent */
        char subject[WH_DIGEST_BUF];           /* "" unless a referrer */
};

/* A ref name as OCI allows it: components of [A-Za-z0-9] joined by
 * [-._:@+] or "--", separated by '/'; at most WH_REF_MAX - 1 bytes. */
bool wh_ref_name_valid(const char *name);

/* index.json's entries in order (free() the array). Subjects are read from
 * the untagged manifests that have one. */
int wh_store_list(struct wh_store *s, struct wh_index_entry **entries, size_t *n,
                  struct wh_err *err);
/* Add an entry after checking that everything it reaches (and its subject)
 * is present. An entry with a ref name replaces any entry with that name; an
 * untagged entry whose digest is already listed untagged is not added twice. */
int wh_store_index_add(struct wh_store *s, const struct wh_index_entry *e, struct wh_err *err);
/* Remove the entry with this ref name (its blobs stay until gc). */
int wh_store_untag(struct wh_store *s, const char *ref_name, struct wh_err *err);
/* A tag, an id alone (matching "<id>:<version>" when only one such tag
 * exists), or the digest of a manifest or index present in the store, to a
 * descriptor. An empty or NULL ref picks the only tagged entry when there is
 * exactly one; otherwise the error lists the tags. */
int wh_store_resolve(struct wh_store *s, const char *ref, struct wh_descriptor *out,
                     struct wh_err *err);

/* wh_store_resolve for callers that may look elsewhere: a ref the store
 * does not hold sets *found false and is not an error. */
int wh_store_lookup(struct wh_store *s, const char *ref, struct wh_descriptor *out, bool *found,
                    struct wh_err *err);

/* Everything reachable from one descriptor (itself, indexes, manifests,
 * configs, layers), each once, parents before children. With referrers, the
 * index.json entries whose subject is in the closure (and their closure) are
 * included too: that is what a copy of the package must carry. */
struct wh_desc_list {
        size_t n;
        struct wh_descriptor *items;
};
int wh_store_closure(struct wh_store *s, const struct wh_descriptor *root, bool referrers,
                     struct wh_desc_list *out, struct wh_err *err);
void wh_desc_list_clear(struct wh_desc_list *l);

/* Garbage collection: waits until no other handle writes, drops referrers
 * whose subject is gone, deletes blobs no index.json entry reaches and stale
 * temporary files. The handle must be WH_STORE_WRITE and the only write
 * handle this process has open on the store. */
struct wh_gc_result {
        uint64_t blobs_kept, blobs_removed, bytes_removed, referrers_dropped, temp_removed;
};
int wh_store_gc(struct wh_store *s, bool dry_run, struct wh_gc_result *res, struct wh_err *err);

/* Re-hash every blob; check every blob an index.json entry reaches exists
 * with the size its descriptor states. Problems go into the result (the call
 * itself fails only when the store cannot be read). */
struct wh_store_problem {
        char digest[WH_DIGEST_BUF];
        char what[192];
};
struct wh_verify_result {
        uint64_t blobs, bytes;
        size_t nproblems;
        struct wh_store_problem *problems;
};
int wh_store_verify(struct wh_store *s, struct wh_verify_result *res, struct wh_err *err);
void wh_verify_result_clear(struct wh_verify_result *res);

/* Everything root reaches is present with the size its descriptor states
 * and hashes to its digest, and every layer passes wh_unpack_tar's rules
 * (read through, nothing written). Imports, pull and push run it before
 * anything becomes visible; sign and verify before they vouch for root. */
int wh_store_check(struct wh_store *s, const struct wh_descriptor *root, struct wh_err *err);

/* ---- Layout archives (the zip form; tar for bundles) -------------------- */

enum wh_archive_format { WH_ARCHIVE_ZIP, WH_ARCHIVE_TAR };

/* Write an archive holding an OCI layout with these refs (tags or digests),
 * everything they reach and their referrers. Deterministic: the same content
 * gives the same bytes. Written to a temporary sibling and renamed. */
int wh_store_export(struct wh_store *s, const char *const *refs, size_t nrefs,
                    enum wh_archive_format format, const char *path, struct wh_err *err);

struct wh_import_limits {
        uint64_t max_bytes;   /* sum of entry sizes; 0 = WH_IMPORT_DEFAULT_MAX_BYTES */
        uint64_t max_entries; /* 0 = WH_IMPORT_DEFAULT_MAX_ENTRIES */
};
#define WH_IMPORT_DEFAULT_MAX_BYTES   (4ull << 30)
#define WH_IMPORT_DEFAULT_MAX_ENTRIES 100000ull

/* Import an archived layout (zip or tar, optionally gzip'd). Only the layout's
 * own names are accepted; every blob is checked against its name, every entry
 * of the archive's index.json must be complete. All or nothing: index.json
 * changes only after every blob is verified and published. The added entries
 * are returned (free with free()). */
int wh_store_import(struct wh_store *s, const char *path, const struct wh_import_limits *lim,
                    struct wh_index_entry **added, size_t *nadded, struct wh_err *err);

/* ---- Normaliser metadata (normalizer.json, and the config blob) --------- */

#define WH_NAME_MAX 64

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

struct wh_normalizer {
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
int wh_normalizer_parse(json_t *obj, const char *origin, struct wh_normalizer *out,
                        struct wh_err *err);
void wh_normalizer_clear(struct wh_normalizer *n);

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

/* ---- Unpacking ----------------------------------------------------------- */

struct wh_unpack_limits {
        uint64_t max_bytes;   /* bytes written; 0 = WH_UNPACK_DEFAULT_MAX_BYTES */
        uint64_t max_entries; /* 0 = WH_UNPACK_DEFAULT_MAX_ENTRIES */
};
#define WH_UNPACK_DEFAULT_MAX_BYTES   (512ull << 20)
#define WH_UNPACK_DEFAULT_MAX_ENTRIES 20000ull

/* Extract a tar (optionally gzip'd) read from fd into dest, which must not
 * exist. Refuses absolute names, "..", symlinks or hardlinks leading outside,
 * devices, fifos, sockets, setuid/setgid/sticky bits, duplicate entries and
 * anything over the limits. When expect_digest is not NULL the bytes read
 * from fd must hash to it. Extraction happens in a temporary sibling that is
 * renamed to dest only when everything passed: on error nothing is visible.
 * If dest appears meanwhile (another process unpacked the same content) the
 * call succeeds and leaves that copy. */
int wh_unpack_tar(int fd, const char *expect_digest, const char *dest,
                  const struct wh_unpack_limits *lim, struct wh_err *err);

/* ---- Trust --------------------------------------------------------------- */

/* Key ids are "sha256:" + hex SHA-256 of the raw 32-byte Ed25519 public key. */
int wh_key_generate(const char *private_path, const char *public_path, char key_id[WH_DIGEST_BUF],
                    struct wh_err *err);
int wh_key_id_file(const char *public_path, char key_id[WH_DIGEST_BUF], struct wh_err *err);

/* Sign a manifest or index present in the store (`digest` may also be a tag,
 * see wh_store_resolve): stores a referrer manifest
 * (artifactType WH_AT_SIGNATURE, subject = the signed descriptor, one layer
 * {"digest", "key_id", "signature"}) and lists it in index.json. */
int wh_sign(struct wh_store *s, const char *digest, const char *private_path,
            struct wh_descriptor *sig_out, struct wh_err *err);

/* A trust directory: *.pub (PEM Ed25519 public keys) are trusted; the file
 * `revoked` lists revoked key ids, one per line ('#' starts a comment), and
 * wins over *.pub. The directory and files must not be writable by group or
 * others, and must belong to root or to us. dir NULL gives an empty set that
 * trusts nothing (wh_trust_check then still reports each key id). */
struct wh_trust;
int wh_trust_load(const char *dir, struct wh_trust **out, struct wh_err *err);
void wh_trust_free(struct wh_trust *t);

enum wh_sig_status {
        WH_SIG_VALID,
        WH_SIG_UNTRUSTED_KEY, /* key not in the trust directory */
        WH_SIG_REVOKED_KEY,
        WH_SIG_BAD,       /* the signature does not verify */
        WH_SIG_MALFORMED, /* unreadable payload, or it names another digest */
};
const char *wh_sig_status_name(enum wh_sig_status st);

struct wh_sig_check {
        char signature[WH_DIGEST_BUF]; /* the referrer manifest */
        char key_id[WH_DIGEST_BUF];    /* "" when unreadable */
        enum wh_sig_status status;
};
struct wh_sig_report {
        char subject[WH_DIGEST_BUF];
        size_t n;
        struct wh_sig_check *sigs;
        bool trusted; /* at least one WH_SIG_VALID */
};
/* Check every signature of `digest` found in index.json. */
int wh_trust_check(struct wh_store *s, const char *digest, const struct wh_trust *t,
                   struct wh_sig_report *rep, struct wh_err *err);
void wh_sig_report_clear(struct wh_sig_report *rep);

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
        struct wh_normalizer meta; /* parsed config */
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

/* ==== Registries and bundles (src/package/registry_*.c, bundle_*.c) ====== */

/* ---- Registries: the OCI distribution API ------------------------------- */

struct wh_registry_options {
        const char *username; /* with password: basic auth, also sent for bearer tokens */
        const char *password;
        bool plain_http;     /* http:// for a non-loopback host (loopback always is) */
        uint64_t chunk_size; /* push: 0 = one PUT per blob, else PATCH chunks of this size */
        bool progress;       /* a progress line per blob on stderr */
        const char *tag;     /* pull: local tag; NULL = "<id>:<version>" from the annotations,
                                else the remote tag */
};

struct wh_registry_stats {
        uint64_t blobs_sent, blobs_skipped, bytes_sent, manifests, signatures;
};

/* Push the package `ref` (see wh_store_resolve) with its signatures to
 * `remote` ("HOST[:PORT]/REPO[:TAG]"; no tag = the package version). Blobs
 * the registry has are skipped; signatures go up as OCI 1.1 referrers, also
 * listed under the referrers tag "sha256-<hex>" for registries without the
 * referrers API. digest_out receives the pushed root digest. */
int wh_registry_push(struct wh_store *s, const char *ref, const char *remote,
                     const struct wh_registry_options *o, struct wh_registry_stats *st,
                     char digest_out[WH_DIGEST_BUF], struct wh_err *err);

/* Pull "HOST[:PORT]/REPO[:TAG|@DIGEST]" with everything it reaches and the
 * signatures the registry lists for it. Every manifest and blob is checked
 * against its digest and size; dropped downloads resume (Range). Nothing
 * appears in index.json unless all of it arrived. root_out gets the tagged
 * entry. */
int wh_registry_pull(struct wh_store *s, const char *remote, const struct wh_registry_options *o,
                     struct wh_registry_stats *st, struct wh_index_entry *root_out,
                     struct wh_err *err);

/* ---- Air-gap bundles ------------------------------------------------------ */

/* A bundle is one pax tar (optionally zstd-compressed, optionally split into
 * parts FILE.000, FILE.001, ...): first "whiskers-bundle.json", the checksum
 * manifest (refs, every blob's digest and size, the digest of index.json),
 * then an OCI layout (oci-layout, index.json, blobs/sha256/...) holding the
 * packages, everything they reach (runtime images, schemas: any ref) and
 * their signatures. */
#define WH_BUNDLE_MANIFEST "whiskers-bundle.json"

struct wh_bundle_options {
        bool zstd;           /* compress with zstd (libarchive's filter, in-process) */
        int zstd_level;      /* 1..19; 0 = 3 */
        uint64_t split_size; /* > 0: parts FILE.000, FILE.001, ... of this size */
};

/* Write the refs of the store (tags or digests) as a bundle at path (or its
 * parts), through temporary siblings renamed at the end. Stale parts of an
 * earlier export with more parts are removed. */
int wh_bundle_export(struct wh_store *s, const char *const *refs, size_t nrefs, const char *path,
                     const struct wh_bundle_options *o, struct wh_err *err);

struct wh_bundle_import_options {
        const struct wh_trust *trust; /* each tagged package needs a valid signature */
        bool allow_unsigned;          /* development: no signature needed */
        uint64_t max_bytes;           /* 0 = WH_IMPORT_DEFAULT_MAX_BYTES */
};

/* Import a bundle (path, or path.000 and its following parts; plain or
 * zstd- or gzip-compressed). Offline and all or nothing: every blob is
 * hashed against its name and the checksum manifest, the layout must be
 * complete, and every tagged package must carry a valid signature by a
 * trusted key before any blob enters blobs/ or index.json changes. Work
 * happens in a scratch layout under LAYOUT/.whiskers/tmp. The added
 * index.json entries are returned (free()). */
int wh_bundle_import(struct wh_store *s, const char *path, const struct wh_bundle_import_options *o,
                     struct wh_index_entry **added, size_t *nadded, struct wh_err *err);

/* After an import: push each tagged entry of e to an internal registry as
 * "<prefix>/<name>:<tag>" (name: the tag's part before ':' in lowercase,
 * '+' in the tag becomes '_'), and record it in LAYOUT/relocations.json:
 * {"relocations": {"<local tag>": {"digest": ..., "location": ...}}},
 * merged with what is there. Manifests are pushed unchanged, so digests and
 * signatures stay valid. */
int wh_bundle_relocate(struct wh_store *s, const struct wh_index_entry *e, size_t n,
                       const char *prefix, const struct wh_registry_options *o, struct wh_err *err);

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
