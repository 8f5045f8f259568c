/* whiskers push: a package with its signatures to an OCI registry. */
#include "cli/package/registry_args.h"

#include "base/size.h"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers push [OPTIONS] LAYOUT [REF] HOST[:PORT]/REPO[:TAG]\n"
                "\n"
                "Upload the package REF of the store LAYOUT (a tag, an id or a digest; may be\n"
                "left out when the layout holds one package) with everything it reaches and its\n"
                "signatures, over the OCI distribution API. Blobs the registry has already are\n"
                "skipped, so pushing again after a failure resumes where it stopped. TAG\n"
                "defaults to the package version. Signatures are pushed as OCI 1.1 referrers\n"
                "and listed under the tag sha256-<hex> for registries without the referrers\n"
                "API. Loopback registries are spoken to over http://, others over https://.\n"
                "\n" PK_REGISTRY_OPTIONS_HELP
                "  --chunk-size SIZE   upload blobs in PATCH chunks of SIZE (e.g. 8M); a dropped\n"
                "                      chunk resumes from what the registry has\n"
                "\n"
                "Prints the pushed digest. Exit status: 0 pushed, 1 failed, 2 bad usage.\n");
}

int cmd_push(int argc, char **argv)
{
        if (pk_help(argc, argv)) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        struct pk_registry_args a = {0};
        struct wh_err err = {0};
        const char *pos[3] = {NULL, NULL, NULL};
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                int took = pk_registry_arg(argc, argv, &i, &a);
                if (took < 0)
                        return pk_usage("push", "option wants a value");
                if (took)
                        continue;
                if (strcmp(argv[i], "--chunk-size") == 0) {
                        const char *v = pk_value(argc, argv, &i);
                        if (!v || wh_parse_size(v, &a.o.chunk_size, &err) < 0 || !a.o.chunk_size)
                                return pk_usage("push", "--chunk-size wants a size such as 8M");
                } else if (argv[i][0] == '-' || npos == 3) {
                        return pk_usage("push", "unknown option or too many arguments");
                } else {
                        pos[npos++] = argv[i];
                }
        }
        if (npos < 2)
                return pk_usage("push", "name the LAYOUT and the registry destination");
        int rc = pk_registry_finish("push", &a);
        if (rc)
                return rc;
        const char *ref = npos == 3 ? pos[1] : NULL, *remote = pos[npos - 1];
        struct wh_store *s;
        struct wh_registry_stats st;
        char digest[WH_DIGEST_BUF];
        if (wh_store_open(pos[0], WH_STORE_READ, &s, &err) < 0)
                return pk_fail("push", &err);
        rc = wh_registry_push(s, ref, remote, &a.o, &st, digest, &err);
        wh_store_close(s);
        if (rc < 0)
                return pk_fail("push", &err);
        if (a.json) {
                json_t *j = json_pack(
                    "{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "digest", digest, "remote", remote,
                    "blobs_sent", (json_int_t)st.blobs_sent, "blobs_skipped",
                    (json_int_t)st.blobs_skipped, "bytes_sent", (json_int_t)st.bytes_sent,
                    "manifests", (json_int_t)st.manifests, "signatures", (json_int_t)st.signatures);
                pk_json_print(j);
                json_decref(j);
        } else {
                printf("%s\n", digest);
        }
        return WH_EXIT_OK;
}
