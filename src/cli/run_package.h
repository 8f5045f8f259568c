/* `whiskers run` on a package: NORMALISER may name a package in an OCI
 * layout (--store) instead of a directory. Checking a package out needs
 * libcrypto and libarchive, which the light whiskers binary must not load
 * (docs/design.md, "Binaries"): there run_package_load() execs
 * `whiskers-package run` with the same arguments; in whiskers-package it
 * checks the package out (signature policy, variant, unpacked layer) and
 * loads the normaliser from the cache. */
#ifndef WH_CLI_RUN_PACKAGE_H
#define WH_CLI_RUN_PACKAGE_H

#include <stdbool.h>
#include <whiskers/contract.h>

struct run_package_args {
        const char *store;   /* --store, else $WHISKERS_STORE; NULL: directories only */
        const char *trust;   /* --trust, else $WHISKERS_TRUST */
        const char *variant; /* --variant: force a variant by name */
        const char *cache;   /* --cache, else the default (wh_package_cache_default) */
        bool allow_unsigned;
};

/* The getopt_long entries; their values start at RUN_PACKAGE_OPT. */
enum {
        RUN_PACKAGE_OPT = 2000,
        RUN_PACKAGE_OPT_TRUST,
        RUN_PACKAGE_OPT_VARIANT,
        RUN_PACKAGE_OPT_CACHE,
        RUN_PACKAGE_OPT_UNSIGNED,
};
/* clang-format off */
#define WH_PACKAGE_OPTIONS \
        {"store", required_argument, 0, RUN_PACKAGE_OPT}, \
        {"trust", required_argument, 0, RUN_PACKAGE_OPT_TRUST}, \
        {"variant", required_argument, 0, RUN_PACKAGE_OPT_VARIANT}, \
        {"cache", required_argument, 0, RUN_PACKAGE_OPT_CACHE}, \
        {"allow-unsigned", no_argument, 0, RUN_PACKAGE_OPT_UNSIGNED}
#define WH_PACKAGE_HELP \
    "Packages (NORMALISER is a tag, an id or a digest in the OCI layout --store):\n" \
    "  --store LAYOUT         the package store (default $WHISKERS_STORE)\n" \
    "  --trust DIR            trusted public keys (default $WHISKERS_TRUST); the package\n" \
    "                         needs a valid signature by one of them\n" \
    "  --allow-unsigned       run unsigned packages (development only)\n" \
    "  --variant NAME         force a variant instead of the choice rule\n" \
    "  --cache DIR            where packages are unpacked (default $WHISKERS_CACHE,\n" \
    "                         /var/cache/whiskers for root, else ~/.cache/whiskers)\n"
/* clang-format on */

/* Fill defaults from the environment. */
void run_package_defaults(struct run_package_args *p);
/* 0 when opt was one of WH_PACKAGE_OPTIONS, -1 when it is not. */
int run_package_option(struct run_package_args *p, int opt, const char *arg);
/* True when NORMALISER is to be read from the store (it is not a directory
 * and a store is configured). */
bool run_package_wanted(const struct run_package_args *p, const char *normaliser);

/* Load the package's normaliser with load's options. argv is the command's
 * own (argv[0] "run"), for the light binary's exec. 0, or an exit code with
 * the message printed. */
int run_package_load(const struct run_package_args *p, char **argv, const char *ref,
                     struct wh_normaliser_options *load, struct wh_normaliser **out);

#endif
