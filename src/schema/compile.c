/* Compile sessions: turn a schema (given as JSON, a URI or a file) into the
 * node graph. Nodes are created on demand through a worklist, so deep
 * reference chains never recurse on the C stack; every created node is
 * filled by compile_kw.c, then in-place reference loops are rejected. */
#define _GNU_SOURCE /* vasprintf */
#include "schema/session.h"
#include "schema/uri.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sch_warn(struct sch_session *s, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if (s->nwarnings == s->capwarnings) {
                size_t ncap = s->capwarnings ? s->capwarnings * 2 : 8;
                char **nw = realloc(s->warnings, ncap * sizeof(*nw));
                if (!nw) {
                        free(msg);
                        return;
                }
                s->warnings = nw;
                s->capwarnings = ncap;
        }
        s->warnings[s->nwarnings++] = msg;
}

int sch_fail(struct sch_session *s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        wh_err_setv(s->err, 0, "schema", fmt, ap);
        va_end(ap);
        return -1;
}

char *sch_path_join(struct sch_session *s, const char *path, const char *seg, size_t seglen)
{
        if (!path || !seg)
                return NULL;
        if (seglen == SIZE_MAX)
                seglen = strlen(seg);
        size_t plen = strlen(path), extra = 0;
        for (size_t i = 0; i < seglen; i++)
                extra += seg[i] == '~' || seg[i] == '/';
        char *out = arena_alloc(&s->reg->arena, plen + 1 + seglen + extra + 1);
        if (!out)
                return NULL;
        memcpy(out, path, plen);
        char *o = out + plen;
        *o++ = '/';
        for (size_t i = 0; i < seglen; i++) {
                if (seg[i] == '~' || seg[i] == '/') {
                        *o++ = '~';
                        *o++ = seg[i] == '~' ? '0' : '1';
                } else {
                        *o++ = seg[i];
                }
        }
        *o = '\0';
        return out;
}

uint32_t sch_intern_dyn(struct sch_session *s, const char *name)
{
        struct wh_schema_registry *reg = s->reg;
        void *v = strmap_get(&reg->dyn_names, name, strlen(name));
        if (v)
                return (uint32_t)((uintptr_t)v - 1);
        uint32_t id = reg->ndyn_names++;
        if (strmap_put(&reg->dyn_names, name, strlen(name), (void *)(uintptr_t)(id + 1)) < 0)
                return UINT32_MAX;
        return id;
}

/* A resource's dynamic anchors are what $dynamicRef looks up once the
 * resource is in the dynamic scope, so they are compiled as soon as any
 * node of the resource is. */
static int queue_dynamic_anchors(struct sch_session *s, struct sch_resource *res)
{
        res->dyn_queued = true;
        for (const struct sch_anchor *a = res->anchors; a; a = a->next) {
                if (!a->dynamic)
                        continue;
                if (res->ndyn == res->capdyn) {
                        size_t ncap = res->capdyn ? res->capdyn * 2 : 4;
                        struct sch_dynanchor *nd = arena_alloc(&s->reg->arena, ncap * sizeof(*nd));
                        if (!nd)
                                return sch_fail(s, "out of memory");
                        if (res->ndyn)
                                memcpy(nd, res->dyn, res->ndyn * sizeof(*nd));
                        res->dyn = nd;
                        res->capdyn = ncap;
                }
                struct sch_loc *l = ptrmap_get(&s->reg->locs, a->target);
                uint32_t id = sch_intern_dyn(s, a->name);
                struct sch_node *n = sch_node_for(s, a->target, l->res, l->path);
                if (id == UINT32_MAX || !n)
                        return n ? sch_fail(s, "out of memory") : -1;
                res->dyn[res->ndyn++] = (struct sch_dynanchor){id, n};
        }
        return 0;
}

static struct sch_node *new_node(struct sch_session *s, struct sch_resource *res, const char *path)
{
        struct sch_node *n = arena_zalloc(&s->reg->arena, sizeof(*n));
        if (!n || !path || !(n->loc = arena_printf(&s->reg->arena, "%s#%s", res->uri, path))) {
                sch_fail(s, "out of memory");
                return NULL;
        }
        n->res = res;
        n->path = path;
        return n;
}

struct sch_node *sch_node_for(struct sch_session *s, json_t *json, struct sch_resource *res,
                              const char *path)
{
        if (json_is_boolean(json)) {
                struct sch_node *n = new_node(s, res, path);
                if (n) {
                        n->is_bool = true;
                        n->bool_value = json_is_true(json);
                        n->color = 2; /* no outgoing edges: done for the cycle check */
                }
                return n;
        }
        if (!json_is_object(json)) {
                sch_fail(s, "%s#%s: a schema must be a JSON object or a boolean", res->uri,
                         path ? path : "");
                return NULL;
        }
        struct sch_loc *l = ptrmap_get(&s->reg->locs, json);
        if (!l) {
                if (sch_index_subschema(s, json, res, path, 0) < 0)
                        return NULL;
                l = ptrmap_get(&s->reg->locs, json);
        }
        if (l->node)
                return l->node;
        struct sch_node *n = new_node(s, l->res, l->path);
        if (!n)
                return NULL;
        n->src = json;
        l->node = n;
        if (s->nnodes == s->capnodes) {
                size_t ncap = s->capnodes ? s->capnodes * 2 : 64;
                struct sch_node **nn = realloc(s->nodes, ncap * sizeof(*nn));
                if (!nn) {
                        sch_fail(s, "out of memory");
                        return NULL;
                }
                s->nodes = nn;
                s->capnodes = ncap;
        }
        s->nodes[s->nnodes++] = n;
        if (!l->res->dyn_queued && queue_dynamic_anchors(s, l->res) < 0)
                return NULL;
        return n;
}
