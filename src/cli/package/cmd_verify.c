/* whiskers verify: check a package's signatures against a trust directory,
 * offline, as the runner's policy does. */
#include "cli/package/common.h"

#include <stdlib.h>

struct args {
        const char *trust_dir;
        bool json;
};

static const struct cli_option options[] = {
    {CLI_STR, "trust", .metavar = "DIR", .offset = offsetof(struct args, trust_dir),
     .complete = CLI_DIR, .required = true, .help = "the trust directory"},
    {CLI_FLAG, "json", .offset = offsetof(struct args, json), .help = "print one JSON object"},
    {0},
};

static int cmd_verify(void *args, int argc, char **argv)
{
        (void)argc;
        struct args *a = args;
        const char *trust_dir = a->trust_dir;
        bool json = a->json;
        struct wh_err err = {0};
        struct wh_store *s = NULL;
        struct wh_trust *t = NULL;
        struct wh_descriptor root;
        struct wh_sig_report rep = {0};
        int rc = wh_trust_load(trust_dir, &t, &err);
        if (rc == 0)
                rc = wh_store_open(argv[0], WH_STORE_READ, &s, &err);
        if (rc == 0)
                rc = wh_store_resolve(s, argv[1], &root, &err);
        if (rc == 0)
                rc = wh_trust_check(s, root.digest, t, &rep, &err);
        /* The signatures cover the digest; the content must be what it names. */
        struct wh_err damage = {0};
        bool intact = rc == 0 && wh_store_check(s, &root, &damage) == 0;
        wh_store_close(s);
        wh_trust_free(t);
        if (rc < 0)
                return pk_fail("verify", &err);
        json_t *sigs = json_array();
        for (size_t i = 0; i < rep.n; i++) {
                const char *st = wh_sig_status_name(rep.sigs[i].status);
                if (json)
                        json_array_append_new(sigs, json_pack("{s:s, s:s, s:s}", "digest",
                                                              rep.sigs[i].signature, "key_id",
                                                              rep.sigs[i].key_id, "status", st));
                else
                        printf("%s key %s: %s\n", rep.sigs[i].signature,
                               rep.sigs[i].key_id[0] ? rep.sigs[i].key_id : "(unreadable)", st);
        }
        if (json) {
                json_t *j = json_pack("{s:s, s:b, s:o, s:b}", "digest", root.digest, "trusted",
                                      rep.trusted && intact, "signatures", sigs, "intact", intact);
                if (!intact)
                        json_object_set_new(j, "damage", json_string(damage.msg));
                pk_json_done(j, true);
        } else {
                json_decref(sigs);
                if (!intact)
                        printf("%s: NOT trusted: %s\n", root.digest, damage.msg);
                else
                        printf("%s: %s\n", root.digest,
                               rep.trusted ? "trusted"
                               : rep.n     ? "NOT trusted: no valid signature by a trusted key"
                                           : "NOT trusted: not signed");
        }
        bool trusted = rep.trusted && intact;
        wh_sig_report_clear(&rep);
        return trusted ? WH_EXIT_OK : WH_EXIT_FAILED;
}

const struct cli_command cmd_verify_cli = {
    .name = "verify",
    .head = "Usage: whiskers verify --trust DIR [--json] LAYOUT [REF]\n"
            "\n"
            "Check every signature of the package REF against the trust directory DIR:\n"
            "*.pub files are trusted Ed25519 public keys; the file DIR/revoked lists revoked\n"
            "key ids (one per line, '#' comments) and wins over *.pub. DIR and its files must\n"
            "not be writable by group or others. Nothing is fetched: this works offline.\n"
            "\n"
            "The package is trusted when at least one signature is valid and made by a\n"
            "trusted, unrevoked key, and everything it reaches is present, hashes to its\n"
            "digest and (for layers) passes the unpacker's rules. Each signature is\n"
            "reported as valid, untrusted key, revoked key, bad signature or malformed.\n"
            "\n",
    .tail = "\nExit status: 0 trusted, 1 not trusted (or failed), 2 bad usage.\n",
    .options = options,
    .min_args = 1,
    .max_args = 2,
    .args = "the LAYOUT",
    .args_size = sizeof(struct args),
    .run = cmd_verify,
};
