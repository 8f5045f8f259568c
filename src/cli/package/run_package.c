/* run_package_load() of whiskers-package: check the package out of the
 * store (signature policy, variant choice, layer unpacked into the cache)
 * and load its normaliser with the package as its origin, so provenance
 * names the manifest digest, the variant and the signing key. */
#include "cli/exit_codes.h"
#include "cli/run_package.h"

#include <stdio.h>
#include <whiskers/package.h>

int run_package_load(const struct wh_package_source *p, char **argv, const char *ref,
                     struct wh_normaliser_options *load, struct wh_normaliser **out)
{
        (void)argv;
        struct wh_err err = {0};
        bool found;
        if (wh_package_normaliser_load(p, ref, load, out, &found, &err) < 0) {
                fprintf(stderr, "whiskers run: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        if (!found) {
                fprintf(stderr,
                        "whiskers run: %s is neither a directory nor a package in %s "
                        "('whiskers store list %s' shows its tags)\n",
                        ref, p->store, p->store);
                return WH_EXIT_USAGE;
        }
        return 0;
}
