/* The validator's instance type, and JSON value semantics as JSON Schema
 * defines them.
 *
 * A struct jv is a read-only JSON value whose children live in one arena
 * (jsondec.c decodes text into it; jsonconv.c converts a jansson tree).
 * Strings and keys are (pointer, length) pairs that may contain NUL and are
 * not NUL-terminated; they point into the decoded text, the jansson tree or
 * the arena, which must outlive the value. Integers that fit 64 bits are
 * JV_K_INT, every other number a double (JV_K_REAL).
 *
 * Semantics: type classification (1.0 is an integer), exact comparison of
 * integers with reals (never via a lossy cast), equality in which
 * 1 == 1.0, a hash consistent with that equality (uniqueItems), and
 * multipleOf. Compiled schemas hold their enum/const/number values as
 * struct jv too, so one set of functions serves both sides. */
#ifndef WH_SCHEMA_JSONVAL_H
#define WH_SCHEMA_JSONVAL_H

#include "schema/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <whiskers/error.h>

enum jv_kind {
        JV_K_NULL,
        JV_K_FALSE,
        JV_K_TRUE,
        JV_K_INT,
        JV_K_REAL,
        JV_K_STRING,
        JV_K_ARRAY,
        JV_K_OBJECT,
};

struct jv_member;

struct jv {
        uint8_t kind; /* enum jv_kind */
        uint32_t n;   /* string bytes, array items or object members */
        union {
                int64_t i;
                double d;
                const char *s;
                const struct jv *items;
                const struct jv_member *members; /* unique keys, in document order */
        } u;
};

struct jv_member {
        const char *key;
        uint32_t len;
        struct jv val;
};

/* Type bits ("type" keyword). */
enum jv_type {
        JV_NULL = 1 << 0,
        JV_BOOLEAN = 1 << 1,
        JV_OBJECT = 1 << 2,
        JV_ARRAY = 1 << 3,
        JV_STRING = 1 << 4,
        JV_NUMBER = 1 << 5,
        JV_INTEGER = 1 << 6,
};

/* The type bits of a value: numbers with an integral value carry both
 * JV_NUMBER and JV_INTEGER. */
unsigned jv_types(const struct jv *v);
/* Type bit for a "type" keyword name, 0 if unknown. */
unsigned jv_type_from_name(const char *name);
const char *jv_type_name(const struct jv *v);
static inline bool jv_is_number(const struct jv *v)
{
        return v->kind == JV_K_INT || v->kind == JV_K_REAL;
}
/* A number that is an integer (1 and 1.0 are). */
bool jv_is_integral(const struct jv *v);
/* -1, 0, 1: a < b, a == b, a > b. Both must be numbers. */
int jv_num_cmp(const struct jv *a, const struct jv *b);
bool jv_equal(const struct jv *a, const struct jv *b);
uint64_t jv_hash(const struct jv *v);
/* v is an integer multiple of m (m > 0). */
bool jv_multiple_of(const struct jv *v, const struct jv *m);
/* The non-negative integer value of a number, saturated at SIZE_MAX;
 * false when v is not a non-negative integer. */
bool jv_get_size(const struct jv *v, size_t *out);
/* The member of an object with this key, or NULL. */
const struct jv *jv_get(const struct jv *obj, const char *key, size_t len);

/* jsondec.c: decode one JSON text (RFC 8259, any value at top level,
 * surrounding white space allowed) into out, allocating from a. Strings
 * without escapes point into buf. Rejects invalid UTF-8, lone surrogate
 * escapes, numbers beyond the double range, nesting deeper than
 * JV_MAX_DEPTH and texts of 4 GiB or more. A repeated key keeps its first
 * position and its last value (as jansson does). Errors name the line and
 * column; errnum is 0, or ENOMEM when memory ran out. */
#define JV_MAX_DEPTH 2048
int jv_decode(struct arena *a, const char *buf, size_t len, struct jv *out, struct wh_err *err);

/* jsonconv.c: the value of a jansson tree (strings and keys point into
 * it). -1 when memory ran out or the tree is too large for struct jv. */
int jv_from_json(struct arena *a, const json_t *j, struct jv *out);

#endif
