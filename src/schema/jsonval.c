#include "schema/jsonval.h"
#include "schema/hmap.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define TWO_POW_63 9223372036854775808.0

bool jv_is_number(const json_t *v)
{
        return json_is_integer(v) || json_is_real(v);
}

bool jv_is_integral(const json_t *v)
{
        if (json_is_integer(v))
                return true;
        if (!json_is_real(v))
                return false;
        double d = json_real_value(v);
        return isfinite(d) && floor(d) == d;
}

unsigned jv_types(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_NULL:
                return JV_NULL;
        case JSON_TRUE:
        case JSON_FALSE:
                return JV_BOOLEAN;
        case JSON_OBJECT:
                return JV_OBJECT;
        case JSON_ARRAY:
                return JV_ARRAY;
        case JSON_STRING:
                return JV_STRING;
        case JSON_INTEGER:
                return JV_NUMBER | JV_INTEGER;
        case JSON_REAL:
                return jv_is_integral(v) ? JV_NUMBER | JV_INTEGER : JV_NUMBER;
        }
        return 0;
}

unsigned jv_type_from_name(const char *name)
{
        static const struct {
                const char *name;
                unsigned bits;
        } names[] = {{"null", JV_NULL},      {"boolean", JV_BOOLEAN}, {"object", JV_OBJECT},
                     {"array", JV_ARRAY},    {"string", JV_STRING},   {"number", JV_NUMBER},
                     {"integer", JV_INTEGER}};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(name, names[i].name) == 0)
                        return names[i].bits;
        return 0;
}

const char *jv_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_NULL:
                return "null";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "integer";
        case JSON_REAL:
                return jv_is_integral(v) ? "integer" : "number";
        }
        return "unknown";
}

static int cmp_int_real(json_int_t i, double d)
{
        if (d >= TWO_POW_63)
                return -1;
        if (d < -TWO_POW_63)
                return 1;
        double t = trunc(d);
        json_int_t ti = (json_int_t)t;
        if (i != ti)
                return i < ti ? -1 : 1;
        double frac = d - t;
        return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int jv_num_cmp(const json_t *a, const json_t *b)
{
        if (json_is_integer(a) && json_is_integer(b)) {
                json_int_t x = json_integer_value(a), y = json_integer_value(b);
                return x < y ? -1 : x > y;
        }
        if (json_is_integer(a))
                return cmp_int_real(json_integer_value(a), json_real_value(b));
        if (json_is_integer(b))
                return -cmp_int_real(json_integer_value(b), json_real_value(a));
        double x = json_real_value(a), y = json_real_value(b);
        return x < y ? -1 : x > y;
}

static bool object_equal(const json_t *a, const json_t *b)
{
        if (json_object_size(a) != json_object_size(b))
                return false;
        const char *key;
        size_t len;
        json_t *va;
        json_object_keylen_foreach((json_t *)a, key, len, va)
        {
                json_t *vb = json_object_getn(b, key, len);
                if (!vb || !jv_equal(va, vb))
                        return false;
        }
        return true;
}

bool jv_equal(const json_t *a, const json_t *b)
{
        if (a == b)
                return true;
        if (jv_is_number(a) && jv_is_number(b))
                return jv_num_cmp(a, b) == 0;
        if (json_typeof(a) != json_typeof(b))
                return false;
        switch (json_typeof(a)) {
        case JSON_STRING:
                return json_string_length(a) == json_string_length(b) &&
                       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) ==
                           0;
        case JSON_ARRAY: {
                size_t n = json_array_size(a);
                if (n != json_array_size(b))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!jv_equal(json_array_get(a, i), json_array_get(b, i)))
                                return false;
                return true;
        }
        case JSON_OBJECT:
                return object_equal(a, b);
        default:
                return true; /* null, true, false: same type is same value */
        }
}

static uint64_t mix(uint64_t h)
{
        h ^= h >> 31;
        h *= 0x7fb5d329728ea185ull;
        h ^= h >> 27;
        return h;
}

static uint64_t hash_number(const json_t *v)
{
        if (json_is_integer(v))
                return mix((uint64_t)json_integer_value(v));
        double d = json_real_value(v);
        /* Integral reals in range hash like the equal integer. */
        if (floor(d) == d && d >= -TWO_POW_63 && d < TWO_POW_63)
                return mix((uint64_t)(json_int_t)d);
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return mix(bits);
}

uint64_t jv_hash(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_NULL:
                return 0x1;
        case JSON_TRUE:
                return 0x2;
        case JSON_FALSE:
                return 0x3;
        case JSON_INTEGER:
        case JSON_REAL:
                return hash_number(v);
        case JSON_STRING:
                return hmap_hash_bytes(json_string_value(v), json_string_length(v));
        case JSON_ARRAY: {
                uint64_t h = 0x5;
                for (size_t i = 0; i < json_array_size(v); i++)
                        h = mix(h * 31 + jv_hash(json_array_get(v, i)));
                return h;
        }
        case JSON_OBJECT: {
                /* Sum over members: independent of member order. */
                uint64_t h = 0x7;
                const char *key;
                size_t len;
                json_t *val;
                json_object_keylen_foreach((json_t *)v, key, len, val)
                {
                        h +=
                            mix(hmap_hash_bytes(key, len) ^ (jv_hash(val) * 0x9e3779b97f4a7c15ull));
                }
                return h;
        }
        }
        return 0;
}

bool jv_multiple_of(const json_t *v, const json_t *m)
{
        if (json_is_integer(v) && json_is_integer(m)) {
                json_int_t d = json_integer_value(m);
                return d == -1 || json_integer_value(v) % d == 0;
        }
        double a = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
        double b = json_is_integer(m) ? (double)json_integer_value(m) : json_real_value(m);
        /* fmod is exact; it alone decides when both values are integral. */
        double r = fmod(a, b);
        if (r == 0)
                return true;
        if (jv_is_integral(v) && jv_is_integral(m))
                return false;
        /* Decimal fractions such as 0.0001 have no exact binary value: accept
         * a quotient within a few units in the last place of an integer. */
        double q = a / b;
        if (!isfinite(q))
                return false;
        return fabs(q - nearbyint(q)) <= 8 * DBL_EPSILON * fabs(q);
}

bool jv_get_size(const json_t *v, size_t *out)
{
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                if (i < 0)
                        return false;
                *out = (size_t)i;
                return true;
        }
        if (!jv_is_integral(v) || json_real_value(v) < 0)
                return false;
        double d = json_real_value(v);
        *out = d >= 18446744073709551615.0 ? SIZE_MAX : (size_t)d;
        return true;
}
