/* The command table. One line per command; each command lives in its own
 * cmd_<name>.c and has the signature int cmd_<name>(int argc, char **argv),
 * returning the process exit code (cli/exit_codes.h), and its option table
 * const struct cli_command cmd_<name>_cli (cli/opt/options.h). */
#ifndef WH_CLI_COMMANDS_H
#define WH_CLI_COMMANDS_H

#include "cli/opt/options.h"

/* WH_COMMAND(name, function, one-line summary) */
/* clang-format off */
#define WH_COMMANDS(X) \
        X("exec", cmd_exec, "run a program in a fresh sandbox and report how it ended") \
        X("run", cmd_run, "run a normaliser on one raw file and check its output") \
        X("test", cmd_test, "run a normaliser's fixtures and diff the results") \
        X("new", cmd_new, "create a working normaliser to start from") \
        X("schema", cmd_schema, "validate JSON against a JSON Schema (draft 2020-12)")
/* clang-format on */

WH_COMMANDS(CLI_DECLARE_COMMAND)

#endif
