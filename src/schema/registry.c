/* The registry: URI-prefix mappings to directories, documents added by the
 * caller, and loading a document the first time a URI is needed. Nothing is
 * fetched over the network: a URI no mapping covers does not resolve. */
#define _GNU_SOURCE /* asprintf */
#include "schema/session.h"
#include "schema/uri.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wh_schema_registry_new(unsigned flags, struct wh_schema_registry **out, struct wh_err *err)
{
        struct wh_schema_registry *reg = calloc(1, sizeof(*reg));
        if (!reg)
                return wh_err_set(err, ENOMEM, "schema", "creating a schema registry");
        arena_init(&reg->arena);
        reg->flags = flags;
        reg->refs = 1;
        *out = reg;
        return 0;
}

void sch_registry_unref(struct wh_schema_registry *reg)
{
        if (!reg || --reg->refs > 0)
                return;
        for (size_t i = 0; i < reg->ndocs; i++)
                json_decref(reg->docs[i]);
        free(reg->docs);
        strmap_free(&reg->resources);
        strmap_free(&reg->pending);
        strmap_free(&reg->dyn_names);
        ptrmap_free(&reg->locs);
        arena_free(&reg->arena);
        free(reg);
}

void wh_schema_registry_free(struct wh_schema_registry *reg)
{
        sch_registry_unref(reg);
}

int sch_keep_doc(struct wh_schema_registry *reg, json_t *doc)
{
        if (reg->ndocs == reg->capdocs) {
                size_t ncap = reg->capdocs ? reg->capdocs * 2 : 8;
                json_t **nd = realloc(reg->docs, ncap * sizeof(*nd));
                if (!nd)
                        return -1;
                reg->docs = nd;
                reg->capdocs = ncap;
        }
        reg->docs[reg->ndocs++] = json_incref(doc);
        return 0;
}

int wh_schema_registry_map(struct wh_schema_registry *reg, const char *uri_prefix, const char *dir,
                           struct wh_err *err)
{
        if (!uri_is_absolute(uri_prefix) || strchr(uri_prefix, '#'))
                return wh_err_set(err, 0, "schema",
                                  "cannot map '%s': a URI prefix must be an absolute URI without "
                                  "a fragment, such as https://example.com/schemas/",
                                  uri_prefix);
        struct sch_map *m = arena_zalloc(&reg->arena, sizeof(*m));
        if (!m || !(m->prefix = arena_strdup(&reg->arena, uri_prefix)) ||
            !(m->dir = arena_strdup(&reg->arena, dir)))
                return wh_err_set(err, ENOMEM, "schema", "mapping %s", uri_prefix);
        m->next = reg->maps;
        reg->maps = m;
        return 0;
}

int wh_schema_registry_add(struct wh_schema_registry *reg, const char *uri, json_t *doc,
                           struct wh_err *err)
{
        if (!uri_is_absolute(uri) || uri[uri_nofrag_len(uri)] == '#')
                return wh_err_set(err, 0, "schema",
                                  "cannot add a schema as '%s': use an absolute URI without a "
                                  "fragment",
                                  uri);
        char *key = arena_strdup(&reg->arena, uri);
        if (!key || sch_keep_doc(reg, doc) < 0 ||
            strmap_put(&reg->pending, key, strlen(key), doc) < 0)
                return wh_err_set(err, ENOMEM, "schema", "adding %s", uri);
        return 0;
}

struct sch_resource *sch_resource_new(struct sch_session *s, const char *uri, json_t *root,
                                      unsigned vocab)
{
        struct wh_schema_registry *reg = s->reg;
        struct sch_resource *have = strmap_get(&reg->resources, uri, strlen(uri));
        if (have) {
                if (have->root != root)
                        sch_fail(s, "two schemas claim the URI %s; an $id must be unique", uri);
                return have->root == root ? have : NULL;
        }
        struct sch_resource *r = arena_zalloc(&reg->arena, sizeof(*r));
        if (!r || !(r->uri = arena_strdup(&reg->arena, uri)) ||
            strmap_put(&reg->resources, r->uri, strlen(r->uri), r) < 0) {
                sch_fail(s, "out of memory");
                return NULL;
        }
        r->root = root;
        r->vocab = vocab;
        return r;
}

/* The file a mapped URI names, or NULL if no mapping covers it. The rest of
 * the URI after the prefix must be a plain relative path. */
static char *mapped_path(struct sch_session *s, const char *uri, bool *refused)
{
        const struct sch_map *best = NULL;
        for (const struct sch_map *m = s->reg->maps; m; m = m->next)
                if (strncmp(uri, m->prefix, strlen(m->prefix)) == 0 &&
                    (!best || strlen(m->prefix) > strlen(best->prefix)))
                        best = m;
        *refused = false;
        if (!best)
                return NULL;
        const char *rest = uri + strlen(best->prefix);
        bool bad = !*rest || *rest == '/' || strpbrk(rest, "?#%\\") != NULL;
        for (const char *seg = rest; !bad && seg;
             seg = strchr(seg, '/'), seg = seg ? seg + 1 : NULL)
                bad = strncmp(seg, "../", 3) == 0 || strcmp(seg, "..") == 0 ||
                      strncmp(seg, "./", 2) == 0 || strcmp(seg, ".") == 0;
        if (bad) {
                *refused = true;
                return NULL;
        }
        char *path = NULL;
        if (asprintf(&path, "%s/%s", best->dir, rest) < 0)
                return NULL;
        return path;
}

static json_t *load_mapped(struct sch_session *s, const char *uri)
{
        bool refused;
        char *path = mapped_path(s, uri, &refused);
        if (!path) {
                if (refused)
                        sch_fail(s,
                                 "refusing to load %s: the part after the mapped prefix must "
                                 "be a plain relative path",
                                 uri);
                else
                        sch_fail(s,
                                 "no schema is known as %s (nothing is fetched from the "
                                 "network: map its URI prefix to a directory)",
                                 uri);
                return NULL;
        }
        json_t *doc = NULL;
        struct wh_err err;
        int r = wh_schema_json_load(path, &doc, &err);
        if (r < 0 && err.kind == WH_ERR_NOT_FOUND) {
                char *with_ext = NULL;
                if (asprintf(&with_ext, "%s.json", path) >= 0) {
                        r = wh_schema_json_load(with_ext, &doc, &err);
                        free(with_ext);
                }
        }
        free(path);
        if (r < 0) {
                sch_fail(s, "loading %s: %s", uri, err.msg);
                return NULL;
        }
        return doc;
}

struct sch_resource *sch_load(struct sch_session *s, const char *docuri)
{
        struct wh_schema_registry *reg = s->reg;
        struct sch_resource *res = strmap_get(&reg->resources, docuri, strlen(docuri));
        if (res)
                return res;
        json_t *doc = strmap_get(&reg->pending, docuri, strlen(docuri));
        bool owned = false;
        if (!doc) {
                doc = load_mapped(s, docuri);
                if (!doc)
                        return NULL;
                owned = true;
                if (sch_keep_doc(reg, doc) < 0) {
                        json_decref(doc);
                        sch_fail(s, "out of memory");
                        return NULL;
                }
        }
        int r = sch_index_document(s, doc, docuri, &res);
        if (owned)
                json_decref(doc); /* the registry keeps its own reference */
        return r < 0 ? NULL : res;
}
