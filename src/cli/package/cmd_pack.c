/* whiskers pack: normaliser directories -> a package in an OCI layout and/or
 * a zip. Prints the package digest (manifest, or index of variants). */
#include "base/size.h"
#include "cli/package/common.h"
#include "base/dir.h"

#include <fcntl.h>
#include <stdlib.h>

struct opts {
        const char *into, *zip, *tag, *version, *plugins;
        bool json;
        struct cli_list python, images;
        const char **dirs;
        size_t ndirs;
        int64_t sde;
};

#define AT(field) offsetof(struct opts, field)
static const struct cli_option options[] = {
    {CLI_STR, "into", .metavar = "LAYOUT", .offset = AT(into), .complete = CLI_DIR,
     .help = "add the package to this OCI image layout (created if missing)"},
    {CLI_STR, "zip", .metavar = "FILE", .offset = AT(zip), .complete = CLI_FILE,
     .help = "write the package as a zip holding an OCI layout"},
    {CLI_STR, "tag", .metavar = "NAME", .offset = AT(tag),
     .help = "tag it NAME (default: <id>:<version> from normalizer.json)"},
    {CLI_LIST, "runtime-image", .metavar = "REF", .offset = AT(images),
     .help = "carry this runtime image of LAYOUT (made by 'whiskers runtime build'; needs "
             "--into): every variant then runs with the image as its root, on hosts without "
             "that interpreter. Given several times with one DIR: one variant per image (e.g. "
             "trixie's python3.13 and bookworm's python3.11), the first the baseline"},
    {CLI_STR, "plugins", .metavar = "TREE", .offset = AT(plugins), .complete = CLI_DIR,
     .help = "pack every normaliser below TREE (each directory holding a normalizer.json, e.g. "
             "OpenKAT's boefjes/plugins, nested ones included) as its own package "
             "<id>:<version>, all with the same options; prints DIGEST TAG DIR per package"},
    {CLI_STR, "version", .metavar = "V", .offset = AT(version),
     .help = "the version of a normalizer.json without one (OpenKAT's): default "
             "\"unversioned\""},
    {CLI_LIST, "python-path", .metavar = "DIR", .offset = AT(python), .complete = CLI_DIR,
     .help = "pack DIR (Python packages, e.g. OpenKAT's octopoes and boefjes sources, or a "
             "site-packages tree) as its own layer, put on the normaliser's sys.path "
             "(repeatable, in order; at most 8). Packages sharing DIR share the layer"},
    {CLI_FLAG, "json", .offset = AT(json),
     .help = "print {\"digest\",\"mediaType\",\"size\",\"tag\"} instead"},
    {0},
};

static int check(struct opts *o)
{
        o->sde = -1;
        if (o->plugins && (o->ndirs || !o->into || o->zip || o->tag))
                return cli_usage_error("pack", "--plugins TREE goes with --into LAYOUT, without "
                                               "DIRs, --zip or --tag");
        if (!o->plugins && (!o->ndirs || (!o->into && !o->zip)))
                return cli_usage_error("pack", "name at least one DIR and --into or --zip");
        if (o->images.n && !o->into)
                return cli_usage_error("pack",
                                       "--runtime-image names an image in the --into layout");
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        uint64_t v;
        if (sde && (wh_parse_u64(sde, &v, NULL) < 0 || v > INT64_MAX))
                return cli_usage_error("pack", "SOURCE_DATE_EPOCH is not a number of seconds");
        if (sde)
                o->sde = (int64_t)v;
        return 0;
}

static struct wh_pack_options pack_options(const struct opts *o)
{
        return (struct wh_pack_options){.tag = o->tag,
                                        .source_date_epoch = o->sde,
                                        .runtime_images = o->images.v,
                                        .n_runtime_images = o->images.n,
                                        .python_paths = o->python.v,
                                        .n_python_paths = o->python.n,
                                        .version = o->version};
}

static void print_packed(void *ctx, const char *dir, const char *tag,
                         const struct wh_descriptor *root)
{
        if (ctx)
                json_array_append_new(ctx, json_pack("{s:s, s:s, s:s}", "digest", root->digest,
                                                     "tag", tag, "dir", dir));
        else
                printf("%s %s %s\n", root->digest, tag, dir);
}

/* --plugins: one package per normaliser of the tree. */
static int pack_plugins(const struct opts *o)
{
        struct wh_err err = {0};
        struct wh_store *s;
        if (wh_store_open(o->into, WH_STORE_CREATE, &s, &err) < 0)
                return pk_fail("pack", &err);
        struct wh_pack_options po = pack_options(o);
        json_t *list = o->json ? json_array() : NULL;
        int rc = wh_pack_tree(s, o->plugins, &po, print_packed, list, &err);
        wh_store_close(s);
        pk_json_done(list, rc == 0 && list);
        return rc < 0 ? pk_fail("pack", &err) : WH_EXIT_OK;
}

/* Without --into, the package is built in a scratch layout for the zip. */
static int pack(const struct opts *o, const char *layout, struct wh_descriptor *root,
                char tag[WH_REF_MAX], struct wh_err *err)
{
        struct wh_store *s;
        if (wh_store_open(layout, WH_STORE_CREATE, &s, err) < 0)
                return -1;
        struct wh_pack_options po = pack_options(o);
        int rc = wh_pack(s, o->dirs, o->ndirs, &po, root, err);
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (rc == 0)
                rc = wh_store_list(s, &e, &n, err);
        for (size_t i = 0; rc == 0 && i < n; i++)
                if (strcmp(e[i].desc.digest, root->digest) == 0 && e[i].ref_name[0] &&
                    (!o->tag || strcmp(e[i].ref_name, o->tag) == 0))
                        snprintf(tag, WH_REF_MAX, "%s", e[i].ref_name);
        free(e);
        const char *refs[] = {tag};
        if (rc == 0 && o->zip)
                rc = wh_store_export(s, refs, 1, WH_ARCHIVE_ZIP, o->zip, err);
        wh_store_close(s);
        return rc;
}

static int cmd_pack(void *args, int argc, char **argv)
{
        struct opts *o = args;
        int rc;
        o->dirs = (const char **)argv;
        o->ndirs = (size_t)argc;
        rc = check(o);
        struct wh_err err = {0};
        struct wh_descriptor root;
        char tag[WH_REF_MAX] = "", scratch[] = "/tmp/whiskers-pack.XXXXXX";
        const char *layout = o->into;
        if (rc == 0 && o->plugins)
                rc = pack_plugins(o);
        else if (rc == 0 && !layout && !(layout = mkdtemp(scratch))) {
                perror("whiskers pack: mkdtemp");
                rc = WH_EXIT_FAILED;
        }
        if (rc == 0 && !o->plugins && pack(o, layout, &root, tag, &err) < 0)
                rc = pk_fail("pack", &err);
        if (!o->into && layout)
                wh_rmtree_at(AT_FDCWD, layout);
        if (rc != 0 || o->plugins)
                return rc;
        if (o->json) {
                json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "digest", root.digest, "mediaType",
                                      root.media_type, "size", (json_int_t)root.size, "tag", tag);
                pk_json_done(j, true);
        } else {
                printf("%s\n", root.digest);
        }
        return WH_EXIT_OK;
}

const struct cli_command cmd_pack_cli = {
    .name = "pack",
    .head = "Usage: whiskers pack [OPTIONS] DIR... (--into LAYOUT | --zip FILE)\n"
            "       whiskers pack [OPTIONS] --plugins TREE --into LAYOUT\n"
            "\n"
            "Pack normaliser directories (each with a normalizer.json) into a package: one\n"
            "directory gives an OCI image manifest, several give an image index with one\n"
            "manifest per runtime variant (exactly one marked \"baseline\"). The same\n"
            "directories give the same digests on any machine: entries are sorted, owned by\n"
            "0:0, with fixed modes and mtimes; hidden files and __pycache__ are left out.\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Environment: SOURCE_DATE_EPOCH (seconds) becomes every entry's mtime and the\n"
            "org.opencontainers.image.created annotation; unset, mtimes are 0.\n"
            "\n"
            "Prints the package digest on stdout. Exit status: 0 packed, 1 failed (the\n"
            "message names the file and field), 2 bad usage.\n",
    .options = options,
    .max_args = CLI_ANY_ARGS,
    .args_size = sizeof(struct opts),
    .run = cmd_pack,
};
