/* Assertions that apply no subschema: type, enum, const, the numeric
 * limits and multipleOf, string length/pattern/format, and the size, unique
 * and required-property checks of arrays and objects. */
#include "schema/format.h"
#include "schema/jsonval.h"
#include "schema/regex.h"
#include "schema/utf8.h"
#include "schema/validate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIQUE_PAIRWISE 8

/* A number as text for messages. */
static const char *num_text(const struct jv *v, char buf[40])
{
        if (v->kind == JV_K_INT)
                snprintf(buf, 40, "%" PRId64, v->u.i);
        else
                snprintf(buf, 40, "%.17g", v->u.d);
        return buf;
}

static const char *type_names(unsigned bits, char buf[80])
{
        static const char *const names[] = {"null",   "boolean", "object", "array",
                                            "string", "number",  "integer"};
        buf[0] = '\0';
        for (unsigned i = 0; i < 7; i++) {
                if (!(bits & (1u << i)))
                        continue;
                if (buf[0])
                        strcat(buf, " or ");
                strcat(buf, names[i]);
        }
        return buf;
}

static bool v_numeric(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                      const struct vctx *c)
{
        char a[40], b[40];
        bool ok = true;
        if (n->maximum && jv_num_cmp(inst, n->maximum) > 0)
                ok = v_fail(st, c, n, "maximum", "%s is greater than the maximum %s",
                            num_text(inst, a), num_text(n->maximum, b));
        if (n->exclusive_maximum && jv_num_cmp(inst, n->exclusive_maximum) >= 0)
                ok = v_fail(st, c, n, "exclusiveMaximum", "%s is not less than %s",
                            num_text(inst, a), num_text(n->exclusive_maximum, b));
        if (n->minimum && jv_num_cmp(inst, n->minimum) < 0)
                ok = v_fail(st, c, n, "minimum", "%s is less than the minimum %s",
                            num_text(inst, a), num_text(n->minimum, b));
        if (n->exclusive_minimum && jv_num_cmp(inst, n->exclusive_minimum) <= 0)
                ok = v_fail(st, c, n, "exclusiveMinimum", "%s is not greater than %s",
                            num_text(inst, a), num_text(n->exclusive_minimum, b));
        if (n->multiple_of && !jv_multiple_of(inst, n->multiple_of))
                ok = v_fail(st, c, n, "multipleOf", "%s is not a multiple of %s", num_text(inst, a),
                            num_text(n->multiple_of, b));
        return ok;
}

static bool v_string(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                     const struct vctx *c)
{
        const char *s = inst->u.s;
        size_t len = inst->n;
        bool ok = true;
        /* Bytes bound code points from above: count only when it matters. */
        if ((n->has_max_length && len > n->max_length) ||
            (n->has_min_length && len >= n->min_length && n->min_length > 0)) {
                size_t cps = sch_utf8_count(s, len);
                if (n->has_max_length && cps > n->max_length)
                        ok = v_fail(st, c, n, "maxLength",
                                    "string of %zu characters is longer than %zu", cps,
                                    n->max_length);
                if (n->has_min_length && cps < n->min_length)
                        ok = v_fail(st, c, n, "minLength",
                                    "string of %zu characters is shorter than %zu", cps,
                                    n->min_length);
        } else if (n->has_min_length && len < n->min_length) {
                ok = v_fail(st, c, n, "minLength", "string of %zu characters is shorter than %zu",
                            sch_utf8_count(s, len), n->min_length);
        }
        if (n->pattern) {
                int r = rx_search(n->pattern, s, len);
                if (r == 0)
                        ok = v_fail(st, c, n, "pattern", "does not match the pattern '%s'",
                                    n->pattern_src);
                else if (r < 0)
                        ok = v_abort(st, c, n, "pattern",
                                     "the pattern '%s' gave up on this string (too much "
                                     "backtracking)",
                                     n->pattern_src);
        }
        if (n->format && !sch_format_check(n->format, s, len))
                ok = v_fail(st, c, n, "format", "is not a valid %s", n->format_name);
        return ok;
}

struct hashed {
        uint64_t hash;
        size_t index;
};

static int cmp_hashed(const void *a, const void *b)
{
        const struct hashed *x = a, *y = b;
        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Indices of two equal items, or false. Hashing (consistent with JSON
 * Schema equality) keeps this O(n log n); small arrays, the usual case,
 * are cheaper to compare pairwise. */
static bool find_duplicate(struct vstate *st, const struct jv *arr, size_t *a, size_t *b)
{
        size_t size = arr->n;
        if (size <= UNIQUE_PAIRWISE) {
                for (size_t i = 0; i < size; i++)
                        for (size_t j = i + 1; j < size; j++)
                                if (jv_equal(&arr->u.items[i], &arr->u.items[j])) {
                                        *a = i;
                                        *b = j;
                                        return true;
                                }
                return false;
        }
        struct arena_mark mark;
        arena_mark(&st->scratch, &mark);
        struct hashed *h = arena_alloc(&st->scratch, size * sizeof(*h));
        if (!h) {
                st->oom = true;
                return false;
        }
        for (size_t i = 0; i < size; i++)
                h[i] = (struct hashed){jv_hash(&arr->u.items[i]), i};
        qsort(h, size, sizeof(*h), cmp_hashed);
        bool found = false;
        for (size_t i = 0; i < size && !found; i++)
                for (size_t j = i + 1; j < size && h[j].hash == h[i].hash && !found; j++)
                        if (jv_equal(&arr->u.items[h[i].index], &arr->u.items[h[j].index])) {
                                *a = h[i].index;
                                *b = h[j].index;
                                found = true;
                        }
        arena_release(&st->scratch, &mark);
        return found;
}

static bool v_array_limits(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                           const struct vctx *c)
{
        size_t size = inst->n, a = 0, b = 0; /* set by find_duplicate() when it finds one */
        bool ok = true;
        if (n->has_max_items && size > n->max_items)
                ok = v_fail(st, c, n, "maxItems", "array of %zu items has more than %zu", size,
                            n->max_items);
        if (n->has_min_items && size < n->min_items)
                ok = v_fail(st, c, n, "minItems", "array of %zu items has fewer than %zu", size,
                            n->min_items);
        if (n->unique_items && size > 1 && find_duplicate(st, inst, &a, &b))
                ok = v_fail(st, c, n, "uniqueItems", "items %zu and %zu are equal", a < b ? a : b,
                            a < b ? b : a);
        return ok;
}

static bool v_object_limits(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                            const struct vctx *c)
{
        size_t size = inst->n;
        bool ok = true;
        if (n->has_max_props && size > n->max_props)
                ok = v_fail(st, c, n, "maxProperties", "object of %zu properties has more than %zu",
                            size, n->max_props);
        if (n->has_min_props && size < n->min_props)
                ok = v_fail(st, c, n, "minProperties",
                            "object of %zu properties has fewer than %zu", size, n->min_props);
        for (size_t i = 0; i < n->nrequired && !n->required_props && (ok || !v_quiet(st, c)); i++)
                if (!jv_get(inst, n->required[i].s, n->required[i].len))
                        ok = v_fail(st, c, n, "required", "required property '%.*s' is missing",
                                    (int)n->required[i].len, n->required[i].s);
        for (size_t i = 0; i < n->ndep_required && (ok || !v_quiet(st, c)); i++) {
                const struct sch_depreq *d = &n->dep_required[i];
                if (!jv_get(inst, d->name, d->len))
                        continue;
                for (size_t k = 0; k < d->nreq; k++)
                        if (!jv_get(inst, d->req[k].s, d->req[k].len))
                                ok = v_fail(st, c, n,
                                            sch_draft(n->res->vocab) == D7 ? "dependencies"
                                                                           : "dependentRequired",
                                            "property '%.*s' is required when '%.*s' is present",
                                            (int)d->req[k].len, d->req[k].s, (int)d->len, d->name);
        }
        return ok;
}

static bool in_enum(const struct sch_node *n, const struct jv *inst)
{
        for (uint32_t i = 0; i < n->enum_values->n; i++)
                if (jv_equal(inst, &n->enum_values->u.items[i]))
                        return true;
        return false;
}

bool v_assertions(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                  unsigned types, const struct vctx *c)
{
        bool ok = true;
        char buf[80];
        if ((n->kw & K_TYPE) && !(types & n->types)) {
                ok = v_fail(st, c, n, "type", "%s is not of type %s", jv_type_name(inst),
                            type_names(n->types, buf));
                if (v_quiet(st, c))
                        return false;
        }
        if ((n->kw & K_ENUM) && !in_enum(n, inst))
                ok = v_fail(st, c, n, "enum", "is not one of the %zu values in enum",
                            (size_t)n->enum_values->n);
        if ((n->kw & K_CONST) && !jv_equal(inst, n->const_value))
                ok = v_fail(st, c, n, "const", "is not equal to the constant value");
        if (!ok && v_quiet(st, c))
                return false;
        if ((types & JV_NUMBER) && (n->kw & K_NUMERIC))
                ok &= v_numeric(st, n, inst, c);
        else if ((types & JV_STRING) && (n->kw & K_STRING))
                ok &= v_string(st, n, inst, c);
        else if ((types & JV_ARRAY) && (n->kw & K_ARRAY))
                ok &= v_array_limits(st, n, inst, c);
        else if ((types & JV_OBJECT) && (n->kw & K_OBJECT))
                ok &= v_object_limits(st, n, inst, c);
        return ok;
}
