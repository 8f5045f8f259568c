/* The format table and the small, self-contained formats: uuid, JSON
 * pointers, regex and uri-template. */
#include "schema/format.h"
#include "schema/arena.h"
#include "schema/regex.h"

#include <string.h>

static const struct {
        const char *name;
        bool (*check)(const char *s, size_t len);
} formats[] = {
    {"date-time", fmt_date_time},
    {"date", fmt_date},
    {"time", fmt_time},
    {"duration", fmt_duration},
    {"email", fmt_email},
    {"idn-email", fmt_idn_email},
    {"hostname", fmt_hostname},
    {"idn-hostname", fmt_idn_hostname},
    {"ipv4", fmt_ipv4},
    {"ipv6", fmt_ipv6},
    {"uri", fmt_uri},
    {"uri-reference", fmt_uri_reference},
    {"iri", fmt_iri},
    {"iri-reference", fmt_iri_reference},
    {"uri-template", fmt_uri_template},
    {"json-pointer", fmt_json_pointer},
    {"relative-json-pointer", fmt_relative_json_pointer},
    {"regex", fmt_regex},
    {"uuid", fmt_uuid},
};

int sch_format_id(const char *name)
{
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
                if (strcmp(name, formats[i].name) == 0)
                        return (int)i + 1;
        return 0;
}

bool sch_format_check(int id, const char *s, size_t len)
{
        return formats[id - 1].check(s, len);
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool fmt_uuid(const char *s, size_t len)
{
        if (len != 36)
                return false;
        for (size_t i = 0; i < len; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !is_hex(s[i]))
                        return false;
        }
        return true;
}

bool fmt_json_pointer(const char *s, size_t len)
{
        if (len && s[0] != '/')
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
                        return false;
        return true;
}

bool fmt_relative_json_pointer(const char *s, size_t len)
{
        size_t i = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
                i++;
        if (i == 0 || (s[0] == '0' && i > 1))
                return false;
        if (i + 1 == len && s[i] == '#')
                return true;
        return fmt_json_pointer(s + i, len - i);
}

bool fmt_regex(const char *s, size_t len)
{
        char buf[8192], err[128];
        struct arena a;
        arena_init_buf(&a, buf, sizeof(buf));
        bool ok = rx_compile(&a, s, len, err, sizeof(err)) != NULL;
        arena_free(&a);
        return ok;
}

static bool varname(const char *s, size_t len, size_t *i)
{
        bool need_char = true;
        while (*i < len) {
                char c = s[*i];
                if (c == '%' && *i + 2 < len && is_hex(s[*i + 1]) && is_hex(s[*i + 2])) {
                        *i += 3;
                } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_') {
                        (*i)++;
                } else if (c == '.' && !need_char) {
                        (*i)++;
                        need_char = true;
                        continue;
                } else {
                        break;
                }
                need_char = false;
        }
        return !need_char;
}

/* RFC 6570 expression body, after "{"; leaves *i after "}". */
static bool expression(const char *s, size_t len, size_t *i)
{
        if (*i < len && strchr("+#./;?&", s[*i]) && s[*i])
                (*i)++;
        for (;;) {
                if (!varname(s, len, i))
                        return false;
                if (*i < len && s[*i] == ':') {
                        size_t start = ++*i;
                        while (*i < len && s[*i] >= '0' && s[*i] <= '9')
                                (*i)++;
                        if (*i == start || *i - start > 4 || s[start] == '0')
                                return false;
                } else if (*i < len && s[*i] == '*') {
                        (*i)++;
                }
                if (*i < len && s[*i] == ',') {
                        (*i)++;
                        continue;
                }
                if (*i < len && s[*i] == '}') {
                        (*i)++;
                        return true;
                }
                return false;
        }
}

bool fmt_uri_template(const char *s, size_t len)
{
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char)s[i];
                if (c == '{') {
                        i++;
                        if (!expression(s, len, &i))
                                return false;
                } else if (c == '%') {
                        if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                                return false;
                        i += 3;
                } else if (c <= 0x20 || c == 0x7f || strchr("\"<>\\^`|}", c)) {
                        return false;
                } else {
                        i++;
                }
        }
        return true;
}
