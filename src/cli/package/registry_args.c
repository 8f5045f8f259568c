/* The registry options of push, pull and bundle (registry_args.h). */
#include "cli/package/registry_args.h"

#include <unistd.h>

#define AT(field) offsetof(struct pk_registry_args, field)
const struct cli_option pk_registry_options[] = {
    {CLI_STR, "user", .metavar = "USER", .offset = AT(o.username),
     .help = "authenticate as USER (basic, or for a bearer token); the password comes from "
             "WHISKERS_REGISTRY_PASSWORD or stdin"},
    {CLI_FLAG, "password-stdin", .offset = AT(password_stdin),
     .help = "read the password from the first line of stdin"},
    {CLI_FLAG, "plain-http", .offset = AT(o.plain_http),
     .help = "speak http:// to a non-loopback registry (loopback always does)"},
    {CLI_FLAG, "no-progress", .offset = AT(no_progress),
     .help = "no progress line (it is drawn only when stderr is a TTY)"},
    {CLI_FLAG, "json", .offset = AT(json), .help = "print the result as JSON"},
    {0},
};

int pk_registry_finish(const char *cmd, struct pk_registry_args *a)
{
        a->o.progress = !a->no_progress && isatty(STDERR_FILENO);
        const char *env = getenv("WHISKERS_REGISTRY_PASSWORD");
        if (a->password_stdin) {
                if (!fgets(a->password, sizeof(a->password), stdin))
                        return cli_usage_error(cmd, "--password-stdin: no password on stdin");
                a->password[strcspn(a->password, "\r\n")] = '\0';
        } else if (env) {
                snprintf(a->password, sizeof(a->password), "%s", env);
        }
        if (a->o.username && !a->password[0])
                return cli_usage_error(cmd, "--user needs a password in "
                                            "WHISKERS_REGISTRY_PASSWORD or --password-stdin");
        a->o.password = a->o.username ? a->password : NULL;
        return 0;
}
