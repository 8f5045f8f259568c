/* The option every whiskers-queue command takes: --db URL, the job store;
 * default $WHISKERS_DB, else whiskers.db (SQLite in the current directory).
 * QUEUE_DB_OPTION(type, field) is its line in a command's option table;
 * the field starts as QUEUE_DB_DEFAULT. */
#ifndef WH_CLI_QUEUE_STORE_OPTION_H
#define WH_CLI_QUEUE_STORE_OPTION_H

#include "cli/exit_codes.h"
#include "cli/opt/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/queue.h>

#define QUEUE_DB_DEFAULT "whiskers.db"
#define QUEUE_DB_OPTION(type, field)                                                               \
        {                                                                                          \
                CLI_STR, "db",                                                                     \
                    .metavar = "URL", .env = "WHISKERS_DB", .offset = offsetof(type, field),       \
                    .complete = CLI_FILE,                                                          \
                    .help =                                                                        \
                        "the job store: sqlite:///path/whiskers.db, a path, or "                   \
                        "postgres://user:pass@host/db (default $WHISKERS_DB, else whiskers.db)"    \
        }

/* A command's end on the store: closes q and returns the exit code; when
 * failed, prints "whiskers CMD: <err>" first (exit 2 for a bad request). */
static inline int queue_exit(const char *cmd, struct wh_queue *q, bool failed,
                             const struct wh_err *err)
{
        if (failed)
                fprintf(stderr, "whiskers %s: %s\n", cmd, err->msg);
        wh_queue_close(q);
        if (!failed)
                return WH_EXIT_OK;
        return err->kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
}

#endif
