/* Registries (src/package/registry_*.c): push and pull packages with their
 * signatures over the OCI distribution API (HTTP, auth, referrers). */
#ifndef WHISKERS_PACKAGE_REGISTRY_H
#define WHISKERS_PACKAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/package/store.h>

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

#endif
