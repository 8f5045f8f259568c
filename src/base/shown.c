#include "base/shown.h"

void wh_fput_shown(FILE *out, const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < n; i++) {
                if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                        fprintf(out, "\\u%04x", p[++i]); /* a C1 control: CSI, OSC... */
                else if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
                        fprintf(out, "\\x%02x", p[i]);
                else
                        fputc(p[i], out);
        }
}
