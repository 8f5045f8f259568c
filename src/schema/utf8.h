/* UTF-8 helpers. Instances only hold valid UTF-8 (the decoders check it),
 * but these never read out of bounds on invalid input either: a stray byte
 * decodes as itself. */
#ifndef WH_SCHEMA_UTF8_H
#define WH_SCHEMA_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "base/utf8.h"

/* Decode the code point at s[*i] (i < len) and advance *i past it. */
static inline uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
        uint32_t c = s[*i];
        if (c < 0x80) {
                (*i)++;
                return c;
        }
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (n == 1 || *i + n > len) {
                (*i)++;
                return c;
        }
        uint32_t cp = c & (0x7f >> n);
        for (size_t k = 1; k < n; k++) {
                unsigned char b = s[*i + k];
                if ((b & 0xc0) != 0x80) {
                        (*i)++;
                        return c;
                }
                cp = (cp << 6) | (b & 0x3f);
        }
        *i += n;
        return cp;
}

/* Decode the code point that ends just before s[*i] (i > 0) and move *i to
 * its first byte. */
static inline uint32_t utf8_prev(const unsigned char *s, size_t len, size_t *i)
{
        size_t start = *i - 1;
        size_t lim = *i >= 4 ? *i - 4 : 0;
        while (start > lim && (s[start] & 0xc0) == 0x80)
                start--;
        size_t j = start;
        uint32_t cp = utf8_next(s, len, &j);
        if (j != *i) { /* not a well-formed sequence: step one byte */
                *i -= 1;
                return s[*i];
        }
        *i = start;
        return cp;
}

/* Number of code points (what minLength/maxLength count). */
size_t sch_utf8_count(const char *s, size_t len);

#endif
