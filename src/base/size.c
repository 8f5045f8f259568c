#include "base/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int wh_parse_u64(const char *text, uint64_t *out, struct wh_err *err)
{
        if (!text || !isdigit((unsigned char)text[0]))
                return wh_err_set(err, 0, "parse-args", "'%s' is not a non-negative integer",
                                  text ? text : "");
        errno = 0;
        char *end;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno == ERANGE || *end != '\0')
                return wh_err_set(err, 0, "parse-args", "'%s' is not a non-negative integer", text);
        *out = v;
        return 0;
}

int wh_parse_size(const char *text, uint64_t *out, struct wh_err *err)
{
        static const char units[] = "KMGT";
        if (!text || !isdigit((unsigned char)text[0]))
                goto bad;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno == ERANGE)
                goto bad;
        unsigned shift = 0;
        if (*end) {
                const char *u = strchr(units, toupper((unsigned char)*end));
                if (!u) {
                        if (strcmp(end, "B") == 0)
                                end++;
                        goto suffix_done;
                }
                shift = 10u * (unsigned)(u - units + 1);
                end++;
                if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
                        end += strlen(end);
        }
suffix_done:
        if (*end != '\0')
                goto bad;
        if (shift && v > (UINT64_MAX >> shift))
                goto bad;
        *out = (uint64_t)v << shift;
        return 0;
bad:
        return wh_err_set(err, 0, "parse-args",
                          "'%s' is not a size: use a whole number with an optional K, M, G or T "
                          "suffix (powers of 1024), e.g. 64M",
                          text ? text : "");
}
