/* The keyword compiler: fills a node from its schema object. Keywords run
 * through one table naming their vocabulary and the drafts that have them;
 * a keyword whose vocabulary the resource's meta-schema does not enable is
 * ignored, and one the resource's draft does not define is ignored with a
 * warning. Malformed keyword values are compile errors. In draft-07 a $ref
 * makes its siblings ignored. */
#include "schema/compile_kw.h"
#include "schema/regex.h"

#include <stdio.h>
#include <string.h>

struct sch_node *kw_child(struct sch_session *s, struct sch_node *n, json_t *v, const char *seg1,
                          const char *seg2, size_t seg2len)
{
        struct sch_loc *l = json_is_object(v) ? ptrmap_get(&s->reg->locs, v) : NULL;
        if (l)
                return sch_node_for(s, v, l->res, l->path);
        const char *path = sch_path_join(s, n->path, seg1, SIZE_MAX);
        if (seg2)
                path = sch_path_join(s, path, seg2, seg2len);
        if (!path) {
                sch_fail(s, "out of memory");
                return NULL;
        }
        return sch_node_for(s, v, (struct sch_resource *)n->res, path);
}

static int kw_ref(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_string(v))
                return kw_bad(s, n, kw, "must be a URI reference string");
        struct sch_target t;
        if (sch_resolve(s, n->res->uri, json_string_value(v), &t) < 0)
                return wh_err_prefix(s->err, "%s/%s", n->loc, kw);
        struct sch_node *target = sch_node_for(s, t.json, t.res, t.path);
        if (!target)
                return -1;
        if (strcmp(kw, "$ref") == 0) {
                n->ref = target;
                n->kw |= K_REF;
                return 0;
        }
        n->dynref = target;
        n->kw |= K_DYNREF;
        /* Dynamic only when the initial target declares the anchor (the
         * "bookend"): for $dynamicRef the fragment names its $dynamicAnchor,
         * for $recursiveRef it has "$recursiveAnchor": true. */
        const char *anchor = NULL;
        if (strcmp(kw, "$recursiveRef") == 0) {
                if (json_is_object(t.json) &&
                    json_is_true(json_object_get(t.json, "$recursiveAnchor")))
                        anchor = SCH_RECURSIVE_ANCHOR;
        } else {
                json_t *da =
                    json_is_object(t.json) ? json_object_get(t.json, "$dynamicAnchor") : NULL;
                if (t.anchor && json_is_string(da) && strcmp(json_string_value(da), t.anchor) == 0)
                        anchor = t.anchor;
        }
        if (anchor) {
                n->dyn_bookended = true;
                n->dyn_anchor = sch_intern_dyn(s, anchor);
                if (n->dyn_anchor == UINT32_MAX)
                        return sch_fail(s, "out of memory");
        }
        return 0;
}

static int kw_defs(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_object(v))
                return kw_bad(s, n, kw, "must be an object of schemas");
        const char *key;
        size_t len;
        json_t *sub;
        /* Compiled even when unused, so a broken definition is reported. */
        json_object_keylen_foreach(v, key, len, sub)
        {
                if (!kw_child(s, n, sub, kw, key, len))
                        return -1;
        }
        return 0;
}

static int kw_single(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        static const struct {
                const char *kw;
                size_t off;
                uint32_t bit;
        } slots[] = {
            {"not", offsetof(struct sch_node, not_), K_INPLACE},
            {"if", offsetof(struct sch_node, if_), K_INPLACE},
            {"then", offsetof(struct sch_node, then_), 0},
            {"else", offsetof(struct sch_node, else_), 0},
            {"items", offsetof(struct sch_node, items), K_ITEMS},
            {"additionalItems", offsetof(struct sch_node, items), K_ITEMS},
            {"contains", offsetof(struct sch_node, contains), K_CONTAINS},
            {"additionalProperties", offsetof(struct sch_node, additional_props), K_PROPS},
            {"propertyNames", offsetof(struct sch_node, property_names), K_PROPNAMES},
            {"unevaluatedItems", offsetof(struct sch_node, uneval_items), K_UNEVAL_ITEMS},
            {"unevaluatedProperties", offsetof(struct sch_node, uneval_props), K_UNEVAL_PROPS},
        };
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
                if (strcmp(kw, slots[i].kw) != 0)
                        continue;
                struct sch_node *child = kw_child(s, n, v, kw, NULL, 0);
                if (!child)
                        return -1;
                *(struct sch_node **)((char *)n + slots[i].off) = child;
                n->kw |= slots[i].bit;
                return 0;
        }
        return kw_bad(s, n, kw, "internal: no slot");
}

static int kw_schema_array(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        size_t count = json_array_size(v);
        if (!json_is_array(v) || count == 0)
                return kw_bad(s, n, kw, "must be a non-empty array of schemas");
        struct sch_node **arr = arena_zalloc_array(&s->reg->arena, count, sizeof(*arr));
        if (!arr)
                return sch_fail(s, "out of memory");
        for (size_t i = 0; i < count; i++) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", i);
                if (!(arr[i] = kw_child(s, n, json_array_get(v, i), kw, idx, SIZE_MAX)))
                        return -1;
        }
        if (strcmp(kw, "prefixItems") == 0 || strcmp(kw, "items") == 0) {
                n->prefix_items = arr, n->nprefix_items = count, n->kw |= K_ITEMS;
                return 0;
        }
        n->kw |= K_INPLACE;
        if (strcmp(kw, "allOf") == 0)
                n->all_of = arr, n->nall_of = count;
        else if (strcmp(kw, "anyOf") == 0)
                n->any_of = arr, n->nany_of = count;
        else
                n->one_of = arr, n->none_of = count;
        return 0;
}

/* properties, dependentSchemas and the schemas of draft-07's
 * dependencies: name -> schema. */
static int kw_schema_map(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_object(v))
                return kw_bad(s, n, kw, "must be an object of schemas");
        bool deps = strcmp(kw, "dependencies") == 0;
        size_t count = json_object_size(v), i = 0;
        struct sch_prop *props = arena_zalloc_array(&s->reg->arena, count, sizeof(*props));
        if (!props && count)
                return sch_fail(s, "out of memory");
        const char *key;
        size_t len;
        json_t *sub;
        json_object_keylen_foreach(v, key, len, sub)
        {
                if (deps && json_is_array(sub))
                        continue; /* a property list: kw_dep_required */
                struct sch_node *child = kw_child(s, n, sub, kw, key, len);
                if (!child)
                        return -1;
                props[i++] = (struct sch_prop){key, len, child};
        }
        count = i;
        if (deps || strcmp(kw, "dependentSchemas") == 0) {
                n->dep_schemas = props, n->ndep_schemas = count, n->kw |= K_INPLACE;
                return 0;
        }
        n->props = props;
        n->nprops = count;
        n->kw |= K_PROPS;
        if (count > 8) {
                size_t cap = 16;
                while (cap < 2 * count)
                        cap *= 2;
                n->prop_map = arena_zalloc(&s->reg->arena, sizeof(*n->prop_map));
                struct strmap_slot *slots = arena_zalloc_array(&s->reg->arena, cap, sizeof(*slots));
                if (!n->prop_map || !slots)
                        return sch_fail(s, "out of memory");
                strmap_init_fixed(n->prop_map, slots, cap);
                for (i = 0; i < count; i++)
                        if (strmap_put(n->prop_map, props[i].name, props[i].len, &props[i]) < 0)
                                return sch_fail(s, "out of memory");
        }
        return 0;
}

static int kw_pattern_props(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_object(v))
                return kw_bad(s, n, kw, "must be an object of schemas keyed by patterns");
        size_t count = json_object_size(v), i = 0;
        struct sch_patprop *pp = arena_zalloc_array(&s->reg->arena, count, sizeof(*pp));
        if (!pp && count)
                return sch_fail(s, "out of memory");
        const char *key;
        size_t len;
        json_t *sub;
        json_object_keylen_foreach(v, key, len, sub)
        {
                char err[256];
                const struct rx *re = rx_compile(&s->reg->arena, key, len, err, sizeof(err));
                if (!re)
                        return sch_fail(s, "%s/%s: invalid pattern '%s': %s", n->loc, kw, key, err);
                struct sch_node *child = kw_child(s, n, sub, kw, key, len);
                if (!child)
                        return -1;
                pp[i++] = (struct sch_patprop){re, key, child};
        }
        n->pattern_props = pp;
        n->npattern_props = count;
        n->kw |= K_PROPS;
        return 0;
}

/* Draft-07: an object of property lists and schemas. */
static int kw_dependencies(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_object(v))
                return kw_bad(s, n, kw, "must be an object of string arrays and schemas");
        return kw_dep_required(s, n, kw, v) < 0 ? -1 : kw_schema_map(s, n, kw, v);
}

/* A schema for every item, or (before 2020-12) an array of schemas for the
 * first items, which then lets additionalItems apply to the rest. */
static int kw_items(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_array(v))
                return kw_single(s, n, kw, v);
        if (sch_draft(n->res->vocab) == D20)
                return kw_bad(s, n, kw,
                              "must be a schema (since draft 2020-12 the array form is "
                              "prefixItems)");
        return kw_schema_array(s, n, kw, v);
}

static int kw_additional_items(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_array(json_object_get(n->src, "items")))
                return 0; /* meaningless without the array form of items */
        return kw_single(s, n, kw, v);
}

#define EITHER_FORMAT (VOC_FORMAT_ANNOTATION | VOC_FORMAT_ASSERTION)

static const struct kwdef {
        const char *name;
        unsigned vocab;  /* any of these enables it */
        unsigned drafts; /* the drafts that define it */
        kw_fn fn;        /* NULL: annotation only, nothing to compile */
} keywords[] = {
    {"$schema", VOC_CORE, D_ALL, NULL},
    {"$id", VOC_CORE, D_ALL, NULL},
    {"$anchor", VOC_CORE, D19 | D20, NULL},
    {"$dynamicAnchor", VOC_CORE, D20, NULL},
    {"$recursiveAnchor", VOC_CORE, D19, NULL},
    {"$ref", VOC_CORE, D_ALL, kw_ref},
    {"$dynamicRef", VOC_CORE, D20, kw_ref},
    {"$recursiveRef", VOC_CORE, D19, kw_ref},
    {"$defs", VOC_CORE, D19 | D20, kw_defs},
    {"definitions", VOC_CORE, D7, kw_defs},
    {"$comment", VOC_CORE, D_ALL, NULL},
    {"$vocabulary", VOC_CORE, D19 | D20, NULL},
    {"allOf", VOC_APPLICATOR, D_ALL, kw_schema_array},
    {"anyOf", VOC_APPLICATOR, D_ALL, kw_schema_array},
    {"oneOf", VOC_APPLICATOR, D_ALL, kw_schema_array},
    {"not", VOC_APPLICATOR, D_ALL, kw_single},
    {"if", VOC_APPLICATOR, D_ALL, kw_single},
    {"then", VOC_APPLICATOR, D_ALL, kw_single},
    {"else", VOC_APPLICATOR, D_ALL, kw_single},
    {"dependentSchemas", VOC_APPLICATOR, D19 | D20, kw_schema_map},
    {"dependencies", VOC_APPLICATOR, D7, kw_dependencies},
    {"prefixItems", VOC_APPLICATOR, D20, kw_schema_array},
    {"items", VOC_APPLICATOR, D_ALL, kw_items},
    {"additionalItems", VOC_APPLICATOR, D7 | D19, kw_additional_items},
    {"contains", VOC_APPLICATOR, D_ALL, kw_single},
    {"properties", VOC_APPLICATOR, D_ALL, kw_schema_map},
    {"patternProperties", VOC_APPLICATOR, D_ALL, kw_pattern_props},
    {"additionalProperties", VOC_APPLICATOR, D_ALL, kw_single},
    {"propertyNames", VOC_APPLICATOR, D_ALL, kw_single},
    {"unevaluatedItems", VOC_UNEVALUATED, D19 | D20, kw_single},
    {"unevaluatedProperties", VOC_UNEVALUATED, D19 | D20, kw_single},
    {"type", VOC_VALIDATION, D_ALL, kw_type},
    {"enum", VOC_VALIDATION, D_ALL, kw_enum},
    {"const", VOC_VALIDATION, D_ALL, kw_const},
    {"multipleOf", VOC_VALIDATION, D_ALL, kw_number},
    {"maximum", VOC_VALIDATION, D_ALL, kw_number},
    {"exclusiveMaximum", VOC_VALIDATION, D_ALL, kw_number},
    {"minimum", VOC_VALIDATION, D_ALL, kw_number},
    {"exclusiveMinimum", VOC_VALIDATION, D_ALL, kw_number},
    {"maxLength", VOC_VALIDATION, D_ALL, kw_count},
    {"minLength", VOC_VALIDATION, D_ALL, kw_count},
    {"pattern", VOC_VALIDATION, D_ALL, kw_pattern},
    {"maxItems", VOC_VALIDATION, D_ALL, kw_count},
    {"minItems", VOC_VALIDATION, D_ALL, kw_count},
    {"uniqueItems", VOC_VALIDATION, D_ALL, kw_unique},
    {"maxContains", VOC_VALIDATION, D19 | D20, kw_count},
    {"minContains", VOC_VALIDATION, D19 | D20, kw_count},
    {"maxProperties", VOC_VALIDATION, D_ALL, kw_count},
    {"minProperties", VOC_VALIDATION, D_ALL, kw_count},
    {"required", VOC_VALIDATION, D_ALL, kw_required},
    {"dependentRequired", VOC_VALIDATION, D19 | D20, kw_dep_required},
    {"title", VOC_META_DATA, D_ALL, NULL},
    {"description", VOC_META_DATA, D_ALL, NULL},
    {"default", VOC_META_DATA, D_ALL, NULL},
    {"deprecated", VOC_META_DATA, D19 | D20, NULL},
    {"readOnly", VOC_META_DATA, D_ALL, NULL},
    {"writeOnly", VOC_META_DATA, D_ALL, NULL},
    {"examples", VOC_META_DATA, D_ALL, NULL},
    {"format", EITHER_FORMAT, D_ALL, kw_format},
    {"contentEncoding", VOC_CONTENT, D_ALL, NULL},
    {"contentMediaType", VOC_CONTENT, D_ALL, NULL},
    {"contentSchema", VOC_CONTENT, D19 | D20, NULL},
};

/* Said after a warning about a keyword of another draft. */
static const char *draft_note(unsigned draft)
{
        return draft == D7 ? " (a draft-07 schema)" : draft == D19 ? " (a 2019-09 schema)" : "";
}

int sch_fill(struct sch_session *s, struct sch_node *n)
{
        n->types = 0xff;
        n->min_contains = 1;
        const char *key;
        json_t *v;
        unsigned draft = sch_draft(n->res->vocab);
        bool ref_only = draft == D7 && json_object_get(n->src, "$ref");
        json_object_foreach(n->src, key, v)
        {
                if (ref_only && strcmp(key, "$ref") != 0)
                        continue;
                const struct kwdef *def = NULL;
                for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]) && !def; i++)
                        if (strcmp(key, keywords[i].name) == 0)
                                def = &keywords[i];
                if (!def || !(def->drafts & draft)) {
                        sch_warn(s, "unknown keyword '%s' ignored at %s%s", key, n->loc,
                                 draft_note(draft));
                        continue;
                }
                if (!(def->vocab & n->res->vocab) || !def->fn)
                        continue;
                if (def->fn(s, n, key, v) < 0)
                        return -1;
        }
        /* Required names that are also properties are checked during the
         * properties pass (no extra lookups) when all of them can be. */
        uint64_t mask = 0;
        for (size_t i = 0; i < n->nrequired && mask != UINT64_MAX; i++) {
                size_t k = 0;
                while (k < n->nprops && k < 64 &&
                       (n->props[k].len != n->required[i].len ||
                        memcmp(n->props[k].name, n->required[i].s, n->required[i].len) != 0))
                        k++;
                mask = k < n->nprops && k < 64 ? mask | (1ull << k) : UINT64_MAX;
        }
        if (mask != UINT64_MAX)
                n->required_props = mask;
        /* then/else mean nothing without if; min/maxContains need contains. */
        if (!n->if_)
                n->then_ = n->else_ = NULL;
        if (!n->contains) {
                n->has_max_contains = false;
                n->min_contains = 1;
        }
        return 0;
}
