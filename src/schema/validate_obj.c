/* Object applicators: properties, patternProperties, additionalProperties,
 * propertyNames, then unevaluatedProperties. One pass over the instance's
 * members; member i's bit in the annotation set means "evaluated". */
#include "schema/regex.h"
#include "schema/validate.h"

#include <string.h>

static const struct sch_prop *find_prop(const struct sch_node *n, const char *key, size_t len)
{
        if (n->prop_map)
                return strmap_get(n->prop_map, key, len);
        for (size_t i = 0; i < n->nprops; i++)
                if (n->props[i].len == len && (len == 0 || n->props[i].name[0] == key[0]) &&
                    memcmp(n->props[i].name, key, len) == 0)
                        return &n->props[i];
        return NULL;
}

static bool v_property_name(struct vstate *st, const struct sch_node *n, const char *key,
                            size_t len, const struct vctx *c)
{
        struct jv name = {.kind = JV_K_STRING, .n = (uint32_t)len, .u.s = key};
        struct kpath kp = {.up = c->kp, .kw = "propertyNames"};
        struct vctx cc = {c->ip, &kp, c->sc, NULL, true};
        bool ok = v_node(st, n->property_names, &name, &cc, NULL);
        return ok || v_fail(st, c, n, "propertyNames",
                            "property name '%.*s' does not match the propertyNames schema",
                            (int)len, key);
}

/* Apply sub (from keyword kw, with key/index second segment) to a member;
 * a false schema gets a message naming the property. */
static bool member(struct vstate *st, const struct sch_node *sub, const struct kpath *kp,
                   const struct jv *val, const char *key, size_t len, const struct vctx *c)
{
        if (sub->is_bool && !sub->bool_value) {
                struct ipath ip = {c->ip, key, len, 0};
                struct vctx cc = {&ip, kp, c->sc, NULL, c->quiet};
                return v_fail(st, &cc, sub, NULL, "property '%.*s' is not allowed by %s", (int)len,
                              key, kp->kw);
        }
        return v_descend(st, sub, val, c, kp, key, len, 0, false);
}

static bool match_patterns(struct vstate *st, const struct sch_node *n, const char *key, size_t len,
                           const struct jv *val, const struct vctx *c, bool *matched)
{
        bool ok = true;
        for (size_t p = 0; p < n->npattern_props; p++) {
                const struct sch_patprop *pp = &n->pattern_props[p];
                int r = rx_search(pp->re, key, len);
                struct kpath kp = {
                    .up = c->kp, .kw = "patternProperties", .key = pp->src, .len = strlen(pp->src)};
                if (r < 0) {
                        ok = v_abort(st, c, n, "patternProperties",
                                     "pattern '%s' gave up on property name '%.*s' (too much "
                                     "backtracking)",
                                     pp->src, (int)len, key);
                        continue;
                }
                if (r == 0)
                        continue;
                *matched = true;
                ok &= member(st, pp->node, &kp, val, key, len, c);
                if (!ok && v_quiet(st, c))
                        return false;
        }
        return ok;
}

/* The required names found missing by the properties pass. */
static bool missing_required(struct vstate *st, const struct sch_node *n, uint64_t seen,
                             const struct vctx *c)
{
        bool ok = true;
        for (size_t i = 0; i < n->nrequired; i++) {
                const struct sch_prop *p = find_prop(n, n->required[i].s, n->required[i].len);
                if (seen & (1ull << (p - n->props)))
                        continue;
                ok = v_fail(st, c, n, "required", "required property '%.*s' is missing",
                            (int)n->required[i].len, n->required[i].s);
                if (v_quiet(st, c))
                        break;
        }
        return ok;
}

bool v_object(struct vstate *st, const struct sch_node *n, const struct jv *inst,
              const struct vctx *c, struct ann *ann)
{
        bool ok = true;
        uint64_t seen = 0;
        size_t i;
        if (n->kw & (K_PROPS | K_PROPNAMES)) {
                for (i = 0; i < inst->n; i++) {
                        const char *key = inst->u.members[i].key;
                        size_t len = inst->u.members[i].len;
                        const struct jv *val = &inst->u.members[i].val;
                        bool matched = false;
                        const struct sch_prop *p = n->nprops ? find_prop(n, key, len) : NULL;
                        if (p) {
                                size_t idx = (size_t)(p - n->props);
                                seen |= idx < 64 ? 1ull << idx : 0;
                                struct kpath kp = {
                                    .up = c->kp, .kw = "properties", .key = p->name, .len = p->len};
                                matched = true;
                                ok &= member(st, p->node, &kp, val, key, len, c);
                        }
                        if (n->npattern_props)
                                ok &= match_patterns(st, n, key, len, val, c, &matched);
                        if (!matched && n->additional_props) {
                                struct kpath kp = {.up = c->kp, .kw = "additionalProperties"};
                                matched = true;
                                ok &= member(st, n->additional_props, &kp, val, key, len, c);
                        }
                        if (matched)
                                ann_set(ann, i);
                        if (n->property_names)
                                ok &= v_property_name(st, n, key, len, c);
                        if (!ok && v_quiet(st, c))
                                return false;
                }
        }
        if ((seen & n->required_props) != n->required_props)
                ok &= missing_required(st, n, seen, c);
        if (!n->uneval_props)
                return ok;
        for (i = 0; i < inst->n; i++) {
                if (ann_has(ann, i))
                        continue;
                const struct jv_member *m = &inst->u.members[i];
                struct kpath kp = {.up = c->kp, .kw = "unevaluatedProperties"};
                ok &= member(st, n->uneval_props, &kp, &m->val, m->key, m->len, c);
                ann_set(ann, i);
                if (!ok && v_quiet(st, c))
                        return false;
        }
        return ok;
}
