/* Cutting the normaliser's stdout into lines with bounded memory: a line
 * longer than the item limit is not kept; its first bytes are reported and
 * the rest is skipped up to the next newline. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

void ndjson_init(struct ndjson *s, size_t max, line_fn on_line, too_long_fn on_too_long, void *ctx)
{
        *s = (struct ndjson){
            .max = max, .lineno = 1, .on_line = on_line, .on_too_long = on_too_long, .ctx = ctx};
}

/* The line is too long to keep: report its first bytes, skip the rest. */
static void overflow(struct ndjson *s, const char *data, size_t n)
{
        char head[WH_EXCERPT_MAX];
        size_t h = s->len < sizeof(head) ? s->len : sizeof(head);
        if (h)
                memcpy(head, s->buf, h);
        size_t more = sizeof(head) - h < n ? sizeof(head) - h : n;
        memcpy(head + h, data, more);
        s->on_too_long(s->ctx, head, h + more, s->lineno);
        s->skipping = true;
        s->len = 0;
}

static void append(struct ndjson *s, const char *data, size_t n)
{
        if (s->skipping || n == 0)
                return;
        if (s->len + n > s->max) {
                overflow(s, data, n);
                return;
        }
        if (s->len + n > s->cap) {
                size_t ncap = s->cap ? s->cap : 4096;
                while (ncap < s->len + n)
                        ncap *= 2;
                if (ncap > s->max)
                        ncap = s->max;
                char *nb = realloc(s->buf, ncap + 1);
                if (!nb) {
                        overflow(s, data, n);
                        return;
                }
                s->buf = nb;
                s->cap = ncap;
        }
        memcpy(s->buf + s->len, data, n);
        s->len += n;
}

static void end_line(struct ndjson *s, bool complete)
{
        if (!s->skipping) {
                if (s->buf)
                        s->buf[s->len] = '\0';
                s->on_line(s->ctx, s->buf ? s->buf : "", s->len, s->lineno, complete);
        }
        s->skipping = false;
        s->len = 0;
        s->lineno++;
}

void ndjson_feed(struct ndjson *s, const char *data, size_t n)
{
        while (n) {
                const char *nl = memchr(data, '\n', n);
                size_t chunk = nl ? (size_t)(nl - data) : n;
                append(s, data, chunk);
                if (!nl)
                        return;
                end_line(s, true);
                data += chunk + 1;
                n -= chunk + 1;
        }
}

void ndjson_finish(struct ndjson *s)
{
        if (s->len || s->skipping)
                end_line(s, false);
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
}

size_t json_depth(const char *s, size_t n, size_t limit)
{
        size_t depth = 0, max = 0;
        bool in_string = false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                } else if (c == '"') {
                        in_string = true;
                } else if (c == '[' || c == '{') {
                        if (++depth > max && (max = depth) > limit)
                                return limit + 1;
                } else if ((c == ']' || c == '}') && depth) {
                        depth--;
                }
        }
        return max;
}
