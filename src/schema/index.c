/* Indexing a schema document: every subschema reachable through the
 * keywords that take schemas is recorded with its resource and JSON pointer;
 * $id starts a new resource (its URI resolved against the enclosing one),
 * $anchor and $dynamicAnchor name subschemas within a resource. The
 * enclosing resource's draft decides which keywords hold schemas and name
 * anchors: draft-07's "$id": "#name" is an anchor and an $id beside $ref is
 * ignored; 2019-09's "$recursiveAnchor": true at a resource root is the
 * dynamic anchor $recursiveRef looks for (the unnamed one). Values of
 * other keywords (enum, const, unknown keywords) are not schemas, so an $id
 * inside them identifies nothing. */
#include "schema/session.h"
#include "schema/uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keywords whose value is a schema or an array of schemas (ARRAY), or an
 * object whose member values are schemas (OBJECT), and the drafts that have
 * them. */
enum { SINGLE = 1, ARRAY = 2, OBJECT = 4 };
static const struct {
        const char *name;
        unsigned kinds, drafts;
} schema_kw[] = {
    {"additionalProperties", SINGLE, D_ALL},
    {"propertyNames", SINGLE, D_ALL},
    {"items", SINGLE | ARRAY, D_ALL},
    {"additionalItems", SINGLE, D7 | D19},
    {"contains", SINGLE, D_ALL},
    {"not", SINGLE, D_ALL},
    {"if", SINGLE, D_ALL},
    {"then", SINGLE, D_ALL},
    {"else", SINGLE, D_ALL},
    {"unevaluatedItems", SINGLE, D19 | D20},
    {"unevaluatedProperties", SINGLE, D19 | D20},
    {"contentSchema", SINGLE, D19 | D20},
    {"allOf", ARRAY, D_ALL},
    {"anyOf", ARRAY, D_ALL},
    {"oneOf", ARRAY, D_ALL},
    {"prefixItems", ARRAY, D20},
    {"$defs", OBJECT, D19 | D20},
    {"definitions", OBJECT, D7},
    {"properties", OBJECT, D_ALL},
    {"patternProperties", OBJECT, D_ALL},
    {"dependentSchemas", OBJECT, D19 | D20},
    {"dependencies", OBJECT, D7},
};

#define N(a) (sizeof(a) / sizeof(a[0]))

static bool valid_anchor(const char *s)
{
        /* NCName-like, as draft 2020-12 requires: ^[A-Za-z_][-A-Za-z0-9._]*$ */
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
                        return false;
        return true;
}

static int add_anchor_named(struct sch_session *s, struct sch_resource *res, json_t *schema,
                            const char *name, bool dynamic)
{
        for (struct sch_anchor *a = res->anchors; a; a = a->next)
                if (strcmp(a->name, name) == 0 && a->target != schema)
                        return sch_fail(s, "anchor '%s' is defined twice in %s", name, res->uri);
        struct sch_anchor *a = arena_zalloc(&s->reg->arena, sizeof(*a));
        if (!a)
                return sch_fail(s, "out of memory");
        *a = (struct sch_anchor){name, schema, dynamic, res->anchors};
        res->anchors = a;
        return 0;
}

static int add_anchor(struct sch_session *s, struct sch_resource *res, json_t *schema,
                      const char *kw, bool dynamic, const char *path)
{
        json_t *v = json_object_get(schema, kw);
        if (!v)
                return 0;
        const char *name = json_string_value(v);
        if (!name || !valid_anchor(name))
                return sch_fail(s, "%s at %s#%s must be a name matching ^[A-Za-z_][-A-Za-z0-9._]*$",
                                kw, res->uri, path);
        return add_anchor_named(s, res, schema, name, dynamic);
}

static int add_anchors(struct sch_session *s, struct sch_resource *res, json_t *schema,
                       const char *path)
{
        switch (sch_draft(res->vocab)) {
        case D20:
                if (add_anchor(s, res, schema, "$dynamicAnchor", true, path) < 0)
                        return -1;
                break;
        case D19: {
                json_t *ra = json_object_get(schema, "$recursiveAnchor");
                if (ra && !json_is_boolean(ra))
                        return sch_fail(s, "$recursiveAnchor at %s#%s must be a boolean", res->uri,
                                        path);
                if (json_is_true(ra) && schema == res->root &&
                    add_anchor_named(s, res, schema, SCH_RECURSIVE_ANCHOR, true) < 0)
                        return -1;
                break;
        }
        default: /* draft-07: "$id": "#name" */
                return 0;
        }
        return add_anchor(s, res, schema, "$anchor", false, path);
}

/* Draft-07's "$id": "#name" names a subschema of the enclosing resource
 * (any other fragment stays an error: see embedded_resource). */
static bool draft7_anchor_id(const struct sch_resource *res, json_t *schema)
{
        const char *id = json_string_value(json_object_get(schema, "$id"));
        return sch_draft(res->vocab) == D7 && id && id[0] == '#' && valid_anchor(id + 1);
}

/* Draft-07 ignores every keyword beside $ref, $id included. */
static bool starts_resource(const struct sch_resource *res, json_t *schema)
{
        if (res->root == schema || !json_object_get(schema, "$id"))
                return false;
        if (sch_draft(res->vocab) != D7)
                return true;
        return !json_object_get(schema, "$ref") && !draft7_anchor_id(res, schema);
}

/* A subschema with $id below a resource root: a new, embedded resource. */
static struct sch_resource *embedded_resource(struct sch_session *s, json_t *schema,
                                              struct sch_resource *parent, const char *path)
{
        json_t *id = json_object_get(schema, "$id");
        if (!json_is_string(id)) {
                sch_fail(s, "$id at %s#%s must be a string", parent->uri, path);
                return NULL;
        }
        char *abs = uri_resolve(parent->uri, json_string_value(id));
        if (!abs) {
                sch_fail(s, "out of memory");
                return NULL;
        }
        struct sch_resource *res = NULL;
        size_t n = uri_nofrag_len(abs);
        if (abs[n] == '#' && abs[n + 1] == '\0')
                abs[n] = '\0'; /* an empty fragment names the resource itself */
        if (abs[n] == '#')
                sch_fail(s, "$id '%s' at %s#%s must not contain a fragment (use $anchor)",
                         json_string_value(id), parent->uri, path);
        else
                res = sch_resource_new(s, abs, schema, parent->vocab);
        /* Registered before $schema is followed, so meta-schemas that name
         * each other terminate. */
        if (res && sch_vocab(s, schema, parent->vocab, &res->vocab) < 0)
                res = NULL;
        free(abs);
        return res;
}

static int index_array(struct sch_session *s, json_t *arr, struct sch_resource *res,
                       const char *kpath, unsigned depth)
{
        for (size_t k = 0; k < json_array_size(arr); k++) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", k);
                json_t *v = json_array_get(arr, k);
                if (json_is_object(v) &&
                    sch_index_subschema(s, v, res, sch_path_join(s, kpath, idx, SIZE_MAX),
                                        depth + 1) < 0)
                        return -1;
        }
        return 0;
}

static int index_object(struct sch_session *s, json_t *obj, struct sch_resource *res,
                        const char *kpath, unsigned depth)
{
        const char *key;
        size_t len;
        json_t *v;
        json_object_keylen_foreach(obj, key, len, v)
        {
                if (json_is_object(v) &&
                    sch_index_subschema(s, v, res, sch_path_join(s, kpath, key, len), depth + 1) <
                        0)
                        return -1;
        }
        return 0;
}

static int index_children(struct sch_session *s, json_t *schema, struct sch_resource *res,
                          const char *path, unsigned depth)
{
        unsigned draft = sch_draft(res->vocab);
        for (size_t i = 0; i < N(schema_kw); i++) {
                json_t *v = json_object_get(schema, schema_kw[i].name);
                if (!v || !(schema_kw[i].drafts & draft))
                        continue;
                const char *kpath = sch_path_join(s, path, schema_kw[i].name, SIZE_MAX);
                if ((schema_kw[i].kinds & SINGLE) && json_is_object(v) &&
                    sch_index_subschema(s, v, res, kpath, depth + 1) < 0)
                        return -1;
                if ((schema_kw[i].kinds & ARRAY) && index_array(s, v, res, kpath, depth) < 0)
                        return -1;
                if ((schema_kw[i].kinds & OBJECT) && index_object(s, v, res, kpath, depth) < 0)
                        return -1;
        }
        return 0;
}

int sch_index_subschema(struct sch_session *s, json_t *schema, struct sch_resource *res,
                        const char *path, unsigned depth)
{
        if (!path)
                return sch_fail(s, "out of memory");
        if (!json_is_object(schema) || ptrmap_get(&s->reg->locs, schema))
                return 0;
        if (depth > SCH_MAX_DEPTH)
                return sch_fail(s, "schema nesting too deep (over %d levels) at %s#%s",
                                SCH_MAX_DEPTH, res->uri, path);
        if (starts_resource(res, schema)) {
                res = embedded_resource(s, schema, res, path);
                if (!res)
                        return -1;
                path = "";
        }
        struct sch_loc *loc = arena_zalloc(&s->reg->arena, sizeof(*loc));
        if (!loc || ptrmap_put(&s->reg->locs, schema, loc) < 0)
                return sch_fail(s, "out of memory");
        loc->res = res;
        loc->path = path;
        if (add_anchors(s, res, schema, path) < 0)
                return -1;
        if (draft7_anchor_id(res, schema) && !json_object_get(schema, "$ref") &&
            add_anchor_named(s, res, schema, json_string_value(json_object_get(schema, "$id")) + 1,
                             false) < 0)
                return -1;
        return index_children(s, schema, res, path, depth);
}

int sch_index_document(struct sch_session *s, json_t *doc, const char *uri,
                       struct sch_resource **out)
{
        if (!json_is_object(doc) && !json_is_boolean(doc))
                return sch_fail(s, "%s is not a schema: a schema is a JSON object or boolean", uri);
        char *id_uri = NULL;
        json_t *id = json_object_get(doc, "$id");
        if (id && !json_is_string(id))
                return sch_fail(s, "$id at %s must be a string", uri);
        if (id) {
                id_uri = uri_resolve(uri, json_string_value(id));
                if (!id_uri)
                        return sch_fail(s, "out of memory");
                size_t n = uri_nofrag_len(id_uri);
                if (id_uri[n] == '#' && id_uri[n + 1] == '\0')
                        id_uri[n] = '\0'; /* an empty fragment names the document itself */
                if (id_uri[n] == '#') {
                        free(id_uri);
                        return sch_fail(s, "$id '%s' of %s must not contain a fragment",
                                        json_string_value(id), uri);
                }
        }
        /* The $id is the base URI; the retrieval URI stays an alias. */
        unsigned flags = s->reg->flags;
        unsigned deflt = flags & WH_SCHEMA_DEFAULT_DRAFT7         ? sch_vocab_draft7()
                         : flags & WH_SCHEMA_DEFAULT_DRAFT2019_09 ? VOC_DRAFT2019 | VOC_DEFAULT
                                                                  : VOC_DEFAULT;
        struct sch_resource *res = sch_resource_new(s, id_uri ? id_uri : uri, doc, deflt);
        free(id_uri);
        if (!res)
                return -1;
        if (strcmp(res->uri, uri) != 0) {
                char *alias = arena_strdup(&s->reg->arena, uri);
                if (!alias || strmap_put(&s->reg->resources, alias, strlen(alias), res) < 0)
                        return sch_fail(s, "out of memory");
        }
        /* After registering, so meta-schemas that name each other terminate. */
        if (json_is_object(doc) && sch_vocab(s, doc, deflt, &res->vocab) < 0)
                return -1;
        *out = res;
        return sch_index_subschema(s, doc, res, "", 0);
}
