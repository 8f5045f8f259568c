/* Exit codes shared by every whiskers command (docs/cli.md).
 * They never depend on what the sandboxed program chose to exit with: a
 * program's own code is in the status record. */
#ifndef WH_CLI_EXIT_CODES_H
#define WH_CLI_EXIT_CODES_H

enum {
        WH_EXIT_OK = 0,               /* the run (or command) succeeded */
        WH_EXIT_FAILED = 1,           /* the program exited non-zero or died by a signal */
        WH_EXIT_USAGE = 2,            /* bad options or arguments; nothing ran */
        WH_EXIT_LIMIT = 3,            /* a limit stopped it: timeout_wall/cpu, oom, output_limit */
        WH_EXIT_SECCOMP = 4,          /* killed for a forbidden system call */
        WH_EXIT_SANDBOX = 5,          /* the sandbox could not be set up (stage in the record) */
        WH_EXIT_NO_USERNS = 6,        /* the host forbids unprivileged user namespaces */
        WH_EXIT_NOT_EXECUTABLE = 126, /* the program exists in the sandbox but cannot run */
        WH_EXIT_NOT_FOUND = 127,      /* the program is not in the sandbox's filesystem */
};

#endif
