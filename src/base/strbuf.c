#include "base/strbuf.h"

#include <stdlib.h>
#include <string.h>

void wh_strbuf_put(struct wh_strbuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t ncap = (b->len + n + 1) * 2;
                char *ns = realloc(b->s, ncap);
                if (!ns) {
                        b->oom = true;
                        return;
                }
                b->s = ns;
                b->cap = ncap;
        }
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
}
