/* Compiling the validation vocabulary (type, enum, const, numeric, string,
 * array and object limits, required...) and "format". */
#include "schema/compile_kw.h"
#include "schema/format.h"
#include "schema/jsonval.h"
#include "schema/regex.h"

#include <string.h>

int kw_type(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        unsigned bits = 0;
        if (json_is_string(v)) {
                bits = jv_type_from_name(json_string_value(v));
        } else if (json_is_array(v) && json_array_size(v) > 0) {
                for (size_t i = 0; i < json_array_size(v); i++) {
                        json_t *t = json_array_get(v, i);
                        unsigned b =
                            json_is_string(t) ? jv_type_from_name(json_string_value(t)) : 0;
                        if (!b || (bits & b))
                                return kw_bad(s, n, kw, "type names must be unique");
                        bits |= b;
                }
        }
        if (!bits)
                return kw_bad(s, n, kw,
                              "must be one of null, boolean, object, array, string, number, "
                              "integer, or a non-empty array of them");
        n->types = (uint8_t)bits;
        n->kw |= K_TYPE;
        return 0;
}

/* A keyword's value in the instance representation, kept in the registry
 * arena (its strings stay in the schema JSON, which the registry keeps). */
static const struct jv *keep_value(struct sch_session *s, json_t *v)
{
        struct jv *out = arena_alloc(&s->reg->arena, sizeof(*out));
        if (!out || jv_from_json(&s->reg->arena, v, out) < 0) {
                sch_fail(s, "out of memory");
                return NULL;
        }
        return out;
}

int kw_enum(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_array(v))
                return kw_bad(s, n, kw, "must be an array");
        if (!(n->enum_values = keep_value(s, v)))
                return -1;
        n->kw |= K_ENUM;
        return 0;
}

int kw_const(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        (void)kw;
        if (!(n->const_value = keep_value(s, v)))
                return -1;
        n->kw |= K_CONST;
        return 0;
}

int kw_number(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_number(v))
                return kw_bad(s, n, kw, "must be a number");
        const struct jv *num = keep_value(s, v);
        if (!num)
                return -1;
        if (strcmp(kw, "multipleOf") == 0) {
                const struct jv zero = {.kind = JV_K_INT};
                if (jv_num_cmp(num, &zero) <= 0)
                        return kw_bad(s, n, kw, "must be a number greater than 0");
                n->multiple_of = num;
        } else if (strcmp(kw, "maximum") == 0) {
                n->maximum = num;
        } else if (strcmp(kw, "exclusiveMaximum") == 0) {
                n->exclusive_maximum = num;
        } else if (strcmp(kw, "minimum") == 0) {
                n->minimum = num;
        } else {
                n->exclusive_minimum = num;
        }
        n->kw |= K_NUMERIC;
        return 0;
}

int kw_count(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        const struct {
                const char *kw;
                size_t *value;
                bool *has;
                uint32_t bit;
        } slots[] = {
            {"maxLength", &n->max_length, &n->has_max_length, K_STRING},
            {"minLength", &n->min_length, &n->has_min_length, K_STRING},
            {"maxItems", &n->max_items, &n->has_max_items, K_ARRAY},
            {"minItems", &n->min_items, &n->has_min_items, K_ARRAY},
            {"maxContains", &n->max_contains, &n->has_max_contains, 0},
            {"minContains", &n->min_contains, NULL, 0},
            {"maxProperties", &n->max_props, &n->has_max_props, K_OBJECT},
            {"minProperties", &n->min_props, &n->has_min_props, K_OBJECT},
        };
        size_t count;
        struct jv num; /* a number converts without allocating */
        if (!json_is_number(v) || jv_from_json(&s->reg->arena, v, &num) < 0 ||
            !jv_get_size(&num, &count))
                return kw_bad(s, n, kw, "must be a non-negative integer");
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
                if (strcmp(kw, slots[i].kw) != 0)
                        continue;
                *slots[i].value = count;
                if (slots[i].has)
                        *slots[i].has = true;
                n->kw |= slots[i].bit;
                return 0;
        }
        return kw_bad(s, n, kw, "internal: no slot");
}

int kw_pattern(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_string(v))
                return kw_bad(s, n, kw, "must be a string (an ECMA-262 regular expression)");
        char err[256];
        n->pattern = rx_compile(&s->reg->arena, json_string_value(v), json_string_length(v), err,
                                sizeof(err));
        if (!n->pattern)
                return sch_fail(s, "%s/%s: invalid pattern '%s': %s", n->loc, kw,
                                json_string_value(v), err);
        n->pattern_src = json_string_value(v);
        n->kw |= K_STRING;
        return 0;
}

int kw_format(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_string(v))
                return kw_bad(s, n, kw, "must be a string");
        bool asserting =
            (s->reg->flags & WH_SCHEMA_ASSERT_FORMAT) || (n->res->vocab & VOC_FORMAT_ASSERTION);
        if (!asserting)
                return 0;
        int id = sch_format_id(json_string_value(v));
        if (!id) {
                sch_warn(s, "format '%s' at %s is not known to whiskers and is not checked",
                         json_string_value(v), n->loc);
                return 0;
        }
        n->format = (uint8_t)id;
        n->format_name = json_string_value(v);
        n->kw |= K_STRING;
        return 0;
}

int kw_unique(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_boolean(v))
                return kw_bad(s, n, kw, "must be a boolean");
        n->unique_items = json_is_true(v);
        if (n->unique_items)
                n->kw |= K_ARRAY;
        return 0;
}

/* An array of strings into (pointer, length) pairs. */
static int string_list(struct sch_session *s, const struct sch_node *n, const char *kw, json_t *v,
                       struct sch_str **out, size_t *count)
{
        if (!json_is_array(v))
                return kw_bad(s, n, kw, "must be an array of strings");
        *count = json_array_size(v);
        *out = arena_zalloc_array(&s->reg->arena, *count, sizeof(**out));
        if (!*out && *count)
                return sch_fail(s, "out of memory");
        for (size_t i = 0; i < *count; i++) {
                json_t *e = json_array_get(v, i);
                if (!json_is_string(e))
                        return kw_bad(s, n, kw, "must be an array of strings");
                (*out)[i] = (struct sch_str){json_string_value(e), json_string_length(e)};
        }
        return 0;
}

int kw_required(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (string_list(s, n, kw, v, &n->required, &n->nrequired) < 0)
                return -1;
        if (n->nrequired)
                n->kw |= K_OBJECT;
        return 0;
}

int kw_dep_required(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v)
{
        if (!json_is_object(v))
                return kw_bad(s, n, kw, "must be an object of string arrays");
        size_t count = json_object_size(v), i = 0;
        n->dep_required = arena_zalloc_array(&s->reg->arena, count, sizeof(*n->dep_required));
        if (!n->dep_required && count)
                return sch_fail(s, "out of memory");
        /* Draft-07's "dependencies" mixes these with schemas (kw_schema_map). */
        bool only_arrays = strcmp(kw, "dependencies") == 0;
        const char *key;
        size_t len;
        json_t *list;
        json_object_keylen_foreach(v, key, len, list)
        {
                if (only_arrays && !json_is_array(list))
                        continue;
                struct sch_depreq *d = &n->dep_required[i++];
                d->name = key;
                d->len = len;
                if (string_list(s, n, kw, list, &d->req, &d->nreq) < 0)
                        return -1;
        }
        n->ndep_required = count = i;
        if (count)
                n->kw |= K_OBJECT;
        return 0;
}
