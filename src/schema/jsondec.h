/* Internal to the JSON decoder (jsondec.c: structure; jsonstr.c: strings;
 * jsonnum.c: numbers). */
#ifndef WH_SCHEMA_JSONDEC_H
#define WH_SCHEMA_JSONDEC_H

#include "schema/jsonval.h"

struct jv_dec {
        const char *p, *end;
        struct arena *a;
        struct jv_member *stack; /* children of the open containers */
        size_t top, cap;
        bool heap;
        bool oom;
        const char *msg; /* what is wrong at p */
};

static inline int jv_fail(struct jv_dec *d, const char *msg)
{
        d->msg = msg;
        return -1;
}

static inline int jv_out_of_memory(struct jv_dec *d)
{
        d->oom = true;
        return jv_fail(d, "out of memory");
}

/* Parse the string at d->p (the opening quote) and advance past it. */
int jv_parse_string(struct jv_dec *d, struct jv *out);

/* Parse the number at *p (a '-' or a digit) up to end: an integer that fits
 * 64 bits becomes JV_K_INT, any other number the nearest double. Advances
 * *p past it. Returns 0, or -1 with *msg set (bad syntax, out of the double
 * range, or out of memory: *oom). */
int jv_parse_number(const char **p, const char *end, struct jv *out, const char **msg, bool *oom);

#endif
