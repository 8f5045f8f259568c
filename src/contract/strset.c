/* A set of strings for primary keys: open addressing with linear probing,
 * FNV-1a hashes, kept at most half full. Keys are copied. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s)
{
        uint64_t h = 1469598103934665603ull;
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ull;
        }
        return h;
}

static size_t probe(char **slots, size_t cap, const char *str)
{
        size_t i = (size_t)fnv1a(str) & (cap - 1);
        while (slots[i] && strcmp(slots[i], str) != 0)
                i = (i + 1) & (cap - 1);
        return i;
}

static int grow(struct strset *s)
{
        size_t ncap = s->cap ? s->cap * 2 : 64;
        char **ns = calloc(ncap, sizeof(*ns));
        if (!ns)
                return -1;
        for (size_t i = 0; i < s->cap; i++)
                if (s->slots[i])
                        ns[probe(ns, ncap, s->slots[i])] = s->slots[i];
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
        return 0;
}

int strset_add(struct strset *s, const char *str)
{
        if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
                return -1;
        size_t i = probe(s->slots, s->cap, str);
        if (s->slots[i])
                return 0;
        if (!(s->slots[i] = strdup(str)))
                return -1;
        s->n++;
        return 1;
}

bool strset_has(const struct strset *s, const char *str)
{
        return s->cap && s->slots[probe(s->slots, s->cap, str)] != NULL;
}

void strset_clear(struct strset *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
        *s = (struct strset){0};
}
