/* Commands of the whiskers-package binary (see src/cli/main.c): the OCI
 * package store, packing, variants and signatures. They link libcrypto and
 * libarchive, which the light whiskers binary must not load. */
#ifndef WH_CLI_PACKAGE_COMMANDS_H
#define WH_CLI_PACKAGE_COMMANDS_H

#include "cli/opt/options.h"

/* clang-format off */
#define WH_COMMANDS(X) \
        X("pack", cmd_pack, "pack normaliser directories into an OCI package") \
        X("inspect", cmd_inspect, "show a package, its variants, the choice and its signatures") \
        X("store", cmd_store, "list, verify, gc, import, export or untag the package store") \
        X("key", cmd_key, "generate Ed25519 signing keys, print key ids") \
        X("sign", cmd_sign, "sign a package (an OCI referrer)") \
        X("verify", cmd_verify, "check a package's signatures against trusted keys") \
        X("push", cmd_push, "push a package and its signatures to an OCI registry") \
        X("pull", cmd_pull, "pull a package and its signatures from an OCI registry") \
        X("bundle", cmd_bundle, "export or import an air-gap bundle (verified offline)") \
        X("runtime", cmd_runtime, "build a runtime image (this machine's Python or a tree); unpack it, cached") \
        X("run", cmd_run, "run a normaliser package on one raw file and check its output")
/* clang-format on */

WH_COMMANDS(CLI_DECLARE_COMMAND)

#endif
