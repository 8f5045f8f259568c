/* whiskers sign: sign a package with an Ed25519 key. */
#include "cli/package/common.h"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers sign --key FILE.key LAYOUT [REF]\n"
                "\n"
                "Sign the package REF (a tag, an id, or a digest; may be left out when the layout\n"
                "holds one package) with the Ed25519 private key FILE.key. The signature covers\n"
                "the manifest or index digest (so every variant of an index) and is stored as an\n"
                "OCI 1.1 referrer listed in index.json: it travels with any copy of the layout,\n"
                "'whiskers store export' and registries that keep referrers. Signing twice with\n"
                "one key changes nothing. Prints the signature manifest's digest.\n"
                "\n"
                "Exit status: 0 signed, 1 failed, 2 bad usage.\n");
}

int cmd_sign(int argc, char **argv)
{
        if (pk_help(argc, argv)) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        const char *key = NULL, *pos[2] = {NULL, NULL};
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--key") == 0) {
                        if (!(key = pk_value(argc, argv, &i)))
                                return pk_usage("sign", "--key wants a file");
                } else if (argv[i][0] == '-' || npos == 2) {
                        return pk_usage("sign", "unknown option or too many arguments");
                } else {
                        pos[npos++] = argv[i];
                }
        }
        if (!key || !npos)
                return pk_usage("sign", "name --key FILE.key and the LAYOUT");
        struct wh_err err = {0};
        struct wh_store *s;
        struct wh_descriptor root, sig;
        if (wh_store_open(pos[0], WH_STORE_WRITE, &s, &err) < 0)
                return pk_fail("sign", &err);
        int rc = wh_store_resolve(s, pos[1], &root, &err);
        if (rc == 0)
                rc = wh_sign(s, root.digest, key, &sig, &err);
        wh_store_close(s);
        if (rc < 0)
                return pk_fail("sign", &err);
        printf("%s\n", sig.digest);
        return WH_EXIT_OK;
}
