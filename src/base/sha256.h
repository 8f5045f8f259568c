/* SHA-256 (FIPS 180-4), self-contained so the light `whiskers` binary needs no
 * libcrypto (loading libcrypto costs ~0.7 ms per exec on this machine class;
 * see docs/design.md). Bulk hashing in the package store uses libcrypto. */
#ifndef WH_BASE_SHA256_H
#define WH_BASE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WH_SHA256_LEN     32
#define WH_SHA256_HEX_LEN 64

struct wh_sha256 {
        uint32_t state[8];
        uint64_t bytes;
        uint8_t block[64];
        size_t used;
};

void wh_sha256_init(struct wh_sha256 *ctx);
void wh_sha256_update(struct wh_sha256 *ctx, const void *data, size_t len);
void wh_sha256_final(struct wh_sha256 *ctx, uint8_t out[WH_SHA256_LEN]);
/* One-shot helper: writes 64 lowercase hex digits plus NUL into hex. */
void wh_sha256_hex(const void *data, size_t len, char hex[WH_SHA256_HEX_LEN + 1]);
void wh_hex_encode(const uint8_t *bytes, size_t len, char *out);
/* Tests: use the portable code even where the CPU has SHA extensions. */
void wh_sha256_force_portable(bool on);

#endif
