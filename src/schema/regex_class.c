/* Character classes for the regex engine: range lists, the ECMA-262 class
 * escapes (\d \w \s and negations, \p{...}), and the compiled form. */
#include "schema/regex_int.h"
#include "schema/unicode.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CP 0x10ffffu

int rx_ranges_add(struct rx_ranges *v, uint32_t lo, uint32_t hi)
{
        if (v->n * 2 + 2 > v->cap) {
                size_t ncap = v->cap ? v->cap * 2 : 16;
                uint32_t *nr = realloc(v->r, ncap * sizeof(*nr));
                if (!nr)
                        return -1;
                v->r = nr;
                v->cap = ncap;
        }
        v->r[v->n * 2] = lo;
        v->r[v->n * 2 + 1] = hi;
        v->n++;
        return 0;
}

void rx_ranges_free(struct rx_ranges *v)
{
        free(v->r);
        v->r = NULL;
        v->n = v->cap = 0;
}

static int cmp_range(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

/* Sort by start and merge overlapping or adjacent ranges. */
static void normalize(struct rx_ranges *v)
{
        if (v->n == 0)
                return;
        qsort(v->r, v->n, 2 * sizeof(uint32_t), cmp_range);
        size_t o = 0;
        for (size_t i = 1; i < v->n; i++) {
                uint32_t lo = v->r[2 * i], hi = v->r[2 * i + 1];
                if (lo <= v->r[2 * o + 1] + 1) {
                        if (hi > v->r[2 * o + 1])
                                v->r[2 * o + 1] = hi;
                } else {
                        o++;
                        v->r[2 * o] = lo;
                        v->r[2 * o + 1] = hi;
                }
        }
        v->n = o + 1;
}

/* Append the complement of `set` (normalized) to v. */
static int add_complement(struct rx_ranges *v, struct rx_ranges *set)
{
        normalize(set);
        uint32_t next = 0;
        for (size_t i = 0; i < set->n; i++) {
                if (set->r[2 * i] > next && rx_ranges_add(v, next, set->r[2 * i] - 1) < 0)
                        return -1;
                next = set->r[2 * i + 1] + 1;
        }
        if (next <= MAX_CP && rx_ranges_add(v, next, MAX_CP) < 0)
                return -1;
        return 0;
}

static int add_base_set(struct rx_ranges *v, enum rx_set set)
{
        /* ECMA-262 WhiteSpace and LineTerminator code points. */
        static const uint32_t space[] = {0x09,   0x0d,   0x20,   0x20,   0xa0,   0xa0,   0x1680,
                                         0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f,
                                         0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff};
        switch (set) {
        case SET_DIGIT:
                return rx_ranges_add(v, '0', '9');
        case SET_WORD:
                if (rx_ranges_add(v, '0', '9') < 0 || rx_ranges_add(v, 'A', 'Z') < 0 ||
                    rx_ranges_add(v, '_', '_') < 0)
                        return -1;
                return rx_ranges_add(v, 'a', 'z');
        case SET_SPACE:
                for (size_t i = 0; i < sizeof(space) / sizeof(space[0]); i += 2)
                        if (rx_ranges_add(v, space[i], space[i + 1]) < 0)
                                return -1;
                return 0;
        }
        return -1;
}

int rx_ranges_add_set(struct rx_ranges *v, enum rx_set set, bool neg)
{
        if (!neg)
                return add_base_set(v, set);
        struct rx_ranges tmp = {0};
        int r = add_base_set(&tmp, set);
        if (r == 0)
                r = add_complement(v, &tmp);
        rx_ranges_free(&tmp);
        return r;
}

static int add_cb(void *ctx, uint32_t lo, uint32_t hi)
{
        return rx_ranges_add(ctx, lo, hi);
}

int rx_ranges_add_prop(struct rx_ranges *v, const char *name, size_t len, bool neg)
{
        if (!neg)
                return ucd_property_ranges(name, len, add_cb, v);
        struct rx_ranges tmp = {0};
        int r = ucd_property_ranges(name, len, add_cb, &tmp);
        if (r == 0 && add_complement(v, &tmp) < 0)
                r = -2;
        rx_ranges_free(&tmp);
        return r;
}

bool rx_class_has(const struct rx_class *c, uint32_t cp)
{
        if (cp < 128)
                return (c->ascii[cp >> 6] >> (cp & 63)) & 1;
        size_t lo = 0, hi = c->n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cp < c->ranges[2 * mid])
                        hi = mid;
                else if (cp > c->ranges[2 * mid + 1])
                        lo = mid + 1;
                else
                        return !c->neg;
        }
        return c->neg;
}

int rx_class_finish(struct arena *a, struct rx_ranges *v, bool neg, struct rx_class *out)
{
        normalize(v);
        memset(out, 0, sizeof(*out));
        out->neg = neg;
        out->n = v->n;
        uint32_t *r = arena_alloc(a, v->n * 2 * sizeof(uint32_t));
        if (!r) {
                rx_ranges_free(v);
                return -1;
        }
        if (v->n)
                memcpy(r, v->r, v->n * 2 * sizeof(uint32_t));
        out->ranges = r;
        for (uint32_t cp = 0; cp < 128; cp++) {
                bool in = false;
                for (size_t i = 0; i < v->n && v->r[2 * i] <= cp; i++)
                        if (cp <= v->r[2 * i + 1])
                                in = true;
                if (in != neg)
                        out->ascii[cp >> 6] |= 1ull << (cp & 63);
        }
        rx_ranges_free(v);
        return 0;
}

bool rx_is_word(uint32_t cp)
{
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               cp == '_';
}
