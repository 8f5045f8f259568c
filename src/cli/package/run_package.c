/* run_package_load() of whiskers-package: check the package out of the
 * store (signature policy, variant choice, layer unpacked into the cache)
 * and load its normaliser with the package as its origin, so provenance
 * names the manifest digest, the variant and the signing key. */
#include "cli/exit_codes.h"
#include "cli/run_package.h"

#include <stdio.h>
#include <whiskers/package.h>

static int fail(const struct wh_err *err)
{
        fprintf(stderr, "whiskers run: %s\n", err->msg);
        return WH_EXIT_USAGE;
}

int run_package_load(const struct run_package_args *p, char **argv, const char *ref,
                     struct wh_normaliser_options *load, struct wh_normaliser **out)
{
        (void)argv;
        struct wh_err err = {0};
        char cache[4096];
        if (p->cache)
                snprintf(cache, sizeof(cache), "%s", p->cache);
        else if (wh_package_cache_default(cache, sizeof(cache), &err) < 0)
                return fail(&err);
        struct wh_trust *trust = NULL;
        if (p->trust && wh_trust_load(p->trust, &trust, &err) < 0)
                return fail(&err);
        struct wh_store *s = NULL;
        struct wh_checkout co;
        struct wh_load_options lo = {
            .trust = trust, .allow_unsigned = p->allow_unsigned, .variant = p->variant};
        int rc = wh_store_open(p->store, WH_STORE_READ, &s, &err);
        if (rc == 0)
                rc = wh_package_checkout(s, ref, &lo, cache, &co, &err);
        wh_store_close(s);
        wh_trust_free(trust);
        if (rc < 0)
                return fail(&err);
        struct wh_normaliser_origin origin = {.digest = co.pkg.manifest.digest,
                                              .package = co.provenance,
                                              .rootfs = co.rootfs[0] ? co.rootfs : NULL,
                                              .interpreter = co.interpreter};
        load->origin = &origin;
        rc = wh_normaliser_load(co.dir, load, out, &err);
        load->origin = NULL;
        wh_checkout_clear(&co);
        return rc < 0 ? fail(&err) : 0;
}
