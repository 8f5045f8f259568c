/* Signing and trust (src/package: keys, sign, trust): Ed25519 keys,
 * signatures as OCI 1.1 referrers listed in index.json (so they travel with
 * any copy of the layout), and the trust directory that decides which
 * signatures count. */
#ifndef WHISKERS_PACKAGE_TRUST_H
#define WHISKERS_PACKAGE_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <whiskers/package/store.h>

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

#endif
