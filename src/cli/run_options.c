/* The option groups of run_options.h, and the stop handlers. */
#include "cli/run_options.h"
#include "cli/exit_codes.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cpus(void *base, const char *text, const char *cmd)
{
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (errno || *end || end == text || !(v >= 0) || v > 4096)
                return cli_usage_error(cmd, "--cpus '%s' must be a number of CPUs such as 0.5",
                                       text);
        ((struct wh_limits *)base)->cpus = v;
        return 0;
}

#define L(field) offsetof(struct wh_limits, field)
const struct cli_option cli_limit_options[] = {
    {CLI_SIZE, "memory", .metavar = "SIZE", .offset = L(memory_bytes),
     .help = "memory, swap off (cgroup)"},
    {CLI_U64, "pids", .metavar = "N", .offset = L(pids), .help = "processes and threads (cgroup)"},
    {CLI_CALL, "cpus", .metavar = "FRACTION", .call = cpus,
     .help = "CPU bandwidth, e.g. 0.5 (cgroup)"},
    {CLI_U64, "wall-ms", .metavar = "N", .offset = L(wall_ms), .help = "wall-clock time, ms"},
    {CLI_U64, "cpu-ms", .metavar = "N", .offset = L(cpu_ms),
     .help = "CPU time of the whole process tree, ms"},
    {CLI_SIZE, "output-limit", .metavar = "SIZE", .offset = L(output_bytes),
     .help = "bytes of stdout, and of stderr, before the run is stopped"},
    {CLI_U64, "nofile", .metavar = "N", .offset = L(nofile)},
    {CLI_SIZE, "fsize", .metavar = "SIZE", .offset = L(fsize_bytes),
     .help = "rlimits (defaults 256 and 64M)"},
    {CLI_FLAG, "allow-unenforced-limits", .offset = L(allow_unenforced),
     .help = "run even if a cgroup limit cannot be enforced here"},
    {0},
};

static int cgroup_driver(void *base, const char *v, const char *cmd)
{
        if (strcmp(v, "auto") && strcmp(v, "v1") && strcmp(v, "v2") && strcmp(v, "none"))
                return cli_usage_error(cmd, "--cgroup-driver '%s': use auto, v1, v2 or none", v);
        ((struct wh_sandbox_config *)base)->cgroup_driver = v;
        return 0;
}

#define S(field) offsetof(struct wh_sandbox_config, field)
const struct cli_option cli_sandbox_options[] = {
    {CLI_CALL, "cgroup-driver", .metavar = "auto|v1|v2|none", .call = cgroup_driver,
     .help = "which cgroups enforce the limits (docs/cgroups.md)"},
    {CLI_STR, "cgroup-parent", .metavar = "PATH", .offset = S(cgroup_parent), .complete = CLI_DIR,
     .help = "create the run's cgroup under PATH (a delegated cgroup)"},
    {CLI_STR, "seccomp-policy", .metavar = "FILE", .offset = S(seccomp_policy),
     .complete = CLI_FILE,
     .help = "the system call allowlist to use instead of the built-in one "
             "(docs/seccomp-policy.md)"},
    {0},
};

#define P(field) offsetof(struct wh_package_source, field)
const struct cli_option cli_package_options[] = {
    {CLI_STR, "store", .metavar = "LAYOUT", .offset = P(store), .env = "WHISKERS_STORE",
     .complete = CLI_DIR,
     .help = "an OCI layout of packages: a reference without '/' names a package there (a "
             "tag, an id, a digest); default $WHISKERS_STORE"},
    {CLI_STR, "trust", .metavar = "DIR", .offset = P(trust_dir), .env = "WHISKERS_TRUST",
     .complete = CLI_DIR,
     .help = "trusted public keys (default $WHISKERS_TRUST): a package runs only with a "
             "valid signature by one of them"},
    {CLI_FLAG, "allow-unsigned", .offset = P(allow_unsigned),
     .help = "run unsigned packages (development only)"},
    {CLI_STR, "cache", .metavar = "DIR", .offset = P(cache_dir), .complete = CLI_DIR,
     .help = "where packages are unpacked (default $WHISKERS_CACHE, /var/cache/whiskers for "
             "root, else ~/.cache/whiskers)"},
    {0},
};

int cli_exit_code(const struct wh_report *r)
{
        switch (r->status) {
        case WH_STATUS_OK:
                return WH_EXIT_OK;
        case WH_STATUS_EXIT_NONZERO:
        case WH_STATUS_SIGNAL:
                return WH_EXIT_FAILED;
        case WH_STATUS_TIMEOUT_WALL:
        case WH_STATUS_TIMEOUT_CPU:
        case WH_STATUS_OOM:
        case WH_STATUS_OUTPUT_LIMIT:
                return WH_EXIT_LIMIT;
        case WH_STATUS_SECCOMP_KILL:
                return WH_EXIT_SECCOMP;
        case WH_STATUS_SANDBOX_ERROR:
                break;
        }
        if (strcmp(r->stage, "userns") == 0)
                return WH_EXIT_NO_USERNS;
        if (strcmp(r->stage, "exec") == 0)
                return r->error_errno == ENOENT ? WH_EXIT_NOT_FOUND : WH_EXIT_NOT_EXECUTABLE;
        return WH_EXIT_SANDBOX;
}

volatile int cli_stop_signal;

static void on_stop_signal(int sig)
{
        cli_stop_signal = sig;
}

void cli_install_stop_handlers(void)
{
        struct sigaction sa = {.sa_handler = on_stop_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}
