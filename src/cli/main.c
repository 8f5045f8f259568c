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
#include "cli/opt/options.h"
#include "cli/sibling.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include WH_COMMANDS_HEADER
#ifdef WH_EXTERNAL_HEADER
#include WH_EXTERNAL_HEADER
#endif

struct command {
        const char *name;
        const struct cli_command *cli;
        const char *summary;
};

static const struct command commands[] = {
#define X(name, fn, summary) {name, &fn##_cli, summary},
    WH_COMMANDS(X)
#undef X
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

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
        for (size_t i = 0; i < N_COMMANDS; i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        for (const struct external *e = externals; e->name; e++)
                fprintf(out, "  %-10s %s\n", e->name, e->summary);
        fprintf(out,
                "  %-10s %s\n"
                "\n'%s COMMAND --help' describes a command; docs/ has the manual.\n",
                "completion", "'completion bash' prints a bash completion script (README)",
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

static int completion(void *args, int argc, char **argv);

static const struct cli_command completion_cli = {
    .name = "completion",
    .head = "Usage: whiskers completion bash\n"
            "\n"
            "Print a bash completion script for whiskers, whiskers-queue and\n"
            "whiskers-package: every command and option, made from the commands' option\n"
            "tables. Install it with\n"
            "  whiskers completion bash >/etc/bash_completion.d/whiskers\n"
            "or load it into this shell with: source <(whiskers completion bash)\n"
            "\n",
    .options = (const struct cli_option[]){{0}},
    .max_args = 1,
    .subcmds = "bash",
    .run = completion,
};

/* This binary's part of the completion script: its commands' tables. */
static void completion_data(void)
{
        const struct cli_command *tables[N_COMMANDS + 1] = {&completion_cli};
        const char *others[sizeof(externals) / sizeof(externals[0])] = {0};
        size_t n_others = 0;
        for (size_t i = 0; i < N_COMMANDS; i++)
                tables[i + 1] = commands[i].cli;
        for (const struct external *e = externals; e->name; e++)
                others[n_others++] = e->name;
        cli_complete_data(stdout, program_invocation_short_name, tables, N_COMMANDS + 1, others,
                          n_others);
}

/* The sibling binaries' parts: each prints its own (completion bash-data). */
static void sibling_completion_data(const char **binaries, size_t *n)
{
        for (const struct external *e = externals; e->name; e++) {
                bool seen = false;
                for (size_t i = 0; i < *n; i++)
                        seen |= strcmp(binaries[i], e->binary) == 0;
                if (seen)
                        continue;
                binaries[(*n)++] = e->binary;
                fflush(stdout);
                pid_t pid = fork();
                if (pid == 0) {
                        char *argv[] = {NULL, "completion", "bash-data", NULL};
                        _exit(cli_exec_sibling(e->binary, "completion", argv));
                }
                while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
}

/* completion bash: the whole script; completion bash-data: this binary's
 * data only, for `whiskers completion bash` to gather. */
static int completion(void *args, int argc, char **argv)
{
        (void)args;
        bool data = argc == 1 && strcmp(argv[0], "bash-data") == 0;
        if (!data && (argc != 1 || strcmp(argv[0], "bash") != 0))
                return cli_usage_error("completion", "name the shell: 'completion bash'");
        if (data) {
                completion_data();
                return WH_EXIT_OK;
        }
        const char *binaries[1 + sizeof(externals) / sizeof(externals[0])] = {
            program_invocation_short_name};
        size_t n = 1;
        cli_complete_head(stdout);
        completion_data();
        sibling_completion_data(binaries, &n);
        cli_complete_tail(stdout, binaries, n);
        return fflush(stdout) == 0 ? WH_EXIT_OK : WH_EXIT_FAILED;
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
        if (strcmp(argv[1], "completion") == 0)
                return cli_run(&completion_cli, argc - 1, argv + 1);
        for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return cli_run(commands[i].cli, argc - 1, argv + 1);
        for (const struct external *e = externals; e->name; e++)
                if (strcmp(argv[1], e->name) == 0)
                        return cli_exec_sibling(e->binary, e->name, argv);
        fprintf(stderr, "%s: unknown command '%s'; '%s --help' lists them\n",
                program_invocation_short_name, argv[1], program_invocation_short_name);
        return WH_EXIT_USAGE;
}
