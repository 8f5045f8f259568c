/* JSON value semantics as JSON Schema defines them: type classification
 * (1.0 is an integer), exact comparison of integers with reals, equality in
 * which 1 == 1.0, a hash consistent with that equality (uniqueItems), and
 * multipleOf. jansson stores integers as long long and other numbers as
 * double; comparisons between the two are exact, never via a lossy cast. */
#ifndef WH_SCHEMA_JSONVAL_H
#define WH_SCHEMA_JSONVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum jv_type {
        JV_NULL = 1 << 0,
        JV_BOOLEAN = 1 << 1,
        JV_OBJECT = 1 << 2,
        JV_ARRAY = 1 << 3,
        JV_STRING = 1 << 4,
        JV_NUMBER = 1 << 5,
        JV_INTEGER = 1 << 6,
};

/* The type bits of an instance: numbers with an integral value carry both
 * JV_NUMBER and JV_INTEGER. */
unsigned jv_types(const json_t *v);
/* Type bit for a "type" keyword name, 0 if unknown. */
unsigned jv_type_from_name(const char *name);
const char *jv_type_name(const json_t *v);
bool jv_is_number(const json_t *v);
/* A number that is an integer (1 and 1.0 are). */
bool jv_is_integral(const json_t *v);
/* -1, 0, 1: a < b, a == b, a > b. Both must be numbers. */
int jv_num_cmp(const json_t *a, const json_t *b);
bool jv_equal(const json_t *a, const json_t *b);
uint64_t jv_hash(const json_t *v);
/* v is an integer multiple of m (m > 0). */
bool jv_multiple_of(const json_t *v, const json_t *m);
/* The non-negative integer value of a number, saturated at SIZE_MAX;
 * false when v is not a non-negative integer. */
bool jv_get_size(const json_t *v, size_t *out);

#endif
