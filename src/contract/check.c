/* Checking the output one line at a time, as it arrives.
 *
 * Each line must be one JSON object (depth checked before parsing, so a
 * 10 000-deep line costs a scan, not a recursion), one of the item kinds of
 * OpenKAT's plain-dict protocol; objects must be of a type the manifest
 * produces and valid against its schema. Valid items are kept for the
 * results; every problem becomes an error naming the line and quoting the
 * item. References are only noted here and resolved at the end.
 *
 * The checker also says when reading on is pointless (c->stop), so that the
 * run can be stopped while it runs: once an item past the "items" limit
 * came, once the errors reach the error budget, or when memory ran out. The
 * run has failed by then; more output could only add to the error count. */
#include "contract/internal.h"
#include "base/cleanup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_ERRORS_PER_ITEM 8

struct line_ctx {
        struct checker *c;
        const char *text;
        size_t len;
        uint64_t no;
};

#define LERR(l, code, ...) cerr_add((l)->c->errors, code, (l)->no, (l)->text, (l)->len, __VA_ARGS__)

void checker_init(struct checker *c)
{
        c->objects = json_array();
        c->declarations = json_array();
        c->affirmations = json_array();
        c->scan_profiles = json_array();
        c->oom = !c->objects || !c->declarations || !c->affirmations || !c->scan_profiles;
}

static void add_schema_errors(const struct line_ctx *l, const char *type, const char *where,
                              const struct wh_schema_errors *se)
{
        for (size_t i = 0; i < se->count; i++) {
                const struct wh_schema_error *e = &se->items[i];
                struct wh_contract_error *x =
                    LERR(l, "schema", "%s does not match its schema: %s", type, e->message);
                if (!x)
                        continue;
                char path[1024];
                snprintf(path, sizeof(path), "%s%s", where, e->instance);
                x->instance_path = utf8_excerpt(path, strlen(path), sizeof(path));
                x->schema_path = utf8_excerpt(e->schema, strlen(e->schema), 1024);
        }
        if (se->truncated)
                LERR(l, "schema", "%s: more schema errors not shown", type);
}

/* OpenKAT does not enforce "produces" (kat_ssl_certificates emits Website
 * without listing it): for its form, an unlisted type is a warning, once. */
static void undeclared_warning(struct checker *c, const char *type)
{
        if (wh_strset_has(&c->undeclared, type))
                return;
        if (wh_strset_add(&c->undeclared, type) < 0)
                c->oom = true;
        cerr_add(c->warnings, "undeclared_type", 0, NULL, 0,
                 "object_type \"%.100s\" is not in \"produces\" of normalizer.json (OpenKAT does "
                 "not enforce it; whiskers' own manifests must list it)",
                 type);
}

/* An object (top level, or the "ooi" of a declaration at `where`). */
static bool check_object(const struct line_ctx *l, json_t *obj, const char *where)
{
        struct checker *c = l->c;
        const char *type = json_string_value(json_object_get(obj, "object_type"));
        if (!type || !*type) {
                LERR(l, "unknown_item", "%s/object_type must be a non-empty string", where);
                return false;
        }
        const struct object_type *t = types_find(c->types, type);
        bool listed = wh_manifest_produces(c->manifest, type);
        if (!listed && !c->manifest->openkat) {
                LERR(l, "undeclared_type",
                     "object_type \"%.100s\" is not in \"produces\" of normalizer.json: declare "
                     "it (with a schema) or stop emitting it",
                     type);
                return false;
        }
        if (!listed)
                undeclared_warning(c, type);
        /* No schema (OpenKAT's form): the object's own primary_key, of its type. */
        const struct object_type bare = {.name = (char *)type};
        int v = WH_SCHEMA_VALID;
        if (t && t->schema) {
                struct wh_schema_errors se;
                wh_schema_errors_init(&se, SCHEMA_ERRORS_PER_ITEM);
                struct wh_err err = {0};
                v = wh_schema_validate(t->schema, obj, &se, &err);
                if (v < 0)
                        c->oom = true;
                else if (v == WH_SCHEMA_INVALID)
                        add_schema_errors(l, type, where, &se);
                wh_schema_errors_reset(&se);
        }
        char why[300];
        char *pk = pk_of(t ? t : &bare, obj, why, sizeof(why));
        if (!pk && !why[0] && !(t && t->schema))
                snprintf(why, sizeof(why), "has no primary_key (and no schema to make one)");
        if (why[0])
                LERR(l, "bad_primary_key", "%s: %s", type, why);
        if (pk && wh_strset_add(&c->keys, pk) < 0)
                c->oom = true;
        bool ok = v == WH_SCHEMA_VALID && !why[0];
        if (ok && t && checker_note_refs(c, t, obj, l->no, pk ? pk : type) < 0)
                ok = false;
        free(pk);
        return ok;
}

static bool only_keys(json_t *obj, const char *const *keys)
{
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
                const char *const *p = keys;
                while (*p && strcmp(*p, k) != 0)
                        p++;
                if (!*p)
                        return false;
        }
        return true;
}

static void check_wrapped(const struct line_ctx *l, json_t *item, const char *kind)
{
        static const char *const decl_keys[] = {"type", "ooi", "end_valid_time", NULL};
        static const char *const affirm_keys[] = {"type", "ooi", NULL};
        bool decl = strcmp(kind, "declaration") == 0;
        json_t *ooi = json_object_get(item, "ooi");
        json_t *evt = json_object_get(item, "end_valid_time");
        if (!json_is_object(ooi) || !only_keys(item, decl ? decl_keys : affirm_keys) ||
            (evt && !json_is_string(evt) && !json_is_null(evt))) {
                LERR(l, "bad_item",
                     "a %s is {\"type\": \"%s\", \"ooi\": {object}%s} and nothing else", kind, kind,
                     decl ? ", \"end_valid_time\": string or null" : "");
                return;
        }
        if (check_object(l, ooi, "/ooi"))
                json_array_append(decl ? l->c->declarations : l->c->affirmations, item);
}

static void check_scan_profile(const struct line_ctx *l, json_t *item)
{
        static const char *const keys[] = {"scan_profile_type", "reference", "level", "user_id",
                                           NULL};
        const char *ref = json_string_value(json_object_get(item, "reference"));
        json_t *level = json_object_get(item, "level");
        json_t *user = json_object_get(item, "user_id");
        const char *type = json_string_value(json_object_get(item, "scan_profile_type"));
        if (!type || strcmp(type, "declared") != 0 || !ref || !json_is_integer(level) ||
            json_integer_value(level) < 0 || json_integer_value(level) > 4 ||
            (user && !json_is_integer(user) && !json_is_null(user)) || !only_keys(item, keys)) {
                LERR(l, "bad_scan_profile",
                     "a scan profile is {\"scan_profile_type\": \"declared\", \"reference\": "
                     "primary key, \"level\": 0 to 4} (optionally \"user_id\")");
                return;
        }
        struct object_type any = {.name = "scan profile"};
        struct ref_field f = {.name = "reference"};
        any.refs = &f;
        any.n_refs = 1;
        if (checker_note_refs(l->c, &any, item, l->no, "scan profile") == 0)
                json_array_append(l->c->scan_profiles, item);
}

/* {"type": "error"}: the normaliser (or its runtime) reports its own failure. */
static void normaliser_error(const struct line_ctx *l, json_t *item)
{
        const char *error = json_string_value(json_object_get(item, "error"));
        const char *message = json_string_value(json_object_get(item, "message"));
        const char *tb = json_string_value(json_object_get(item, "traceback"));
        const char *phase = json_string_value(json_object_get(item, "phase"));
        json_t *n = json_object_get(item, "item");
        char where[64] = "";
        if (json_is_integer(n))
                snprintf(where, sizeof(where), " (item %lld)", (long long)json_integer_value(n));
        struct wh_contract_error *x =
            cerr_add(l->c->errors, "normaliser_error", l->no, NULL, 0, "%s%s%s%.900s%s%s",
                     phase ? phase : "", phase ? ": " : "", error ? error : "error",
                     message ? ": " : "", message ? message : "", where);
        if (x && tb)
                x->detail = utf8_excerpt(tb, strlen(tb), 16384);
}

static void classify(const struct line_ctx *l, json_t *item)
{
        struct checker *c = l->c;
        const char *type = json_string_value(json_object_get(item, "type"));
        if (l->no == 1 && c->python && !c->runtime && type && strcmp(type, "runtime") == 0) {
                c->runtime = json_incref(item);
                return;
        }
        if (type && strcmp(type, "error") == 0 && !json_object_get(item, "object_type")) {
                normaliser_error(l, item);
                return;
        }
        if (++c->items > c->limits->max_items) {
                if (c->items == c->limits->max_items + 1)
                        LERR(l, "too_many_items",
                             "more than %llu items (limit \"items\"): the rest is ignored",
                             (unsigned long long)c->limits->max_items);
                if (!c->stop)
                        c->stop = "too_many_items";
                return;
        }
        if (json_object_get(item, "object_type")) {
                if (check_object(l, item, ""))
                        json_array_append(c->objects, item);
        } else if (type && (strcmp(type, "declaration") == 0 || strcmp(type, "affirmation") == 0)) {
                check_wrapped(l, item, type);
        } else if (json_object_get(item, "scan_profile_type")) {
                check_scan_profile(l, item);
        } else {
                LERR(l, "unknown_item",
                     "not an item: expected {\"object_type\": ...}, {\"type\": \"declaration\" or "
                     "\"affirmation\", \"ooi\": {...}}, {\"scan_profile_type\": \"declared\", ...} "
                     "or {\"type\": \"error\", ...}");
        }
}

static void parse_error(const struct line_ctx *l, const json_error_t *je, bool complete)
{
        switch (json_error_code(je)) {
        case json_error_invalid_utf8:
                LERR(l, "invalid_utf8", "not valid UTF-8 (byte %d): output must be UTF-8 JSON",
                     je->position);
                return;
        case json_error_null_character:
                /* Valid JSON, but a NUL inside a string cannot be carried as
                 * a C string through keys, references and the job store
                 * (PostgreSQL text refuses it too): ours to refuse, clearly. */
                LERR(l, "nul_character",
                     "a string holds \\u0000 (NUL) at column %d: whiskers refuses NUL in items; "
                     "drop or replace it",
                     je->column);
                return;
        case json_error_numeric_overflow:
                LERR(l, "number_out_of_range",
                     "a number is out of range at column %d: integers must fit in 64 bits and "
                     "reals in a double",
                     je->column);
                return;
        default:
                break;
        }
        if (!complete)
                LERR(l, "truncated",
                     "the output ends inside an item (no final newline): the normaliser was "
                     "stopped or did not finish writing");
        else
                LERR(l, "invalid_json", "not JSON: %s (column %d)", je->text, je->column);
}

/* After each line: are the errors or the memory reason enough to stop? */
static void note_stop(struct checker *c)
{
        if (c->stop)
                return;
        if (c->oom)
                c->stop = "out_of_memory";
        else if (c->error_budget && c->errors->n + c->errors->dropped >= c->error_budget)
                c->stop = "too_many_errors";
}

static void check_line(struct checker *c, const char *text, size_t len, uint64_t no, bool complete)
{
        struct line_ctx l = {c, text, len, no};
        size_t i = 0;
        while (i < len && isspace((unsigned char)text[i]))
                i++;
        if (i == len)
                return;
        if (json_depth(text, len, l.c->limits->max_depth) > l.c->limits->max_depth) {
                LERR(&l, "too_deep", "the item nests deeper than %llu levels (limit \"depth\")",
                     (unsigned long long)l.c->limits->max_depth);
                return;
        }
        json_error_t je;
        cleanup_json json_t *item = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!item) {
                parse_error(&l, &je, complete);
                return;
        }
        if (!json_is_object(item))
                LERR(&l, "not_an_object", "an item must be a JSON object");
        else
                classify(&l, item);
}

void checker_line(void *ctx, const char *text, size_t len, uint64_t no, bool complete)
{
        check_line(ctx, text, len, no, complete);
        note_stop(ctx);
}

void checker_too_long(void *ctx, const char *head, size_t head_len, uint64_t no)
{
        struct checker *c = ctx;
        cerr_add(c->errors, "item_too_large", no, head, head_len,
                 "the line is longer than %llu bytes (limit \"item_size\"): skipped",
                 (unsigned long long)c->limits->max_item_bytes);
        note_stop(c);
}

void checker_finish(struct checker *c, const char *input_pk)
{
        checker_resolve(c, input_pk);
        if (json_array_size(c->objects) && !input_pk)
                cerr_add(c->errors, "no_input_ooi", 0, NULL, 0,
                         "the normaliser emitted objects but the meta has no input_ooi to "
                         "observe them from (OpenKAT: ObservationsWithoutInputOOI)");
        if (c->oom)
                cerr_add(c->errors, "out_of_memory", 0, NULL, 0,
                         "whiskers ran out of memory while checking the output");
}

void checker_clear(struct checker *c)
{
        json_decref(c->objects);
        json_decref(c->declarations);
        json_decref(c->affirmations);
        json_decref(c->scan_profiles);
        json_decref(c->runtime);
        wh_strset_clear(&c->keys);
        wh_strset_clear(&c->undeclared);
        for (size_t i = 0; i < c->n_refs; i++) {
                free(c->refs[i].field);
                free(c->refs[i].value);
                free(c->refs[i].from);
        }
        free(c->refs);
        memset(c, 0, sizeof(*c));
}
