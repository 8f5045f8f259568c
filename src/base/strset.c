#include "base/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

static size_t find_slot(char **slots, size_t cap, const char *key)
{
        size_t i = (size_t)hash(key) & (cap - 1);
        while (slots[i] && strcmp(slots[i], key) != 0)
                i = (i + 1) & (cap - 1);
        return i;
}

static int grow(struct wh_strset *set)
{
        size_t cap = set->cap ? set->cap * 2 : 64;
        char **slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -1;
        for (size_t i = 0; i < set->cap; i++)
                if (set->slots[i])
                        slots[find_slot(slots, cap, set->slots[i])] = set->slots[i];
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
        return 0;
}

int wh_strset_add(struct wh_strset *set, const char *key)
{
        /* Kept at most half full so probes stay short. */
        if ((set->n + 1) * 2 > set->cap && grow(set) < 0)
                return -1;
        size_t i = find_slot(set->slots, set->cap, key);
        if (set->slots[i])
                return 0;
        if (!(set->slots[i] = strdup(key)))
                return -1;
        set->n++;
        return 1;
}

bool wh_strset_has(const struct wh_strset *set, const char *key)
{
        return set->cap && set->slots[find_slot(set->slots, set->cap, key)] != NULL;
}

void wh_strset_clear(struct wh_strset *set)
{
        for (size_t i = 0; i < set->cap; i++)
                free(set->slots[i]);
        free(set->slots);
        set->slots = NULL;
        set->cap = set->n = 0;
}
