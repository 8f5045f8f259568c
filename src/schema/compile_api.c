/* The public compile entry points: locate the root schema, run a session
 * (create, fill, cycle-check), and hand out a wh_schema that keeps the
 * registry alive. A session that fails after it changed the registry marks
 * the registry broken, so half-compiled nodes are never used. */
#include "schema/session.h"
#include "schema/uri.h"
#include "base/cleanup.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*locate_fn)(struct sch_session *s, const void *ctx, struct sch_target *t);

static void end_session(struct sch_session *s)
{
        for (size_t i = 0; i < s->nwarnings; i++)
                free(s->warnings[i]);
        free(s->warnings);
        free(s->nodes);
}

static int fill_all(struct sch_session *s)
{
        while (s->filled < s->nnodes)
                if (sch_fill(s, s->nodes[s->filled++]) < 0)
                        return -1;
        return 0;
}

static int run_session(struct wh_schema_registry *reg, locate_fn locate, const void *ctx,
                       struct wh_schema **out, struct wh_err *err)
{
        if (reg->broken)
                return wh_err_set(err, 0, "schema",
                                  "this schema registry is unusable after an earlier compile "
                                  "failed; create a new registry");
        struct sch_session s = {.reg = reg, .err = err};
        size_t ndocs = reg->ndocs, nres = reg->resources.used, nlocs = reg->locs.used;
        struct sch_target t = {0}; /* locate() fills it on success */
        struct sch_node *root = NULL;
        int r = locate(&s, ctx, &t);
        if (r == 0 && !(root = sch_node_for(&s, t.json, t.res, t.path)))
                r = -1;
        if (r == 0)
                r = fill_all(&s);
        if (r == 0)
                r = sch_check_cycles(&s);
        struct wh_schema *schema = NULL;
        if (r == 0 && !(schema = calloc(1, sizeof(*schema))))
                r = wh_err_set(err, ENOMEM, "schema", "compiling a schema");
        if (r < 0) {
                if (s.nnodes || reg->ndocs != ndocs || reg->resources.used != nres ||
                    reg->locs.used != nlocs)
                        reg->broken = true;
                end_session(&s);
                return -1;
        }
        reg->refs++;
        schema->reg = reg;
        schema->root = root;
        schema->warnings = s.warnings;
        schema->nwarnings = s.nwarnings;
        s.warnings = NULL;
        s.nwarnings = 0;
        end_session(&s);
        *out = schema;
        return 0;
}

struct json_ctx {
        json_t *schema;
        const char *base;
};

static int locate_json(struct sch_session *s, const void *vctx, struct sch_target *t)
{
        const struct json_ctx *ctx = vctx;
        struct sch_loc *l = ptrmap_get(&s->reg->locs, ctx->schema);
        if (l) {
                *t = (struct sch_target){ctx->schema, l->res, l->path, NULL};
                return 0;
        }
        char anon[64];
        const char *base = ctx->base;
        if (!base) {
                snprintf(anon, sizeof(anon), "whiskers:/anonymous/%u", ++s->reg->anon);
                base = anon;
        }
        if (!uri_is_absolute(base) || base[uri_nofrag_len(base)] == '#')
                return sch_fail(s, "base URI '%s' must be absolute and without a fragment", base);
        struct sch_resource *res;
        if (sch_keep_doc(s->reg, ctx->schema) < 0)
                return sch_fail(s, "out of memory");
        if (sch_index_document(s, ctx->schema, base, &res) < 0)
                return -1;
        *t = (struct sch_target){ctx->schema, res, "", NULL};
        return 0;
}

int wh_schema_compile(struct wh_schema_registry *reg, json_t *schema, const char *base_uri,
                      struct wh_schema **out, struct wh_err *err)
{
        struct json_ctx ctx = {schema, base_uri};
        return run_session(reg, locate_json, &ctx, out, err);
}

static int locate_uri(struct sch_session *s, const void *ctx, struct sch_target *t)
{
        const char *uri = ctx;
        if (!uri_is_absolute(uri))
                return sch_fail(s, "'%s' is not an absolute URI", uri);
        return sch_resolve(s, uri, uri, t);
}

int wh_schema_compile_uri(struct wh_schema_registry *reg, const char *uri, struct wh_schema **out,
                          struct wh_err *err)
{
        return run_session(reg, locate_uri, uri, out, err);
}

/* file:// URI of an absolute path, percent-encoding what URIs reserve. */
static char *file_uri(const char *abs)
{
        static const char keep[] = "-._~/!$&'()*+,;=:@";
        size_t n = strlen(abs);
        char *out = malloc(7 + 3 * n + 1);
        if (!out)
                return NULL;
        char *o = stpcpy(out, "file://");
        for (const unsigned char *p = (const unsigned char *)abs; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr(keep, *p))
                        *o++ = (char)*p;
                else
                        o += sprintf(o, "%%%02X", *p);
        }
        *o = '\0';
        return out;
}

/* Serve the directory of a compiled file under its file:// URI, so that
 * relative references to sibling files (and below) resolve. */
static int map_directory(struct wh_schema_registry *reg, const char *abs, const char *uri,
                         struct wh_err *err)
{
        char prefix[PATH_MAX * 3 + 8], dir[PATH_MAX];
        snprintf(prefix, sizeof(prefix), "%.*s", (int)(strrchr(uri, '/') + 1 - uri), uri);
        snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(abs, '/') - abs), abs);
        for (const struct sch_map *m = reg->maps; m; m = m->next)
                if (strcmp(m->prefix, prefix) == 0)
                        return 0;
        return wh_schema_registry_map(reg, prefix, dir[0] ? dir : "/", err);
}

int wh_schema_compile_file(struct wh_schema_registry *reg, const char *path, struct wh_schema **out,
                           struct wh_err *err)
{
        char abs[PATH_MAX];
        if (!realpath(path, abs))
                return wh_err_set(err, errno, "schema", "cannot open schema %s", path);
        char *uri = file_uri(abs);
        if (!uri)
                return wh_err_set(err, ENOMEM, "schema", "compiling %s", path);
        int r = map_directory(reg, abs, uri, err);
        if (r == 0 && !strmap_get(&reg->resources, uri, strlen(uri))) {
                cleanup_json json_t *doc = NULL;
                r = wh_schema_json_load(abs, &doc, err);
                if (r == 0) {
                        r = wh_schema_registry_add(reg, uri, doc, err);
                }
        }
        if (r == 0)
                r = wh_schema_compile_uri(reg, uri, out, err);
        free(uri);
        return r;
}

void wh_schema_free(struct wh_schema *schema)
{
        if (!schema)
                return;
        for (size_t i = 0; i < schema->nwarnings; i++)
                free(schema->warnings[i]);
        free(schema->warnings);
        sch_registry_unref(schema->reg);
        free(schema);
}

size_t wh_schema_warning_count(const struct wh_schema *schema)
{
        return schema->nwarnings;
}

const char *wh_schema_warning(const struct wh_schema *schema, size_t i)
{
        return i < schema->nwarnings ? schema->warnings[i] : NULL;
}
