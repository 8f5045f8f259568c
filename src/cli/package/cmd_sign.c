/* whiskers sign: sign a package with an Ed25519 key. */
#include "cli/package/common.h"

struct args {
        const char *key;
};

static const struct cli_option options[] = {
    {CLI_STR, "key", .metavar = "FILE.key", .offset = offsetof(struct args, key),
     .complete = CLI_FILE, .required = true, .help = "the Ed25519 private key to sign with"},
    {0},
};

static int cmd_sign(void *args, int argc, char **argv)
{
        (void)argc;
        struct args *a = args;
        int rc;
        struct wh_err err = {0};
        struct wh_store *s;
        struct wh_descriptor root, sig;
        if (wh_store_open(argv[0], WH_STORE_WRITE, &s, &err) < 0)
                return pk_fail("sign", &err);
        rc = wh_store_resolve(s, argv[1], &root, &err);
        if (rc == 0)
                rc = wh_sign(s, root.digest, a->key, &sig, &err);
        wh_store_close(s);
        return pk_print("sign", rc, &err, sig.digest);
}

const struct cli_command cmd_sign_cli = {
    .name = "sign",
    .head = "Usage: whiskers sign --key FILE.key LAYOUT [REF]\n"
            "\n"
            "Sign the package REF (a tag, an id, or a digest; may be left out when the layout\n"
            "holds one package) with the Ed25519 private key FILE.key. The signature covers\n"
            "the manifest or index digest (so every variant of an index) and is stored as an\n"
            "OCI 1.1 referrer listed in index.json: it travels with any copy of the layout,\n"
            "'whiskers store export' and registries that keep referrers. Signing twice with\n"
            "one key changes nothing. Prints the signature manifest's digest.\n"
            "\n",
    .tail = "\nExit status: 0 signed, 1 failed, 2 bad usage.\n",
    .options = options,
    .min_args = 1,
    .max_args = 2,
    .args = "the LAYOUT",
    .args_size = sizeof(struct args),
    .run = cmd_sign,
};
