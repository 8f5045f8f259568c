/* Indexing a schema document: every subschema reachable through the
 * keywords that take schemas is recorded with its resource and JSON pointer;
 * $id starts a new resource (its URI resolved against the enclosing one),
 * $anchor and $dynamicAnchor name subschemas within a resource. Values of
 * other keywords (enum, const, unknown keywords) are not schemas, so an $id
 * inside them identifies nothing. */
#include "schema/session.h"
#include "schema/uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keywords whose value is a schema, an array of schemas, or an object whose
 * member values are schemas. */
static const char *const single_kw[] = {"additionalProperties",
                                        "propertyNames",
                                        "items",
                                        "contains",
                                        "not",
                                        "if",
                                        "then",
                                        "else",
                                        "unevaluatedItems",
                                        "unevaluatedProperties",
                                        "contentSchema"};
static const char *const array_kw[] = {"allOf", "anyOf", "oneOf", "prefixItems"};
static const char *const object_kw[] = {"$defs", "properties", "patternProperties",
                                        "dependentSchemas"};

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

static int add_anchor(struct sch_session *s, struct sch_resource *res, json_t *schema,
                      const char *kw, bool dynamic, const char *path)
{
        json_t *v = json_object_get(schema, kw);
        if (!v)
                return 0;
        if (!json_is_string(v) || !valid_anchor(json_string_value(v)))
                return sch_fail(s, "%s at %s#%s must be a name matching ^[A-Za-z_][-A-Za-z0-9._]*$",
                                kw, res->uri, path);
        const char *name = json_string_value(v);
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
        if (abs[uri_nofrag_len(abs)] == '#')
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

static int index_children(struct sch_session *s, json_t *schema, struct sch_resource *res,
                          const char *path, unsigned depth)
{
        for (size_t i = 0; i < N(single_kw); i++) {
                json_t *v = json_object_get(schema, single_kw[i]);
                if (json_is_object(v) &&
                    sch_index_subschema(s, v, res, sch_path_join(s, path, single_kw[i], SIZE_MAX),
                                        depth + 1) < 0)
                        return -1;
        }
        for (size_t i = 0; i < N(array_kw); i++) {
                json_t *arr = json_object_get(schema, array_kw[i]);
                const char *kpath = sch_path_join(s, path, array_kw[i], SIZE_MAX);
                for (size_t k = 0; k < json_array_size(arr); k++) {
                        char idx[24];
                        snprintf(idx, sizeof(idx), "%zu", k);
                        json_t *v = json_array_get(arr, k);
                        if (json_is_object(v) &&
                            sch_index_subschema(s, v, res, sch_path_join(s, kpath, idx, SIZE_MAX),
                                                depth + 1) < 0)
                                return -1;
                }
        }
        for (size_t i = 0; i < N(object_kw); i++) {
                json_t *obj = json_object_get(schema, object_kw[i]);
                if (!json_is_object(obj))
                        continue;
                const char *kpath = sch_path_join(s, path, object_kw[i], SIZE_MAX);
                const char *key;
                size_t len;
                json_t *v;
                json_object_keylen_foreach(obj, key, len, v)
                {
                        if (json_is_object(v) &&
                            sch_index_subschema(s, v, res, sch_path_join(s, kpath, key, len),
                                                depth + 1) < 0)
                                return -1;
                }
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
        if (res->root != schema && json_object_get(schema, "$id")) {
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
        if (add_anchor(s, res, schema, "$anchor", false, path) < 0 ||
            add_anchor(s, res, schema, "$dynamicAnchor", true, path) < 0)
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
                if (id_uri[uri_nofrag_len(id_uri)] == '#') {
                        free(id_uri);
                        return sch_fail(s, "$id '%s' of %s must not contain a fragment",
                                        json_string_value(id), uri);
                }
        }
        /* The $id is the base URI; the retrieval URI stays an alias. */
        struct sch_resource *res = sch_resource_new(s, id_uri ? id_uri : uri, doc, VOC_DEFAULT);
        free(id_uri);
        if (!res)
                return -1;
        if (strcmp(res->uri, uri) != 0) {
                char *alias = arena_strdup(&s->reg->arena, uri);
                if (!alias || strmap_put(&s->reg->resources, alias, strlen(alias), res) < 0)
                        return sch_fail(s, "out of memory");
        }
        /* After registering, so meta-schemas that name each other terminate. */
        if (json_is_object(doc) && sch_vocab(s, doc, VOC_DEFAULT, &res->vocab) < 0)
                return -1;
        *out = res;
        return sch_index_subschema(s, doc, res, "", 0);
}
