/* whiskers key gen|id: Ed25519 signing keys for packages. */
#include "cli/package/common.h"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers key gen --out PREFIX\n"
                "       whiskers key id FILE.pub\n"
                "\n"
                "gen writes a new Ed25519 key pair: PREFIX.key (private, PKCS#8 PEM, mode 0600)\n"
                "and PREFIX.pub (public, PEM), refusing to overwrite either, and prints the key\n"
                "id. Copy PREFIX.pub into the trust directory of every runner that should\n"
                "accept packages signed with it; keep PREFIX.key offline.\n"
                "\n"
                "id prints a public key's id (sha256 of the raw key), the form the trust\n"
                "directory's `revoked` file lists.\n"
                "\n"
                "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

int cmd_key(int argc, char **argv)
{
        if (pk_help(argc, argv)) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        struct wh_err err = {0};
        char id[WH_DIGEST_BUF];
        if (argc == 3 && strcmp(argv[1], "id") == 0) {
                if (wh_key_id_file(argv[2], id, &err) < 0)
                        return pk_fail("key", &err);
                printf("%s\n", id);
                return WH_EXIT_OK;
        }
        if (argc != 4 || strcmp(argv[1], "gen") != 0 || strcmp(argv[2], "--out") != 0)
                return pk_usage("key", "use 'key gen --out PREFIX' or 'key id FILE.pub'");
        char priv[4096], pub[4096];
        if (snprintf(priv, sizeof(priv), "%s.key", argv[3]) >= (int)sizeof(priv) ||
            snprintf(pub, sizeof(pub), "%s.pub", argv[3]) >= (int)sizeof(pub))
                return pk_usage("key", "PREFIX is too long");
        if (wh_key_generate(priv, pub, id, &err) < 0)
                return pk_fail("key", &err);
        printf("%s\n", id);
        fprintf(stderr, "whiskers key: wrote %s (keep it secret) and %s\n", priv, pub);
        return WH_EXIT_OK;
}
