/* Internals of the package store shared by the files of this module.
 *
 * Layout on disk (an OCI image layout plus one private directory):
 *   oci-layout, index.json, blobs/sha256/<hex>   the OCI part; blobs are 0444
 *   .whiskers/tmp/                                temporary files, same filesystem
 *   .whiskers/gc.lock                             LOCK_SH by write handles, LOCK_EX by gc
 *   .whiskers/index.lock                          LOCK_EX around index.json updates */
#ifndef WH_PACKAGE_STORE_H
#define WH_PACKAGE_STORE_H

#include <whiskers/package/store.h>

/* Manifests, indexes and configs are small; registries cap manifests at 4 MiB. */
#define WH_JSON_BLOB_MAX (4u << 20)
#define WH_INDEX_MAX     (64u << 20)
/* The annotation that makes an index entry a tag. */
#define WH_OCI_REF_NAME "org.opencontainers.image.ref.name"

struct wh_store {
        char *path;
        int root_fd;    /* the layout directory */
        int blobs_fd;   /* blobs/sha256, -1 when a read-only layout has none */
        int tmp_fd;     /* .whiskers/tmp, -1 for read handles */
        int gc_lock_fd; /* .whiskers/gc.lock, -1 for read handles */
        bool writable;
        bool created; /* WH_STORE_CREATE made the directory (wh_store_abandon) */
        /* Sealed, uncommitted blobs an import is checking: visible to reads
         * through this handle only. */
        struct wh_blob_writer **staged;
        size_t nstaged;
};

/* index.json under LOCK_EX of .whiskers/index.lock; *lock_fd is closed by
 * the caller (cleanup_close) to release it. */
int wh_store_lock_index(struct wh_store *s, int *lock_fd, struct wh_err *err);
int wh_store_index_load(struct wh_store *s, json_t **out, struct wh_err *err);
int wh_store_index_save(struct wh_store *s, json_t *index, struct wh_err *err);
/* Add several entries with one index.json rewrite (all or none). */
int wh_store_index_add_many(struct wh_store *s, const struct wh_index_entry *e, size_t n,
                            struct wh_err *err);
/* Entries of an index.json document (subjects left empty). */
int wh_index_entries(json_t *index, struct wh_index_entry **out, size_t *n, struct wh_err *err);
/* An entry as index.json lists it: its descriptor, artifact type and tag. */
json_t *wh_index_entry_to_json(const struct wh_index_entry *e);
/* Set e->subject from the manifest's "subject" when it is an untagged
 * manifest that has one (a referrer). */
void wh_index_entry_fill_subject(struct wh_store *s, struct wh_index_entry *e);

/* A unique temporary file in .whiskers/tmp, opened for writing. */
int wh_store_tmpfile(struct wh_store *s, const char *prefix, char name[64], int *fd,
                     struct wh_err *err);

/* fn for each name in blobs/sha256 but "." and "..", in readdir's order,
 * until it fails; none when a read-only layout has no blobs directory.
 * `stage` names the caller in the error of a directory it cannot list. */
typedef int (*wh_blob_name_fn)(struct wh_store *s, const char *name, void *ctx, struct wh_err *err);
int wh_store_each_blob_name(struct wh_store *s, const char *stage, wh_blob_name_fn fn, void *ctx,
                            struct wh_err *err);

/* Blob reads that also see staged blobs of this handle. */
int wh_store_blob_openat(struct wh_store *s, const char *digest, int *fd, struct wh_err *err);
void wh_store_stage(struct wh_store *s, struct wh_blob_writer **w, size_t n);
const char *wh_blob_writer_digest(const struct wh_blob_writer *w);

/* The blob a descriptor names, whose size must be the one it states (a
 * reader never trusts a blob's length over its parent's word):
 * opened, read whole (digest verified), or parsed as a JSON object. */
int wh_store_blob_open_desc(struct wh_store *s, const struct wh_descriptor *d, int *fd,
                            struct wh_err *err);
int wh_store_blob_read_desc(struct wh_store *s, const struct wh_descriptor *d, size_t max,
                            char **data, size_t *len, struct wh_err *err);
int wh_store_read_json(struct wh_store *s, const struct wh_descriptor *d, const char *what,
                       json_t **out, struct wh_err *err);
/* One blob of a closure (wh_store_check): its descriptor's size, its
 * digest, and for a layer the layer rules. */
int wh_store_check_blob(struct wh_store *s, const struct wh_descriptor *d, struct wh_err *err);
/* Serialise compactly with sorted keys (the canonical form used for every
 * document whiskers writes) and store it. */
int wh_store_put_json(struct wh_store *s, json_t *doc, const char *media_type,
                      struct wh_descriptor *out, struct wh_err *err);

/* Descriptors in JSON. `what` names the document in messages. */
int wh_descriptor_from_json(json_t *j, const char *what, struct wh_descriptor *d,
                            struct wh_err *err);
json_t *wh_descriptor_to_json(const struct wh_descriptor *d);
/* Compact, sorted-keys serialisation; NULL on allocation failure. */
char *wh_json_canonical(json_t *doc);

bool wh_media_type_is_manifest(const char *mt);
bool wh_media_type_is_index(const char *mt);

#endif
