/* What `whiskers exec` and `whiskers run` share: the options for the
 * resource limits of one sandboxed run and the sandbox's cgroup and seccomp
 * choices, the usage-error format, and stopping a run on SIGTERM/INT/HUP. A command splices
 * WH_LIMIT_OPTIONS and WH_SANDBOX_OPTIONS into its getopt_long table and hands every option to
 * cli_parse_limit() and cli_parse_sandbox() first. */
#ifndef WH_CLI_RUN_OPTIONS_H
#define WH_CLI_RUN_OPTIONS_H

#include <getopt.h>
#include <whiskers/sandbox.h>

enum {
        LIMIT_OPT_MEMORY = 1000,
        LIMIT_OPT_PIDS,
        LIMIT_OPT_CPUS,
        LIMIT_OPT_WALL,
        LIMIT_OPT_CPU,
        LIMIT_OPT_OUTPUT,
        LIMIT_OPT_NOFILE,
        LIMIT_OPT_FSIZE,
        LIMIT_OPT_UNENFORCED,
        SANDBOX_OPT_CG_DRIVER,
        SANDBOX_OPT_CG_PARENT,
        SANDBOX_OPT_SECCOMP,
};

/* clang-format off */
#define WH_LIMIT_OPTIONS \
        {"memory", required_argument, 0, LIMIT_OPT_MEMORY}, \
        {"pids", required_argument, 0, LIMIT_OPT_PIDS}, \
        {"cpus", required_argument, 0, LIMIT_OPT_CPUS}, \
        {"wall-ms", required_argument, 0, LIMIT_OPT_WALL}, \
        {"cpu-ms", required_argument, 0, LIMIT_OPT_CPU}, \
        {"output-limit", required_argument, 0, LIMIT_OPT_OUTPUT}, \
        {"nofile", required_argument, 0, LIMIT_OPT_NOFILE}, \
        {"fsize", required_argument, 0, LIMIT_OPT_FSIZE}, \
        {"allow-unenforced-limits", no_argument, 0, LIMIT_OPT_UNENFORCED}
#define WH_SANDBOX_OPTIONS \
        {"cgroup-driver", required_argument, 0, SANDBOX_OPT_CG_DRIVER}, \
        {"cgroup-parent", required_argument, 0, SANDBOX_OPT_CG_PARENT}, \
        {"seccomp-policy", required_argument, 0, SANDBOX_OPT_SECCOMP}
/* clang-format on */

/* "whiskers CMD: <message>" and a pointer to --help; returns WH_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A size (64M) or plain count option into *out; 0 or WH_EXIT_USAGE. */
int cli_parse_number(const char *cmd, const char *opt, const char *text, uint64_t *out, bool size);
/* 0 when opt was a limit option and parsed, WH_EXIT_USAGE when its value is
 * bad, -1 when opt is not a limit option. */
int cli_parse_limit(const char *cmd, int opt, const char *arg, struct wh_limits *limits);
/* The same for WH_SANDBOX_OPTIONS (cgroup driver and parent, seccomp policy). */
int cli_parse_sandbox(const char *cmd, int opt, const char *arg, struct wh_sandbox_config *config);

/* The signal that asked us to stop (SIGTERM, SIGINT or SIGHUP), or 0: hand
 * it to the run as wh_run_spec.cancel. The run is then killed cleanly (its
 * cgroup removed, a record written); the command exits 128 + the signal. */
extern volatile int cli_stop_signal;
/* Install those handlers, and ignore SIGPIPE: a reader of our stdout that
 * goes away must not kill the supervisor mid-run. */
void cli_install_stop_handlers(void);

#endif
