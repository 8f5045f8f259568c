/* whiskers bundle export|import: the air-gap transfer file. */
#include "cli/package/registry_args.h"

#include "base/size.h"

struct args {
        const char *out, *trust, *relocate;
        bool allow_unsigned;
        struct wh_bundle_options bo;
        struct pk_registry_args reg;
        const char **pos;
        int npos;
};

static int level(void *base, const char *v, const char *cmd)
{
        struct args *a = base;
        struct wh_err err;
        uint64_t n;
        if (wh_parse_u64(v, &n, &err) < 0 || n < 1 || n > 19)
                return cli_usage_error(cmd, "--level wants 1..19");
        a->bo.zstd_level = (int)n;
        return 0;
}

static int split(void *base, const char *v, const char *cmd)
{
        struct args *a = base;
        struct wh_err err;
        if (wh_parse_size(v, &a->bo.split_size, &err) < 0 || a->bo.split_size < 512)
                return cli_usage_error(cmd, "--split wants a size of at least 512 bytes");
        return 0;
}

#define AT(field) offsetof(struct args, field)
static const struct cli_option options[] = {
    {CLI_SECTION, .help = "export:\n"},
    {CLI_FLAG, "zstd", .offset = AT(bo.zstd), .help = "compress with zstd"},
    {CLI_CALL, "level", .metavar = "N", .call = level, .help = "zstd level 1-19 (default 3)"},
    {CLI_CALL, "split", .metavar = "SIZE", .call = split,
     .help = "write FILE.000, FILE.001, ... of SIZE each"},
    {CLI_STR, "out", .metavar = "FILE", .offset = AT(out), .complete = CLI_FILE,
     .help = "the bundle file"},
    {CLI_SECTION, .help = "import:\n"},
    {CLI_STR, "trust", .metavar = "DIR", .offset = AT(trust), .complete = CLI_DIR,
     .help = "trusted public keys: every tagged package needs a valid signature by one"},
    {CLI_FLAG, "allow-unsigned", .offset = AT(allow_unsigned),
     .help = "import unsigned packages (development only)"},
    {CLI_STR, "relocate", .metavar = "HOST[:PORT]/PREFIX", .offset = AT(relocate),
     .help = "push each imported package there; registry options:"},
    {CLI_GROUP, .group = pk_registry_options, .offset = AT(reg)},
    {0},
};

static int do_export(struct args *a)
{
        if (!a->out || a->npos < 2)
                return cli_usage_error("bundle",
                                       "export wants LAYOUT, at least one REF and --out FILE");
        struct wh_err err = {0};
        struct wh_store *s;
        if (wh_store_open(a->pos[0], WH_STORE_READ, &s, &err) < 0)
                return pk_fail("bundle", &err);
        int rc = wh_bundle_export(s, a->pos + 1, (size_t)a->npos - 1, a->out, &a->bo, &err);
        wh_store_close(s);
        return rc < 0 ? pk_fail("bundle", &err) : WH_EXIT_OK;
}

static void print_added(const struct args *a, const struct wh_index_entry *e, size_t n)
{
        json_t *list = a->reg.json ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
                if (!e[i].ref_name[0])
                        continue;
                if (list)
                        json_array_append_new(list, json_pack("{s:s,s:s}", "tag", e[i].ref_name,
                                                              "digest", e[i].desc.digest));
                else
                        printf("%s %s\n", e[i].desc.digest, e[i].ref_name);
        }
        if (list) {
                json_t *j = json_pack("{s:o}", "imported", list);
                pk_json_done(j, true);
        }
}

static int do_import(struct args *a)
{
        if (a->npos != 2)
                return cli_usage_error("bundle", "import wants LAYOUT and FILE");
        if (!a->trust == !a->allow_unsigned)
                return cli_usage_error("bundle",
                                       "import wants either --trust DIR or --allow-unsigned");
        int rc = a->relocate ? pk_registry_finish("bundle", &a->reg) : 0;
        if (rc)
                return rc;
        struct wh_err err = {0};
        struct wh_trust *t = NULL;
        struct wh_store *s = NULL;
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        rc = a->trust ? wh_trust_load(a->trust, &t, &err) : 0;
        if (rc == 0)
                rc = wh_store_open(a->pos[0], WH_STORE_CREATE, &s, &err);
        struct wh_bundle_import_options io = {.trust = t, .allow_unsigned = a->allow_unsigned};
        if (rc == 0)
                rc = wh_bundle_import(s, a->pos[1], &io, &e, &n, &err);
        if (rc == 0 && a->relocate)
                rc = wh_bundle_relocate(s, e, n, a->relocate, &a->reg.o, &err);
        /* A refused import into a new store leaves nothing behind; a failed
         * --relocate keeps what was imported. */
        (e ? wh_store_close : wh_store_abandon)(s);
        wh_trust_free(t);
        if (rc == 0)
                print_added(a, e, n);
        free(e);
        return rc < 0 ? pk_fail("bundle", &err) : WH_EXIT_OK;
}

static int cmd_bundle(void *args, int argc, char **argv)
{
        struct args *a = args;
        a->pos = (const char **)argv + 1;
        a->npos = argc - 1;
        if (strcmp(argv[0], "export") == 0)
                return do_export(a);
        if (strcmp(argv[0], "import") == 0)
                return do_import(a);
        return cli_usage_error("bundle", "unknown subcommand (export or import)");
}

const struct cli_command cmd_bundle_cli = {
    .name = "bundle",
    .head = "Usage: whiskers bundle export [--zstd] [--level N] [--split SIZE] LAYOUT REF... "
            "--out FILE\n"
            "       whiskers bundle import (--trust DIR | --allow-unsigned) [--relocate "
            "HOST[:PORT]/PREFIX]\n"
            "                              [--json] LAYOUT FILE\n"
            "\n"
            "export writes the packages REF (tags, ids or digests) with everything they reach\n"
            "(runtime images and schemas included) and their signatures as one pax tar: a\n"
            "checksum manifest (whiskers-bundle.json: every blob's digest and size, the\n"
            "digest of index.json) followed by an OCI image layout. --zstd compresses it\n"
            "(level 1-19, default 3); --split SIZE writes FILE.000, FILE.001, ... of SIZE\n"
            "each (e.g. 4G for FAT32 media).\n"
            "\n"
            "import reads FILE (or FILE.000 and the parts after it), hashes every blob\n"
            "against its name and the checksum manifest, checks that every package is\n"
            "complete and that each tagged package has a valid signature by a key in the\n"
            "trust directory DIR, all offline, before anything enters the store; then adds\n"
            "it all at once. A bad bundle changes nothing. --relocate then pushes each\n"
            "imported package to HOST/PREFIX/<id>:<version> on an internal registry and\n"
            "records where in LAYOUT/relocations.json (digests, and so signatures, stay\n"
            "the same).\n"
            "\n",
    .tail = "\nExit status: 0 done, 1 failed, 2 bad usage.\n",
    .options = options,
    .min_args = 1,
    .max_args = 65,
    .args = "a subcommand: export or import",
    .subcmds = "export import",
    .args_size = sizeof(struct args),
    .run = cmd_bundle,
};
