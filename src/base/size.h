/* Human sizes and durations for command-line options.
 *
 * Sizes: a decimal number with an optional binary suffix K, M, G, T (powers of
 * 1024, an optional trailing "iB" or "B" accepted: 64M, 64MiB, 64MB all mean
 * 64 * 2^20). Anything else ("12XB", "-1", "", "1.5M") is an error. */
#ifndef WH_BASE_SIZE_H
#define WH_BASE_SIZE_H

#include <stdint.h>
#include <whiskers/error.h>

int wh_parse_size(const char *text, uint64_t *out, struct wh_err *err);
/* A plain non-negative decimal integer that fits in uint64_t. */
int wh_parse_u64(const char *text, uint64_t *out, struct wh_err *err);

#endif
