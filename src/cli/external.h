/* Commands that live in the sibling binaries (see main.c):
 * X(name, binary, one-line summary). A group's line appears here when its
 * binary exists. */
#ifndef WH_CLI_EXTERNAL_H
#define WH_CLI_EXTERNAL_H

/* clang-format off */
#define WH_EXTERNAL_COMMANDS(X) \
        X("pack", "whiskers-package", "pack normaliser directories into an OCI package") \
        X("inspect", "whiskers-package", "show a package, its variants, the choice and its signatures") \
        X("store", "whiskers-package", "list, verify, gc, import, export or untag the package store") \
        X("key", "whiskers-package", "generate Ed25519 signing keys, print key ids") \
        X("sign", "whiskers-package", "sign a package (an OCI referrer)") \
        X("verify", "whiskers-package", "check a package's signatures against trusted keys")
/* clang-format on */

#endif
