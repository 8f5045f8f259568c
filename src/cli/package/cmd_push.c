/* whiskers push: a package with its signatures to an OCI registry. */
#include "cli/package/registry_args.h"

#include "base/size.h"

static int chunk_size(void *base, const char *v, const char *cmd)
{
        struct pk_registry_args *a = base;
        struct wh_err err;
        if (wh_parse_size(v, &a->o.chunk_size, &err) < 0 || !a->o.chunk_size)
                return cli_usage_error(cmd, "--chunk-size wants a size such as 8M");
        return 0;
}

static const struct cli_option options[] = {
    {CLI_GROUP, .group = pk_registry_options},
    {CLI_CALL, "chunk-size", .metavar = "SIZE", .call = chunk_size,
     .help = "upload blobs in PATCH chunks of SIZE (e.g. 8M); a dropped chunk resumes from "
             "what the registry has"},
    {0},
};

static int cmd_push(void *args, int argc, char **argv)
{
        struct pk_registry_args *a = args;
        int rc;
        if ((rc = pk_registry_finish("push", a)) != 0)
                return rc;
        struct wh_err err = {0};
        int npos = argc;
        const char **pos = (const char **)argv;
        const char *ref = npos == 3 ? pos[1] : NULL, *remote = pos[npos - 1];
        struct wh_store *s;
        struct wh_registry_stats st;
        char digest[WH_DIGEST_BUF];
        if (wh_store_open(pos[0], WH_STORE_READ, &s, &err) < 0)
                return pk_fail("push", &err);
        rc = wh_registry_push(s, ref, remote, &a->o, &st, digest, &err);
        wh_store_close(s);
        if (rc < 0)
                return pk_fail("push", &err);
        if (a->json) {
                json_t *j = json_pack(
                    "{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "digest", digest, "remote", remote,
                    "blobs_sent", (json_int_t)st.blobs_sent, "blobs_skipped",
                    (json_int_t)st.blobs_skipped, "bytes_sent", (json_int_t)st.bytes_sent,
                    "manifests", (json_int_t)st.manifests, "signatures", (json_int_t)st.signatures);
                pk_json_done(j, true);
        } else {
                printf("%s\n", digest);
        }
        return WH_EXIT_OK;
}

const struct cli_command cmd_push_cli = {
    .name = "push",
    .head = "Usage: whiskers push [OPTIONS] LAYOUT [REF] HOST[:PORT]/REPO[:TAG]\n"
            "\n"
            "Upload the package REF of the store LAYOUT (a tag, an id or a digest; may be\n"
            "left out when the layout holds one package) with everything it reaches and its\n"
            "signatures, over the OCI distribution API. Blobs the registry has already are\n"
            "skipped, so pushing again after a failure resumes where it stopped. TAG\n"
            "defaults to the package version. Signatures are pushed as OCI 1.1 referrers\n"
            "and listed under the tag sha256-<hex> for registries without the referrers\n"
            "API. Loopback registries are spoken to over http://, others over https://.\n"
            "\n",
    .tail = "\nPrints the pushed digest. Exit status: 0 pushed, 1 failed, 2 bad usage.\n",
    .options = options,
    .min_args = 2,
    .max_args = 3,
    .args = "the LAYOUT and the registry destination",
    .args_size = sizeof(struct pk_registry_args),
    .run = cmd_push,
};
