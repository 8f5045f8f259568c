/* Options shared by whiskers push and pull (header-only: a command group
 * builds from its cmd_*.c files alone). The password never goes on the
 * command line, where ps would show it: it comes from
 * WHISKERS_REGISTRY_PASSWORD or, with --password-stdin, from stdin. */
#ifndef WH_CLI_PACKAGE_REGISTRY_ARGS_H
#define WH_CLI_PACKAGE_REGISTRY_ARGS_H

#include "cli/package/common.h"

#include <unistd.h>

struct pk_registry_args {
        struct wh_registry_options o;
        bool json, password_stdin, no_progress;
        char password[1024];
};

#define PK_REGISTRY_OPTIONS_HELP                                                                   \
        "  --user USER         authenticate as USER (basic, or for a bearer token); the\n"         \
        "                      password comes from WHISKERS_REGISTRY_PASSWORD or stdin\n"          \
        "  --password-stdin    read the password from the first line of stdin\n"                   \
        "  --plain-http        speak http:// to a non-loopback registry (loopback always does)\n"  \
        "  --no-progress       no progress line (it is drawn only when stderr is a TTY)\n"         \
        "  --json              print the result as JSON\n"

/* 1 when argv[*i] was a shared option (consumed), 0 when not, -1 on a
 * missing value. */
static inline int pk_registry_arg(int argc, char **argv, int *i, struct pk_registry_args *a)
{
        const char *s = argv[*i];
        if (strcmp(s, "--user") == 0)
                return (a->o.username = pk_value(argc, argv, i)) ? 1 : -1;
        if (strcmp(s, "--password-stdin") == 0)
                return a->password_stdin = true, 1;
        if (strcmp(s, "--plain-http") == 0)
                return a->o.plain_http = true, 1;
        if (strcmp(s, "--no-progress") == 0)
                return a->no_progress = true, 1;
        if (strcmp(s, "--json") == 0)
                return a->json = true, 1;
        return 0;
}

/* Fill in the password and the progress choice; 0 or a usage exit code. */
static inline int pk_registry_finish(const char *cmd, struct pk_registry_args *a)
{
        a->o.progress = !a->no_progress && isatty(STDERR_FILENO);
        const char *env = getenv("WHISKERS_REGISTRY_PASSWORD");
        if (a->password_stdin) {
                if (!fgets(a->password, sizeof(a->password), stdin))
                        return pk_usage(cmd, "--password-stdin: no password on stdin");
                a->password[strcspn(a->password, "\r\n")] = '\0';
        } else if (env) {
                snprintf(a->password, sizeof(a->password), "%s", env);
        }
        if (a->o.username && !a->password[0])
                return pk_usage(cmd, "--user needs a password in WHISKERS_REGISTRY_PASSWORD or "
                                     "--password-stdin");
        a->o.password = a->o.username ? a->password : NULL;
        return 0;
}

#endif
