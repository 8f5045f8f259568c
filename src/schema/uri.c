#include "base/hex.h"
#include "base/strbuf.h"
#include "schema/uri.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3986 appendix B: ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))? */
void uri_parse(const char *s, struct uri *u)
{
        memset(u, 0, sizeof(*u));
        const char *p = s;
        const char *q = p;
        while (*q && !strchr(":/?#", *q))
                q++;
        if (*q == ':' && q > p) {
                u->scheme = (struct uri_part){p, (size_t)(q - p), true};
                p = q + 1;
        }
        if (p[0] == '/' && p[1] == '/') {
                p += 2;
                q = p;
                while (*q && !strchr("/?#", *q))
                        q++;
                u->authority = (struct uri_part){p, (size_t)(q - p), true};
                p = q;
        }
        q = p;
        while (*q && *q != '?' && *q != '#')
                q++;
        u->path = (struct uri_part){p, (size_t)(q - p), true};
        p = q;
        if (*p == '?') {
                q = ++p;
                while (*q && *q != '#')
                        q++;
                u->query = (struct uri_part){p, (size_t)(q - p), true};
                p = q;
        }
        if (*p == '#')
                u->fragment = (struct uri_part){p + 1, strlen(p + 1), true};
}

bool uri_is_absolute(const char *s)
{
        struct uri u;
        uri_parse(s, &u);
        return u.scheme.present;
}

size_t uri_nofrag_len(const char *s)
{
        const char *h = strchr(s, '#');
        return h ? (size_t)(h - s) : strlen(s);
}

/* Section 5.2.4. `path` is NUL-terminated and rewritten in place: the output
 * never grows past the input read so far, and the one character written
 * ahead of the input ("/.." becoming "/") lands inside the input. */
static void remove_dot_segments(char *path)
{
        char *in = path, *out = path;
        while (*in) {
                if (strncmp(in, "../", 3) == 0) {
                        in += 3;
                } else if (strncmp(in, "./", 2) == 0 || strncmp(in, "/./", 3) == 0) {
                        in += 2;
                } else if (strcmp(in, "/.") == 0) {
                        in[1] = '\0';
                } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
                        if (in[3] == '/') {
                                in += 3;
                        } else {
                                in += 2;
                                *in = '/';
                        }
                        while (out > path && *--out != '/')
                                ;
                } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
                        break;
                } else {
                        do
                                *out++ = *in++;
                        while (*in && *in != '/');
                }
        }
        *out = '\0';
}

static void put_part(struct wh_strbuf *b, const char *prefix, const struct uri_part *p)
{
        wh_strbuf_put(b, prefix, strlen(prefix));
        wh_strbuf_put(b, p->s, p->len);
}

/* Path of the target (section 5.2.2/5.2.3), dot segments removed. */
static char *target_path(const struct uri *base, const struct uri *ref)
{
        struct wh_strbuf b = {0};
        if (ref->path.len && ref->path.s[0] == '/') {
                wh_strbuf_put(&b, ref->path.s, ref->path.len);
        } else if (base->authority.present && base->path.len == 0) {
                wh_strbuf_put(&b, "/", 1);
                wh_strbuf_put(&b, ref->path.s, ref->path.len);
        } else {
                size_t keep = base->path.len;
                while (keep > 0 && base->path.s[keep - 1] != '/')
                        keep--;
                wh_strbuf_put(&b, base->path.s, keep);
                wh_strbuf_put(&b, ref->path.s, ref->path.len);
        }
        wh_strbuf_put(&b, "", 0);
        if (b.oom) {
                free(b.s);
                return NULL;
        }
        remove_dot_segments(b.s);
        return b.s;
}

static void put_path(struct wh_strbuf *b, const struct uri_part *p)
{
        char *copy = strndup(p->s, p->len);
        if (!copy) {
                b->oom = true;
                return;
        }
        remove_dot_segments(copy);
        wh_strbuf_put(b, copy, strlen(copy));
        free(copy);
}

char *uri_resolve(const char *base_s, const char *ref_s)
{
        struct uri base, ref;
        uri_parse(base_s, &base);
        uri_parse(ref_s, &ref);
        struct wh_strbuf b = {0};
        const struct uri *auth_from = &ref, *query_from = &ref;
        const struct uri *scheme_from = ref.scheme.present ? &ref : &base;
        bool path_done = false;
        wh_strbuf_put(&b, "", 0);
        if (!ref.scheme.present && !ref.authority.present) {
                auth_from = &base;
                if (ref.path.len == 0) {
                        if (!ref.query.present)
                                query_from = &base;
                        put_part(&b, "", &scheme_from->scheme);
                        wh_strbuf_put(&b, ":", scheme_from->scheme.present);
                        if (base.authority.present)
                                put_part(&b, "//", &base.authority);
                        wh_strbuf_put(&b, base.path.s, base.path.len);
                        path_done = true;
                }
        }
        if (!path_done) {
                put_part(&b, "", &scheme_from->scheme);
                wh_strbuf_put(&b, ":", scheme_from->scheme.present);
                if (auth_from->authority.present)
                        put_part(&b, "//", &auth_from->authority);
                if (ref.scheme.present || ref.authority.present) {
                        put_path(&b, &ref.path);
                } else {
                        char *path = target_path(&base, &ref);
                        if (!path)
                                b.oom = true;
                        else
                                wh_strbuf_put(&b, path, strlen(path));
                        free(path);
                }
        }
        if (query_from->query.present)
                put_part(&b, "?", &query_from->query);
        if (ref.fragment.present && ref.fragment.len)
                put_part(&b, "#", &ref.fragment);
        if (b.oom) {
                free(b.s);
                return NULL;
        }
        /* Schemes are case-insensitive; lower-case them so lookups agree. */
        for (size_t i = 0; i < b.len && b.s[i] != ':'; i++)
                b.s[i] = (char)tolower((unsigned char)b.s[i]);
        return b.s;
}

long uri_percent_decode(const char *s, size_t len, char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] != '%') {
                        out[o++] = s[i];
                        continue;
                }
                if (i + 2 >= len)
                        return -1;
                int hi = wh_hex_value(s[i + 1]), lo = wh_hex_value(s[i + 2]);
                if (hi < 0 || lo < 0)
                        return -1;
                out[o++] = (char)(hi * 16 + lo);
                i += 2;
        }
        out[o] = '\0';
        return (long)o;
}
