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

/* The policy the options build is theirs: config->net_policy points at it
 * (const for the sandbox, which only reads it) until cli_net_policy_free. */
static struct wh_net_policy *policy_of(struct wh_sandbox_config *c)
{
        return (struct wh_net_policy *)c->net_policy;
}

/* Every --net-allow adds to one policy; names are resolved now, outside. */
static int net_allow(void *base, const char *spec, const char *cmd)
{
        struct wh_sandbox_config *c = base;
        struct wh_net_policy *p = policy_of(c);
        struct wh_err err = {0};
        if (!p && wh_net_policy_new(&p, &err) < 0)
                return cli_usage_error(cmd, "%s", err.msg);
        c->net = WH_NET_ALLOW;
        c->net_policy = p;
        for (const char *s = spec; *s;) {
                size_t len = strcspn(s, ",");
                char item[WH_NET_HOST_MAX + 32];
                if (!len || len >= sizeof(item))
                        return cli_usage_error(cmd, "--net-allow '%s': an empty or too long item",
                                               spec);
                memcpy(item, s, len);
                item[len] = '\0';
                if (wh_net_policy_add(p, item, &err) < 0)
                        return cli_usage_error(cmd, "--net-allow: %s", err.msg);
                s += len + (s[len] == ',');
        }
        return 0;
}

/* --net-max-conns, --net-max-bytes, --net-max-rate: limits of the policy. */
enum { NET_MAX_CONNS, NET_MAX_BYTES, NET_MAX_RATE };

static int set_net_limit(struct wh_sandbox_config *c, int opt, const char *arg, const char *cmd)
{
        const char *name = opt == NET_MAX_CONNS   ? "--net-max-conns"
                           : opt == NET_MAX_BYTES ? "--net-max-bytes"
                                                  : "--net-max-rate";
        uint64_t v;
        int rc;
        if (!c->net_policy)
                return cli_usage_error(cmd, "%s comes after --net-allow", name);
        if ((rc = cli_parse_number(cmd, name, arg, &v, opt != NET_MAX_CONNS)) != 0)
                return rc;
        struct wh_net_limits *l = &policy_of(c)->limits;
        if (opt == NET_MAX_BYTES)
                l->max_bytes = v;
        else if (opt == NET_MAX_RATE)
                l->max_rate = v;
        else if (v > 1000000)
                return cli_usage_error(cmd, "--net-max-conns %s: at most 1000000", arg);
        else
                l->max_connections = (uint32_t)v;
        return 0;
}

static int net_max_conns(void *base, const char *v, const char *cmd)
{
        return set_net_limit(base, NET_MAX_CONNS, v, cmd);
}

static int net_max_bytes(void *base, const char *v, const char *cmd)
{
        return set_net_limit(base, NET_MAX_BYTES, v, cmd);
}

static int net_max_rate(void *base, const char *v, const char *cmd)
{
        return set_net_limit(base, NET_MAX_RATE, v, cmd);
}

const struct cli_option cli_net_options[] = {
    {CLI_CALL, "net-allow", .metavar = "LIST", .call = net_allow,
     .help = "a way out to LIST only (repeatable): comma-separated TARGET:PORTS[/tcp|udp|both], "
             "TARGET an IPv4 address or CIDR, [IPv6] or [IPv6/len], or a host name (resolved "
             "here, pinned in the sandbox); PORTS N, N-M or *. Loopback, link-local, metadata "
             "and this host's own addresses are refused (docs/sandbox.md, \"Network\")"},
    {CLI_CALL, "net-max-conns", .metavar = "N", .call = net_max_conns,
     .help = "connections open at once (default 64; 0: no limit)"},
    {CLI_CALL, "net-max-bytes", .metavar = "SIZE", .call = net_max_bytes,
     .help = "bytes in and out over the run (default: no limit)"},
    {CLI_CALL, "net-max-rate", .metavar = "SIZE", .call = net_max_rate,
     .help = "bytes per second in and out (default: no limit)"},
    {0},
};

void cli_net_policy_free(struct wh_sandbox_config *c)
{
        wh_net_policy_free(policy_of(c));
        c->net_policy = NULL;
}

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
