/* Signing: an OCI 1.1 referrer manifest whose subject is the signed
 * manifest or index and whose one layer is the signature document
 * {"digest", "key_id", "signature"} (base64 Ed25519 over WH_SIG_CONTEXT +
 * digest). Listed in index.json, it travels with every copy of the layout.
 * Ed25519 is deterministic: signing twice with one key adds nothing. */
#include "package/keys.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int sign_digest(EVP_PKEY *k, const char *digest, char b64[128], struct wh_err *err)
{
        char msg[128];
        unsigned char sig[WH_SIG_LEN];
        size_t siglen = sizeof(sig);
        int len = snprintf(msg, sizeof(msg), "%s%s", WH_SIG_CONTEXT, digest);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
                 EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)msg, (size_t)len) == 1 &&
                 siglen == sizeof(sig);
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return wh_err_set(err, 0, "sign", "libcrypto cannot sign %s", digest);
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
        return 0;
}

static int put_referrer(struct wh_store *s, const struct wh_descriptor *subject, const char *key_id,
                        const char *b64, struct wh_descriptor *out, struct wh_err *err)
{
        struct wh_descriptor payload, empty = {.size = 2};
        cleanup_json json_t *doc = json_pack("{s:s, s:s, s:s}", "digest", subject->digest, "key_id",
                                             key_id, "signature", b64);
        int rc = doc ? wh_store_put_json(s, doc, WH_MT_SIGNATURE, &payload, err)
                     : wh_err_set(err, ENOMEM, "sign", "building a signature");
        snprintf(empty.media_type, sizeof(empty.media_type), "%s", WH_MT_EMPTY);
        if (rc == 0)
                rc = wh_store_put(s, "{}", 2, empty.digest, err);
        if (rc < 0)
                return -1;
        cleanup_json json_t *manifest = json_pack(
            "{s:i, s:s, s:s, s:o, s:[o], s:o, s:{s:s}}", "schemaVersion", 2, "mediaType",
            WH_MT_MANIFEST, "artifactType", WH_AT_SIGNATURE, "config",
            wh_descriptor_to_json(&empty), "layers", wh_descriptor_to_json(&payload), "subject",
            wh_descriptor_to_json(subject), "annotations", WH_ANN_KEY_ID, key_id);
        return manifest ? wh_store_put_json(s, manifest, WH_MT_MANIFEST, out, err)
                        : wh_err_set(err, ENOMEM, "sign", "building a signature manifest");
}

int wh_sign(struct wh_store *s, const char *digest, const char *private_path,
            struct wh_descriptor *sig_out, struct wh_err *err)
{
        struct wh_descriptor subject;
        if (wh_store_resolve(s, digest, &subject, err) < 0)
                return -1;
        /* A signature vouches for everything the digest reaches: only for
         * content that is whole, intact and unpackable. */
        if (wh_store_check(s, &subject, err) < 0)
                return wh_err_prefix(err, "refusing to sign %s", subject.digest);
        EVP_PKEY *k;
        if (wh_key_load_private(private_path, &k, err) < 0)
                return -1;
        char key_id[WH_DIGEST_BUF], b64[128];
        int rc = wh_key_id(k, key_id, err);
        if (rc == 0)
                rc = sign_digest(k, subject.digest, b64, err);
        EVP_PKEY_free(k);
        if (rc == 0)
                rc = put_referrer(s, &subject, key_id, b64, sig_out, err);
        struct wh_index_entry e = {0};
        if (rc == 0) {
                e.desc = *sig_out;
                snprintf(e.artifact_type, sizeof(e.artifact_type), "%s", WH_AT_SIGNATURE);
                memcpy(e.subject, subject.digest, WH_DIGEST_BUF);
                rc = wh_store_index_add(s, &e, err);
        }
        return rc;
}
