/* Differences between an expected and an actual JSON document, reported as
 * JSON pointers (RFC 6901: "~" is "~0", "/" is "~1"). Objects compare by
 * key, arrays by position; values of different kinds differ as a whole. */
#include "contract/internal.h"

#include <stdio.h>
#include <string.h>

struct diff {
        size_t max, found;
        wh_json_diff_cb cb;
        void *ctx;
        char path[4096];
};

static void report(struct diff *d, const json_t *want, const json_t *got)
{
        if (d->max && d->found >= d->max)
                return;
        d->cb(d->path, want, got, d->ctx);
        d->found++;
}

/* Appends "/seg" (escaped) to d->path; returns the old length to restore. */
static size_t push(struct diff *d, const char *seg)
{
        size_t old = strlen(d->path), n = old;
        if (n + 1 < sizeof(d->path))
                d->path[n++] = '/';
        for (; *seg && n + 2 < sizeof(d->path); seg++) {
                if (*seg == '~' || *seg == '/') {
                        d->path[n++] = '~';
                        d->path[n++] = *seg == '~' ? '0' : '1';
                } else {
                        d->path[n++] = *seg;
                }
        }
        d->path[n] = '\0';
        return old;
}

static void walk(struct diff *d, const json_t *want, const json_t *got)
{
        if (d->max && d->found >= d->max)
                return;
        if (json_is_object(want) && json_is_object(got)) {
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)want, k, v)
                {
                        size_t old = push(d, k);
                        walk(d, v, json_object_get(got, k));
                        d->path[old] = '\0';
                }
                json_object_foreach((json_t *)got, k, v)
                {
                        if (json_object_get(want, k))
                                continue;
                        size_t old = push(d, k);
                        report(d, NULL, v);
                        d->path[old] = '\0';
                }
                return;
        }
        if (json_is_array(want) && json_is_array(got)) {
                size_t nw = json_array_size(want), ng = json_array_size(got);
                for (size_t i = 0; i < nw || i < ng; i++) {
                        char idx[24];
                        snprintf(idx, sizeof(idx), "%zu", i);
                        size_t old = push(d, idx);
                        if (i < nw && i < ng)
                                walk(d, json_array_get(want, i), json_array_get(got, i));
                        else
                                report(d, json_array_get(want, i), json_array_get(got, i));
                        d->path[old] = '\0';
                }
                return;
        }
        if (!want || !got || !json_equal((json_t *)want, (json_t *)got))
                report(d, want, got);
}

size_t wh_json_diff(const json_t *want, const json_t *got, size_t max, wh_json_diff_cb cb,
                    void *ctx)
{
        struct diff d = {.max = max, .cb = cb, .ctx = ctx};
        walk(&d, want, got);
        return d.found;
}
