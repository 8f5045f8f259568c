/* whiskers pull: a package with its signatures from an OCI registry. */
#include "cli/package/registry_args.h"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers pull [OPTIONS] LAYOUT HOST[:PORT]/REPO(:TAG|@DIGEST)\n"
                "\n"
                "Download a package, everything it reaches and the whiskers signatures the\n"
                "registry lists for it (OCI 1.1 referrers, or the sha256-<hex> fallback tag)\n"
                "into the store LAYOUT (created if missing). Every manifest and blob is checked\n"
                "against its digest and size; a dropped download resumes. Nothing is tagged\n"
                "unless everything arrived. The local tag is <id>:<version> from the package's\n"
                "annotations (else REPO:TAG); --tag overrides it. Signatures are not judged\n"
                "here: 'whiskers verify --trust DIR' does that, offline.\n"
                "\n" PK_REGISTRY_OPTIONS_HELP "  --tag NAME          the local tag\n"
                "\n"
                "Prints the pulled digest. Exit status: 0 pulled, 1 failed, 2 bad usage.\n");
}

int cmd_pull(int argc, char **argv)
{
        if (pk_help(argc, argv)) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        struct pk_registry_args a = {0};
        const char *pos[2] = {NULL, NULL};
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                int took = pk_registry_arg(argc, argv, &i, &a);
                if (took < 0)
                        return pk_usage("pull", "option wants a value");
                if (took)
                        continue;
                if (strcmp(argv[i], "--tag") == 0) {
                        if (!(a.o.tag = pk_value(argc, argv, &i)))
                                return pk_usage("pull", "--tag wants a name");
                } else if (argv[i][0] == '-' || npos == 2) {
                        return pk_usage("pull", "unknown option or too many arguments");
                } else {
                        pos[npos++] = argv[i];
                }
        }
        if (npos < 2)
                return pk_usage("pull", "name the LAYOUT and the registry source");
        int rc = pk_registry_finish("pull", &a);
        if (rc)
                return rc;
        struct wh_err err = {0};
        struct wh_store *s;
        struct wh_registry_stats st;
        struct wh_index_entry root;
        if (wh_store_open(pos[0], WH_STORE_CREATE, &s, &err) < 0)
                return pk_fail("pull", &err);
        rc = wh_registry_pull(s, pos[1], &a.o, &st, &root, &err);
        (rc < 0 ? wh_store_abandon : wh_store_close)(s);
        if (rc < 0)
                return pk_fail("pull", &err);
        if (a.json) {
                json_t *j =
                    json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "digest", root.desc.digest, "tag",
                              root.ref_name, "blobs_received", (json_int_t)st.blobs_sent,
                              "blobs_present", (json_int_t)st.blobs_skipped, "bytes_received",
                              (json_int_t)st.bytes_sent, "signatures", (json_int_t)st.signatures);
                pk_json_print(j);
                json_decref(j);
        } else {
                printf("%s %s\n", root.desc.digest, root.ref_name);
        }
        return WH_EXIT_OK;
}
