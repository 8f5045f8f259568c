/* whiskers runtime build|unpack: runtimes as OCI images. */
#include "base/size.h"
#include "cli/package/common.h"

#include <limits.h>

static void usage(FILE *out)
{
        fprintf(
            out,
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
            "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

static int build(int argc, char **argv)
{
        struct wh_runtime_build_options o = {0};
        const char *into = NULL, *sde = getenv("SOURCE_DATE_EPOCH");
        const char **packages = calloc((size_t)argc, sizeof(*packages));
        const char **slots[] = {&o.python, &o.tree, &o.shim,   &o.name,         &o.interpreter,
                                &o.tag,    &into,   &o.mirror, &o.debian_suite, NULL};
        const char *names[] = {"--python", "--tree", "--shim",   "--name",   "--interpreter",
                               "--tag",    "--into", "--mirror", "--debian", "--package"};
        int rc = packages ? 0 : pk_usage("runtime", "out of memory");
        for (int i = 2; rc == 0 && i < argc; i++) {
                size_t k = 0;
                while (k < sizeof(names) / sizeof(names[0]) && strcmp(argv[i], names[k]) != 0)
                        k++;
                const char *v =
                    k < sizeof(names) / sizeof(names[0]) ? pk_value(argc, argv, &i) : NULL;
                if (k == sizeof(names) / sizeof(names[0]))
                        rc = pk_usage("runtime", "unknown option or argument");
                else if (!v)
                        rc = pk_usage("runtime", "option wants a value");
                else if (slots[k])
                        *slots[k] = v;
                else
                        packages[o.n_debian_packages++] = v;
        }
        uint64_t epoch = 0;
        if (rc == 0 && !into)
                rc = pk_usage("runtime", "build wants --into LAYOUT");
        if (rc == 0 && !o.debian_suite && (o.n_debian_packages || o.mirror))
                rc = pk_usage("runtime", "--package and --mirror go with --debian SUITE");
        if (rc == 0 && sde && (wh_parse_u64(sde, &epoch, NULL) < 0 || epoch > INT64_MAX))
                rc = pk_usage("runtime", "SOURCE_DATE_EPOCH is not a number of seconds");
        if (rc != 0) {
                free(packages);
                return rc;
        }
        if (!o.tree && !o.python && !o.debian_suite)
                o.python = "/usr/bin/python3";
        bool reused = false;
        o.debian_packages = packages;
        o.source_date_epoch = (int64_t)epoch;
        o.reused = &reused;
        struct wh_err err = {0};
        struct wh_store *s;
        struct wh_descriptor root;
        if (wh_store_open(into, WH_STORE_CREATE, &s, &err) < 0) {
                free(packages);
                return pk_fail("runtime", &err);
        }
        rc = wh_runtime_build(s, &o, &root, &err);
        wh_store_close(s);
        free(packages);
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

static int unpack(int argc, char **argv)
{
        const char *cache = NULL, *pos[2] = {NULL, NULL};
        int npos = 0;
        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--cache") == 0) {
                        if (!(cache = pk_value(argc, argv, &i)))
                                return pk_usage("runtime", "--cache wants a directory");
                } else if (argv[i][0] == '-' || npos == 2) {
                        return pk_usage("runtime", "unknown option or too many arguments");
                } else {
                        pos[npos++] = argv[i];
                }
        }
        if (!cache || npos != 2)
                return pk_usage("runtime", "unpack wants --cache DIR, LAYOUT and REF");
        struct wh_err err = {0};
        struct wh_store *s;
        char path[PATH_MAX];
        if (wh_store_open(pos[0], WH_STORE_READ, &s, &err) < 0)
                return pk_fail("runtime", &err);
        int rc = wh_runtime_unpack(s, pos[1], cache, path, sizeof(path), &err);
        wh_store_close(s);
        if (rc < 0)
                return pk_fail("runtime", &err);
        printf("%s\n", path);
        return WH_EXIT_OK;
}

int cmd_runtime(int argc, char **argv)
{
        if (pk_help(argc, argv)) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        if (argc >= 2 && strcmp(argv[1], "build") == 0)
                return build(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "unpack") == 0)
                return unpack(argc, argv);
        return pk_usage("runtime", "name a subcommand: build or unpack");
}
