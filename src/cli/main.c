/* whiskers: the command-line front end. Thin: parse, call libwhiskers, print.
 *
 * The same main() is built into several binaries, one per command group
 * (docs/design.md, "Binaries"): `whiskers` holds the light commands (exec,
 * run, schema...), which must start fast because every shared library it
 * loads is paid on each sandboxed run; the groups with heavy dependencies
 * (whiskers-queue: libpq, libsqlite3; whiskers-package: libcrypto,
 * libarchive, libcurl) are sibling binaries that `whiskers` execs for their
 * commands, so `whiskers worker ...` and `whiskers-queue worker ...` are the
 * same thing. */
#define _GNU_SOURCE
#include "cli/exit_codes.h"
#include "cli/sibling.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include WH_COMMANDS_HEADER
#ifdef WH_EXTERNAL_HEADER
#include WH_EXTERNAL_HEADER
#endif

struct command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct command commands[] = {
#define X(name, fn, summary) {name, fn, summary},
    WH_COMMANDS(X)
#undef X
};

/* Commands of the sibling binaries: name, binary, summary. */
struct external {
        const char *name, *binary, *summary;
};
static const struct external externals[] = {
#ifdef WH_EXTERNAL_COMMANDS
#define X(name, binary, summary) {name, binary, summary},
    WH_EXTERNAL_COMMANDS(X)
#undef X
#endif
        {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: %s COMMAND [OPTIONS] [ARGS]\n\n"
                "Runs untrusted normalisers safely. Commands:\n",
                program_invocation_short_name);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        for (const struct external *e = externals; e->name; e++)
                fprintf(out, "  %-10s %s\n", e->name, e->summary);
        fprintf(out, "\n'%s COMMAND --help' describes a command; docs/ has the manual.\n",
                program_invocation_short_name);
}

int cli_exec_sibling(const char *binary, const char *what, char **argv)
{
        char self[PATH_MAX], path[PATH_MAX + 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0) {
                fprintf(stderr, "whiskers: cannot find my own binary: %s\n", strerror(errno));
                return WH_EXIT_USAGE;
        }
        self[n] = '\0';
        snprintf(path, sizeof(path), "%s/%s", dirname(self), binary);
        argv[0] = (char *)binary;
        execv(path, argv);
        fprintf(stderr,
                "whiskers: %s is provided by %s, which is not installed beside whiskers "
                "(%s: %s); build it with scripts/build.sh\n",
                what, binary, path, strerror(errno));
        return WH_EXIT_USAGE;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return WH_EXIT_USAGE;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("whiskers %s\n", WH_VERSION);
                return WH_EXIT_OK;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return commands[i].run(argc - 1, argv + 1);
        for (const struct external *e = externals; e->name; e++)
                if (strcmp(argv[1], e->name) == 0)
                        return cli_exec_sibling(e->binary, e->name, argv);
        fprintf(stderr, "%s: unknown command '%s'; '%s --help' lists them\n",
                program_invocation_short_name, argv[1], program_invocation_short_name);
        return WH_EXIT_USAGE;
}
