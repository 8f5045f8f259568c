/* JSON numbers (RFC 8259 section 6) as the validator needs them: integers
 * exact when they fit 64 bits, everything else the correctly rounded
 * double. Most numbers in practice take the fast path: at most 19
 * significant digits, a mantissa below 2^53 and a decimal exponent within
 * +-22, where one IEEE multiplication or division by an exact power of ten
 * is correctly rounded (Clinger's observation). The rest go to strtod_l in
 * the C locale, so the caller's locale never changes the decimal point. */
#define _GNU_SOURCE /* strtod_l */
#include "schema/jsondec.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MANTISSA_DIGITS 19 /* any 19-digit number fits uint64_t */
#define TWO_POW_53          9007199254740992ull

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
        c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* The correctly rounded double of the validated number text [s, e). */
static int slow_double(const char *s, const char *e, double *out, bool *oom)
{
        char local[64];
        size_t len = (size_t)(e - s);
        char *text = len < sizeof(local) ? local : malloc(len + 1);
        pthread_once(&c_locale_once, make_c_locale);
        if (!text || !c_locale) {
                if (text != local)
                        free(text);
                *oom = true;
                return -1;
        }
        memcpy(text, s, len);
        text[len] = '\0';
        *out = strtod_l(text, NULL, c_locale);
        if (text != local)
                free(text);
        return 0;
}

int jv_parse_number(const char **pp, const char *end, struct jv *out, const char **msg, bool *oom)
{
        const char *start = *pp, *p = start;
        bool neg = p < end && *p == '-', real = false, inexact = false;
        uint64_t m = 0;
        int nd = 0;     /* significant digits in m */
        long exp10 = 0; /* value = m * 10^exp10 (before the exponent part) */
        p += neg;
        if (p == end || !is_digit(*p))
                return *msg = "invalid number: a digit must follow '-'", -1;
        if (*p == '0') {
                p++;
        } else {
                for (; p < end && is_digit(*p); p++) {
                        if (nd < MAX_MANTISSA_DIGITS) {
                                m = m * 10 + (uint64_t)(*p - '0');
                                nd++;
                        } else {
                                exp10++;
                                inexact = true;
                        }
                }
        }
        if (p < end && *p == '.') {
                real = true;
                if (++p == end || !is_digit(*p))
                        return *msg = "invalid number: a digit must follow '.'", -1;
                for (; p < end && is_digit(*p); p++) {
                        if (nd < MAX_MANTISSA_DIGITS) {
                                m = m * 10 + (uint64_t)(*p - '0');
                                nd += m != 0;
                                exp10--;
                        } else {
                                inexact = true;
                        }
                }
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                real = true;
                p++;
                bool eneg = p < end && *p == '-';
                p += p < end && (*p == '-' || *p == '+');
                if (p == end || !is_digit(*p))
                        return *msg = "invalid number: the exponent has no digits", -1;
                long e = 0;
                for (; p < end && is_digit(*p); p++)
                        if (e < 100000) /* far beyond any double: saturate */
                                e = e * 10 + (*p - '0');
                exp10 += eneg ? -e : e;
        }
        *pp = p;
        if (!real && !inexact && (neg ? m <= (uint64_t)INT64_MAX + 1 : m <= (uint64_t)INT64_MAX)) {
                /* -(m - 1) - 1 reaches INT64_MIN without overflowing. */
                int64_t i = neg ? m ? -(int64_t)(m - 1) - 1 : 0 : (int64_t)m;
                *out = (struct jv){.kind = JV_K_INT, .u.i = i};
                return 0;
        }
        double d;
        if (!inexact && m <= TWO_POW_53 && exp10 >= -22 && exp10 <= 22) {
                d = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
                d = neg ? -d : d;
        } else if (slow_double(start, p, &d, oom) < 0) {
                return *msg = "out of memory", -1;
        }
        if (isinf(d))
                return *msg = "number out of range (beyond the double range)", -1;
        *out = (struct jv){.kind = JV_K_REAL, .u.d = d};
        return 0;
}
