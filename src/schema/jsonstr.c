/* JSON strings (RFC 8259 section 7) for the decoder: strings without
 * escapes are not copied (they point into the text); escaped ones are
 * decoded into the arena. Every byte is checked: control characters must
 * be escaped, UTF-8 must be well-formed, \u escapes of surrogates must
 * pair up. On x86-64, bodies are scanned sixteen bytes at a time (SSE2)
 * for the bytes that need attention (quote, backslash, control characters,
 * non-ASCII). */
#include "schema/jsondec.h"
#include "schema/utf8.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int hex4(const char *s, uint32_t *out)
{
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t)(c - '0');
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        v |= (uint32_t)((c | 0x20) - 'a' + 10);
                else
                        return -1;
        }
        *out = v;
        return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* A \u escape at d->p (just past the 'u'), with its low surrogate when it
 * is a high one. */
static int unicode_escape(struct jv_dec *d, uint32_t *cp)
{
        if (d->end - d->p < 4 || hex4(d->p, cp) < 0)
                return jv_fail(d, "\\u must be followed by four hexadecimal digits");
        d->p += 4;
        if (*cp >= 0xdc00 && *cp <= 0xdfff)
                return d->p -= 6, jv_fail(d, "lone low surrogate in a \\u escape");
        if (*cp < 0xd800 || *cp > 0xdbff)
                return 0;
        uint32_t lo;
        if (d->end - d->p < 6 || d->p[0] != '\\' || d->p[1] != 'u' || hex4(d->p + 2, &lo) < 0 ||
            lo < 0xdc00 || lo > 0xdfff)
                return d->p -= 6, jv_fail(d, "high surrogate \\u escape without a low surrogate");
        d->p += 6;
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
        return 0;
}

/* The rest of a string that has escapes: body starts at the opening quote
 * + 1, d->p is at the first backslash. Decoded into the arena; never
 * longer than the text it comes from. */
static int escaped_string(struct jv_dec *d, const char *body, struct jv *out)
{
        const char *q = d->p;
        while (q < d->end && *q != '"')
                q += *q == '\\' && d->end - q > 1 ? 2 : 1;
        if (q >= d->end)
                return jv_fail(d, "unterminated string");
        char *buf = arena_alloc(d->a, (size_t)(q - body));
        if (!buf)
                return jv_out_of_memory(d);
        size_t n = (size_t)(d->p - body);
        memcpy(buf, body, n);
        while (*d->p != '"') {
                unsigned char c = (unsigned char)*d->p;
                if (c < 0x20)
                        return jv_fail(d, "control character in a string (escape it)");
                if (c >= 0x80) {
                        size_t k =
                            utf8_seq_len((const unsigned char *)d->p, (size_t)(d->end - d->p));
                        if (!k)
                                return jv_fail(d, "invalid UTF-8 in a string");
                        memcpy(buf + n, d->p, k);
                        n += k;
                        d->p += k;
                        continue;
                }
                if (c != '\\') {
                        buf[n++] = (char)c;
                        d->p++;
                        continue;
                }
                /* Pairs: the letter after the backslash, the byte it means. */
                static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
                const char *e = d->p[1] ? strchr(simple, d->p[1]) : NULL;
                d->p += 2;
                if (e && (e - simple) % 2 == 0) {
                        buf[n++] = e[1];
                } else if (d->p[-1] == 'u') {
                        uint32_t cp;
                        if (unicode_escape(d, &cp) < 0)
                                return -1;
                        n += put_utf8(buf + n, cp);
                } else {
                        d->p -= 2;
                        return jv_fail(d, "invalid escape in a string");
                }
        }
        d->p++;
        *out = (struct jv){.kind = JV_K_STRING, .n = (uint32_t)n, .u.s = buf};
        return 0;
}

/* Advance p to the first byte of [p, end) that is a quote, a backslash,
 * below 0x20 or above 0x7f (or to end). */
static const char *plain_run(const char *p, const char *end)
{
#ifdef __SSE2__
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        const __m128i space = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
                /* Signed: bytes above 0x7f are negative, so below 0x20. */
                __m128i hit =
                    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
                int mask = _mm_movemask_epi8(hit);
                if (mask)
                        return p + __builtin_ctz((unsigned)mask);
                p += 16;
        }
#endif
        while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
               (unsigned char)*p < 0x80)
                p++;
        return p;
}

int jv_parse_string(struct jv_dec *d, struct jv *out)
{
        const char *body = ++d->p;
        for (;;) {
                d->p = plain_run(d->p, d->end);
                if (d->p >= d->end)
                        return jv_fail(d, "unterminated string");
                unsigned char c = (unsigned char)*d->p;
                if (c == '"')
                        break;
                if (c == '\\')
                        return escaped_string(d, body, out);
                if (c < 0x20)
                        return jv_fail(d, "control character in a string (escape it)");
                size_t k = utf8_seq_len((const unsigned char *)d->p, (size_t)(d->end - d->p));
                if (!k)
                        return jv_fail(d, "invalid UTF-8 in a string");
                d->p += k;
        }
        *out = (struct jv){.kind = JV_K_STRING, .n = (uint32_t)(d->p - body), .u.s = body};
        d->p++;
        return 0;
}
