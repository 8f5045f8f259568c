/* whiskers bundle export|import: the air-gap transfer file. */
#include "cli/package/registry_args.h"

#include "base/size.h"

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers bundle export [--zstd] [--level N] [--split SIZE] LAYOUT REF... "
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
                "the same). Registry options for --relocate:\n"
                "\n" PK_REGISTRY_OPTIONS_HELP "\n"
                "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

struct args {
        const char *sub, *out, *trust, *relocate;
        bool allow_unsigned;
        struct wh_bundle_options bo;
        struct pk_registry_args reg;
        const char *pos[64];
        int npos;
};

static int option(int argc, char **argv, int *i, struct args *a)
{
        const char *s = argv[*i];
        struct wh_err err = {0};
        uint64_t v;
        int took = pk_registry_arg(argc, argv, i, &a->reg);
        if (took)
                return took < 0 ? pk_usage("bundle", "option wants a value") : 0;
        if (strcmp(s, "--zstd") == 0)
                a->bo.zstd = true;
        else if (strcmp(s, "--allow-unsigned") == 0)
                a->allow_unsigned = true;
        else if (strcmp(s, "--level") == 0) {
                const char *l = pk_value(argc, argv, i);
                if (!l || wh_parse_u64(l, &v, &err) < 0 || v < 1 || v > 19)
                        return pk_usage("bundle", "--level wants 1..19");
                a->bo.zstd_level = (int)v;
        } else if (strcmp(s, "--split") == 0) {
                const char *l = pk_value(argc, argv, i);
                if (!l || wh_parse_size(l, &a->bo.split_size, &err) < 0 || a->bo.split_size < 512)
                        return pk_usage("bundle", "--split wants a size of at least 512 bytes");
        } else if (strcmp(s, "--out") == 0) {
                if (!(a->out = pk_value(argc, argv, i)))
                        return pk_usage("bundle", "--out wants a file");
        } else if (strcmp(s, "--trust") == 0) {
                if (!(a->trust = pk_value(argc, argv, i)))
                        return pk_usage("bundle", "--trust wants a directory");
        } else if (strcmp(s, "--relocate") == 0) {
                if (!(a->relocate = pk_value(argc, argv, i)))
                        return pk_usage("bundle", "--relocate wants HOST[:PORT]/PREFIX");
        } else {
                return pk_usage("bundle", "unknown option");
        }
        return 0;
}

static int do_export(struct args *a)
{
        if (!a->out || a->npos < 2)
                return pk_usage("bundle", "export wants LAYOUT, at least one REF and --out FILE");
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
                pk_json_print(j);
                json_decref(j);
        }
}

static int do_import(struct args *a)
{
        if (a->npos != 2)
                return pk_usage("bundle", "import wants LAYOUT and FILE");
        if (!a->trust == !a->allow_unsigned)
                return pk_usage("bundle", "import wants either --trust DIR or --allow-unsigned");
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

int cmd_bundle(int argc, char **argv)
{
        if (pk_help(argc, argv)) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        struct args a = {0};
        if (argc < 2)
                return pk_usage("bundle", "name a subcommand: export or import");
        a.sub = argv[1];
        for (int i = 2; i < argc; i++) {
                if (argv[i][0] == '-') {
                        int rc = option(argc, argv, &i, &a);
                        if (rc)
                                return rc;
                } else if (a.npos < 64) {
                        a.pos[a.npos++] = argv[i];
                } else {
                        return pk_usage("bundle", "too many arguments");
                }
        }
        if (strcmp(a.sub, "export") == 0)
                return do_export(&a);
        if (strcmp(a.sub, "import") == 0)
                return do_import(&a);
        return pk_usage("bundle", "unknown subcommand (export or import)");
}
