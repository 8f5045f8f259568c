#include "schema/hmap.h"

#include <stdlib.h>
#include <string.h>

/* Eight bytes at a time with a multiply-xorshift mix: property names and
 * URIs are short, and this runs for every member of every object. */
uint64_t hmap_hash_bytes(const void *data, size_t len)
{
        const unsigned char *p = data;
        uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
        while (len >= 8) {
                uint64_t v;
                memcpy(&v, p, 8);
                h = (h ^ v) * 0xff51afd7ed558ccdull;
                h ^= h >> 32;
                p += 8;
                len -= 8;
        }
        uint64_t v = 0;
        memcpy(&v, p, len);
        h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
        return h;
}

static int strmap_grow(struct strmap *m)
{
        size_t ncap = m->cap ? m->cap * 2 : 16;
        struct strmap_slot *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
                return -1;
        for (size_t i = 0; i < m->cap; i++) {
                struct strmap_slot *s = &m->slots[i];
                if (!s->key)
                        continue;
                size_t j = s->hash & (ncap - 1);
                while (ns[j].key)
                        j = (j + 1) & (ncap - 1);
                ns[j] = *s;
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
        return 0;
}

void strmap_init_fixed(struct strmap *m, struct strmap_slot *slots, size_t cap)
{
        m->slots = slots;
        m->cap = cap;
        m->used = 0;
}

int strmap_put(struct strmap *m, const char *key, size_t len, void *value)
{
        if ((m->used + 1) * 4 > m->cap * 3 && strmap_grow(m) < 0)
                return -1;
        uint64_t h = hmap_hash_bytes(key, len);
        size_t j = h & (m->cap - 1);
        for (;; j = (j + 1) & (m->cap - 1)) {
                struct strmap_slot *s = &m->slots[j];
                if (!s->key) {
                        *s = (struct strmap_slot){key, len, h, value};
                        m->used++;
                        return 0;
                }
                if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
                        s->value = value;
                        return 0;
                }
        }
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
        if (!m->cap)
                return NULL;
        uint64_t h = hmap_hash_bytes(key, len);
        for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
                const struct strmap_slot *s = &m->slots[j];
                if (!s->key)
                        return NULL;
                if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
                        return s->value;
        }
}

void strmap_free(struct strmap *m)
{
        free(m->slots);
        m->slots = NULL;
        m->cap = m->used = 0;
}

static size_t ptr_hash(const void *p)
{
        uint64_t x = (uint64_t)(uintptr_t)p;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        return (size_t)x;
}

static int ptrmap_grow(struct ptrmap *m)
{
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct ptrmap_slot *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
                return -1;
        for (size_t i = 0; i < m->cap; i++) {
                if (!m->slots[i].key)
                        continue;
                size_t j = ptr_hash(m->slots[i].key) & (ncap - 1);
                while (ns[j].key)
                        j = (j + 1) & (ncap - 1);
                ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
        return 0;
}

int ptrmap_put(struct ptrmap *m, const void *key, void *value)
{
        if ((m->used + 1) * 4 > m->cap * 3 && ptrmap_grow(m) < 0)
                return -1;
        for (size_t j = ptr_hash(key) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
                struct ptrmap_slot *s = &m->slots[j];
                if (!s->key) {
                        *s = (struct ptrmap_slot){key, value};
                        m->used++;
                        return 0;
                }
                if (s->key == key) {
                        s->value = value;
                        return 0;
                }
        }
}

void *ptrmap_get(const struct ptrmap *m, const void *key)
{
        if (!m->cap)
                return NULL;
        for (size_t j = ptr_hash(key) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
                const struct ptrmap_slot *s = &m->slots[j];
                if (!s->key)
                        return NULL;
                if (s->key == key)
                        return s->value;
        }
}

void ptrmap_free(struct ptrmap *m)
{
        free(m->slots);
        m->slots = NULL;
        m->cap = m->used = 0;
}
