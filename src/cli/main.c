/* whiskers: the command-line front end. Thin: parse, call libwhiskers, print. */
#include "cli/commands.h"
#include "cli/exit_codes.h"

#include <stdio.h>
#include <string.h>

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

static void usage(FILE *out)
{
        fprintf(out, "Usage: whiskers COMMAND [OPTIONS] [ARGS]\n\n"
                     "Runs untrusted normalisers safely. Commands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\n'whiskers COMMAND --help' describes a command; docs/ has the manual.\n");
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
        if (strcmp(argv[1], "--version") == 0)
                return cmd_version(argc - 1, argv + 1);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "whiskers: unknown command '%s'; 'whiskers --help' lists them\n", argv[1]);
        return WH_EXIT_USAGE;
}
