/* Network formats: ipv4 (dotted quad, no leading zeros), ipv6 (RFC 4291
 * text forms, with an optional trailing dotted quad), and email (RFC 5321
 * mailbox: dot-atom or quoted local part, host name or address literal).
 * The host names are idn.c's. */
#define _GNU_SOURCE /* memmem */
#include "schema/format.h"
#include "schema/idn.h"

#include <string.h>

bool fmt_ipv4(const char *s, size_t len)
{
        size_t i = 0;
        for (int part = 0; part < 4; part++) {
                if (part > 0) {
                        if (i >= len || s[i] != '.')
                                return false;
                        i++;
                }
                size_t start = i;
                int value = 0;
                while (i < len && i - start < 3 && s[i] >= '0' && s[i] <= '9')
                        value = value * 10 + (s[i++] - '0');
                if (i == start || value > 255 || (s[start] == '0' && i - start > 1))
                        return false;
        }
        return i == len;
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Groups "h16:h16:..." of one side of "::"; the last may be a dotted quad
 * when it ends the address. Adds the 16-bit groups it stands for. */
static bool groups(const char *s, size_t len, bool may_end_v4, int *count)
{
        if (len == 0)
                return true;
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && s[i] != ':')
                        continue;
                size_t n = i - start;
                if (i == len && may_end_v4 && memchr(s + start, '.', n)) {
                        if (!fmt_ipv4(s + start, n))
                                return false;
                        *count += 2;
                        return true;
                }
                if (n == 0 || n > 4)
                        return false;
                for (size_t k = start; k < i; k++)
                        if (!is_hex(s[k]))
                                return false;
                (*count)++;
                start = i + 1;
        }
        return true;
}

bool fmt_ipv6(const char *s, size_t len)
{
        const char *dbl = NULL;
        for (size_t i = 0; i + 1 < len; i++)
                if (s[i] == ':' && s[i + 1] == ':') {
                        dbl = s + i;
                        break;
                }
        int count = 0;
        if (!dbl)
                return groups(s, len, true, &count) && count == 8;
        size_t head = (size_t)(dbl - s);
        const char *tail = dbl + 2;
        size_t tail_len = len - head - 2;
        if (memmem(tail, tail_len, "::", 2))
                return false;
        return groups(s, head, false, &count) && groups(tail, tail_len, true, &count) && count <= 7;
}

static bool atext(unsigned char c, bool intl)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-/=?^_`{|}~", c)) || (intl && c >= 0x80);
}

/* Local part (dot-string or quoted-string); returns its length or 0. */
static size_t local_part(const char *s, size_t len, bool intl)
{
        size_t i = 0;
        if (len && s[0] == '"') {
                for (i = 1; i < len && s[i] != '"'; i++) {
                        unsigned char c = (unsigned char)s[i];
                        if (c == '\\') {
                                if (++i >= len || (unsigned char)s[i] < 0x20)
                                        return 0;
                        } else if (c < 0x20 || c == 0x7f) {
                                if (!(intl && c >= 0x80))
                                        return 0;
                        }
                }
                return i < len ? i + 1 : 0;
        }
        bool need_atom = true;
        for (; i < len && s[i] != '@'; i++) {
                if (s[i] == '.') {
                        if (need_atom)
                                return 0;
                        need_atom = true;
                } else if (atext((unsigned char)s[i], intl)) {
                        need_atom = false;
                } else {
                        return 0;
                }
        }
        return need_atom ? 0 : i;
}

static bool mailbox(const char *s, size_t len, bool intl)
{
        size_t local = local_part(s, len, intl);
        if (local == 0 || local >= len || s[local] != '@')
                return false;
        const char *d = s + local + 1;
        size_t dlen = len - local - 1;
        if (dlen >= 2 && d[0] == '[' && d[dlen - 1] == ']') {
                if (dlen > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
                        return fmt_ipv6(d + 6, dlen - 7);
                return fmt_ipv4(d + 1, dlen - 2);
        }
        return intl ? fmt_idn_hostname(d, dlen) : fmt_hostname(d, dlen);
}

bool fmt_email(const char *s, size_t len)
{
        return mailbox(s, len, false);
}

bool fmt_idn_email(const char *s, size_t len)
{
        return mailbox(s, len, true);
}
