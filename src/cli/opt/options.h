/* The one option parser of every whiskers command, in all three binaries.
 *
 * A command declares its options once, in a table of struct cli_option:
 * long name, short name, the kind of value and its metavar, an environment
 * default, the help text and the field it sets (an offset into the
 * command's own args struct) or the function it calls. From that table
 * come parsing (cli_parse), --help (cli_help), the environment defaults
 * and bash completion (cli_complete_*). docs/design.md, "Options", shows
 * how a command declares its table.
 *
 * Accepted syntax: --name VALUE, --name=VALUE, -x VALUE, -xVALUE, flags
 * alone, -h/--help anywhere, "--" ends the options; other words are
 * positional arguments, anywhere unless the command says options come
 * first (exec: PROGRAM's own options follow). A repeated option: the last
 * value wins, lists append. Long names are matched whole, never by prefix,
 * so adding an option never changes what an existing command line means. */
#ifndef WH_CLI_OPT_OPTIONS_H
#define WH_CLI_OPT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_kind {
        CLI_END = 0, /* the end of a table */
        CLI_SECTION, /* a heading (or paragraph) in --help: .help only */
        CLI_GROUP,   /* the options of .group, their fields at .offset in ours */
        /* The options (help.c counts on them coming after CLI_GROUP): */
        CLI_FLAG,      /* no value: bool field = true */
        CLI_STR,       /* const char * field = the value */
        CLI_LIST,      /* struct cli_list field: the value appended (at most .max) */
        CLI_U32,       /* uint32_t field: 0 to .max */
        CLI_INT,       /* int field: -.max to .max */
        CLI_U64,       /* uint64_t field: a count (at most .max when set) */
        CLI_SIZE,      /* uint64_t field: a size, 64M (at most .max when set) */
        CLI_CALL,      /* .call(base, value, cmd) */
        CLI_CALL_FLAG, /* .call(base, NULL, cmd): no value */
};

/* What completion offers for the value. A metavar such as "none|loopback"
 * offers its choices. */
enum cli_complete { CLI_TEXT = 0, CLI_FILE, CLI_DIR };

struct cli_option {
        enum cli_kind kind;
        const char *name;    /* the long name, without "--" */
        char short_name;     /* 0: none */
        const char *metavar; /* the value's name in --help: "SIZE", "auto|v1|v2|none" */
        /* --help's text, wrapped to 80 columns ('\n' breaks a line); NULL:
         * listed on one line with the option after it, whose text says both. */
        const char *help;
        size_t offset; /* the field set: offsetof(the args struct, field) */
        uint64_t max;
        /* CLI_CALL*: base is the args struct (or the group's struct);
         * returns 0 or an exit code after printing (cli_usage_error). */
        int (*call)(void *base, const char *value, const char *cmd);
        const char *env; /* the default comes from this environment variable */
        bool required;   /* CLI_STR: the command cannot do without it */
        enum cli_complete complete;
        const struct cli_option *group; /* CLI_GROUP */
};

/* A CLI_LIST field: the values in the order given. */
struct cli_list {
        const char **v;
        size_t n;
};

enum { CLI_ANY_ARGS = -1 };

struct cli_command {
        const char *name; /* "exec", "runtime build": errors and --help name it */
        const char *head; /* --help before the options: "Usage: ...", what it does */
        const char *tail; /* --help after the options: exit status, notes */
        const struct cli_option *options;
        int min_args;        /* positional arguments needed, named by .args */
        int max_args;        /* positional arguments allowed, or CLI_ANY_ARGS */
        const char *args;    /* "LAYOUT [REF]": the error when there are too few */
        bool options_first;  /* the first argument ends the options */
        const char *subcmds; /* "list verify gc": words completion offers first */
        /* cli_run's part: the args struct's size and its start (NULL:
         * zeroes); init, when set, finishes the start (returns 0 or an exit
         * code); run gets the parsed args and the positional arguments
         * (argv[argc] is NULL) and returns the exit code. */
        size_t args_size;
        const void *defaults;
        int (*init)(void *args);
        int (*run)(void *args, int argc, char **argv);
        void (*done)(void *args); /* frees what the options' calls took */
        /* Instead of all that, argv unparsed: runtime (its subcommands
         * have their own tables and call cli_run), run (a package hands
         * the whole command to whiskers-package) and worker (it blanks
         * secrets in argv, which /proc shows). */
        int (*dispatch)(int argc, char **argv);
};

/* A command group's commands.h declares its commands with
 * WH_COMMANDS(CLI_DECLARE_COMMAND): fn##_cli, the command's table, which
 * main() hands to cli_run. */
#define CLI_DECLARE_COMMAND(name, fn, summary) extern const struct cli_command fn##_cli;

/* The positional arguments of one parse; cli_parsed_free (or cleanup_cli)
 * frees them and the CLI_LIST fields of the args struct. */
struct cli_parsed {
        int argc;
        char **argv; /* argc words, NULL-terminated */
        const struct cli_command *cmd;
        void *args;
};
void cli_parsed_free(struct cli_parsed *p);
#define cleanup_cli __attribute__((cleanup(cli_parsed_free)))

/* cli_parse's "go on": every other value is the exit code to return now. */
enum { CLI_PARSED = -1 };

/* Set args from the environment defaults, then from argv (argv[0] is the
 * command's name). Returns CLI_PARSED; WH_EXIT_OK after printing --help;
 * or WH_EXIT_USAGE after an error naming the command and the option. */
int cli_parse(const struct cli_command *cmd, void *args, int argc, char **argv,
              struct cli_parsed *out);

/* Run the command: its args struct from .defaults and .init, cli_parse,
 * then .run. Returns the exit code. */
int cli_run(const struct cli_command *cmd, int argc, char **argv);

/* The command's --help text. */
void cli_help(const struct cli_command *cmd, FILE *out);

/* "whiskers CMD: <message>" and "Try 'whiskers CMD --help'." on stderr;
 * returns WH_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A size (64M, size true) or plain count into *out; 0 or WH_EXIT_USAGE. */
int cli_parse_number(const char *cmd, const char *opt, const char *text, uint64_t *out, bool size);

/* Bash completion (complete.c). The script: cli_complete_head, then each
 * binary's cli_complete_data, then cli_complete_tail. */
void cli_complete_head(FILE *out);
/* The data of one binary: its commands (those it runs and those it hands
 * to siblings, names), each command's options and what their values are. */
void cli_complete_data(FILE *out, const char *binary, const struct cli_command *const *cmds,
                       size_t n, const char *const *other_names, size_t n_other);
void cli_complete_tail(FILE *out, const char *const *binaries, size_t n);

#endif
