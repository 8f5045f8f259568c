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
        X("verify", "whiskers-package", "check a package's signatures against trusted keys") \
        X("push", "whiskers-package", "push a package and its signatures to an OCI registry") \
        X("pull", "whiskers-package", "pull a package and its signatures from an OCI registry") \
        X("bundle", "whiskers-package", "export or import an air-gap bundle (verified offline)") \
        X("runtime", "whiskers-package", "build a runtime image (this machine's Python or a tree); unpack it, cached") \
        X("submit", "whiskers-queue", "queue raw files for a normaliser, or for every one consuming a MIME type") \
        X("worker", "whiskers-queue", "run queued jobs in the sandbox until stopped (SIGTERM)") \
        X("results", "whiskers-queue", "list stored results (or dead letters)") \
        X("show", "whiskers-queue", "show one job: state, attempts, result, output") \
        X("status", "whiskers-queue", "queue depth and live workers") \
        X("scan", "whiskers-queue", "run a boefje on an input object, then the normalisers its raw files feed")
/* clang-format on */

#endif
