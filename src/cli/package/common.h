/* Small helpers shared by the package commands (header-only: a command group
 * builds from its cmd_*.c files alone). */
#ifndef WH_CLI_PACKAGE_COMMON_H
#define WH_CLI_PACKAGE_COMMON_H

#include "cli/exit_codes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package.h>

static inline bool pk_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return true;
        return false;
}

/* Print "whiskers CMD: message" and return the failure exit code. */
static inline int pk_fail(const char *cmd, const struct wh_err *err)
{
        fprintf(stderr, "whiskers %s: %s\n", cmd, err->msg);
        return WH_EXIT_FAILED;
}

static inline int pk_usage(const char *cmd, const char *msg)
{
        fprintf(stderr, "whiskers %s: %s; 'whiskers %s --help' shows the usage\n", cmd, msg, cmd);
        return WH_EXIT_USAGE;
}

/* The value of an option that takes one, advancing *i; NULL when missing. */
static inline const char *pk_value(int argc, char **argv, int *i)
{
        return *i + 1 < argc ? argv[++*i] : NULL;
}

static inline void pk_json_print(json_t *j)
{
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (text)
                puts(text);
        free(text);
}

#endif
