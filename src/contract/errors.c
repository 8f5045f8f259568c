/* The error (and warning) lists of a run: bounded, because a hostile
 * normaliser can produce a million bad lines; every entry is valid UTF-8,
 * because the list is printed and stored as JSON whatever bytes it quotes. */
#include "contract/internal.h"
#include "base/cleanup.h"
#include "base/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cerrs_init(struct wh_contract_errors *e, size_t max)
{
        *e = (struct wh_contract_errors){.max = max};
}

void cerrs_clear(struct wh_contract_errors *e)
{
        for (size_t i = 0; i < e->n; i++) {
                struct wh_contract_error *x = &e->items[i];
                free(x->message);
                free(x->item);
                free(x->instance_path);
                free(x->schema_path);
                free(x->detail);
        }
        free(e->items);
        cerrs_init(e, e->max);
}

/* One character of s: a well-formed sequence's length (NUL excluded), 0 for
 * a byte to replace. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
        if (s[0] < 0x80)
                return s[0] ? 1 : 0;
        return utf8_seq_len(s, n);
}

char *utf8_excerpt(const char *s, size_t len, size_t max)
{
        /* Each input byte becomes at most 3 output bytes (U+FFFD). */
        size_t cap = (len < max ? len : max) * 3 + 4;
        char *out = malloc(cap + 1);
        if (!out)
                return NULL;
        size_t o = 0, i = 0;
        while (i < len && o < max) {
                size_t k = utf8_seq((const unsigned char *)s + i, len - i);
                if (k && o + k <= cap) {
                        memcpy(out + o, s + i, k);
                        o += k;
                        i += k;
                } else {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                }
        }
        if (i < len) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}

/* Errors about the whole run (how it ended, a limit reached) are few and
 * the most important: they are kept even when the list is full of
 * per-line errors. */
static bool always_kept(const char *code, uint64_t line)
{
        return line == 0 || strcmp(code, "too_many_items") == 0;
}

struct wh_contract_error *cerr_add(struct wh_contract_errors *e, const char *code, uint64_t line,
                                   const char *item, size_t item_len, const char *fmt, ...)
{
        size_t max = e->max ? e->max : 100;
        if (e->n >= max && !always_kept(code, line)) {
                e->dropped++;
                return NULL;
        }
        if (e->n == e->cap) {
                size_t ncap = e->cap ? e->cap * 2 : 8;
                struct wh_contract_error *ni = realloc(e->items, ncap * sizeof(*ni));
                if (!ni) {
                        e->dropped++;
                        return NULL;
                }
                e->items = ni;
                e->cap = ncap;
        }
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        struct wh_contract_error *x = &e->items[e->n];
        *x = (struct wh_contract_error){.code = code, .line = line};
        x->message = utf8_excerpt(msg, strlen(msg), sizeof(msg));
        x->item = item ? utf8_excerpt(item, item_len, WH_EXCERPT_MAX) : NULL;
        if (!x->message || (item && !x->item)) {
                free(x->message);
                free(x->item);
                e->dropped++;
                return NULL;
        }
        e->n++;
        return x;
}

static void set_opt(json_t *o, const char *key, const char *value)
{
        if (value)
                json_object_set_new(o, key, json_string(value));
}

json_t *wh_contract_errors_json(const struct wh_contract_errors *e)
{
        cleanup_json json_t *arr = json_array();
        for (size_t i = 0; arr && i < e->n; i++) {
                const struct wh_contract_error *x = &e->items[i];
                json_t *o = json_pack("{s:s, s:s}", "code", x->code, "message", x->message);
                if (!o)
                        return NULL;
                if (x->line)
                        json_object_set_new(o, "line", json_integer((json_int_t)x->line));
                set_opt(o, "item", x->item);
                set_opt(o, "instance_path", x->instance_path);
                set_opt(o, "schema_path", x->schema_path);
                set_opt(o, "detail", x->detail);
                json_array_append_new(arr, o);
        }
        return steal_pointer(&arr);
}
