#include "schema/jsonval.h"
#include "schema/hmap.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define TWO_POW_63 9223372036854775808.0

bool jv_is_integral(const struct jv *v)
{
        if (v->kind == JV_K_INT)
                return true;
        if (v->kind != JV_K_REAL)
                return false;
        return isfinite(v->u.d) && floor(v->u.d) == v->u.d;
}

unsigned jv_types(const struct jv *v)
{
        static const unsigned bits[] = {
            [JV_K_NULL] = JV_NULL,    [JV_K_FALSE] = JV_BOOLEAN,
            [JV_K_TRUE] = JV_BOOLEAN, [JV_K_INT] = JV_NUMBER | JV_INTEGER,
            [JV_K_REAL] = JV_NUMBER,  [JV_K_STRING] = JV_STRING,
            [JV_K_ARRAY] = JV_ARRAY,  [JV_K_OBJECT] = JV_OBJECT,
        };
        if (v->kind == JV_K_REAL && jv_is_integral(v))
                return JV_NUMBER | JV_INTEGER;
        return bits[v->kind];
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

const char *jv_type_name(const struct jv *v)
{
        static const char *const names[] = {
            [JV_K_NULL] = "null",   [JV_K_FALSE] = "boolean", [JV_K_TRUE] = "boolean",
            [JV_K_INT] = "integer", [JV_K_REAL] = "number",   [JV_K_STRING] = "string",
            [JV_K_ARRAY] = "array", [JV_K_OBJECT] = "object",
        };
        if (v->kind == JV_K_REAL && jv_is_integral(v))
                return "integer";
        return names[v->kind];
}

static int cmp_int_real(int64_t i, double d)
{
        if (d >= TWO_POW_63)
                return -1;
        if (d < -TWO_POW_63)
                return 1;
        double t = trunc(d);
        int64_t ti = (int64_t)t;
        if (i != ti)
                return i < ti ? -1 : 1;
        double frac = d - t;
        return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int jv_num_cmp(const struct jv *a, const struct jv *b)
{
        if (a->kind == JV_K_INT && b->kind == JV_K_INT)
                return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        if (a->kind == JV_K_INT)
                return cmp_int_real(a->u.i, b->u.d);
        if (b->kind == JV_K_INT)
                return -cmp_int_real(b->u.i, a->u.d);
        return a->u.d < b->u.d ? -1 : a->u.d > b->u.d;
}

const struct jv *jv_get(const struct jv *obj, const char *key, size_t len)
{
        for (uint32_t i = 0; i < obj->n; i++) {
                const struct jv_member *m = &obj->u.members[i];
                if (m->len == len && memcmp(m->key, key, len) == 0)
                        return &m->val;
        }
        return NULL;
}

static bool object_equal(const struct jv *a, const struct jv *b)
{
        if (a->n != b->n)
                return false;
        for (uint32_t i = 0; i < a->n; i++) {
                const struct jv_member *m = &a->u.members[i];
                const struct jv *vb = jv_get(b, m->key, m->len);
                if (!vb || !jv_equal(&m->val, vb))
                        return false;
        }
        return true;
}

bool jv_equal(const struct jv *a, const struct jv *b)
{
        if (a == b)
                return true;
        if (jv_is_number(a) && jv_is_number(b))
                return jv_num_cmp(a, b) == 0;
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case JV_K_STRING:
                return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
        case JV_K_ARRAY:
                if (a->n != b->n)
                        return false;
                for (uint32_t i = 0; i < a->n; i++)
                        if (!jv_equal(&a->u.items[i], &b->u.items[i]))
                                return false;
                return true;
        case JV_K_OBJECT:
                return object_equal(a, b);
        default:
                return true; /* null, true, false: same kind is same value */
        }
}

static uint64_t mix(uint64_t h)
{
        h ^= h >> 31;
        h *= 0x7fb5d329728ea185ull;
        h ^= h >> 27;
        return h;
}

static uint64_t hash_number(const struct jv *v)
{
        if (v->kind == JV_K_INT)
                return mix((uint64_t)v->u.i);
        double d = v->u.d;
        /* Integral reals in range hash like the equal integer. */
        if (floor(d) == d && d >= -TWO_POW_63 && d < TWO_POW_63)
                return mix((uint64_t)(int64_t)d);
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return mix(bits);
}

uint64_t jv_hash(const struct jv *v)
{
        switch (v->kind) {
        case JV_K_NULL:
                return 0x1;
        case JV_K_TRUE:
                return 0x2;
        case JV_K_FALSE:
                return 0x3;
        case JV_K_INT:
        case JV_K_REAL:
                return hash_number(v);
        case JV_K_STRING:
                return hmap_hash_bytes(v->u.s, v->n);
        case JV_K_ARRAY: {
                uint64_t h = 0x5;
                for (uint32_t i = 0; i < v->n; i++)
                        h = mix(h * 31 + jv_hash(&v->u.items[i]));
                return h;
        }
        case JV_K_OBJECT: {
                /* Sum over members: independent of member order. */
                uint64_t h = 0x7;
                for (uint32_t i = 0; i < v->n; i++) {
                        const struct jv_member *m = &v->u.members[i];
                        h += mix(hmap_hash_bytes(m->key, m->len) ^
                                 (jv_hash(&m->val) * 0x9e3779b97f4a7c15ull));
                }
                return h;
        }
        }
        return 0;
}

static double as_double(const struct jv *v)
{
        return v->kind == JV_K_INT ? (double)v->u.i : v->u.d;
}

bool jv_multiple_of(const struct jv *v, const struct jv *m)
{
        if (v->kind == JV_K_INT && m->kind == JV_K_INT)
                return m->u.i == -1 || v->u.i % m->u.i == 0;
        double a = as_double(v), b = as_double(m);
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

bool jv_get_size(const struct jv *v, size_t *out)
{
        if (v->kind == JV_K_INT) {
                if (v->u.i < 0)
                        return false;
                *out = (size_t)v->u.i;
                return true;
        }
        if (!jv_is_integral(v) || v->u.d < 0)
                return false;
        *out = v->u.d >= 18446744073709551615.0 ? SIZE_MAX : (size_t)v->u.d;
        return true;
}
