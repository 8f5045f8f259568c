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
#include <whiskers/package.h>

/* The package options are cli_package_options and --variant (cmd_run.c).
 * Load the package's normaliser with load's options. argv is the command's
 * own (argv[0] "run"), for the light binary's exec. 0, or an exit code with
 * the message printed. */
int run_package_load(const struct wh_package_source *p, char **argv, const char *ref,
                     struct wh_normaliser_options *load, struct wh_normaliser **out);

#endif
