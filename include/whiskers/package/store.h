/* The package store (src/package: store, blob, index, closure, walk, gc,
 * verify, check, and the layer rules: unpack, layer_read): an OCI image layout (oci-layout,
 * index.json, blobs/sha256/) that any OCI tool can read, its media types and annotations, digests
 * and descriptors.
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
#ifndef WHISKERS_PACKAGE_STORE_H
#define WHISKERS_PACKAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/digest.h>
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

#define WH_MEDIA_TYPE_MAX 256
#define WH_REF_MAX        256
/* Ids, versions and runtime names. */
#define WH_NAME_MAX 64

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

#endif
