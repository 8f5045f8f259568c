/* Decoding one JSON text into struct jv values in an arena, for
 * validation: strict RFC 8259 (plus any value at top level and "\u0000"
 * in strings), no allocation per value.
 *
 * Children of an array or object are collected on a stack of members (a
 * local buffer first, the heap for large documents) and copied into the
 * arena as one block when the container closes. Strings are jsonstr.c's,
 * numbers jsonnum.c's. */
#include "schema/hmap.h"
#include "schema/jsondec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_MEMBERS 256
#define SMALL_OBJECT  16 /* repeated keys found by comparing all pairs */

static void skip_ws(struct jv_dec *d)
{
        while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t'))
                d->p++;
}

static int push(struct jv_dec *d, const char *key, uint32_t len, const struct jv *v)
{
        if (d->top == d->cap) {
                size_t cap = d->cap * 2;
                struct jv_member *s =
                    d->heap ? realloc(d->stack, cap * sizeof(*s)) : malloc(cap * sizeof(*s));
                if (!s)
                        return jv_out_of_memory(d);
                if (!d->heap)
                        memcpy(s, d->stack, d->top * sizeof(*s));
                d->stack = s;
                d->cap = cap;
                d->heap = true;
        }
        d->stack[d->top++] = (struct jv_member){key, len, *v};
        return 0;
}

static int value(struct jv_dec *d, unsigned depth, struct jv *out);

/* Step past the opening bracket; true (and past the closing one) when the
 * container is empty. */
static bool empty_container(struct jv_dec *d, char close)
{
        d->p++;
        skip_ws(d);
        if (d->p < d->end && *d->p == close) {
                d->p++;
                return true;
        }
        return false;
}

/* After a member: 1 past a ',', 0 past the closing bracket, else -1. */
static int after_member(struct jv_dec *d, char close, const char *expected)
{
        skip_ws(d);
        if (d->p >= d->end)
                return jv_fail(d, "unexpected end of text");
        if (*d->p != ',' && *d->p != close)
                return jv_fail(d, expected);
        return *d->p++ == ',';
}

static int array(struct jv_dec *d, unsigned depth, struct jv *out)
{
        size_t base = d->top;
        int more = !empty_container(d, ']');
        while (more > 0) {
                struct jv v;
                if (value(d, depth + 1, &v) < 0 || push(d, NULL, 0, &v) < 0)
                        return -1;
                more = after_member(d, ']', "expected ',' or ']'");
        }
        if (more < 0)
                return -1;
        size_t n = d->top - base;
        struct jv *items = arena_alloc(d->a, n * sizeof(*items));
        if (!items)
                return jv_out_of_memory(d);
        for (size_t i = 0; i < n; i++)
                items[i] = d->stack[base + i].val;
        d->top = base;
        *out = (struct jv){.kind = JV_K_ARRAY, .n = (uint32_t)n, .u.items = items};
        return 0;
}

static bool same_key(const struct jv_member *a, const struct jv_member *b)
{
        return a->len == b->len && memcmp(a->key, b->key, a->len) == 0;
}

/* Drop repeated keys from the n members at m: the first position keeps the
 * last value. Returns the new count. */
static size_t dedupe(struct jv_dec *d, struct jv_member *m, size_t n)
{
        size_t k = 0;
        if (n <= SMALL_OBJECT) {
                for (size_t i = 0; i < n; i++) {
                        size_t j = 0;
                        while (j < k && !same_key(&m[j], &m[i]))
                                j++;
                        if (j < k)
                                m[j].val = m[i].val;
                        else
                                m[k++] = m[i];
                }
                return k;
        }
        size_t cap = 64;
        while (cap < 2 * n)
                cap *= 2;
        struct arena_mark mark;
        arena_mark(d->a, &mark);
        struct strmap_slot *slots = arena_zalloc_array(d->a, cap, sizeof(*slots));
        if (!slots) {
                jv_out_of_memory(d);
                return 0;
        }
        struct strmap seen;
        strmap_init_fixed(&seen, slots, cap);
        for (size_t i = 0; i < n; i++) {
                uintptr_t at = (uintptr_t)strmap_get(&seen, m[i].key, m[i].len);
                if (at) {
                        m[at - 1].val = m[i].val;
                        continue;
                }
                m[k] = m[i];
                if (strmap_put(&seen, m[k].key, m[k].len, (void *)(uintptr_t)(k + 1)) < 0) {
                        jv_out_of_memory(d);
                        return 0;
                }
                k++;
        }
        arena_release(d->a, &mark);
        return k;
}

static int object(struct jv_dec *d, unsigned depth, struct jv *out)
{
        size_t base = d->top;
        int more = !empty_container(d, '}');
        while (more > 0) {
                struct jv key, v;
                skip_ws(d);
                if (d->p >= d->end || *d->p != '"')
                        return jv_fail(d, d->p < d->end ? "expected a string (an object key)"
                                                        : "unexpected end of text");
                if (jv_parse_string(d, &key) < 0)
                        return -1;
                skip_ws(d);
                if (d->p >= d->end || *d->p != ':')
                        return jv_fail(d,
                                       d->p < d->end ? "expected ':'" : "unexpected end of text");
                d->p++;
                if (value(d, depth + 1, &v) < 0 || push(d, key.u.s, key.n, &v) < 0)
                        return -1;
                more = after_member(d, '}', "expected ',' or '}'");
        }
        if (more < 0)
                return -1;
        size_t n = dedupe(d, d->stack + base, d->top - base);
        if (d->oom)
                return -1;
        struct jv_member *m = arena_alloc(d->a, n * sizeof(*m));
        if (!m)
                return jv_out_of_memory(d);
        memcpy(m, d->stack + base, n * sizeof(*m));
        d->top = base;
        *out = (struct jv){.kind = JV_K_OBJECT, .n = (uint32_t)n, .u.members = m};
        return 0;
}

static int literal(struct jv_dec *d, const char *word, size_t len, enum jv_kind kind,
                   struct jv *out)
{
        if ((size_t)(d->end - d->p) < len || memcmp(d->p, word, len) != 0)
                return jv_fail(d, "invalid literal (expected true, false or null)");
        d->p += len;
        *out = (struct jv){.kind = (uint8_t)kind};
        return 0;
}

static int value(struct jv_dec *d, unsigned depth, struct jv *out)
{
        skip_ws(d);
        if (d->p >= d->end)
                return jv_fail(d, "unexpected end of text");
        switch (*d->p) {
        case '"':
                return jv_parse_string(d, out);
        case '{':
        case '[':
                if (depth >= JV_MAX_DEPTH)
                        return jv_fail(d, "nesting deeper than 2048 levels");
                return *d->p == '{' ? object(d, depth, out) : array(d, depth, out);
        case 't':
                return literal(d, "true", 4, JV_K_TRUE, out);
        case 'f':
                return literal(d, "false", 5, JV_K_FALSE, out);
        case 'n':
                return literal(d, "null", 4, JV_K_NULL, out);
        default:
                if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9'))
                        return jv_parse_number(&d->p, d->end, out, &d->msg, &d->oom);
                return jv_fail(d, "unexpected character (not the start of a JSON value)");
        }
}

/* Line and column (1-based, in bytes) of the error position. */
static int report(const struct jv_dec *d, const char *buf, struct wh_err *err)
{
        if (d->oom)
                return wh_err_set(err, ENOMEM, "json", "decoding JSON");
        size_t line = 1;
        const char *bol = buf;
        for (const char *q = buf; q < d->p; q++)
                if (*q == '\n') {
                        line++;
                        bol = q + 1;
                }
        return wh_err_set(err, 0, "json", "invalid JSON at line %zu column %zu: %s", line,
                          (size_t)(d->p - bol) + 1, d->msg);
}

int jv_decode(struct arena *a, const char *buf, size_t len, struct jv *out, struct wh_err *err)
{
        if (len >= UINT32_MAX)
                return wh_err_set(err, 0, "json",
                                  "JSON text of %zu bytes is too large "
                                  "(the limit is 4 GiB)",
                                  len);
        struct jv_member local[LOCAL_MEMBERS];
        struct jv_dec d = {
            .p = buf, .end = buf + len, .a = a, .stack = local, .cap = LOCAL_MEMBERS};
        int r = value(&d, 0, out);
        if (r == 0) {
                skip_ws(&d);
                if (d.p != d.end)
                        r = jv_fail(&d, "unexpected text after the JSON value");
        }
        if (d.heap)
                free(d.stack);
        return r < 0 ? report(&d, buf, err) : 0;
}
