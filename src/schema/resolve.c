/* Reference resolution: a $ref/$dynamicRef/$schema value, resolved against
 * the base URI of the schema holding it, names a resource (loaded on first
 * use) and, by its fragment, either a JSON pointer from the resource root or
 * an anchor in that resource. */
#include "schema/session.h"
#include "schema/uri.h"

#include <stdlib.h>
#include <string.h>

/* Unescape one JSON pointer token (~1 is "/", ~0 is "~"). */
static long unescape_token(const char *in, size_t len, char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (in[i] != '~') {
                        out[o++] = in[i];
                        continue;
                }
                if (i + 1 >= len || (in[i + 1] != '0' && in[i + 1] != '1'))
                        return -1;
                out[o++] = in[i + 1] == '0' ? '~' : '/';
                i++;
        }
        return (long)o;
}

static json_t *step(json_t *cur, const char *tok, size_t len)
{
        if (json_is_object(cur))
                return json_object_getn(cur, tok, len);
        if (!json_is_array(cur) || len == 0 || len > 18 || (len > 1 && tok[0] == '0'))
                return NULL;
        size_t idx = 0;
        for (size_t i = 0; i < len; i++) {
                if (tok[i] < '0' || tok[i] > '9')
                        return NULL;
                idx = idx * 10 + (size_t)(tok[i] - '0');
        }
        return json_array_get(cur, idx);
}

static int walk_pointer(struct sch_session *s, const char *ref, struct sch_resource *res,
                        const char *ptr, size_t len, struct sch_target *t)
{
        json_t *cur = res->root;
        const char *path = "";
        char *tok = malloc(len + 1);
        if (!tok)
                return sch_fail(s, "out of memory");
        for (size_t i = 1;;) {
                size_t j = i;
                while (j < len && ptr[j] != '/')
                        j++;
                long toklen = unescape_token(ptr + i, j - i, tok);
                json_t *next = toklen < 0 ? NULL : step(cur, tok, (size_t)toklen);
                if (!next) {
                        free(tok);
                        return sch_fail(s, "$ref '%s': nothing at that JSON pointer in %s", ref,
                                        res->uri);
                }
                cur = next;
                path = sch_path_join(s, path, tok, (size_t)toklen);
                /* Crossing a subschema with $id moves into its resource. */
                struct sch_loc *l = json_is_object(cur) ? ptrmap_get(&s->reg->locs, cur) : NULL;
                if (l) {
                        res = l->res;
                        path = l->path;
                }
                if (j >= len)
                        break;
                i = j + 1;
        }
        free(tok);
        if (!path)
                return sch_fail(s, "out of memory");
        /* A schema inside a keyword the indexer does not know (allowed,
         * if unusual): index it now, under the resource it sits in. */
        if (json_is_object(cur) && !ptrmap_get(&s->reg->locs, cur) &&
            sch_index_subschema(s, cur, res, path, 0) < 0)
                return -1;
        t->json = cur;
        t->res = res;
        t->path = path;
        return 0;
}

static int find_anchor(struct sch_session *s, const char *ref, struct sch_resource *res,
                       const char *name, struct sch_target *t)
{
        for (const struct sch_anchor *a = res->anchors; a; a = a->next) {
                if (strcmp(a->name, name) != 0)
                        continue;
                struct sch_loc *l = ptrmap_get(&s->reg->locs, a->target);
                t->json = a->target;
                t->res = l->res;
                t->path = l->path;
                t->anchor = a->name;
                return 0;
        }
        return sch_fail(s, "$ref '%s': %s has no $anchor or $dynamicAnchor named '%s'", ref,
                        res->uri, name);
}

int sch_resolve(struct sch_session *s, const char *base, const char *ref, struct sch_target *t)
{
        memset(t, 0, sizeof(*t));
        char *abs = uri_resolve(base, ref);
        if (!abs)
                return sch_fail(s, "out of memory");
        size_t n = uri_nofrag_len(abs);
        const char *raw = abs[n] == '#' ? abs + n + 1 : "";
        char *frag = malloc(strlen(raw) + 1);
        int r = -1;
        if (!frag) {
                sch_fail(s, "out of memory");
                goto out;
        }
        long flen = uri_percent_decode(raw, strlen(raw), frag);
        if (flen < 0) {
                sch_fail(s, "$ref '%s' has a malformed %%-escape in its fragment", ref);
                goto out;
        }
        abs[n] = '\0';
        struct sch_resource *res = sch_load(s, abs);
        if (!res) {
                wh_err_prefix(s->err, "cannot resolve $ref '%s'", ref);
                goto out;
        }
        if (flen == 0) {
                t->json = res->root;
                t->res = res;
                t->path = "";
                r = 0;
        } else if (frag[0] == '/') {
                r = walk_pointer(s, ref, res, frag, (size_t)flen, t);
        } else {
                r = find_anchor(s, ref, res, frag, t);
        }
out:
        free(frag);
        free(abs);
        return r;
}
