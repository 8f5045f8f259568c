/* Two small open-addressing hash maps used by the registry and the compiled
 * form: strmap (byte-string keys, which may contain NUL) and ptrmap (pointer
 * keys). Keys are not copied: the caller keeps them alive as long as the map.
 * Values are never NULL; get returns NULL for "absent". */
#ifndef WH_SCHEMA_HMAP_H
#define WH_SCHEMA_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
        const char *key;
        size_t len;
        uint64_t hash;
        void *value;
};

struct strmap {
        struct strmap_slot *slots;
        size_t cap; /* power of two, or 0 */
        size_t used;
};

struct ptrmap_slot {
        const void *key;
        void *value;
};

struct ptrmap {
        struct ptrmap_slot *slots;
        size_t cap;
        size_t used;
};

uint64_t hmap_hash_bytes(const void *data, size_t len);

/* A map over caller-owned slots (zeroed, cap a power of two) that will
 * never hold more than cap / 2 keys, so it never reallocates: for maps
 * living in an arena. Do not strmap_free it. */
void strmap_init_fixed(struct strmap *m, struct strmap_slot *slots, size_t cap);
/* Insert or replace; returns 0 or -1 (out of memory). */
int strmap_put(struct strmap *m, const char *key, size_t len, void *value);
void *strmap_get(const struct strmap *m, const char *key, size_t len);
void strmap_free(struct strmap *m);

int ptrmap_put(struct ptrmap *m, const void *key, void *value);
void *ptrmap_get(const struct ptrmap *m, const void *key);
void ptrmap_free(struct ptrmap *m);

#endif
