/* whiskers exec: run one program in a fresh sandbox and write its status
 * record. Options map one to one onto struct wh_sandbox_config (what the
 * sandbox is) and struct wh_run_spec (what this run does). */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <whiskers/sandbox.h>

#define MAX_BINDS 64
#define MAX_ENV   256

/* The limits of a run that asks for none (docs/sandbox.md, "Default limits"):
 * exec runs anything, and a fork or memory bomb must not take the host. */
#define DEFAULT_MEMORY  (1ull << 30)
#define DEFAULT_PIDS    256
#define DEFAULT_WALL_MS 60000

static const char help[] =
    "Usage: whiskers exec [OPTIONS] -- PROGRAM [ARGS...]\n"
    "\n"
    "Run PROGRAM in a fresh sandbox: new user, pid, mount, net, ipc, uts and cgroup\n"
    "namespaces; a read-only root with the host's /usr; no capabilities; no_new_privs;\n"
    "a seccomp allowlist; Landlock; cgroup and rlimit limits. Prints nothing of its own\n"
    "unless asked: the status record says how the run ended (docs/sandbox.md).\n"
    "\n"
    "Filesystem:\n"
    "  --rootfs DIR             use DIR read-only as / (needs dirs proc, dev, tmp)\n"
    "  --ro-bind SRC:DST        bind host SRC read-only at DST (repeatable)\n"
    "  --bind SRC:DST           bind host SRC writable at DST (repeatable)\n"
    "  --tmp-size SIZE          size of the tmpfs /tmp (default 64M)\n"
    "  --chdir DIR              working directory inside (default /)\n"
    "Network and identity:\n"
    "  --net none|loopback      no interface (default), or loopback only\n"
    "  --net-allow LIST         a way out to LIST only (repeatable): comma-separated\n"
    "                           TARGET:PORTS[/tcp|udp|both], TARGET an IPv4 address or\n"
    "                           CIDR, [IPv6] or [IPv6/len], or a host name (resolved\n"
    "                           here, pinned in the sandbox); PORTS N, N-M or *.\n"
    "                           Loopback, link-local, metadata and this host's own\n"
    "                           addresses are refused (docs/sandbox.md, \"Network\")\n"
    "  --net-max-conns N        connections open at once (default 64; 0: no limit)\n"
    "  --net-max-bytes SIZE     bytes in and out over the run (default: no limit)\n"
    "  --net-max-rate SIZE      bytes per second in and out (default: no limit)\n"
    "  --hostname NAME          default \"whiskers\"\n"
    "  --host-uid N, --host-gid N  host ids the sandbox's root maps to\n"
    "                           (root: default 2000000000; others: their own ids)\n"
    "Limits (SIZE: a number with K, M, G suffix; 0 means none):\n"
    "  --memory SIZE            memory, swap off (cgroup; default 1G)\n"
    "  --pids N                 processes and threads (cgroup; default 256)\n"
    "  --cpus FRACTION          CPU bandwidth, e.g. 0.5 (cgroup)\n"
    "  --wall-ms N              wall-clock time, ms (default 60000)\n"
    "  --cpu-ms N               CPU time of the whole process tree, ms\n"
    "  --output-limit SIZE      bytes of stdout, and of stderr, before the run is stopped\n"
    "  --nofile N, --fsize SIZE rlimits (defaults 256 and 64M)\n"
    "  --no-default-limits      no memory, pids or wall-clock limit unless given\n"
    "  --allow-unenforced-limits  run even if a cgroup limit cannot be enforced here\n"
    "  --cgroup-driver auto|v1|v2|none, --cgroup-parent PATH  (docs/cgroups.md)\n"
    "  Where no cgroup can enforce them, the *default* memory and pids limits are\n"
    "  enforced with rlimits (RLIMIT_AS per process, RLIMIT_NPROC); limits given\n"
    "  explicitly need the cgroup, or --allow-unenforced-limits.\n"
    "Security:\n"
    "  --seccomp-policy FILE    allowlist to use instead of the built-in one\n"
    "                           (docs/seccomp-policy.md)\n"
    "I/O:\n"
    "  --stdin FILE             the program's stdin (default /dev/null; - = ours, which\n"
    "                           unless a regular file is copied through a pipe: the\n"
    "                           program never gets our terminal)\n"
    "  --stdout FILE, --stderr FILE  where its output goes (default: ours)\n"
    "  --setenv NAME=VALUE      add to the environment, which is otherwise only\n"
    "                           PATH=/usr/local/bin:/usr/bin:/bin (repeatable)\n"
    "  --status-file PATH       write the status record (JSON) there\n"
    "  --status-fd N            write the status record to fd N\n"
    "\n"
    "Exit status: 0 ok; 1 the program exited non-zero or died by a signal; 2 usage\n"
    "error (nothing ran); 3 a limit stopped it (timeout, oom, output); 4 killed for a\n"
    "forbidden system call; 5 the sandbox could not be set up; 6 the host forbids user\n"
    "namespaces; 126 the program cannot be executed; 127 the program was not found.\n";

enum {
        OPT_ROOTFS = 256,
        OPT_RO_BIND,
        OPT_BIND,
        OPT_TMP_SIZE,
        OPT_CHDIR,
        OPT_NET,
        OPT_HOSTNAME,
        OPT_HOST_UID,
        OPT_HOST_GID,
        OPT_STDIN,
        OPT_STDOUT,
        OPT_STDERR,
        OPT_SETENV,
        OPT_STATUS_FILE,
        OPT_STATUS_FD,
        OPT_NO_DEFAULT_LIMITS,
        OPT_NET_ALLOW,
        OPT_NET_MAX_CONNS,
        OPT_NET_MAX_BYTES,
        OPT_NET_MAX_RATE,
};

static const struct option options[] = {
    {"rootfs", required_argument, 0, OPT_ROOTFS},
    {"ro-bind", required_argument, 0, OPT_RO_BIND},
    {"bind", required_argument, 0, OPT_BIND},
    {"tmp-size", required_argument, 0, OPT_TMP_SIZE},
    {"chdir", required_argument, 0, OPT_CHDIR},
    {"net", required_argument, 0, OPT_NET},
    {"net-allow", required_argument, 0, OPT_NET_ALLOW},
    {"net-max-conns", required_argument, 0, OPT_NET_MAX_CONNS},
    {"net-max-bytes", required_argument, 0, OPT_NET_MAX_BYTES},
    {"net-max-rate", required_argument, 0, OPT_NET_MAX_RATE},
    {"hostname", required_argument, 0, OPT_HOSTNAME},
    {"host-uid", required_argument, 0, OPT_HOST_UID},
    {"host-gid", required_argument, 0, OPT_HOST_GID},
    WH_LIMIT_OPTIONS,
    WH_SANDBOX_OPTIONS,
    {"stdin", required_argument, 0, OPT_STDIN},
    {"stdout", required_argument, 0, OPT_STDOUT},
    {"stderr", required_argument, 0, OPT_STDERR},
    {"setenv", required_argument, 0, OPT_SETENV},
    {"status-file", required_argument, 0, OPT_STATUS_FILE},
    {"status-fd", required_argument, 0, OPT_STATUS_FD},
    {"no-default-limits", no_argument, 0, OPT_NO_DEFAULT_LIMITS},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

struct exec_args {
        struct wh_sandbox_config config;
        struct wh_run_spec run;
        struct wh_bind binds[MAX_BINDS];
        const char *env[MAX_ENV + 2];
        size_t n_env;
        const char *stdin_path, *stdout_path, *stderr_path, *status_path;
        int status_fd;
        bool no_default_limits, memory_given, pids_given, wall_given;
        struct wh_net_policy *net_policy; /* --net-allow */
};

#define usage_error(...) cli_usage_error("exec", __VA_ARGS__)

static int parse_number(const char *opt, const char *text, uint64_t *out, bool size)
{
        return cli_parse_number("exec", opt, text, out, size);
}

static int add_bind(struct exec_args *a, char *spec, bool writable)
{
        char *colon = strchr(spec, ':');
        if (!colon || colon == spec || !colon[1])
                return usage_error("bind '%s' must be SRC:DST", spec);
        if (a->config.n_binds >= MAX_BINDS)
                return usage_error("too many binds (at most %s)", "64");
        *colon = '\0';
        a->binds[a->config.n_binds++] = (struct wh_bind){spec, colon + 1, writable};
        return 0;
}

/* Every --net-allow adds to one policy; names are resolved now, outside. */
static int add_net_allow(struct exec_args *a, const char *spec)
{
        struct wh_err err = {0};
        if (!a->net_policy && wh_net_policy_new(&a->net_policy, &err) < 0)
                return usage_error("%s", err.msg);
        a->config.net = WH_NET_ALLOW;
        a->config.net_policy = a->net_policy;
        for (const char *s = spec; *s;) {
                size_t len = strcspn(s, ",");
                char item[WH_NET_HOST_MAX + 32];
                if (!len || len >= sizeof(item))
                        return usage_error("--net-allow '%s': an empty or too long item", spec);
                memcpy(item, s, len);
                item[len] = '\0';
                if (wh_net_policy_add(a->net_policy, item, &err) < 0)
                        return usage_error("--net-allow: %s", err.msg);
                s += len + (s[len] == ',');
        }
        return 0;
}

/* --net-max-conns, --net-max-bytes, --net-max-rate: limits of the policy. */
static int set_net_limit(struct exec_args *a, int opt, const char *arg)
{
        const char *name = opt == OPT_NET_MAX_CONNS   ? "--net-max-conns"
                           : opt == OPT_NET_MAX_BYTES ? "--net-max-bytes"
                                                      : "--net-max-rate";
        uint64_t v;
        int rc;
        if (!a->net_policy)
                return usage_error("%s comes after --net-allow", name);
        if ((rc = parse_number(name, arg, &v, opt != OPT_NET_MAX_CONNS)) != 0)
                return rc;
        struct wh_net_limits *l = &a->net_policy->limits;
        if (opt == OPT_NET_MAX_BYTES)
                l->max_bytes = v;
        else if (opt == OPT_NET_MAX_RATE)
                l->max_rate = v;
        else if (v > 1000000)
                return usage_error("--net-max-conns %s: at most 1000000", arg);
        else
                l->max_connections = (uint32_t)v;
        return 0;
}

static int parse_option(struct exec_args *a, int opt, char *arg)
{
        uint64_t v;
        a->memory_given |= opt == LIMIT_OPT_MEMORY;
        a->pids_given |= opt == LIMIT_OPT_PIDS;
        a->wall_given |= opt == LIMIT_OPT_WALL;
        int rc = cli_parse_limit("exec", opt, arg, &a->run.limits);
        if (rc < 0)
                rc = cli_parse_sandbox("exec", opt, arg, &a->config);
        if (rc >= 0)
                return rc;
        switch (opt) {
        case OPT_ROOTFS:
                a->config.rootfs = arg;
                return 0;
        case OPT_RO_BIND:
                return add_bind(a, arg, false);
        case OPT_BIND:
                return add_bind(a, arg, true);
        case OPT_TMP_SIZE:
                return parse_number("--tmp-size", arg, &a->config.tmp_bytes, true);
        case OPT_CHDIR:
                a->run.cwd = arg;
                return 0;
        case OPT_NET:
                if (a->net_policy)
                        return usage_error("%s", "--net and --net-allow exclude each other");
                if (strcmp(arg, "none") == 0)
                        a->config.net = WH_NET_NONE;
                else if (strcmp(arg, "loopback") == 0)
                        a->config.net = WH_NET_LOOPBACK;
                else
                        return usage_error("--net '%s': use none or loopback", arg);
                return 0;
        case OPT_NET_ALLOW:
                return add_net_allow(a, arg);
        case OPT_NET_MAX_CONNS:
        case OPT_NET_MAX_BYTES:
        case OPT_NET_MAX_RATE:
                return set_net_limit(a, opt, arg);
        case OPT_HOSTNAME:
                a->config.hostname = arg;
                return 0;
        case OPT_HOST_UID:
        case OPT_HOST_GID:
                if ((rc = parse_number("--host-uid/--host-gid", arg, &v, false)) != 0)
                        return rc;
                if (v >= 0xffffffffu)
                        return usage_error("host id %s is out of range", arg);
                if (opt == OPT_HOST_UID)
                        a->config.host_uid = (uid_t)v;
                else
                        a->config.host_gid = (gid_t)v;
                return 0;
        case OPT_STDIN:
                a->stdin_path = arg;
                return 0;
        case OPT_STDOUT:
                a->stdout_path = arg;
                return 0;
        case OPT_STDERR:
                a->stderr_path = arg;
                return 0;
        case OPT_SETENV:
                if (!strchr(arg, '=') || arg[0] == '=')
                        return usage_error("--setenv '%s' must be NAME=VALUE", arg);
                if (a->n_env >= MAX_ENV)
                        return usage_error("too many --setenv (at most %s)", "256");
                a->env[a->n_env++] = arg;
                return 0;
        case OPT_STATUS_FILE:
                a->status_path = arg;
                return 0;
        case OPT_NO_DEFAULT_LIMITS:
                a->no_default_limits = true;
                return 0;
        case OPT_STATUS_FD:
                if ((rc = parse_number("--status-fd", arg, &v, false)) != 0)
                        return rc;
                if (v > 65535 || fcntl((int)v, F_GETFD) < 0)
                        return usage_error("--status-fd %s is not an open file descriptor", arg);
                a->status_fd = (int)v;
                return 0;
        case 'h':
                fputs(help, stdout);
                return -1;
        default:
                return usage_error("%s", "unknown option");
        }
}

/* The default memory, pids and wall-clock limits, for those not given. Only
 * a run that asked for no cgroup limit may have them enforced by rlimits
 * where no cgroup can: a limit asked for keeps its rule (enforced by the
 * cgroup, or an error unless --allow-unenforced-limits). */
static void apply_default_limits(struct exec_args *a)
{
        struct wh_limits *l = &a->run.limits;
        bool asked =
            (a->memory_given && l->memory_bytes) || (a->pids_given && l->pids) || l->cpus > 0;
        if (a->no_default_limits)
                return;
        if (!a->memory_given)
                l->memory_bytes = DEFAULT_MEMORY;
        if (!a->pids_given)
                l->pids = DEFAULT_PIDS;
        if (!a->wall_given)
                l->wall_ms = DEFAULT_WALL_MS;
        l->rlimit_fallback = !asked;
}

static int open_output(const char *path, int fallback, int *fd)
{
        if (!path) {
                *fd = fallback;
                return 0;
        }
        *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (*fd < 0) {
                fprintf(stderr, "whiskers exec: cannot open %s: %s\n", path, strerror(errno));
                return WH_EXIT_USAGE;
        }
        return 0;
}

static int exit_code_for(const struct wh_report *r)
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

static void write_status(const struct wh_report *report, int fd)
{
        cleanup_free char *json = wh_report_to_json(report);
        if (fd >= 0 && json &&
            (wh_write_all(fd, json, strlen(json)) < 0 || wh_write_all(fd, "\n", 1) < 0))
                fprintf(stderr, "whiskers exec: cannot write the status record: %s\n",
                        strerror(errno));
}

static int run_sandbox(struct exec_args *a)
{
        struct wh_err err = {0};
        struct wh_sandbox *sb = NULL;
        if (wh_sandbox_new(&a->config, &sb, &err) < 0) {
                fprintf(stderr, "whiskers exec: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        /* Opened last: a usage error leaves no status file behind. */
        cleanup_close int status_fd = -1;
        if (a->status_path) {
                status_fd = open(a->status_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (status_fd < 0) {
                        fprintf(stderr, "whiskers exec: cannot write the status file %s: %s\n",
                                a->status_path, strerror(errno));
                        wh_sandbox_free(sb);
                        return WH_EXIT_USAGE;
                }
        }
        cli_install_stop_handlers();
        a->run.cancel = &cli_stop_signal;
        struct wh_report report;
        int rc = wh_sandbox_run(sb, &a->run, &report, &err);
        wh_sandbox_free(sb);
        if (rc < 0) {
                fprintf(stderr, "whiskers exec: %s\n", err.msg);
                if (a->status_path)
                        unlink(a->status_path);
                return WH_EXIT_USAGE;
        }
        write_status(&report, status_fd >= 0 ? status_fd : a->status_fd);
        if (report.status == WH_STATUS_SANDBOX_ERROR)
                fprintf(stderr, "whiskers exec: sandbox error at stage %s: %s\n", report.stage,
                        report.message);
        if (cli_stop_signal)
                return 128 + cli_stop_signal;
        return exit_code_for(&report);
}

static void exec_args_free(struct exec_args *a)
{
        wh_net_policy_free(a->net_policy);
}

int cmd_exec(int argc, char **argv)
{
        __attribute__((cleanup(exec_args_free))) struct exec_args a = {.status_fd = -1};
        a.config.host_uid = (uid_t)-1;
        a.config.host_gid = (gid_t)-1;
        a.env[a.n_env++] = "PATH=/usr/local/bin:/usr/bin:/bin";
        int opt, rc;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
                if (opt == '?')
                        return usage_error("%s", "bad option");
                if ((rc = parse_option(&a, opt, optarg)) != 0)
                        return rc < 0 ? WH_EXIT_OK : rc;
        }
        if (optind >= argc)
                return usage_error("%s", "no program given: whiskers exec [OPTIONS] -- PROGRAM");
        if (a.status_path && a.status_fd >= 0)
                return usage_error("%s", "--status-file and --status-fd exclude each other");
        a.env[a.n_env] = NULL;
        apply_default_limits(&a);
        a.config.binds = a.binds;
        a.run.argv = (const char *const *)argv + optind;
        a.run.envp = a.env;

        cleanup_close int in_fd = -1, out_fd = -1, err_fd = -1;
        a.run.stdin_fd = -1;
        if (a.stdin_path && strcmp(a.stdin_path, "-") == 0)
                a.run.stdin_fd = STDIN_FILENO;
        else if (a.stdin_path) {
                in_fd = open(a.stdin_path, O_RDONLY | O_CLOEXEC);
                if (in_fd < 0) {
                        fprintf(stderr, "whiskers exec: cannot read --stdin %s: %s\n", a.stdin_path,
                                strerror(errno));
                        return WH_EXIT_USAGE;
                }
                a.run.stdin_fd = in_fd;
        }
        if ((rc = open_output(a.stdout_path, STDOUT_FILENO, &out_fd)) != 0 ||
            (rc = open_output(a.stderr_path, STDERR_FILENO, &err_fd)) != 0)
                return rc;
        a.run.stdout_fd = out_fd;
        a.run.stderr_fd = err_fd;
        if (out_fd <= STDERR_FILENO)
                out_fd = -1; /* ours: not to be closed */
        if (err_fd <= STDERR_FILENO)
                err_fd = -1;
        return run_sandbox(&a);
}
