#include "cli/run_options.h"
#include "cli/exit_codes.h"
#include "base/size.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "whiskers %s: ", cmd);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'whiskers %s --help'.\n", cmd);
        va_end(ap);
        return WH_EXIT_USAGE;
}

int cli_parse_number(const char *cmd, const char *opt, const char *text, uint64_t *out, bool size)
{
        struct wh_err err;
        if ((size ? wh_parse_size(text, out, &err) : wh_parse_u64(text, out, &err)) < 0)
                return cli_usage_error(cmd, "%s: %s", opt, err.msg);
        return 0;
}

static int parse_cpus(const char *cmd, const char *text, double *out)
{
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (errno || *end || end == text || !(v >= 0) || v > 4096)
                return cli_usage_error(cmd, "--cpus '%s' must be a number of CPUs such as 0.5",
                                       text);
        *out = v;
        return 0;
}

int cli_parse_limit(const char *cmd, int opt, const char *arg, struct wh_limits *l)
{
        switch (opt) {
        case LIMIT_OPT_MEMORY:
                return cli_parse_number(cmd, "--memory", arg, &l->memory_bytes, true);
        case LIMIT_OPT_PIDS:
                return cli_parse_number(cmd, "--pids", arg, &l->pids, false);
        case LIMIT_OPT_CPUS:
                return parse_cpus(cmd, arg, &l->cpus);
        case LIMIT_OPT_WALL:
                return cli_parse_number(cmd, "--wall-ms", arg, &l->wall_ms, false);
        case LIMIT_OPT_CPU:
                return cli_parse_number(cmd, "--cpu-ms", arg, &l->cpu_ms, false);
        case LIMIT_OPT_OUTPUT:
                return cli_parse_number(cmd, "--output-limit", arg, &l->output_bytes, true);
        case LIMIT_OPT_NOFILE:
                return cli_parse_number(cmd, "--nofile", arg, &l->nofile, false);
        case LIMIT_OPT_FSIZE:
                return cli_parse_number(cmd, "--fsize", arg, &l->fsize_bytes, true);
        case LIMIT_OPT_UNENFORCED:
                l->allow_unenforced = true;
                return 0;
        default:
                return -1;
        }
}

int cli_parse_sandbox(const char *cmd, int opt, const char *arg, struct wh_sandbox_config *config)
{
        switch (opt) {
        case SANDBOX_OPT_CG_DRIVER:
                if (strcmp(arg, "auto") && strcmp(arg, "v1") && strcmp(arg, "v2") &&
                    strcmp(arg, "none"))
                        return cli_usage_error(
                            cmd, "--cgroup-driver '%s': use auto, v1, v2 or none", arg);
                config->cgroup_driver = arg;
                return 0;
        case SANDBOX_OPT_CG_PARENT:
                config->cgroup_parent = arg;
                return 0;
        case SANDBOX_OPT_SECCOMP:
                config->seccomp_policy = arg;
                return 0;
        default:
                return -1;
        }
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
