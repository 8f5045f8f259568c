/* Small helpers shared by the package commands. */
#ifndef WH_CLI_PACKAGE_COMMON_H
#define WH_CLI_PACKAGE_COMMON_H

#include "cli/exit_codes.h"
#include "cli/opt/options.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package.h>

/* Print "whiskers CMD: message" and return the failure exit code. */
static inline int pk_fail(const char *cmd, const struct wh_err *err)
{
        fprintf(stderr, "whiskers %s: %s\n", cmd, err->msg);
        return WH_EXIT_FAILED;
}

static inline void pk_json_print(json_t *j)
{
        char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (text)
                puts(text);
        free(text);
}

#endif
