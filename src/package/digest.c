#include "package/digest.h"
#include "base/cleanup.h"
#include "base/sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool wh_digest_valid(const char *digest)
{
        if (!digest || strncmp(digest, "sha256:", 7) != 0)
                return false;
        const char *hex = digest + 7;
        for (size_t i = 0; i < WH_SHA256_HEX_LEN; i++)
                if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
                        return false;
        return hex[WH_SHA256_HEX_LEN] == '\0';
}

const char *wh_digest_hex(const char *digest)
{
        return digest + 7;
}

int wh_hasher_init(struct wh_hasher *h, struct wh_err *err)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return wh_err_set(err, ENOMEM, "digest", "cannot allocate a SHA-256 context");
        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return wh_err_set(err, 0, "digest", "libcrypto cannot start SHA-256");
        }
        h->ctx = ctx;
        return 0;
}

int wh_hasher_update(struct wh_hasher *h, const void *data, size_t len, struct wh_err *err)
{
        if (EVP_DigestUpdate(h->ctx, data, len) != 1)
                return wh_err_set(err, 0, "digest", "libcrypto SHA-256 update failed");
        return 0;
}

int wh_hasher_final(struct wh_hasher *h, char digest[WH_DIGEST_BUF], struct wh_err *err)
{
        unsigned char md[WH_SHA256_LEN];
        unsigned int mdlen = 0;
        if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != WH_SHA256_LEN)
                return wh_err_set(err, 0, "digest", "libcrypto SHA-256 final failed");
        memcpy(digest, "sha256:", 7);
        wh_hex_encode(md, WH_SHA256_LEN, digest + 7);
        digest[7 + WH_SHA256_HEX_LEN] = '\0';
        return 0;
}

void wh_hasher_free(struct wh_hasher *h)
{
        EVP_MD_CTX_free(h->ctx);
        h->ctx = NULL;
}

int wh_digest_buffer(const void *data, size_t len, char digest[WH_DIGEST_BUF], struct wh_err *err)
{
        struct wh_hasher h;
        if (wh_hasher_init(&h, err) < 0)
                return -1;
        int rc = wh_hasher_update(&h, data, len, err);
        if (rc == 0)
                rc = wh_hasher_final(&h, digest, err);
        wh_hasher_free(&h);
        return rc;
}

int wh_digest_fd(int fd, char digest[WH_DIGEST_BUF], uint64_t *size, struct wh_err *err)
{
        struct wh_hasher h;
        if (wh_hasher_init(&h, err) < 0)
                return -1;
        enum { CHUNK = 1 << 16 };
        cleanup_free unsigned char *buf = malloc(CHUNK);
        if (!buf) {
                wh_hasher_free(&h);
                return wh_err_set(err, ENOMEM, "digest", "cannot allocate a read buffer");
        }
        uint64_t total = 0;
        int rc = 0;
        for (;;) {
                ssize_t n = read(fd, buf, CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = wh_err_set(err, errno, "digest", "cannot read blob");
                        break;
                }
                if (n == 0)
                        break;
                total += (uint64_t)n;
                if ((rc = wh_hasher_update(&h, buf, (size_t)n, err)) < 0)
                        break;
        }
        if (rc == 0)
                rc = wh_hasher_final(&h, digest, err);
        wh_hasher_free(&h);
        if (rc == 0 && size)
                *size = total;
        return rc;
}
