#include "schema/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN       16
#define CHUNK_BYTES (64 * 1024)

struct arena_chunk {
        struct arena_chunk *next;
        size_t size;
        _Alignas(ALIGN) char data[];
};

void arena_init(struct arena *a)
{
        a->cur = a->end = NULL;
        a->chunks = NULL;
}

void arena_init_buf(struct arena *a, void *buf, size_t size)
{
        uintptr_t p = ((uintptr_t)buf + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
        size_t lost = (size_t)(p - (uintptr_t)buf);
        a->chunks = NULL;
        a->cur = (char *)p;
        a->end = size > lost ? (char *)p + (size - lost) : (char *)p;
}

static void *grow(struct arena *a, size_t size)
{
        size_t want = size > CHUNK_BYTES / 4 ? size : CHUNK_BYTES;
        struct arena_chunk *c = malloc(sizeof(*c) + want);
        if (!c)
                return NULL;
        c->next = a->chunks;
        c->size = want;
        a->chunks = c;
        a->cur = c->data + size;
        a->end = c->data + want;
        return c->data;
}

void *arena_alloc(struct arena *a, size_t size)
{
        if (size > SIZE_MAX / 2)
                return NULL;
        size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
        if (size == 0)
                size = ALIGN;
        if ((size_t)(a->end - a->cur) >= size) {
                void *p = a->cur;
                a->cur += size;
                return p;
        }
        return grow(a, size);
}

void *arena_zalloc(struct arena *a, size_t size)
{
        void *p = arena_alloc(a, size);
        if (p)
                memset(p, 0, size);
        return p;
}

void *arena_zalloc_array(struct arena *a, size_t n, size_t size)
{
        if (size && n > SIZE_MAX / 4 / size)
                return NULL;
        return arena_zalloc(a, n * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
        char *p = arena_alloc(a, len + 1);
        if (p) {
                memcpy(p, s, len);
                p[len] = '\0';
        }
        return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
        return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        char *p = arena_alloc(a, (size_t)n + 1);
        if (!p)
                return NULL;
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return p;
}

void arena_mark(const struct arena *a, struct arena_mark *m)
{
        m->cur = a->cur;
        m->end = a->end;
        m->chunks = a->chunks;
}

void arena_release(struct arena *a, const struct arena_mark *m)
{
        while (a->chunks != m->chunks) {
                struct arena_chunk *c = a->chunks;
                a->chunks = c->next;
                free(c);
        }
        a->cur = m->cur;
        a->end = m->end;
}

void arena_free(struct arena *a)
{
        while (a->chunks) {
                struct arena_chunk *c = a->chunks;
                a->chunks = c->next;
                free(c);
        }
        a->cur = a->end = NULL;
}
