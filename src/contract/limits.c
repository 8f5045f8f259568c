/* The "limits" of normalizer.json, the defaults, and overrides.
 *
 * The names and value forms match what `whiskers pack` accepts (sizes as
 * "128M" or bytes; counts as positive integers) plus the output checks:
 * items, item_size, depth. An unknown name is an error: a misspelt limit
 * must not silently run a normaliser without it. */
#include "contract/internal.h"
#include "base/size.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum kind { SIZE, COUNT };

struct limit_def {
        const char *name;
        enum kind kind;
        size_t offset;
};

#define AT(field) offsetof(struct wh_normaliser_limits, field)
static const struct limit_def defs[] = {
    {"memory", SIZE, AT(run.memory_bytes)},  {"output_limit", SIZE, AT(run.output_bytes)},
    {"tmp_size", SIZE, AT(tmp_bytes)},       {"fsize", SIZE, AT(run.fsize_bytes)},
    {"item_size", SIZE, AT(max_item_bytes)}, {"wall_ms", COUNT, AT(run.wall_ms)},
    {"cpu_ms", COUNT, AT(run.cpu_ms)},       {"pids", COUNT, AT(run.pids)},
    {"nofile", COUNT, AT(run.nofile)},       {"items", COUNT, AT(max_items)},
    {"depth", COUNT, AT(max_depth)},
};
#undef AT

static int bad(struct wh_err *err, const char *origin, const char *key, const char *what)
{
        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest", "%s: field \"limits.%s\" %s",
                           origin, key, what);
}

static int parse_one(const struct limit_def *d, json_t *v, const char *origin, uint64_t *out,
                     struct wh_err *err)
{
        if (d->kind == SIZE) {
                if (json_is_string(v) && wh_parse_size(json_string_value(v), out, NULL) == 0)
                        return 0;
                if (json_is_integer(v) && json_integer_value(v) >= 0) {
                        *out = (uint64_t)json_integer_value(v);
                        return 0;
                }
                return bad(err, origin, d->name,
                           "must be a size such as \"128M\" or a number of bytes");
        }
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
                return bad(err, origin, d->name, "must be a positive integer");
        *out = (uint64_t)json_integer_value(v);
        if (strcmp(d->name, "depth") == 0 && *out > WH_MAX_DEPTH_LIMIT)
                return bad(err, origin, d->name, "must be at most 1000");
        return 0;
}

int limits_parse(json_t *limits, const char *origin, struct wh_normaliser_limits *out,
                 struct wh_err *err)
{
        *out = (struct wh_normaliser_limits){0};
        if (!limits)
                return 0;
        if (!json_is_object(limits))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest",
                                   "%s: field \"limits\" must be an object", origin);
        const char *key;
        json_t *v;
        json_object_foreach(limits, key, v)
        {
                if (strcmp(key, "cpus") == 0) {
                        if (!json_is_number(v) || !(json_number_value(v) > 0) ||
                            json_number_value(v) > 4096)
                                return bad(err, origin, key,
                                           "must be a number of CPUs such as 0.5");
                        out->run.cpus = json_number_value(v);
                        continue;
                }
                const struct limit_def *d = NULL;
                for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
                        if (strcmp(defs[i].name, key) == 0)
                                d = &defs[i];
                if (!d)
                        return bad(err, origin, key,
                                   "is not a known limit (known: memory, pids, cpus, wall_ms, "
                                   "cpu_ms, output_limit, nofile, fsize, tmp_size, items, "
                                   "item_size, depth)");
                if (parse_one(d, v, origin, (uint64_t *)((char *)out + d->offset), err) < 0)
                        return -1;
        }
        return 0;
}

static uint64_t pick(uint64_t manifest, uint64_t override, uint64_t dflt)
{
        return override ? override : manifest ? manifest : dflt;
}

void limits_effective(const struct wh_normaliser_limits *m, const struct wh_normaliser_limits *o,
                      struct wh_normaliser_limits *out)
{
        static const struct wh_normaliser_limits none;
        if (!o)
                o = &none;
        *out = *m;
        for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
                uint64_t *dst = (uint64_t *)((char *)out + defs[i].offset);
                *dst = pick(*dst, *(const uint64_t *)((const char *)o + defs[i].offset), 0);
        }
        out->run.cpus = o->run.cpus > 0 ? o->run.cpus : m->run.cpus;
        out->run.stack_bytes = pick(m->run.stack_bytes, o->run.stack_bytes, 0);
        out->run.allow_unenforced = m->run.allow_unenforced || o->run.allow_unenforced;
        out->run.wall_ms = pick(out->run.wall_ms, 0, WH_DEFAULT_WALL_MS);
        out->run.output_bytes = pick(out->run.output_bytes, 0, WH_DEFAULT_OUTPUT_BYTES);
        out->max_items = pick(out->max_items, 0, WH_DEFAULT_MAX_ITEMS);
        out->max_item_bytes = pick(out->max_item_bytes, 0, WH_DEFAULT_MAX_ITEM_BYTES);
        out->max_depth = pick(out->max_depth, 0, WH_DEFAULT_MAX_DEPTH);
        if (out->max_depth > WH_MAX_DEPTH_LIMIT)
                out->max_depth = WH_MAX_DEPTH_LIMIT;
}

json_t *limits_json(const struct wh_normaliser_limits *l)
{
        json_t *o = json_object();
        for (size_t i = 0; o && i < sizeof(defs) / sizeof(defs[0]); i++) {
                uint64_t v = *(const uint64_t *)((const char *)l + defs[i].offset);
                json_object_set_new(o, defs[i].name, json_integer((json_int_t)v));
        }
        if (o) {
                json_object_set_new(o, "cpus", json_real(l->run.cpus));
                json_object_set_new(o, "allow_unenforced", json_boolean(l->run.allow_unenforced));
        }
        return o;
}
