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

/* A command's end: the error, or what it made (a digest, a path) on stdout. */
static inline int pk_print(const char *cmd, int rc, const struct wh_err *err, const char *made)
{
        if (rc < 0)
                return pk_fail(cmd, err);
        printf("%s\n", made);
        return WH_EXIT_OK;
}

/* Print j compactly on stdout when print is set; free it either way. */
static inline void pk_json_done(json_t *j, bool print)
{
        char *text = print ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (text)
                puts(text);
        free(text);
        json_decref(j);
}

#endif
