/* whiskers runtime build|unpack: runtimes as OCI images. */
#include "base/size.h"
#include "cli/package/commands.h"
#include "cli/package/common.h"

#include <limits.h>

#define B(field) offsetof(struct build_args, field)
struct build_args {
        struct wh_runtime_build_options o;
        const char *into;
        struct cli_list packages;
};

static const struct cli_option build_options[] = {
    {CLI_STR, "into", .metavar = "LAYOUT", .offset = B(into), .complete = CLI_DIR, .required = true,
     .help = "the store the image goes to (created if missing)"},
    {CLI_STR, "python", .metavar = "PATH", .offset = B(o.python), .complete = CLI_FILE,
     .help = "this machine's interpreter (default /usr/bin/python3)"},
    {CLI_STR, "tree", .metavar = "DIR", .offset = B(o.tree), .complete = CLI_DIR,
     .help = "a root file system as it is"},
    {CLI_STR, "name", .metavar = "N", .offset = B(o.name), .help = "with --tree: the runtime name"},
    {CLI_STR, "interpreter", .metavar = "PATH", .offset = B(o.interpreter),
     .help = "with --tree: the interpreter's path inside it"},
    {CLI_STR, "shim", .metavar = "FILE", .offset = B(o.shim), .complete = CLI_FILE,
     .help = "copied to /whiskers/shim.py"},
    {CLI_STR, "tag", .metavar = "NAME", .offset = B(o.tag), .help = "the image's tag"},
    {CLI_STR, "debian", .metavar = "SUITE", .offset = B(o.debian_suite),
     .help = "install Debian packages of SUITE with mmdebstrap"},
    {CLI_LIST, "package", .metavar = "NAME", .offset = B(packages),
     .help = "with --debian: a package to install (repeatable)"},
    {CLI_STR, "mirror", .metavar = "URL", .offset = B(o.mirror),
     .help = "with --debian: the archive (default http://deb.debian.org/debian)"},
    {0},
};

struct unpack_args {
        const char *cache;
};

static const struct cli_option unpack_options[] = {
    {CLI_STR, "cache", .metavar = "DIR", .offset = offsetof(struct unpack_args, cache),
     .complete = CLI_DIR, .required = true, .help = "unpack: where runtimes are unpacked"},
    {0},
};

static const char head[] =
    "Usage: whiskers runtime build --into LAYOUT [--python PATH | --tree DIR [--name N]\n"
    "                              [--interpreter PATH]] [--shim FILE] [--tag NAME]\n"
    "       whiskers runtime build --into LAYOUT --debian SUITE --package NAME...\n"
    "                              [--mirror URL] [--tag NAME]\n"
    "       whiskers runtime unpack --cache DIR LAYOUT REF\n"
    "\n"
    "build makes a runtime image: an OCI image whose one layer is a root file system\n"
    "holding an interpreter and the contract shim. With --python (default\n"
    "/usr/bin/python3) the tree is this machine's Python: the interpreter, its stdlib\n"
    "(without site/dist-packages, tests and __pycache__), every shared library it\n"
    "and its extension modules load, and the dynamic loader; --shim FILE goes to\n"
    "/whiskers/shim.py. With --tree DIR the directory is the root file system as it\n"
    "is (e.g. a debootstrap tree: relative symlinks, no device nodes). Tagged\n"
    "runtime-<name>:host unless --tag; prints the digest. Bundles carry runtimes\n"
    "like packages: 'whiskers bundle export LAYOUT runtime-python3.11:host ...'.\n"
    "\n"
    "With --debian SUITE, mmdebstrap installs the --package NAMEs (repeatable) and\n"
    "their dependencies from SUITE's main component of the archive (--mirror URL,\n"
    "default http://deb.debian.org/debian; file:///... for a local mirror); docs,\n"
    "man pages, locales and apt state are left out, and Python's dist-packages are\n"
    "put on the normaliser's sys.path. The same suite state (its InRelease file)\n"
    "and packages give the same digest, and a store holding that image tags it\n"
    "again without running mmdebstrap. Tagged runtime-python3.N:SUITE unless --tag.\n"
    "\n"
    "unpack extracts the runtime once into DIR/<digest> and prints that path; later\n"
    "calls (any process) find it there. Runs share it and bind it read-only.\n"
    "\n"
    "Environment: SOURCE_DATE_EPOCH (seconds) becomes every entry's mtime (else 0).\n"
    "\n";
static const char tail[] = "\nExit status: 0 done, 1 failed, 2 bad usage.\n";

static int build(void *args, int argc, char **argv)
{
        (void)argc, (void)argv;
        struct build_args *a = args;
        struct wh_runtime_build_options *o = &a->o;
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        uint64_t epoch = 0;
        if (!o->debian_suite && (a->packages.n || o->mirror))
                return cli_usage_error("runtime", "--package and --mirror go with --debian SUITE");
        if (sde && (wh_parse_u64(sde, &epoch, NULL) < 0 || epoch > INT64_MAX))
                return cli_usage_error("runtime", "SOURCE_DATE_EPOCH is not a number of seconds");
        if (!o->tree && !o->python && !o->debian_suite)
                o->python = "/usr/bin/python3";
        bool reused = false;
        o->debian_packages = a->packages.v;
        o->n_debian_packages = a->packages.n;
        o->source_date_epoch = (int64_t)epoch;
        o->reused = &reused;
        struct wh_err err = {0};
        struct wh_store *s;
        struct wh_descriptor root;
        if (wh_store_open(a->into, WH_STORE_CREATE, &s, &err) < 0)
                return pk_fail("runtime", &err);
        int rc = wh_runtime_build(s, o, &root, &err);
        wh_store_close(s);
        if (rc < 0)
                return pk_fail("runtime", &err);
        if (reused)
                fprintf(stderr,
                        "whiskers runtime: reused %s, built from the same suite state "
                        "and packages\n",
                        root.digest);
        printf("%s\n", root.digest);
        return WH_EXIT_OK;
}

static int unpack(void *args, int argc, char **argv)
{
        (void)argc;
        struct unpack_args *a = args;
        struct wh_err err = {0};
        struct wh_store *s;
        char path[PATH_MAX];
        if (wh_store_open(argv[0], WH_STORE_READ, &s, &err) < 0)
                return pk_fail("runtime", &err);
        int rc = wh_runtime_unpack(s, argv[1], a->cache, path, sizeof(path), &err);
        wh_store_close(s);
        return pk_print("runtime", rc, &err, path);
}

static const struct cli_command build_cli = {.name = "runtime build",
                                             .head = head,
                                             .tail = tail,
                                             .options = build_options,
                                             .args_size = sizeof(struct build_args),
                                             .run = build};
static const struct cli_command unpack_cli = {.name = "runtime unpack",
                                              .head = head,
                                              .tail = tail,
                                              .options = unpack_options,
                                              .min_args = 2,
                                              .max_args = 2,
                                              .args = "LAYOUT and REF",
                                              .args_size = sizeof(struct unpack_args),
                                              .run = unpack};

static int runtime(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "build") == 0)
                return cli_run(&build_cli, argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "unpack") == 0)
                return cli_run(&unpack_cli, argc - 1, argv + 1);
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        cli_help(&cmd_runtime_cli, stdout);
                        return WH_EXIT_OK;
                }
        return cli_usage_error("runtime", "name a subcommand: build or unpack");
}

/* Both subcommands' options, for --help and completion. */
static const struct cli_option all_options[] = {
    {CLI_SECTION, .help = "Options of build:\n"},
    {CLI_GROUP, .group = build_options},
    {CLI_SECTION, .help = "Options of unpack:\n"},
    {CLI_GROUP, .group = unpack_options},
    {0},
};
const struct cli_command cmd_runtime_cli = {.name = "runtime",
                                            .head = head,
                                            .tail = tail,
                                            .options = all_options,
                                            .max_args = CLI_ANY_ARGS,
                                            .subcmds = "build unpack",
                                            .dispatch = runtime};
