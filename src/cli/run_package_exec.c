/* run_package_load() of the light whiskers binary: packages are checked out
 * by whiskers-package, so hand the whole command over to it. */
#include "cli/exit_codes.h"
#include "cli/run_package.h"
#include "cli/sibling.h"

#include <stdio.h>
#include <stdlib.h>

int run_package_load(const struct wh_package_source *p, char **argv, const char *ref,
                     struct wh_normaliser_options *load, struct wh_normaliser **out)
{
        (void)p, (void)ref, (void)load, (void)out;
        size_t n = 0;
        while (argv[n])
                n++;
        char **full = calloc(n + 2, sizeof(*full));
        if (!full) {
                fputs("whiskers run: out of memory\n", stderr);
                return WH_EXIT_FAILED;
        }
        for (size_t i = 0; i < n; i++)
                full[i + 1] = argv[i];
        int rc = cli_exec_sibling("whiskers-package", "running a package", full);
        free(full);
        return rc;
}
