/* IDNA2008 label rules (the subset described in idn.h) and the hostname
 * (RFC 1123 labels; "xn--" labels must hold valid Punycode) and
 * idn-hostname formats, which check each other's labels. */
#include "schema/format.h"
#include "schema/idn.h"
#include "schema/unicode.h"
#include "schema/utf8.h"

#include <strings.h>

static bool in_list(uint32_t c, const uint32_t *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (list[i] == c)
                        return true;
        return false;
}

/* Canonical_Combining_Class 9 (virama), from the Unicode data. */
static const uint32_t viramas[] = {
    0x94d,   0x9cd,   0xa4d,   0xacd,   0xb4d,   0xbcd,   0xc4d,   0xccd,   0xd3b,
    0xd3c,   0xd4d,   0xdca,   0xe3a,   0xeba,   0xf84,   0x1039,  0x103a,  0x1714,
    0x1715,  0x1734,  0x17d2,  0x1a60,  0x1b44,  0x1baa,  0x1bab,  0x1bf2,  0x1bf3,
    0x2d7f,  0xa806,  0xa82c,  0xa8c4,  0xa953,  0xa9c0,  0xaaf6,  0xabed,  0x10a3f,
    0x11046, 0x11070, 0x1107f, 0x110b9, 0x11133, 0x11134, 0x111c0, 0x11235, 0x112ea,
    0x1134d, 0x11442, 0x114c2, 0x115bf, 0x1163f, 0x116b6, 0x1172b, 0x11839, 0x1193d,
    0x1193e, 0x119e0, 0x11a34, 0x11a47, 0x11a99, 0x11c3f, 0x11d44, 0x11d45, 0x11d97};

/* RFC 5892 section 2.6 exceptions. */
static const uint32_t pvalid_exceptions[] = {0xdf, 0x3c2, 0x6fd, 0x6fe, 0xf0b, 0x3007};
static const uint32_t disallowed_exceptions[] = {0x640,  0x7fa,  0x302e, 0x302f, 0x3031,
                                                 0x3032, 0x3033, 0x3034, 0x3035, 0x303b};

static bool is_greek(uint32_t c)
{
        return (c >= 0x370 && c <= 0x3ff && c != 0x374 && c != 0x37e && c != 0x385 && c != 0x387) ||
               (c >= 0x1f00 && c <= 0x1fff);
}

static bool is_hebrew(uint32_t c)
{
        return (c >= 0x591 && c <= 0x5f4) || (c >= 0xfb1d && c <= 0xfb4f);
}

static bool is_kana_or_han(uint32_t c)
{
        return (c >= 0x3040 && c <= 0x30ff && c != 0x30fb) || (c >= 0x31f0 && c <= 0x31ff) ||
               (c >= 0xff66 && c <= 0xff9f) || (c >= 0x2e80 && c <= 0x2fdf) || c == 0x3005 ||
               c == 0x3007 || (c >= 0x3021 && c <= 0x3029) || (c >= 0x3038 && c <= 0x303b) ||
               (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
               (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

/* Arabic letters that join on both sides, approximated by their blocks. */
static bool is_joining(uint32_t c)
{
        return (c >= 0x620 && c <= 0x64a) || (c >= 0x66e && c <= 0x6d3) ||
               (c >= 0x6fa && c <= 0x6ff) || (c >= 0x750 && c <= 0x77f);
}

static bool is_mark(uint32_t c)
{
        enum ucd_gc gc = ucd_category(c);
        return gc == UCD_Mn || gc == UCD_Mc || gc == UCD_Me;
}

static bool pvalid(uint32_t c)
{
        if (in_list(c, pvalid_exceptions, sizeof(pvalid_exceptions) / sizeof(pvalid_exceptions[0])))
                return true;
        if (in_list(c, disallowed_exceptions,
                    sizeof(disallowed_exceptions) / sizeof(disallowed_exceptions[0])))
                return false;
        if (c < 0x80)
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        enum ucd_gc gc = ucd_category(c);
        return gc == UCD_Ll || gc == UCD_Lo || gc == UCD_Lm || gc == UCD_Mn || gc == UCD_Mc ||
               gc == UCD_Nd;
}

/* CONTEXTJ and CONTEXTO rules (RFC 5892 appendix A) for cp[i]; -1 when
 * cp[i] is not contextual. */
static int contextual(const uint32_t *cp, size_t n, size_t i, bool arabic, bool extended)
{
        uint32_t c = cp[i], prev = i ? cp[i - 1] : 0, next = i + 1 < n ? cp[i + 1] : 0;
        switch (c) {
        case 0x200d:
                return i > 0 && in_list(prev, viramas, sizeof(viramas) / sizeof(viramas[0]));
        case 0x200c: {
                if (i > 0 && in_list(prev, viramas, sizeof(viramas) / sizeof(viramas[0])))
                        return 1;
                size_t b = i, a = i + 1;
                while (b > 0 && ucd_category(cp[b - 1]) == UCD_Mn)
                        b--;
                while (a < n && ucd_category(cp[a]) == UCD_Mn)
                        a++;
                return b > 0 && a < n && is_joining(cp[b - 1]) && is_joining(cp[a]);
        }
        case 0xb7:
                return prev == 'l' && next == 'l';
        case 0x375:
                return i + 1 < n && is_greek(next);
        case 0x5f3:
        case 0x5f4:
                return i > 0 && is_hebrew(prev);
        case 0x30fb:
                for (size_t k = 0; k < n; k++)
                        if (is_kana_or_han(cp[k]))
                                return 1;
                return 0;
        default:
                if (c >= 0x660 && c <= 0x669)
                        return !extended;
                if (c >= 0x6f0 && c <= 0x6f9)
                        return !arabic;
                return -1;
        }
}

bool idn_u_label_ok(const uint32_t *cp, size_t n)
{
        if (n == 0 || cp[0] == '-' || cp[n - 1] == '-' || is_mark(cp[0]))
                return false;
        if (n >= 4 && cp[2] == '-' && cp[3] == '-')
                return false;
        bool arabic = false, extended = false;
        for (size_t i = 0; i < n; i++) {
                arabic |= cp[i] >= 0x660 && cp[i] <= 0x669;
                extended |= cp[i] >= 0x6f0 && cp[i] <= 0x6f9;
        }
        for (size_t i = 0; i < n; i++) {
                int ctx = contextual(cp, n, i, arabic, extended);
                if (ctx == 0 || (ctx < 0 && !pvalid(cp[i])))
                        return false;
        }
        return idn_a_label_len(cp, n) != 0;
}

size_t idn_a_label_len(const uint32_t *cp, size_t n)
{
        bool ascii = true;
        for (size_t i = 0; i < n; i++)
                ascii &= cp[i] < 0x80;
        if (ascii)
                return n <= 63 ? n : 0;
        char out[64];
        long len = punycode_encode(cp, n, out, sizeof(out) - 4);
        return len < 0 || len + 4 > 63 ? 0 : (size_t)len + 4;
}

bool idn_a_label_ok(const char *s, size_t n)
{
        if (n < 5 || (s[0] != 'x' && s[0] != 'X') || (s[1] != 'n' && s[1] != 'N'))
                return false;
        uint32_t cp[IDN_MAX_LABEL];
        size_t ncp;
        if (punycode_decode(s + 4, n - 4, cp, &ncp, IDN_MAX_LABEL) < 0)
                return false;
        bool ascii = true;
        for (size_t i = 0; i < ncp; i++)
                ascii &= cp[i] < 0x80;
        char again[64];
        long len = punycode_encode(cp, ncp, again, sizeof(again));
        if (ascii || len != (long)(n - 4) || strncasecmp(again, s + 4, n - 4) != 0)
                return false;
        return idn_u_label_ok(cp, ncp);
}

static bool ldh_label(const char *s, size_t n)
{
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-'))
                        return false;
        }
        /* "ab--" labels are reserved for A-labels ("xn--"), which must decode. */
        if (n >= 4 && s[2] == '-' && s[3] == '-')
                return idn_a_label_ok(s, n);
        return true;
}

bool fmt_hostname(const char *s, size_t len)
{
        if (len == 0 || len > 253)
                return false;
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && s[i] != '.')
                        continue;
                if (!ldh_label(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

static bool is_separator(uint32_t c)
{
        return c == '.' || c == 0x3002 || c == 0xff0e || c == 0xff61;
}

bool fmt_idn_hostname(const char *s, size_t len)
{
        const unsigned char *u = (const unsigned char *)s;
        uint32_t cp[IDN_MAX_LABEL + 1];
        size_t n = 0, total = 0, i = 0;
        if (len == 0)
                return false;
        for (;;) {
                bool end = i >= len;
                uint32_t c = end ? 0 : utf8_next(u, len, &i);
                if (!end && !is_separator(c)) {
                        if (n > IDN_MAX_LABEL)
                                return false;
                        cp[n++] = c;
                        continue;
                }
                size_t alen = idn_a_label_len(cp, n);
                bool ascii = alen == n;
                if (n == 0 || alen == 0)
                        return false;
                if (ascii) {
                        char label[64];
                        for (size_t k = 0; k < n; k++)
                                label[k] = (char)cp[k];
                        if (!fmt_hostname(label, n))
                                return false;
                } else if (!idn_u_label_ok(cp, n)) {
                        return false;
                }
                total += alen + (end ? 0 : 1);
                if (end)
                        return total <= 253;
                n = 0;
        }
}
