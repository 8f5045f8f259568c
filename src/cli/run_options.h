/* What the commands that run something share: the option groups of one
 * sandboxed run (its resource limits, the sandbox's cgroup and seccomp
 * choices, where packages come from), and stopping a run on
 * SIGTERM/INT/HUP. A command puts a group in its option table as
 * {CLI_GROUP, .group = cli_limit_options, .offset = offsetof(its args, the
 * struct wh_limits)} (cli/opt/options.h). */
#ifndef WH_CLI_RUN_OPTIONS_H
#define WH_CLI_RUN_OPTIONS_H

#include "cli/opt/options.h"

#include <whiskers/package.h>
#include <whiskers/sandbox.h>

/* The groups: struct wh_limits (--memory, --pids, ..., exec, run, scan);
 * struct wh_sandbox_config (--cgroup-driver, --cgroup-parent,
 * --seccomp-policy; exec, run); struct wh_package_source (--store, --trust,
 * --allow-unsigned, --cache with $WHISKERS_STORE and $WHISKERS_TRUST; run,
 * submit, worker). */
extern const struct cli_option cli_limit_options[], cli_sandbox_options[], cli_package_options[];
/* struct wh_sandbox_config: --net-allow LIST (config.net = WH_NET_ALLOW,
 * config.net_policy built here) and its limits --net-max-conns,
 * --net-max-bytes, --net-max-rate (exec, run). The command frees the policy
 * with cli_net_policy_free. */
extern const struct cli_option cli_net_options[];
void cli_net_policy_free(struct wh_sandbox_config *c);

/* The exit code for how a sandboxed run ended (cli/exit_codes.h). */
int cli_exit_code(const struct wh_report *r);

/* The signal that asked us to stop (SIGTERM, SIGINT or SIGHUP), or 0: hand
 * it to the run as wh_run_spec.cancel. The run is then killed cleanly (its
 * cgroup removed, a record written); the command exits 128 + the signal. */
extern volatile int cli_stop_signal;
/* Install those handlers, and ignore SIGPIPE: a reader of our stdout that
 * goes away must not kill the supervisor mid-run. */
void cli_install_stop_handlers(void);

#endif
