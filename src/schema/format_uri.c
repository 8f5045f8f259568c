/* URI and IRI formats: the RFC 3986 grammar (uri, uri-reference) and its
 * RFC 3987 extension to non-ASCII characters (iri, iri-reference). */
#include "schema/format.h"
#include "schema/utf8.h"

#include <string.h>

struct cursor {
        const unsigned char *s;
        size_t len, i;
        bool iri;
};

static bool is_alpha(uint32_t c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(uint32_t c)
{
        return c >= '0' && c <= '9';
}

static bool is_hex(uint32_t c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3987 ucschar, and iprivate (allowed in queries only). */
static bool ucschar(uint32_t c)
{
        if (c < 0xa0 || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfdd0 && c <= 0xfdef))
                return false;
        if ((c & 0xfffe) == 0xfffe || c > 0xefffd)
                return false;
        return true;
}

static bool iprivate(uint32_t c)
{
        return (c >= 0xe000 && c <= 0xf8ff) || (c >= 0xf0000 && c <= 0xffffd) ||
               (c >= 0x100000 && c <= 0x10fffd);
}

/* Consume characters while they are unreserved, percent-encoded,
 * sub-delims, or in `extra`; false on a malformed percent-escape. */
static bool scan(struct cursor *c, const char *extra, bool private_ok)
{
        while (c->i < c->len) {
                uint32_t ch = c->s[c->i];
                if (ch == '%') {
                        if (c->i + 2 >= c->len || !is_hex(c->s[c->i + 1]) ||
                            !is_hex(c->s[c->i + 2]))
                                return false;
                        c->i += 3;
                        continue;
                }
                if (ch >= 0x80) {
                        size_t j = c->i;
                        uint32_t cp = utf8_next(c->s, c->len, &j);
                        if (!c->iri || !(ucschar(cp) || (private_ok && iprivate(cp))))
                                return true;
                        c->i = j;
                        continue;
                }
                if (!(is_alpha(ch) || is_digit(ch) || strchr("-._~!$&'()*+,;=", (int)ch) ||
                      strchr(extra, (int)ch)) ||
                    ch == 0)
                        return true;
                c->i++;
        }
        return true;
}

static bool at_end(const struct cursor *c)
{
        return c->i >= c->len;
}

static bool peek(const struct cursor *c, char ch)
{
        return c->i < c->len && c->s[c->i] == (unsigned char)ch;
}

static bool ip_literal(const char *s, size_t len)
{
        if (len >= 1 && (s[0] == 'v' || s[0] == 'V')) {
                size_t i = 1;
                while (i < len && is_hex((unsigned char)s[i]))
                        i++;
                if (i == 1 || i >= len || s[i] != '.' || i + 1 >= len)
                        return false;
                for (i++; i < len; i++)
                        if (!(is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                              strchr("-._~!$&'()*+,;=:", s[i])))
                                return false;
                return true;
        }
        return fmt_ipv6(s, len);
}

/* After "//": [userinfo "@"] host [":" port]. */
static bool authority(struct cursor *c)
{
        size_t start = c->i, end = c->i;
        while (end < c->len && c->s[end] != '/' && c->s[end] != '?' && c->s[end] != '#')
                end++;
        const unsigned char *at = memchr(c->s + start, '@', end - start);
        struct cursor a = {c->s, end, start, c->iri};
        if (at) {
                if (!scan(&a, ":", false) || a.i != (size_t)(at - c->s))
                        return false;
                a.i++;
        }
        if (peek(&a, '[')) {
                const unsigned char *close = memchr(c->s + a.i, ']', end - a.i);
                if (!close ||
                    !ip_literal((const char *)c->s + a.i + 1, (size_t)(close - c->s) - a.i - 1))
                        return false;
                a.i = (size_t)(close - c->s) + 1;
        } else if (!scan(&a, "", false)) {
                return false;
        }
        if (peek(&a, ':'))
                for (a.i++; a.i < end && is_digit(c->s[a.i]); a.i++)
                        ;
        c->i = end;
        return a.i == end;
}

static bool uri_ref(const char *str, size_t len, bool iri, bool absolute)
{
        struct cursor c = {(const unsigned char *)str, len, 0, iri};
        size_t k = 0;
        while (k < len && !strchr(":/?#", str[k]))
                k++;
        bool scheme = k < len && str[k] == ':' && k > 0 && is_alpha((unsigned char)str[0]);
        for (size_t j = 1; scheme && j < k; j++)
                scheme = is_alpha((unsigned char)str[j]) || is_digit((unsigned char)str[j]) ||
                         strchr("+-.", str[j]);
        if (absolute && !scheme)
                return false;
        if (scheme)
                c.i = k + 1;
        if (c.len - c.i >= 2 && c.s[c.i] == '/' && c.s[c.i + 1] == '/') {
                c.i += 2;
                if (!authority(&c))
                        return false;
        } else if (!scheme) {
                /* path-noscheme: no ":" in the first segment */
                size_t seg = c.i;
                while (seg < len && !strchr("/?#", str[seg]) && str[seg] != ':')
                        seg++;
                if (seg < len && str[seg] == ':')
                        return false;
        }
        if (!scan(&c, ":@/", false))
                return false;
        if (peek(&c, '?')) {
                c.i++;
                if (!scan(&c, ":@/?", true))
                        return false;
        }
        if (peek(&c, '#')) {
                c.i++;
                if (!scan(&c, ":@/?", false))
                        return false;
        }
        return at_end(&c);
}

bool fmt_uri(const char *s, size_t len)
{
        return uri_ref(s, len, false, true);
}

bool fmt_uri_reference(const char *s, size_t len)
{
        return uri_ref(s, len, false, false);
}

bool fmt_iri(const char *s, size_t len)
{
        return uri_ref(s, len, true, true);
}

bool fmt_iri_reference(const char *s, size_t len)
{
        return uri_ref(s, len, true, false);
}
