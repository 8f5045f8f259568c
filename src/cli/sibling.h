/* The command groups' binaries sit side by side (src/cli/main.c). */
#ifndef WH_CLI_SIBLING_H
#define WH_CLI_SIBLING_H

/* Exec `binary` from the directory of our own executable with argv (whose
 * argv[0] it replaces, and which must hold the command name first, as the
 * sibling's main expects: {binary, "run", ...}). Returns only on failure,
 * with an exit code and a message naming `what`. */
int cli_exec_sibling(const char *binary, const char *what, char **argv);

#endif
