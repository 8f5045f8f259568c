/* Array applicators: prefixItems, items, contains (with minContains and
 * maxContains), then unevaluatedItems. Item i's bit in the annotation set
 * means "evaluated". Before 2020-12 the array form of items played
 * prefixItems' part and additionalItems items' part, and (2019-09) contains
 * evaluated nothing as far as unevaluatedItems is concerned. */
#include "schema/validate.h"

static bool item(struct vstate *st, const struct sch_node *sub, const struct kpath *kp,
                 const struct jv *inst, size_t i, const struct vctx *c)
{
        if (sub->is_bool && !sub->bool_value) {
                struct ipath ip = {c->ip, NULL, 0, i};
                struct vctx cc = {&ip, kp, c->sc, NULL, c->quiet};
                return v_fail(st, &cc, sub, NULL, "item %zu is not allowed by %s", i, kp->kw);
        }
        return v_descend(st, sub, &inst->u.items[i], c, kp, NULL, 0, i, false);
}

static bool v_contains(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                       const struct vctx *c, struct ann *ann)
{
        size_t count = 0, size = inst->n;
        struct kpath kp = {.up = c->kp, .kw = "contains"};
        for (size_t i = 0; i < size; i++) {
                if (!v_descend(st, n->contains, &inst->u.items[i], c, &kp, NULL, 0, i, true))
                        continue;
                count++;
                if (sch_draft(n->res->vocab) == D20)
                        ann_set(ann, i);
                /* Without annotations or an upper bound, enough is enough. */
                if (!ann && !n->has_max_contains && count >= n->min_contains)
                        break;
        }
        if (count < n->min_contains) {
                if (n->min_contains == 1)
                        return v_fail(st, c, n, "contains",
                                      "no item matches the 'contains' schema");
                return v_fail(st, c, n, "minContains",
                              "%zu items match the 'contains' schema; at least %zu must", count,
                              n->min_contains);
        }
        if (n->has_max_contains && count > n->max_contains)
                return v_fail(st, c, n, "maxContains",
                              "%zu items match the 'contains' schema; at most %zu may", count,
                              n->max_contains);
        return true;
}

bool v_array(struct vstate *st, const struct sch_node *n, const struct jv *inst,
             const struct vctx *c, struct ann *ann)
{
        bool ok = true, d20 = sch_draft(n->res->vocab) == D20;
        size_t size = inst->n, start = 0;
        for (; start < n->nprefix_items && start < size; start++) {
                struct kpath kp = {.up = c->kp,
                                   .kw = d20 ? "prefixItems" : "items",
                                   .index = start,
                                   .has_index = true};
                ok &= item(st, n->prefix_items[start], &kp, inst, start, c);
                ann_set(ann, start);
                if (!ok && v_quiet(st, c))
                        return false;
        }
        if (n->items) {
                struct kpath kp = {.up = c->kp,
                                   .kw = d20 || !n->nprefix_items ? "items" : "additionalItems"};
                bool any = n->items->is_bool && n->items->bool_value;
                for (size_t i = start; i < size; i++) {
                        if (!any)
                                ok &= item(st, n->items, &kp, inst, i, c);
                        ann_set(ann, i);
                        if (!ok && v_quiet(st, c))
                                return false;
                }
        }
        if (n->contains)
                ok &= v_contains(st, n, inst, c, ann);
        if (!n->uneval_items || (!ok && v_quiet(st, c)))
                return ok;
        struct kpath kp = {.up = c->kp, .kw = "unevaluatedItems"};
        for (size_t i = 0; i < size; i++) {
                if (ann_has(ann, i))
                        continue;
                ok &= item(st, n->uneval_items, &kp, inst, i, c);
                ann_set(ann, i);
                if (!ok && v_quiet(st, c))
                        return false;
        }
        return ok;
}
