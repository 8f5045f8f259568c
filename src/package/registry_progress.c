/* The progress line of push and pull: one line per blob, redrawn in place,
 * only when the caller asked for it (the CLI does when stderr is a TTY). */
#include "package/registry.h"

#include <stdio.h>

void wh_reg_progress(const char *label, uint64_t done, uint64_t total, bool final)
{
        const double mib = 1024.0 * 1024.0;
        int width = 30, filled = total ? (int)((double)done / (double)total * width) : width;
        if (filled > width)
                filled = width;
        fprintf(stderr, "\r  %-24.24s [%.*s%*s] %7.1f/%.1f MiB%s", label, filled,
                "==============================", width - filled, "", (double)done / mib,
                (double)total / mib, final ? "\n" : "");
        fflush(stderr);
}
