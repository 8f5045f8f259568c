/* Commands that live in the sibling binaries (see main.c):
 * X(name, binary, one-line summary). A group's line appears here when its
 * binary exists. */
#ifndef WH_CLI_EXTERNAL_H
#define WH_CLI_EXTERNAL_H

/* clang-format off */
#define WH_EXTERNAL_COMMANDS(X)
/* clang-format on */

#endif
