/* whiskers pull: a package with its signatures from an OCI registry. */
#include "cli/package/registry_args.h"

static const struct cli_option options[] = {
    {CLI_GROUP, .group = pk_registry_options},
    {CLI_STR, "tag", .metavar = "NAME", .offset = offsetof(struct pk_registry_args, o.tag),
     .help = "the local tag"},
    {0},
};

static int cmd_pull(void *args, int argc, char **argv)
{
        (void)argc;
        struct pk_registry_args *a = args;
        int rc;
        if ((rc = pk_registry_finish("pull", a)) != 0)
                return rc;
        struct wh_err err = {0};
        struct wh_store *s;
        struct wh_registry_stats st;
        struct wh_index_entry root;
        if (wh_store_open(argv[0], WH_STORE_CREATE, &s, &err) < 0)
                return pk_fail("pull", &err);
        rc = wh_registry_pull(s, argv[1], &a->o, &st, &root, &err);
        (rc < 0 ? wh_store_abandon : wh_store_close)(s);
        if (rc < 0)
                return pk_fail("pull", &err);
        if (a->json) {
                json_t *j =
                    json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "digest", root.desc.digest, "tag",
                              root.ref_name, "blobs_received", (json_int_t)st.blobs_sent,
                              "blobs_present", (json_int_t)st.blobs_skipped, "bytes_received",
                              (json_int_t)st.bytes_sent, "signatures", (json_int_t)st.signatures);
                pk_json_done(j, true);
        } else {
                printf("%s %s\n", root.desc.digest, root.ref_name);
        }
        return WH_EXIT_OK;
}

const struct cli_command cmd_pull_cli = {
    .name = "pull",
    .head = "Usage: whiskers pull [OPTIONS] LAYOUT HOST[:PORT]/REPO(:TAG|@DIGEST)\n"
            "\n"
            "Download a package, everything it reaches and the whiskers signatures the\n"
            "registry lists for it (OCI 1.1 referrers, or the sha256-<hex> fallback tag)\n"
            "into the store LAYOUT (created if missing). Every manifest and blob is checked\n"
            "against its digest and size; a dropped download resumes. Nothing is tagged\n"
            "unless everything arrived. The local tag is <id>:<version> from the package's\n"
            "annotations (else REPO:TAG); --tag overrides it. Signatures are not judged\n"
            "here: 'whiskers verify --trust DIR' does that, offline.\n"
            "\n",
    .tail = "\nPrints the pulled digest. Exit status: 0 pulled, 1 failed, 2 bad usage.\n",
    .options = options,
    .min_args = 2,
    .max_args = 2,
    .args = "the LAYOUT and the registry source",
    .args_size = sizeof(struct pk_registry_args),
    .run = cmd_pull,
};
