/* whiskers key gen|id: Ed25519 signing keys for packages. */
#include "cli/package/common.h"

struct args {
        const char *out;
};

static const struct cli_option options[] = {
    {CLI_STR, "out", .metavar = "PREFIX", .offset = offsetof(struct args, out),
     .complete = CLI_FILE, .help = "gen: write PREFIX.key and PREFIX.pub"},
    {0},
};

static int cmd_key(void *args, int argc, char **argv)
{
        struct args *a = args;
        struct wh_err err = {0};
        char id[WH_DIGEST_BUF];
        const char *sub = argc ? argv[0] : "";
        if (strcmp(sub, "id") == 0 && argc == 2 && !a->out) {
                if (wh_key_id_file(argv[1], id, &err) < 0)
                        return pk_fail("key", &err);
                printf("%s\n", id);
                return WH_EXIT_OK;
        }
        if (strcmp(sub, "gen") != 0 || argc != 1 || !a->out)
                return cli_usage_error("key", "use 'key gen --out PREFIX' or 'key id FILE.pub'");
        char priv[4096], pub[4096];
        if (snprintf(priv, sizeof(priv), "%s.key", a->out) >= (int)sizeof(priv) ||
            snprintf(pub, sizeof(pub), "%s.pub", a->out) >= (int)sizeof(pub))
                return cli_usage_error("key", "PREFIX is too long");
        if (wh_key_generate(priv, pub, id, &err) < 0)
                return pk_fail("key", &err);
        printf("%s\n", id);
        fprintf(stderr, "whiskers key: wrote %s (keep it secret) and %s\n", priv, pub);
        return WH_EXIT_OK;
}

const struct cli_command cmd_key_cli = {
    .name = "key",
    .head = "Usage: whiskers key gen --out PREFIX\n"
            "       whiskers key id FILE.pub\n"
            "\n"
            "gen writes a new Ed25519 key pair: PREFIX.key (private, PKCS#8 PEM, mode 0600)\n"
            "and PREFIX.pub (public, PEM), refusing to overwrite either, and prints the key\n"
            "id. Copy PREFIX.pub into the trust directory of every runner that should\n"
            "accept packages signed with it; keep PREFIX.key offline.\n"
            "\n"
            "id prints a public key's id (sha256 of the raw key), the form the trust\n"
            "directory's `revoked` file lists.\n"
            "\n",
    .tail = "\nExit status: 0 done, 1 failed, 2 bad usage.\n",
    .options = options,
    .max_args = 2,
    .subcmds = "gen id",
    .args_size = sizeof(struct args),
    .run = cmd_key,
};
