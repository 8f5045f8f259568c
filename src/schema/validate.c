/* The validator's core: evaluating one compiled node against one instance
 * value, the in-place applicators ($ref, $dynamicRef, allOf, anyOf, oneOf,
 * not, if/then/else, dependentSchemas), and the public entry points (a
 * jansson tree is converted to struct jv first; text is decoded straight
 * into it by jsondec.c).
 *
 * Annotations for unevaluated* follow the specification: a subschema's
 * annotations count only if it validated, and "not" never contributes. They
 * are collected only when some enclosing node at the same instance location
 * has unevaluatedProperties/unevaluatedItems (ann != NULL). */
#include "schema/jsonval.h"
#include "schema/validate.h"

#include <errno.h>

int ann_init(struct vstate *st, struct ann *a, size_t n)
{
        a->n = n;
        a->bits = NULL;
        if (n == 0)
                return 0;
        a->bits = arena_zalloc_array(&st->scratch, (n + 63) / 64, sizeof(uint64_t));
        if (!a->bits) {
                st->oom = true;
                a->n = 0;
                return -1;
        }
        return 0;
}

void ann_merge(struct ann *dst, const struct ann *src)
{
        if (!dst)
                return;
        for (size_t i = 0; i < (dst->n + 63) / 64 && i < (src->n + 63) / 64; i++)
                dst->bits[i] |= src->bits[i];
}

/* Evaluate sub in place into a fresh annotation set, merged into ann only
 * if sub validates. */
static bool try_inplace(struct vstate *st, const struct sch_node *sub, const struct jv *inst,
                        const struct vctx *c, struct ann *ann)
{
        if (!ann)
                return v_node(st, sub, inst, c, NULL);
        struct arena_mark mark;
        arena_mark(&st->scratch, &mark);
        struct ann tmp;
        ann_init(st, &tmp, ann->n);
        bool ok = v_node(st, sub, inst, c, &tmp);
        if (ok)
                ann_merge(ann, &tmp);
        arena_release(&st->scratch, &mark);
        return ok;
}

static bool follow(struct vstate *st, const struct sch_node *n, const struct sch_node *target,
                   const char *kw, const struct jv *inst, const struct vctx *c, struct ann *ann)
{
        /* Reaching a node again at the same instance location through
         * references would recur forever (only a dynamic reference can get
         * here: static loops are rejected when compiling). */
        for (const struct refvisit *v = c->rv; v; v = v->up)
                if (v->node == target)
                        return v_abort(st, c, n, kw,
                                       "reference loop: %s is re-entered without consuming the "
                                       "instance",
                                       target->loc);
        struct refvisit rv = {c->rv, target};
        struct kpath kp = {.up = c->kp, .kw = kw};
        struct vctx cc = {c->ip, &kp, c->sc, &rv, v_quiet(st, c)};
        return v_node(st, target, inst, &cc, ann);
}

static const struct sch_node *dynamic_target(const struct sch_node *n, const struct scope *sc)
{
        const struct sch_node *target = n->dynref;
        /* The outermost resource in the dynamic scope that has the anchor. */
        for (; sc; sc = sc->up)
                for (size_t i = 0; i < sc->res->ndyn; i++)
                        if (sc->res->dyn[i].id == n->dyn_anchor)
                                target = sc->res->dyn[i].node;
        return target;
}

static bool v_all(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                  const struct vctx *c, struct ann *ann)
{
        bool ok = true;
        for (size_t i = 0; i < n->nall_of; i++) {
                struct kpath kp = {.up = c->kp, .kw = "allOf", .index = i, .has_index = true};
                struct vctx cc = {c->ip, &kp, c->sc, c->rv, v_quiet(st, c)};
                ok &= v_node(st, n->all_of[i], inst, &cc, ann);
                if (!ok && v_quiet(st, c))
                        break;
        }
        return ok;
}

/* anyOf: every branch is tried when annotations are wanted (each valid
 * branch contributes), else the first valid branch decides. */
static bool v_any(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                  const struct vctx *c, struct ann *ann)
{
        bool matched = false;
        for (size_t i = 0; i < n->nany_of && (!matched || ann); i++) {
                struct kpath kp = {.up = c->kp, .kw = "anyOf", .index = i, .has_index = true};
                struct vctx cc = {c->ip, &kp, c->sc, c->rv, true};
                matched |= try_inplace(st, n->any_of[i], inst, &cc, ann);
        }
        return matched || v_fail(st, c, n, "anyOf",
                                 "does not match any of the %zu schemas in anyOf", n->nany_of);
}

static bool v_one(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                  const struct vctx *c, struct ann *ann)
{
        size_t matched = 0, first = 0, second = 0;
        struct ann hold = {0};
        if (ann)
                ann_init(st, &hold, ann->n);
        for (size_t i = 0; i < n->none_of && matched < 2; i++) {
                struct kpath kp = {.up = c->kp, .kw = "oneOf", .index = i, .has_index = true};
                struct vctx cc = {c->ip, &kp, c->sc, c->rv, true};
                if (!try_inplace(st, n->one_of[i], inst, &cc, ann ? &hold : NULL))
                        continue;
                if (matched++ == 0)
                        first = i;
                else
                        second = i;
        }
        if (matched == 1) {
                ann_merge(ann, &hold);
                return true;
        }
        if (matched == 0)
                return v_fail(st, c, n, "oneOf", "does not match any of the %zu schemas in oneOf",
                              n->none_of);
        return v_fail(st, c, n, "oneOf", "matches more than one schema in oneOf (%zu and %zu)",
                      first, second);
}

static bool v_inplace(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                      const struct vctx *c, struct ann *ann)
{
        bool ok = true;
        if (n->nall_of)
                ok &= v_all(st, n, inst, c, ann);
        if (n->nany_of && (ok || !v_quiet(st, c)))
                ok &= v_any(st, n, inst, c, ann);
        if (n->none_of && (ok || !v_quiet(st, c)))
                ok &= v_one(st, n, inst, c, ann);
        if (n->not_ && (ok || !v_quiet(st, c))) {
                struct kpath kp = {.up = c->kp, .kw = "not"};
                struct vctx cc = {c->ip, &kp, c->sc, c->rv, true};
                if (v_node(st, n->not_, inst, &cc, NULL))
                        ok = v_fail(st, c, n, "not", "must not match the schema in 'not'");
        }
        if (n->if_ && (ok || !v_quiet(st, c))) {
                struct kpath kp = {.up = c->kp, .kw = "if"};
                struct vctx cc = {c->ip, &kp, c->sc, c->rv, true};
                bool cond = try_inplace(st, n->if_, inst, &cc, ann);
                const struct sch_node *branch = cond ? n->then_ : n->else_;
                if (branch) {
                        kp.kw = cond ? "then" : "else";
                        cc.quiet = v_quiet(st, c);
                        ok &= v_node(st, branch, inst, &cc, ann);
                }
        }
        for (size_t i = 0; i < n->ndep_schemas && inst->kind == JV_K_OBJECT; i++) {
                if (!ok && v_quiet(st, c))
                        break;
                const struct sch_prop *d = &n->dep_schemas[i];
                if (!jv_get(inst, d->name, d->len))
                        continue;
                struct kpath kp = {.up = c->kp,
                                   .kw = sch_draft(n->res->vocab) == D7 ? "dependencies"
                                                                        : "dependentSchemas",
                                   .key = d->name,
                                   .len = d->len};
                struct vctx cc = {c->ip, &kp, c->sc, c->rv, v_quiet(st, c)};
                ok &= v_node(st, d->node, inst, &cc, ann);
        }
        return ok;
}

bool v_node(struct vstate *st, const struct sch_node *n, const struct jv *inst,
            const struct vctx *c, struct ann *ann)
{
        if (n->is_bool)
                return n->bool_value || v_fail(st, c, n, NULL, "no value is allowed here");
        if (st->depth >= SCH_MAX_EVAL_DEPTH)
                return v_abort(st, c, n, NULL, "schema evaluation nested too deep (over %d levels)",
                               SCH_MAX_EVAL_DEPTH);
        if (++st->evals > SCH_MAX_EVALS)
                return v_abort(st, c, n, NULL,
                               "validation gave up: over %lu schema evaluations for one instance",
                               SCH_MAX_EVALS);
        if (st->aborted)
                return false;
        st->depth++;
        struct scope sc = {c->sc, n->res};
        struct vctx cc = *c;
        if (!c->sc || c->sc->res != n->res)
                cc.sc = &sc;
        unsigned types = jv_types(inst);
        struct ann local;
        if (!ann && (n->kw & (K_UNEVAL_PROPS | K_UNEVAL_ITEMS)) &&
            (types & (JV_OBJECT | JV_ARRAY))) {
                ann_init(st, &local, inst->n);
                ann = &local;
        }
        bool ok = v_assertions(st, n, inst, types, &cc);
        if (!ok && v_quiet(st, &cc))
                goto out;
        if (n->kw & K_REF)
                ok &= follow(st, n, n->ref, "$ref", inst, &cc, ann);
        if ((n->kw & K_DYNREF) && (ok || !v_quiet(st, &cc)))
                ok &= follow(st, n, n->dyn_bookended ? dynamic_target(n, cc.sc) : n->dynref,
                             sch_draft(n->res->vocab) == D19 ? "$recursiveRef" : "$dynamicRef",
                             inst, &cc, ann);
        if ((n->kw & K_INPLACE) && (ok || !v_quiet(st, &cc)))
                ok &= v_inplace(st, n, inst, &cc, ann);
        if (!ok && v_quiet(st, &cc))
                goto out;
        if ((types & JV_OBJECT) && (n->kw & (K_PROPS | K_PROPNAMES | K_UNEVAL_PROPS)))
                ok &= v_object(st, n, inst, &cc, ann);
        else if ((types & JV_ARRAY) && (n->kw & (K_ITEMS | K_CONTAINS | K_UNEVAL_ITEMS)))
                ok &= v_array(st, n, inst, &cc, ann);
out:
        st->depth--;
        return ok;
}

bool v_descend(struct vstate *st, const struct sch_node *sub, const struct jv *child,
               const struct vctx *c, const struct kpath *kp, const char *key, size_t len,
               size_t index, bool quiet)
{
        struct ipath ip = {c->ip, key, len, index};
        struct vctx cc = {&ip, kp, c->sc, NULL, quiet || v_quiet(st, c)};
        if (st->inst_depth >= SCH_MAX_DEPTH)
                return v_abort(st, &cc, sub, NULL, "nesting too deep (over %d levels)",
                               SCH_MAX_DEPTH);
        st->inst_depth++;
        bool ok = v_node(st, sub, child, &cc, NULL);
        st->inst_depth--;
        return ok;
}

/* Most instances fit in these stack buffers: validating them allocates
 * nothing on the heap. */
#define SCRATCH_BYTES  4096
#define INSTANCE_BYTES 16384

static int validate_value(const struct wh_schema *schema, const struct jv *instance,
                          struct wh_schema_errors *errors, struct wh_err *err)
{
        char buf[SCRATCH_BYTES];
        struct vstate st = {.out = errors && errors->max ? errors : NULL};
        arena_init_buf(&st.scratch, buf, sizeof(buf));
        struct vctx c = {.quiet = st.out == NULL};
        bool ok = v_node(&st, schema->root, instance, &c, NULL);
        arena_free(&st.scratch);
        if (st.oom)
                return wh_err_set(err, ENOMEM, "schema", "validating: out of memory");
        return ok && !st.aborted ? WH_SCHEMA_VALID : WH_SCHEMA_INVALID;
}

/* The instance comes from a jansson tree or from text, into an arena that
 * starts in stack memory. */
typedef int instance_fn(struct arena *a, const void *src, size_t len, struct jv *out,
                        struct wh_err *err);

static int validate_from(const struct wh_schema *schema, instance_fn *make, const void *src,
                         size_t len, struct wh_schema_errors *errors, struct wh_err *err)
{
        if (errors)
                wh_schema_errors_reset(errors);
        if (!schema || !src)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "schema",
                                   "validating: no schema or no instance");
        char buf[INSTANCE_BYTES];
        struct arena a;
        arena_init_buf(&a, buf, sizeof(buf));
        struct jv inst;
        int r = make(&a, src, len, &inst, err);
        if (r == 0)
                r = validate_value(schema, &inst, errors, err);
        arena_free(&a);
        return r;
}

static int from_tree(struct arena *a, const void *src, size_t len, struct jv *out,
                     struct wh_err *err)
{
        (void)len;
        if (jv_from_json(a, src, out) < 0)
                return wh_err_set(err, ENOMEM, "schema", "validating: out of memory");
        return 0;
}

static int from_text(struct arena *a, const void *src, size_t len, struct jv *out,
                     struct wh_err *err)
{
        return jv_decode(a, src, len, out, err);
}

int wh_schema_validate(const struct wh_schema *schema, const json_t *instance,
                       struct wh_schema_errors *errors, struct wh_err *err)
{
        return validate_from(schema, from_tree, instance, 0, errors, err);
}

int wh_schema_validate_text(const struct wh_schema *schema, const char *text, size_t len,
                            struct wh_schema_errors *errors, struct wh_err *err)
{
        return validate_from(schema, from_text, text, len, errors, err);
}
