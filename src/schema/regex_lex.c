/* The lexical half of the pattern parser: escapes and character classes
 * (regex_parse.c has the syntax: terms, groups, quantifiers). */
#include "schema/regex_parser.h"
#include "schema/utf8.h"
#include "base/hex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void *rxp_fail(struct parser *p, const char *fmt, ...)
{
        if (!p->failed) {
                char what[200];
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(what, sizeof(what), fmt, ap);
                va_end(ap);
                snprintf(p->err, p->errlen, "%s at offset %zu", what, p->pos);
        }
        p->failed = true;
        return NULL;
}

/* Append one element to an arena-backed array, doubling as needed. */
void *rxp_push(struct parser *p, void **arr, size_t *n, size_t *cap, size_t elem)
{
        if (*n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 4;
                void *na = arena_alloc(p->a, ncap * elem);
                if (!na)
                        return rxp_fail(p, "out of memory");
                if (*n)
                        memcpy(na, *arr, *n * elem);
                *arr = na;
                *cap = ncap;
        }
        return (char *)*arr + (*n)++ * elem;
}

struct rx_node *rxp_node(struct parser *p, enum rx_kind kind)
{
        struct rx_node *n = arena_zalloc(p->a, sizeof(*n));
        if (!n)
                return rxp_fail(p, "out of memory");
        n->kind = kind;
        return n;
}

bool rxp_at(const struct parser *p, char c)
{
        return p->pos < p->len && p->s[p->pos] == c;
}

bool rxp_eat(struct parser *p, const char *lit)
{
        size_t n = strlen(lit);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0) {
                p->pos += n;
                return true;
        }
        return false;
}

/* Exactly n hex digits; -1 if absent. */
static long hex_fixed(struct parser *p, size_t n)
{
        if (p->len - p->pos < n)
                return -1;
        long v = 0;
        for (size_t i = 0; i < n; i++) {
                int h = wh_hex_value(p->s[p->pos + i]);
                if (h < 0)
                        return -1;
                v = v * 16 + h;
        }
        p->pos += n;
        return v;
}

static int parse_unicode_escape(struct parser *p, uint32_t *cp)
{
        if (rxp_eat(p, "{")) {
                uint32_t v = 0;
                size_t start = p->pos;
                while (p->pos < p->len && wh_hex_value(p->s[p->pos]) >= 0) {
                        v = v * 16 + (uint32_t)wh_hex_value(p->s[p->pos++]);
                        if (v > 0x10ffff)
                                return rxp_fail(p, "\\u{...} beyond U+10FFFF"), -1;
                }
                if (p->pos == start || !rxp_eat(p, "}"))
                        return rxp_fail(p, "malformed \\u{...} escape"), -1;
                *cp = v;
                return 0;
        }
        long v = hex_fixed(p, 4);
        if (v < 0)
                return rxp_fail(p, "malformed \\u escape"), -1;
        *cp = (uint32_t)v;
        /* A surrogate pair written as two escapes is one code point. */
        if (v >= 0xd800 && v <= 0xdbff && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
            p->s[p->pos + 1] == 'u') {
                size_t save = p->pos;
                p->pos += 2;
                long lo = hex_fixed(p, 4);
                if (lo >= 0xdc00 && lo <= 0xdfff)
                        *cp = 0x10000 + (uint32_t)(((v - 0xd800) << 10) | (lo - 0xdc00));
                else
                        p->pos = save;
        }
        return 0;
}

static int parse_name(struct parser *p, char close, const char **name, size_t *len)
{
        size_t start = p->pos;
        while (p->pos < p->len && p->s[p->pos] != close) {
                unsigned char c = (unsigned char)p->s[p->pos];
                bool ok = c >= 0x80 || c == '_' || c == '$' || (c >= 'a' && c <= 'z') ||
                          (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && p->pos > start) ||
                          (close == '}' && (c == '=' || (c >= '0' && c <= '9')));
                if (!ok)
                        return rxp_fail(p, "invalid character in name"), -1;
                p->pos++;
        }
        if (p->pos == start || p->pos >= p->len)
                return rxp_fail(p, "missing or unterminated name"), -1;
        *name = p->s + start;
        *len = p->pos - start;
        p->pos++;
        return 0;
}

/* After a backslash. */
int rxp_escape(struct parser *p, bool in_class, struct esc *e)
{
        memset(e, 0, sizeof(*e));
        e->kind = E_CHAR;
        if (p->pos >= p->len)
                return rxp_fail(p, "\\ at end of pattern"), -1;
        char c = p->s[p->pos++];
        switch (c) {
        case 'f':
                e->cp = 0x0c;
                return 0;
        case 'n':
                e->cp = 0x0a;
                return 0;
        case 'r':
                e->cp = 0x0d;
                return 0;
        case 't':
                e->cp = 0x09;
                return 0;
        case 'v':
                e->cp = 0x0b;
                return 0;
        case 'd':
        case 'D':
                e->kind = E_SET;
                e->set = SET_DIGIT;
                e->neg = c == 'D';
                return 0;
        case 'w':
        case 'W':
                e->kind = E_SET;
                e->set = SET_WORD;
                e->neg = c == 'W';
                return 0;
        case 's':
        case 'S':
                e->kind = E_SET;
                e->set = SET_SPACE;
                e->neg = c == 'S';
                return 0;
        case 'c': {
                char l = p->pos < p->len ? p->s[p->pos] : 0;
                if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z')))
                        return rxp_fail(p, "\\c must be followed by a letter"), -1;
                p->pos++;
                e->cp = (uint32_t)l % 32;
                return 0;
        }
        case '0':
                if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
                        return rxp_fail(p, "octal escapes are not ECMA-262 (unicode mode)"), -1;
                e->cp = 0;
                return 0;
        case 'x': {
                long v = hex_fixed(p, 2);
                if (v < 0)
                        return rxp_fail(p, "malformed \\x escape"), -1;
                e->cp = (uint32_t)v;
                return 0;
        }
        case 'u':
                return parse_unicode_escape(p, &e->cp);
        case 'p':
        case 'P':
                if (!rxp_eat(p, "{"))
                        return rxp_fail(p, "\\%c must be followed by {name}", c), -1;
                e->kind = E_PROP;
                e->neg = c == 'P';
                return parse_name(p, '}', &e->name, &e->name_len);
        case 'b':
                if (in_class)
                        e->cp = 0x08;
                else
                        e->kind = E_WORDB;
                return 0;
        case 'B':
                if (in_class)
                        return rxp_fail(p, "\\B inside a class"), -1;
                e->kind = E_NWORDB;
                return 0;
        case 'k':
                if (in_class || !rxp_eat(p, "<"))
                        return rxp_fail(p, "\\k must be followed by <name> outside classes"), -1;
                e->kind = E_NAMEDREF;
                return parse_name(p, '>', &e->name, &e->name_len);
        default:
                break;
        }
        if (c >= '1' && c <= '9') {
                if (in_class)
                        return rxp_fail(p, "backreference inside a class"), -1;
                uint32_t n = (uint32_t)(c - '0');
                while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9' &&
                       n < MAX_COUNT)
                        n = n * 10 + (uint32_t)(p->s[p->pos++] - '0');
                e->kind = E_BACKREF;
                e->cp = n;
                return 0;
        }
        unsigned char u = (unsigned char)c;
        bool alnum = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
        if (u >= 0x21 && u < 0x7f && !alnum && u != '_') {
                e->cp = u;
                return 0;
        }
        p->pos--;
        return rxp_fail(p, "invalid escape \\%c", c), -1;
}

static struct rx_node *class_node(struct parser *p, struct rx_ranges *v, bool neg)
{
        struct rx_class *cls =
            rxp_push(p, (void **)&p->classes, &p->nclasses, &p->capclasses, sizeof(*cls));
        if (!cls) {
                rx_ranges_free(v);
                return NULL;
        }
        if (rx_class_finish(p->a, v, neg, cls) < 0)
                return rxp_fail(p, "out of memory");
        struct rx_node *n = rxp_node(p, N_CLASS);
        if (n)
                n->idx = (uint32_t)(p->nclasses - 1);
        return n;
}

static int add_esc_set(struct parser *p, struct rx_ranges *v, const struct esc *e)
{
        int r = e->kind == E_SET ? rx_ranges_add_set(v, e->set, e->neg)
                                 : rx_ranges_add_prop(v, e->name, e->name_len, e->neg);
        if (r == -1 && e->kind == E_PROP)
                return rxp_fail(p, "unsupported Unicode property \\p{%.*s}", (int)e->name_len,
                                e->name),
                       -1;
        if (r < 0)
                return rxp_fail(p, "out of memory"), -1;
        return 0;
}

/* One class member: a code point, or a set (e->kind E_SET/E_PROP). */
static int class_atom(struct parser *p, struct esc *e)
{
        if (p->s[p->pos] == '\\') {
                p->pos++;
                return rxp_escape(p, true, e);
        }
        memset(e, 0, sizeof(*e));
        e->kind = E_CHAR;
        e->cp = utf8_next((const unsigned char *)p->s, p->len, &p->pos);
        return 0;
}

struct rx_node *rxp_class(struct parser *p)
{
        struct rx_ranges v = {0};
        bool neg = rxp_eat(p, "^");
        for (;;) {
                if (p->pos >= p->len) {
                        rx_ranges_free(&v);
                        return rxp_fail(p, "unterminated character class");
                }
                if (rxp_eat(p, "]"))
                        break;
                struct esc lo, hi;
                if (class_atom(p, &lo) < 0)
                        break;
                if (rxp_at(p, '-') && p->pos + 1 < p->len && p->s[p->pos + 1] != ']') {
                        p->pos++;
                        if (class_atom(p, &hi) < 0)
                                break;
                        if (lo.kind != E_CHAR || hi.kind != E_CHAR) {
                                rxp_fail(p, "a class escape cannot bound a range");
                                break;
                        }
                        if (lo.cp > hi.cp) {
                                rxp_fail(p, "class range out of order");
                                break;
                        }
                        if (rx_ranges_add(&v, lo.cp, hi.cp) < 0) {
                                rxp_fail(p, "out of memory");
                                break;
                        }
                } else if (lo.kind == E_CHAR) {
                        if (rx_ranges_add(&v, lo.cp, lo.cp) < 0) {
                                rxp_fail(p, "out of memory");
                                break;
                        }
                } else if (add_esc_set(p, &v, &lo) < 0) {
                        break;
                }
        }
        if (p->failed) {
                rx_ranges_free(&v);
                return NULL;
        }
        return class_node(p, &v, neg);
}

struct rx_node *rxp_atom_escape(struct parser *p)
{
        struct esc e;
        if (rxp_escape(p, false, &e) < 0)
                return NULL;
        struct rx_node *n;
        switch (e.kind) {
        case E_CHAR:
                if ((n = rxp_node(p, N_CHAR)))
                        n->cp = e.cp;
                return n;
        case E_WORDB:
                return rxp_node(p, N_WORDB);
        case E_NWORDB:
                return rxp_node(p, N_NWORDB);
        case E_BACKREF:
                p->has_backrefs = true;
                if (e.cp > p->max_backref)
                        p->max_backref = e.cp;
                if ((n = rxp_node(p, N_BACKREF)))
                        n->idx = e.cp;
                return n;
        case E_NAMEDREF:
                p->has_backrefs = true;
                if (!(n = rxp_node(p, N_BACKREF)))
                        return NULL;
                n->name = e.name;
                n->name_len = e.name_len;
                struct rx_node **slot =
                    rxp_push(p, (void **)&p->named_refs, &p->nnamed, &p->capnamed, sizeof(*slot));
                if (slot)
                        *slot = n;
                return slot ? n : NULL;
        case E_SET:
        case E_PROP: {
                struct rx_ranges v = {0};
                if (add_esc_set(p, &v, &e) < 0) {
                        rx_ranges_free(&v);
                        return NULL;
                }
                return class_node(p, &v, false);
        }
        }
        return rxp_fail(p, "invalid escape");
}
