/* SHA-256 digests through libcrypto's EVP (fast on big blobs), and the
 * "sha256:<hex>" strings OCI descriptors carry. */
#ifndef WH_PACKAGE_DIGEST_H
#define WH_PACKAGE_DIGEST_H

#include <stddef.h>
#include <whiskers/package/store.h>

struct wh_hasher {
        void *ctx; /* EVP_MD_CTX, kept opaque so callers need no OpenSSL headers */
};

int wh_hasher_init(struct wh_hasher *h, struct wh_err *err);
int wh_hasher_update(struct wh_hasher *h, const void *data, size_t len, struct wh_err *err);
int wh_hasher_final(struct wh_hasher *h, char digest[WH_DIGEST_BUF], struct wh_err *err);
void wh_hasher_free(struct wh_hasher *h);

/* One-shot digest of a buffer. */
int wh_digest_buffer(const void *data, size_t len, char digest[WH_DIGEST_BUF], struct wh_err *err);
/* Digest of everything left to read on fd (and its length). */
int wh_digest_fd(int fd, char digest[WH_DIGEST_BUF], uint64_t *size, struct wh_err *err);
/* The hex part of a valid digest (the blob's file name). */
const char *wh_digest_hex(const char *digest);

#endif
