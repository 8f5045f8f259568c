#include "base/shown.h"

#include <string.h>

static void put_shown(FILE *out, const char *s, size_t n, bool keep_lines)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                        fprintf(out, "\\u%04x", p[++i]); /* a C1 control: CSI, OSC... */
                else if ((p[i] < 0x20 && !(keep_lines && (p[i] == '\n' || p[i] == '\t'))) ||
                         p[i] == 0x7f)
                        fprintf(out, "\\x%02x", p[i]);
                else
                        fputc(p[i], out);
        }
}

void wh_fput_shown(FILE *out, const char *s, size_t n)
{
        put_shown(out, s, n, true);
}

void wh_fput_shown_line(FILE *out, const char *s)
{
        put_shown(out, s ? s : "", s ? strlen(s) : 0, false);
}
