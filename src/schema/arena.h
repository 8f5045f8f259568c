/* Bump allocator.
 *
 * Compiled schemas live in one arena freed at once; validation uses a scratch
 * arena that starts in a caller-provided (stack) buffer, so validating a
 * typical item allocates nothing on the heap. mark/release give stack-like
 * reuse of scratch memory for short-lived annotation sets. */
#ifndef WH_SCHEMA_ARENA_H
#define WH_SCHEMA_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
        char *cur;
        char *end;
        struct arena_chunk *chunks; /* heap chunks, newest first */
};

struct arena_mark {
        char *cur;
        char *end;
        struct arena_chunk *chunks;
};

/* An empty arena; the first allocation takes a heap chunk. */
void arena_init(struct arena *a);
/* An arena that first uses buf (not owned, never freed). */
void arena_init_buf(struct arena *a, void *buf, size_t size);
/* 16-byte aligned; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
/* Array allocation with overflow check. */
void *arena_zalloc_array(struct arena *a, size_t n, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);
/* Printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_mark(const struct arena *a, struct arena_mark *m);
/* Forget every allocation made since m (frees the chunks taken since). */
void arena_release(struct arena *a, const struct arena_mark *m);
void arena_free(struct arena *a);

#endif
