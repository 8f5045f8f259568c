/* Ed25519 keys on disk (PEM: PKCS#8 private keys, SubjectPublicKeyInfo
 * public keys, the formats `openssl genpkey -algorithm ed25519` writes) and
 * the signed message. */
#ifndef WH_PACKAGE_KEYS_H
#define WH_PACKAGE_KEYS_H

#include <openssl/evp.h>
#include <whiskers/package/trust.h>

/* What a signature covers: this prefix, then the manifest digest. The prefix
 * keeps a whiskers signature from meaning anything to another protocol. */
#define WH_SIG_CONTEXT "whiskers-signature-v1:"
#define WH_SIG_LEN     64

int wh_key_load_public(const char *path, EVP_PKEY **out, struct wh_err *err);
/* Refuses a private key file readable by group or others. */
int wh_key_load_private(const char *path, EVP_PKEY **out, struct wh_err *err);
int wh_key_id(EVP_PKEY *key, char id[WH_DIGEST_BUF], struct wh_err *err);

#endif
