/* The whiskers-queue command table (same format as src/cli/commands.h):
 * the commands that need the job store (libsqlite3, libpq) and the worker.
 * `whiskers NAME ...` execs this binary for them (src/cli/external.h). */
#ifndef WH_CLI_QUEUE_COMMANDS_H
#define WH_CLI_QUEUE_COMMANDS_H

#include "cli/opt/options.h"

/* clang-format off */
#define WH_COMMANDS(X) \
        X("submit", cmd_submit, "queue raw files for a normaliser, or for every one consuming a MIME type") \
        X("worker", cmd_worker, "run queued jobs in the sandbox until stopped (SIGTERM)") \
        X("results", cmd_results, "list stored results (or dead letters)") \
        X("show", cmd_show, "show one job: state, attempts, result, output") \
        X("status", cmd_status, "queue depth and live workers") \
        X("scan", cmd_scan, "run a boefje on an input object, then the normalisers its raw files feed")
/* clang-format on */

WH_COMMANDS(CLI_DECLARE_COMMAND)

#endif
