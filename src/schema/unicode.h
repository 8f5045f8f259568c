/* Unicode General_Category data for regex property escapes (\p{L},
 * \p{Nd}, \P{Letter}...). The table is generated (unicode_gc_gen.py); this
 * header maps the property names ECMA-262 accepts to category sets. */
#ifndef WH_SCHEMA_UNICODE_H
#define WH_SCHEMA_UNICODE_H

#include <stddef.h>
#include <stdint.h>

enum ucd_gc {
        UCD_Cn,
        UCD_Lu,
        UCD_Ll,
        UCD_Lt,
        UCD_Lm,
        UCD_Lo,
        UCD_Mn,
        UCD_Mc,
        UCD_Me,
        UCD_Nd,
        UCD_Nl,
        UCD_No,
        UCD_Pc,
        UCD_Pd,
        UCD_Ps,
        UCD_Pe,
        UCD_Pi,
        UCD_Pf,
        UCD_Po,
        UCD_Sm,
        UCD_Sc,
        UCD_Sk,
        UCD_So,
        UCD_Zs,
        UCD_Zl,
        UCD_Zp,
        UCD_Cc,
        UCD_Cf,
        UCD_Cs,
        UCD_Co,
};

extern const uint32_t ucd_gc_table[];
extern const size_t ucd_gc_table_len;

/* The General_Category of a code point. */
enum ucd_gc ucd_category(uint32_t cp);

/* Call add(ctx, lo, hi) for each range of code points having the property
 * named name[0..len) (a General_Category value or alias, optionally as
 * "General_Category=X" or "gc=X", or one of Any, ASCII, Assigned).
 * Returns 0, or -1 if the name is not supported, -2 if add failed. */
int ucd_property_ranges(const char *name, size_t len,
                        int (*add)(void *ctx, uint32_t lo, uint32_t hi), void *ctx);

#endif
