/* whiskers store list|verify|gc|import|export|rm: looking after an OCI
 * layout used as the package store. */
#include "cli/package/common.h"

#include <stdlib.h>

struct args {
        const char *sub;
        bool json, dry_run;
        const char *zip, *tar;
        const char **pos;
        int npos;
};

#define AT(field) offsetof(struct args, field)
static const struct cli_option options[] = {
    {CLI_FLAG, "json", .offset = AT(json), .help = "print JSON"},
    {CLI_FLAG, "dry-run", .offset = AT(dry_run), .help = "gc: only say what would go"},
    {CLI_STR, "zip", .metavar = "FILE", .offset = AT(zip), .complete = CLI_FILE,
     .help = "export: a zip archive"},
    {CLI_STR, "tar", .metavar = "FILE", .offset = AT(tar), .complete = CLI_FILE,
     .help = "export: a tar archive"},
    {0},
};

static int list(struct wh_store *s, const struct args *a, struct wh_err *err)
{
        struct wh_index_entry *e;
        size_t n;
        if (wh_store_list(s, &e, &n, err) < 0)
                return -1;
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                if (e[i].subject[0])
                        continue;
                size_t nsig = 0;
                for (size_t j = 0; j < n; j++)
                        nsig += strcmp(e[j].subject, e[i].desc.digest) == 0;
                if (a->json)
                        json_array_append_new(
                            arr,
                            json_pack("{s:s, s:s, s:s, s:I, s:I}", "tag", e[i].ref_name, "digest",
                                      e[i].desc.digest, "mediaType", e[i].desc.media_type, "size",
                                      (json_int_t)e[i].desc.size, "signatures", (json_int_t)nsig));
                else
                        printf("%-40s %s %s %zu signature%s\n",
                               e[i].ref_name[0] ? e[i].ref_name : "(untagged)", e[i].desc.digest,
                               strcmp(e[i].desc.media_type, WH_MT_INDEX) == 0 ? "index   "
                                                                              : "manifest",
                               nsig, nsig == 1 ? "" : "s");
        }
        pk_json_done(arr, a->json);
        free(e);
        return 0;
}

static int verify(struct wh_store *s, const struct args *a, struct wh_err *err)
{
        struct wh_verify_result v;
        if (wh_store_verify(s, &v, err) < 0)
                return -1;
        json_t *problems = json_array();
        for (size_t i = 0; i < v.nproblems; i++) {
                if (a->json)
                        json_array_append_new(problems, json_pack("{s:s, s:s}", "digest",
                                                                  v.problems[i].digest, "problem",
                                                                  v.problems[i].what));
                else
                        printf("%s: %s\n", v.problems[i].digest, v.problems[i].what);
        }
        if (a->json) {
                json_t *j =
                    json_pack("{s:I, s:I, s:o, s:b}", "blobs", (json_int_t)v.blobs, "bytes",
                              (json_int_t)v.bytes, "problems", problems, "ok", v.nproblems == 0);
                pk_json_done(j, true);
        } else {
                json_decref(problems);
                printf("%llu blobs, %llu bytes re-hashed: %s\n", (unsigned long long)v.blobs,
                       (unsigned long long)v.bytes, v.nproblems ? "PROBLEMS" : "ok");
        }
        size_t bad = v.nproblems;
        wh_verify_result_clear(&v);
        return bad ? 1 : 0;
}

static int gc(struct wh_store *s, const struct args *a, struct wh_err *err)
{
        struct wh_gc_result g;
        if (wh_store_gc(s, a->dry_run, &g, err) < 0)
                return -1;
        if (a->json) {
                json_t *j = json_pack(
                    "{s:b, s:I, s:I, s:I, s:I, s:I}", "dry_run", a->dry_run, "blobs_kept",
                    (json_int_t)g.blobs_kept, "blobs_removed", (json_int_t)g.blobs_removed,
                    "bytes_removed", (json_int_t)g.bytes_removed, "referrers_dropped",
                    (json_int_t)g.referrers_dropped, "temp_removed", (json_int_t)g.temp_removed);
                pk_json_done(j, true);
        } else {
                printf("%s%llu blobs (%llu bytes) removed, %llu kept, %llu orphan signatures, "
                       "%llu temporary files\n",
                       a->dry_run ? "dry run: " : "", (unsigned long long)g.blobs_removed,
                       (unsigned long long)g.bytes_removed, (unsigned long long)g.blobs_kept,
                       (unsigned long long)g.referrers_dropped, (unsigned long long)g.temp_removed);
        }
        return 0;
}

static int import(struct wh_store *s, const struct args *a, struct wh_err *err)
{
        if (a->npos != 2) {
                wh_err_set(err, 0, "store", "import wants LAYOUT ARCHIVE");
                return -2;
        }
        struct wh_index_entry *e;
        size_t n;
        if (wh_store_import(s, a->pos[1], NULL, &e, &n, err) < 0)
                return -1;
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                if (a->json)
                        json_array_append_new(
                            arr, json_pack("{s:s, s:s, s:s}", "tag", e[i].ref_name, "digest",
                                           e[i].desc.digest, "subject", e[i].subject));
                else
                        printf("%s %s\n", e[i].desc.digest,
                               e[i].ref_name[0]  ? e[i].ref_name
                               : e[i].subject[0] ? "(signature)"
                                                 : "(untagged)");
        }
        pk_json_done(arr, a->json);
        free(e);
        return 0;
}

static int run(struct wh_store *s, const struct args *a, struct wh_err *err)
{
        if (strcmp(a->sub, "list") == 0)
                return list(s, a, err);
        if (strcmp(a->sub, "verify") == 0)
                return verify(s, a, err);
        if (strcmp(a->sub, "gc") == 0)
                return gc(s, a, err);
        if (strcmp(a->sub, "import") == 0)
                return import(s, a, err);
        if (strcmp(a->sub, "rm") == 0)
                return a->npos == 2 ? wh_store_untag(s, a->pos[1], err)
                                    : (wh_err_set(err, 0, "store", "rm wants LAYOUT TAG"), -2);
        if (a->npos < 2 || !a->zip == !a->tar) {
                wh_err_set(err, 0, "store", "export wants LAYOUT REF... and --zip or --tar");
                return -2;
        }
        return wh_store_export(s, a->pos + 1, (size_t)a->npos - 1,
                               a->zip ? WH_ARCHIVE_ZIP : WH_ARCHIVE_TAR, a->zip ? a->zip : a->tar,
                               err);
}

static int cmd_store(void *args, int argc, char **argv)
{
        struct args *a = args;
        int rc;
        a->sub = argv[0];
        a->pos = (const char **)argv + 1;
        a->npos = argc - 1;
        const char *subs[] = {"list", "verify", "gc", "import", "export", "rm"};
        int flags = -1;
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
                if (strcmp(a->sub, subs[i]) == 0)
                        flags = i < 2 || i == 4 ? WH_STORE_READ : WH_STORE_WRITE;
        if (flags < 0)
                return cli_usage_error("store", "unknown subcommand");
        if (strcmp(a->sub, "import") == 0)
                flags = WH_STORE_CREATE;
        struct wh_err err = {0};
        struct wh_store *s;
        if (wh_store_open(a->pos[0], flags, &s, &err) < 0)
                return pk_fail("store", &err);
        rc = run(s, a, &err);
        (rc < 0 ? wh_store_abandon : wh_store_close)(s);
        if (rc == -2)
                return cli_usage_error("store", "%s", err.msg);
        return rc < 0 ? pk_fail("store", &err) : rc;
}

const struct cli_command cmd_store_cli = {
    .name = "store",
    .head = "Usage: whiskers store SUBCOMMAND [OPTIONS] LAYOUT [ARGS]\n"
            "\n"
            "  list [--json] LAYOUT             tags, digests and signatures in the store\n"
            "  verify [--json] LAYOUT           re-hash every blob and check that everything\n"
            "                                   index.json reaches is present; exit 1 on any\n"
            "                                   problem\n"
            "  gc [--dry-run] [--json] LAYOUT   delete blobs nothing in index.json reaches,\n"
            "                                   signatures of removed packages, and stale\n"
            "                                   temporary files (waits for running writers);\n"
            "                                   refuses a store it cannot read fully\n"
            "  import [--json] LAYOUT ARCHIVE   add the packages of a zip or tar layout\n"
            "                                   archive; all or nothing, every layer checked\n"
            "                                   against the unpacking rules\n"
            "  export LAYOUT REF... (--zip FILE | --tar FILE)\n"
            "                                   write packages, with their signatures, as a\n"
            "                                   deterministic layout archive\n"
            "  rm LAYOUT TAG                    remove a tag (blobs go at the next gc)\n"
            "\n"
            "Options:\n",
    .tail = "\nExit status: 0 done, 1 failed (or verify found problems), 2 bad usage.\n",
    .options = options,
    .min_args = 2,
    .max_args = 65,
    .args = "a subcommand and the LAYOUT",
    .subcmds = "list verify gc import export rm",
    .args_size = sizeof(struct args),
    .run = cmd_store,
};
