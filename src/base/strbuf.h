/* A growable NUL-terminated string. Appending never fails loudly: on an
 * allocation failure the buffer stops growing and remembers it (oom), so a
 * builder can append freely and check once at the end. Zero-initialise. */
#ifndef WH_BASE_STRBUF_H
#define WH_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct wh_strbuf {
        char *s;
        size_t len, cap;
        bool oom;
};

void wh_strbuf_put(struct wh_strbuf *b, const char *s, size_t n);

#endif
