#include "schema/unicode.h"

#include <stdbool.h>
#include <string.h>

#define B(c) (1u << UCD_##c)

/* General_Category values and aliases as listed by ECMA-262 (table "Value
 * aliases and canonical values for General_Category"). */
static const struct {
        const char *name;
        uint32_t mask;
} gc_names[] = {
    {"Cased_Letter", B(Lu) | B(Ll) | B(Lt)},
    {"LC", B(Lu) | B(Ll) | B(Lt)},
    {"Close_Punctuation", B(Pe)},
    {"Pe", B(Pe)},
    {"Connector_Punctuation", B(Pc)},
    {"Pc", B(Pc)},
    {"Control", B(Cc)},
    {"Cc", B(Cc)},
    {"cntrl", B(Cc)},
    {"Currency_Symbol", B(Sc)},
    {"Sc", B(Sc)},
    {"Dash_Punctuation", B(Pd)},
    {"Pd", B(Pd)},
    {"Decimal_Number", B(Nd)},
    {"Nd", B(Nd)},
    {"digit", B(Nd)},
    {"Enclosing_Mark", B(Me)},
    {"Me", B(Me)},
    {"Final_Punctuation", B(Pf)},
    {"Pf", B(Pf)},
    {"Format", B(Cf)},
    {"Cf", B(Cf)},
    {"Initial_Punctuation", B(Pi)},
    {"Pi", B(Pi)},
    {"Letter", B(Lu) | B(Ll) | B(Lt) | B(Lm) | B(Lo)},
    {"L", B(Lu) | B(Ll) | B(Lt) | B(Lm) | B(Lo)},
    {"Letter_Number", B(Nl)},
    {"Nl", B(Nl)},
    {"Line_Separator", B(Zl)},
    {"Zl", B(Zl)},
    {"Lowercase_Letter", B(Ll)},
    {"Ll", B(Ll)},
    {"Mark", B(Mn) | B(Mc) | B(Me)},
    {"M", B(Mn) | B(Mc) | B(Me)},
    {"Combining_Mark", B(Mn) | B(Mc) | B(Me)},
    {"Math_Symbol", B(Sm)},
    {"Sm", B(Sm)},
    {"Modifier_Letter", B(Lm)},
    {"Lm", B(Lm)},
    {"Modifier_Symbol", B(Sk)},
    {"Sk", B(Sk)},
    {"Nonspacing_Mark", B(Mn)},
    {"Mn", B(Mn)},
    {"Number", B(Nd) | B(Nl) | B(No)},
    {"N", B(Nd) | B(Nl) | B(No)},
    {"Open_Punctuation", B(Ps)},
    {"Ps", B(Ps)},
    {"Other", B(Cc) | B(Cf) | B(Cs) | B(Co) | B(Cn)},
    {"C", B(Cc) | B(Cf) | B(Cs) | B(Co) | B(Cn)},
    {"Other_Letter", B(Lo)},
    {"Lo", B(Lo)},
    {"Other_Number", B(No)},
    {"No", B(No)},
    {"Other_Punctuation", B(Po)},
    {"Po", B(Po)},
    {"Other_Symbol", B(So)},
    {"So", B(So)},
    {"Paragraph_Separator", B(Zp)},
    {"Zp", B(Zp)},
    {"Private_Use", B(Co)},
    {"Co", B(Co)},
    {"Punctuation", B(Pc) | B(Pd) | B(Ps) | B(Pe) | B(Pi) | B(Pf) | B(Po)},
    {"P", B(Pc) | B(Pd) | B(Ps) | B(Pe) | B(Pi) | B(Pf) | B(Po)},
    {"punct", B(Pc) | B(Pd) | B(Ps) | B(Pe) | B(Pi) | B(Pf) | B(Po)},
    {"Separator", B(Zs) | B(Zl) | B(Zp)},
    {"Z", B(Zs) | B(Zl) | B(Zp)},
    {"Space_Separator", B(Zs)},
    {"Zs", B(Zs)},
    {"Spacing_Mark", B(Mc)},
    {"Mc", B(Mc)},
    {"Surrogate", B(Cs)},
    {"Cs", B(Cs)},
    {"Symbol", B(Sm) | B(Sc) | B(Sk) | B(So)},
    {"S", B(Sm) | B(Sc) | B(Sk) | B(So)},
    {"Titlecase_Letter", B(Lt)},
    {"Lt", B(Lt)},
    {"Unassigned", B(Cn)},
    {"Cn", B(Cn)},
    {"Uppercase_Letter", B(Lu)},
    {"Lu", B(Lu)},
};

enum ucd_gc ucd_category(uint32_t cp)
{
        size_t lo = 0, hi = ucd_gc_table_len;
        while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if ((ucd_gc_table[mid] >> 5) <= cp)
                        lo = mid;
                else
                        hi = mid;
        }
        return (enum ucd_gc)(ucd_gc_table[lo] & 31);
}

static bool name_is(const char *name, size_t len, const char *want)
{
        return strlen(want) == len && memcmp(name, want, len) == 0;
}

static int add_mask(uint32_t mask, int (*add)(void *, uint32_t, uint32_t), void *ctx)
{
        for (size_t i = 0; i < ucd_gc_table_len; i++) {
                if (!(mask & (1u << (ucd_gc_table[i] & 31))))
                        continue;
                uint32_t lo = ucd_gc_table[i] >> 5;
                uint32_t hi = i + 1 < ucd_gc_table_len ? (ucd_gc_table[i + 1] >> 5) - 1 : 0x10ffff;
                if (add(ctx, lo, hi) < 0)
                        return -2;
        }
        return 0;
}

int ucd_property_ranges(const char *name, size_t len,
                        int (*add)(void *ctx, uint32_t lo, uint32_t hi), void *ctx)
{
        if (name_is(name, len, "Any"))
                return add(ctx, 0, 0x10ffff) < 0 ? -2 : 0;
        if (name_is(name, len, "ASCII"))
                return add(ctx, 0, 0x7f) < 0 ? -2 : 0;
        if (name_is(name, len, "Assigned"))
                return add_mask(~B(Cn), add, ctx);
        const char *eq = memchr(name, '=', len);
        if (eq) {
                size_t klen = (size_t)(eq - name);
                if (!name_is(name, klen, "General_Category") && !name_is(name, klen, "gc"))
                        return -1;
                len -= klen + 1;
                name = eq + 1;
        }
        for (size_t i = 0; i < sizeof(gc_names) / sizeof(gc_names[0]); i++)
                if (name_is(name, len, gc_names[i].name))
                        return add_mask(gc_names[i].mask, add, ctx);
        return -1;
}
