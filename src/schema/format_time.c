/* Date and time formats of RFC 3339: full-date, full-time (with leap
 * seconds checked against the offset), date-time, and the duration grammar
 * of its appendix A. ASCII digits only; T and Z in any case. */
#include "schema/format.h"

#include <stdbool.h>
#include <string.h>

static bool digits(const char *s, size_t n, int *value)
{
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *value = v;
        return true;
}

static int days_in_month(int year, int month)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return month == 2 && leap ? 29 : days[month - 1];
}

bool fmt_date(const char *s, size_t len)
{
        int y, m, d;
        return len == 10 && s[4] == '-' && s[7] == '-' && digits(s, 4, &y) &&
               digits(s + 5, 2, &m) && digits(s + 8, 2, &d) && m >= 1 && m <= 12 && d >= 1 &&
               d <= days_in_month(y, m);
}

bool fmt_time(const char *s, size_t len)
{
        int h, m, sec, oh = 0, om = 0;
        if (len < 9 || s[2] != ':' || s[5] != ':' || !digits(s, 2, &h) || !digits(s + 3, 2, &m) ||
            !digits(s + 6, 2, &sec))
                return false;
        size_t i = 8;
        if (i < len && s[i] == '.') {
                size_t start = ++i;
                while (i < len && s[i] >= '0' && s[i] <= '9')
                        i++;
                if (i == start)
                        return false;
        }
        int sign = 0;
        if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
                i++;
        } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
                   digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om)) {
                sign = s[i] == '+' ? 1 : -1;
                i += 6;
        } else {
                return false;
        }
        if (h > 23 || m > 59 || sec > 60 || oh > 23 || om > 59)
                return false;
        if (sec == 60) {
                /* A leap second happens at 23:59:60 UTC. */
                int utc = ((h * 60 + m - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;
                if (utc != 23 * 60 + 59)
                        return false;
        }
        return true;
}

bool fmt_date_time(const char *s, size_t len)
{
        return len > 11 && (s[10] == 'T' || s[10] == 't') && fmt_date(s, 10) &&
               fmt_time(s + 11, len - 11);
}

/* Parse components "<digits><unit>" whose units must be a contiguous run of
 * `order`, starting anywhere in it (Y M D, or H M S). */
static bool components(const char **p, const char *end, const char *order, bool *any)
{
        const char *next_allowed = order;
        *any = false;
        while (*p < end && **p != 'T') {
                const char *start = *p;
                while (*p < end && **p >= '0' && **p <= '9')
                        (*p)++;
                if (*p == start || *p == end)
                        return false;
                const char *unit = strchr(next_allowed, **p);
                if (!unit || !**p || (*any && unit != next_allowed))
                        return false;
                next_allowed = unit + 1;
                (*p)++;
                *any = true;
        }
        return true;
}

bool fmt_duration(const char *s, size_t len)
{
        const char *p = s + 1, *end = s + len;
        if (len < 2 || s[0] != 'P')
                return false;
        /* dur-week stands alone: digits "W". */
        if (s[len - 1] == 'W') {
                for (p = s + 1; p < end - 1; p++)
                        if (*p < '0' || *p > '9')
                                return false;
                return len > 2;
        }
        bool date_any, time_any = false;
        if (!components(&p, end, "YMD", &date_any))
                return false;
        if (p < end) {
                p++; /* the T */
                if (!components(&p, end, "HMS", &time_any) || !time_any || p != end)
                        return false;
        }
        return date_any || time_any;
}
