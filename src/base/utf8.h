/* UTF-8 well-formedness (RFC 3629), shared by the JSON decoder and the
 * contract's excerpts of hostile output. */
#ifndef WH_BASE_UTF8_H
#define WH_BASE_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence that starts with the non-ASCII
 * byte s[0] (at most n bytes available), 0 if it is not well-formed:
 * overlongs, surrogates and code points above U+10FFFF are not. */
static inline size_t utf8_seq_len(const unsigned char *s, size_t n)
{
        size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
        if (!len || len > n || s[0] > 0xf4)
                return 0;
        for (size_t i = 1; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
            (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                return 0;
        return len;
}

#endif
