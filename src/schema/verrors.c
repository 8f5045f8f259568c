/* Validation errors: turning the location chains into JSON pointers and
 * recording errors up to the caller's limit. */
#define _GNU_SOURCE /* vasprintf */
#include "base/strbuf.h"
#include "schema/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wh_schema_errors_init(struct wh_schema_errors *errors, size_t max)
{
        memset(errors, 0, sizeof(*errors));
        errors->max = max;
}

static void free_error(struct wh_schema_error *e)
{
        free(e->instance);
        free(e->keyword);
        free(e->schema);
        free(e->message);
}

void wh_schema_errors_reset(struct wh_schema_errors *errors)
{
        for (size_t i = 0; i < errors->count; i++)
                free_error(&errors->items[i]);
        free(errors->items);
        size_t max = errors->max;
        wh_schema_errors_init(errors, max);
}

/* "/" + the segment, escaped as a JSON pointer token. */
static void put_token(struct wh_strbuf *b, const char *s, size_t n)
{
        wh_strbuf_put(b, "/", 1);
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '~')
                        wh_strbuf_put(b, "~0", 2);
                else if (s[i] == '/')
                        wh_strbuf_put(b, "~1", 2);
                else
                        wh_strbuf_put(b, s + i, 1);
        }
}

static void put_index(struct wh_strbuf *b, size_t i)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "/%zu", i);
        wh_strbuf_put(b, num, (size_t)n);
}

static char *finish(struct wh_strbuf *b)
{
        wh_strbuf_put(b, "", 0);
        if (b->oom) {
                free(b->s);
                return NULL;
        }
        return b->s;
}

/* Chains run leaf to root; pointers are written root first. */
static char *instance_pointer(const struct ipath *ip)
{
        size_t depth = 0;
        for (const struct ipath *p = ip; p; p = p->up)
                depth++;
        const struct ipath **order = malloc((depth + 1) * sizeof(*order));
        if (!order)
                return NULL;
        size_t i = depth;
        for (const struct ipath *p = ip; p; p = p->up)
                order[--i] = p;
        struct wh_strbuf b = {0};
        for (i = 0; i < depth; i++) {
                if (order[i]->key)
                        put_token(&b, order[i]->key, order[i]->len);
                else
                        put_index(&b, order[i]->index);
        }
        free(order);
        return finish(&b);
}

static char *keyword_pointer(const struct kpath *kp, const char *kw)
{
        size_t depth = 0;
        for (const struct kpath *p = kp; p; p = p->up)
                depth++;
        const struct kpath **order = malloc((depth + 1) * sizeof(*order));
        if (!order)
                return NULL;
        size_t i = depth;
        for (const struct kpath *p = kp; p; p = p->up)
                order[--i] = p;
        struct wh_strbuf b = {0};
        for (i = 0; i < depth; i++) {
                put_token(&b, order[i]->kw, strlen(order[i]->kw));
                if (order[i]->key)
                        put_token(&b, order[i]->key, order[i]->len);
                else if (order[i]->has_index)
                        put_index(&b, order[i]->index);
        }
        if (kw)
                put_token(&b, kw, strlen(kw));
        free(order);
        return finish(&b);
}

static void record(struct vstate *st, const struct vctx *c, const struct sch_node *n,
                   const char *kw, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void record(struct vstate *st, const struct vctx *c, const struct sch_node *n,
                   const char *kw, const char *fmt, va_list ap)
{
        struct wh_schema_errors *out = st->out;
        if (out->count == out->cap) {
                size_t ncap = out->cap ? out->cap * 2 : 4;
                struct wh_schema_error *ni = realloc(out->items, ncap * sizeof(*ni));
                if (!ni) {
                        st->oom = true;
                        return;
                }
                out->items = ni;
                out->cap = ncap;
        }
        struct wh_schema_error e = {0};
        if (vasprintf(&e.message, fmt, ap) < 0)
                e.message = NULL;
        e.instance = instance_pointer(c->ip);
        e.keyword = keyword_pointer(c->kp, kw);
        if (asprintf(&e.schema, "%s%s%s", n->loc, kw ? "/" : "", kw ? kw : "") < 0)
                e.schema = NULL;
        if (!e.message || !e.instance || !e.keyword || !e.schema) {
                free_error(&e);
                st->oom = true;
                return;
        }
        out->items[out->count++] = e;
        if (out->count >= out->max) {
                out->truncated = true;
                st->stop = true;
        }
}

bool v_fail(struct vstate *st, const struct vctx *c, const struct sch_node *n, const char *kw,
            const char *fmt, ...)
{
        if (v_quiet(st, c) || !st->out)
                return false;
        va_list ap;
        va_start(ap, fmt);
        record(st, c, n, kw, fmt, ap);
        va_end(ap);
        return false;
}

bool v_abort(struct vstate *st, const struct vctx *c, const struct sch_node *n, const char *kw,
             const char *fmt, ...)
{
        if (st->aborted)
                return false;
        st->aborted = true;
        if (st->out && st->out->count < st->out->max) {
                va_list ap;
                va_start(ap, fmt);
                record(st, c, n, kw, fmt, ap);
                va_end(ap);
        }
        st->stop = true;
        return false;
}
