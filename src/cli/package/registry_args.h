/* Options shared by whiskers push, pull and bundle import --relocate. The
 * password never goes on the command line, where ps would show it: it
 * comes from WHISKERS_REGISTRY_PASSWORD or, with --password-stdin, from
 * stdin. */
#ifndef WH_CLI_PACKAGE_REGISTRY_ARGS_H
#define WH_CLI_PACKAGE_REGISTRY_ARGS_H

#include "cli/package/common.h"

struct pk_registry_args {
        struct wh_registry_options o;
        bool json, password_stdin, no_progress;
        char password[1024];
};

/* A CLI_GROUP of struct pk_registry_args: --user, --password-stdin,
 * --plain-http, --no-progress, --json. */
extern const struct cli_option pk_registry_options[];

/* Fill in the password and the progress choice; 0 or a usage exit code. */
int pk_registry_finish(const char *cmd, struct pk_registry_args *a);

#endif
