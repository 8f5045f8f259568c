/* A jansson tree as the validator's instance type. Only the arrays of
 * children are allocated; strings and keys stay in the jansson tree. */
#include "schema/jsonval.h"

static int convert_object(struct arena *a, const json_t *j, struct jv *out)
{
        size_t n = json_object_size(j), i = 0;
        struct jv_member *m = arena_alloc(a, n * sizeof(*m));
        if (!m || n > UINT32_MAX)
                return -1;
        const char *key;
        size_t len;
        json_t *val;
        json_object_keylen_foreach((json_t *)j, key, len, val)
        {
                if (len > UINT32_MAX || jv_from_json(a, val, &m[i].val) < 0)
                        return -1;
                m[i].key = key;
                m[i].len = (uint32_t)len;
                i++;
        }
        *out = (struct jv){.kind = JV_K_OBJECT, .n = (uint32_t)n, .u.members = m};
        return 0;
}

int jv_from_json(struct arena *a, const json_t *j, struct jv *out)
{
        switch (json_typeof(j)) {
        case JSON_NULL:
                *out = (struct jv){.kind = JV_K_NULL};
                return 0;
        case JSON_TRUE:
                *out = (struct jv){.kind = JV_K_TRUE};
                return 0;
        case JSON_FALSE:
                *out = (struct jv){.kind = JV_K_FALSE};
                return 0;
        case JSON_INTEGER:
                *out = (struct jv){.kind = JV_K_INT, .u.i = json_integer_value(j)};
                return 0;
        case JSON_REAL:
                *out = (struct jv){.kind = JV_K_REAL, .u.d = json_real_value(j)};
                return 0;
        case JSON_STRING:
                if (json_string_length(j) > UINT32_MAX)
                        return -1;
                *out = (struct jv){.kind = JV_K_STRING,
                                   .n = (uint32_t)json_string_length(j),
                                   .u.s = json_string_value(j)};
                return 0;
        case JSON_ARRAY: {
                size_t n = json_array_size(j);
                struct jv *items = arena_alloc(a, n * sizeof(*items));
                if (!items || n > UINT32_MAX)
                        return -1;
                for (size_t i = 0; i < n; i++)
                        if (jv_from_json(a, json_array_get(j, i), &items[i]) < 0)
                                return -1;
                *out = (struct jv){.kind = JV_K_ARRAY, .n = (uint32_t)n, .u.items = items};
                return 0;
        }
        case JSON_OBJECT:
                return convert_object(a, j, out);
        }
        return -1;
}
