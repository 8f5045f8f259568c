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

struct exec_args {
        struct wh_sandbox_config config;
        struct wh_run_spec run;
        struct wh_bind binds[MAX_BINDS];
        const char *env[MAX_ENV + 2];
        size_t n_env;
        const char *stdin_path, *stdout_path, *stderr_path, *status_path;
        int status_fd;
        bool no_default_limits;
};

/* A limit with a default starts as UNSET: given as 0 it means none. */
#define UNSET UINT64_MAX

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

static int bind_ro(void *base, const char *v, const char *cmd)
{
        (void)cmd;
        return add_bind(base, (char *)v, false);
}

static int bind_rw(void *base, const char *v, const char *cmd)
{
        (void)cmd;
        return add_bind(base, (char *)v, true);
}

static int net(void *base, const char *v, const char *cmd)
{
        struct exec_args *a = base;
        (void)cmd;
        if (a->config.net_policy)
                return usage_error("%s", "--net and --net-allow exclude each other");
        if (strcmp(v, "none") == 0)
                a->config.net = WH_NET_NONE;
        else if (strcmp(v, "loopback") == 0)
                a->config.net = WH_NET_LOOPBACK;
        else
                return usage_error("--net '%s': use none or loopback", v);
        return 0;
}

static int host_id(const char *v, uint32_t *out)
{
        uint64_t n;
        int rc = parse_number("--host-uid/--host-gid", v, &n, false);
        if (rc != 0)
                return rc;
        if (n >= 0xffffffffu)
                return usage_error("host id %s is out of range", v);
        *out = (uint32_t)n;
        return 0;
}

static int host_uid(void *base, const char *v, const char *cmd)
{
        (void)cmd;
        return host_id(v, &((struct exec_args *)base)->config.host_uid);
}

static int host_gid(void *base, const char *v, const char *cmd)
{
        (void)cmd;
        return host_id(v, &((struct exec_args *)base)->config.host_gid);
}

static int setenv_option(void *base, const char *v, const char *cmd)
{
        struct exec_args *a = base;
        (void)cmd;
        if (!strchr(v, '=') || v[0] == '=')
                return usage_error("--setenv '%s' must be NAME=VALUE", v);
        if (a->n_env >= MAX_ENV)
                return usage_error("too many --setenv (at most %s)", "256");
        a->env[a->n_env++] = v;
        return 0;
}

static int status_fd(void *base, const char *v, const char *cmd)
{
        uint64_t n;
        (void)cmd;
        int rc = parse_number("--status-fd", v, &n, false);
        if (rc != 0)
                return rc;
        if (n > 65535 || fcntl((int)n, F_GETFD) < 0)
                return usage_error("--status-fd %s is not an open file descriptor", v);
        ((struct exec_args *)base)->status_fd = (int)n;
        return 0;
}

#define AT(field) offsetof(struct exec_args, field)
static const struct cli_option options[] = {
    {CLI_SECTION, .help = "Filesystem:\n"},
    {CLI_STR, "rootfs", .metavar = "DIR", .offset = AT(config.rootfs), .complete = CLI_DIR,
     .help = "use DIR read-only as / (needs dirs proc, dev, tmp)"},
    {CLI_CALL, "ro-bind", .metavar = "SRC:DST", .call = bind_ro, .complete = CLI_FILE,
     .help = "bind host SRC read-only at DST (repeatable)"},
    {CLI_CALL, "bind", .metavar = "SRC:DST", .call = bind_rw, .complete = CLI_FILE,
     .help = "bind host SRC writable at DST (repeatable)"},
    {CLI_SIZE, "tmp-size", .metavar = "SIZE", .offset = AT(config.tmp_bytes),
     .help = "size of the tmpfs /tmp (default 64M)"},
    {CLI_STR, "chdir", .metavar = "DIR", .offset = AT(run.cwd),
     .help = "working directory inside (default /)"},
    {CLI_SECTION, .help = "Network and identity:\n"},
    {CLI_CALL, "net", .metavar = "none|loopback", .call = net,
     .help = "no interface (default), or loopback only"},
    {CLI_GROUP, .group = cli_net_options, .offset = AT(config)},
    {CLI_STR, "hostname", .metavar = "NAME", .offset = AT(config.hostname),
     .help = "default \"whiskers\""},
    {CLI_CALL, "host-uid", .metavar = "N", .call = host_uid},
    {CLI_CALL, "host-gid", .metavar = "N", .call = host_gid,
     .help = "host ids the sandbox's root maps to (root: default 2000000000; others: their own "
             "ids)"},
    {CLI_SECTION, .help = "Limits (SIZE: a number with K, M, G suffix; 0 means none). Defaults:\n"
                          "--memory 1G, --pids 256, --wall-ms 60000:\n"},
    {CLI_GROUP, .group = cli_limit_options, .offset = AT(run.limits)},
    {CLI_FLAG, "no-default-limits", .offset = AT(no_default_limits),
     .help = "no memory, pids or wall-clock limit unless given"},
    {CLI_SECTION,
     .help = "  Where no cgroup can enforce them, the *default* memory and pids limits are\n"
             "  enforced with rlimits (RLIMIT_AS per process, RLIMIT_NPROC); limits given\n"
             "  explicitly need the cgroup, or --allow-unenforced-limits.\n"
             "Sandbox:\n"},
    {CLI_GROUP, .group = cli_sandbox_options, .offset = AT(config)},
    {CLI_SECTION, .help = "I/O:\n"},
    {CLI_STR, "stdin", .metavar = "FILE", .offset = AT(stdin_path), .complete = CLI_FILE,
     .help = "the program's stdin (default /dev/null; - = ours, which unless a regular file is "
             "copied through a pipe: the program never gets our terminal)"},
    {CLI_STR, "stdout", .metavar = "FILE", .offset = AT(stdout_path), .complete = CLI_FILE},
    {CLI_STR, "stderr", .metavar = "FILE", .offset = AT(stderr_path), .complete = CLI_FILE,
     .help = "where its output goes (default: ours)"},
    {CLI_CALL, "setenv", .metavar = "NAME=VALUE", .call = setenv_option,
     .help = "add to the environment, which is otherwise only PATH=/usr/local/bin:/usr/bin:/bin "
             "(repeatable)"},
    {CLI_STR, "status-file", .metavar = "PATH", .offset = AT(status_path), .complete = CLI_FILE,
     .help = "write the status record (JSON) there"},
    {CLI_CALL, "status-fd", .metavar = "N", .call = status_fd,
     .help = "write the status record to fd N"},
    {0},
};

/* The default memory, pids and wall-clock limits, for those not given. Only
 * a run that asked for no cgroup limit may have them enforced by rlimits
 * where no cgroup can: a limit asked for keeps its rule (enforced by the
 * cgroup, or an error unless --allow-unenforced-limits). */
static void apply_default_limits(struct exec_args *a)
{
        struct wh_limits *l = &a->run.limits;
        bool memory_given = l->memory_bytes != UNSET, pids_given = l->pids != UNSET;
        bool asked = (memory_given && l->memory_bytes) || (pids_given && l->pids) || l->cpus > 0;
        bool defaults = !a->no_default_limits;
        if (!memory_given)
                l->memory_bytes = defaults ? DEFAULT_MEMORY : 0;
        if (!pids_given)
                l->pids = defaults ? DEFAULT_PIDS : 0;
        if (l->wall_ms == UNSET)
                l->wall_ms = defaults ? DEFAULT_WALL_MS : 0;
        if (defaults)
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
        return cli_exit_code(&report);
}

static void exec_args_free(void *args)
{
        struct exec_args *a = args;
        cli_net_policy_free(&a->config);
}

static int cmd_exec(void *args, int argc, char **argv)
{
        (void)argc;
        struct exec_args *a = args;
        int rc;
        if (a->status_path && a->status_fd >= 0)
                return usage_error("%s", "--status-file and --status-fd exclude each other");
        a->env[a->n_env] = NULL;
        apply_default_limits(a);
        a->config.binds = a->binds;
        a->run.argv = (const char *const *)argv;
        a->run.envp = a->env;

        cleanup_close int in_fd = -1, out_fd = -1, err_fd = -1;
        a->run.stdin_fd = -1;
        if (a->stdin_path && strcmp(a->stdin_path, "-") == 0)
                a->run.stdin_fd = STDIN_FILENO;
        else if (a->stdin_path) {
                in_fd = open(a->stdin_path, O_RDONLY | O_CLOEXEC);
                if (in_fd < 0) {
                        fprintf(stderr, "whiskers exec: cannot read --stdin %s: %s\n",
                                a->stdin_path, strerror(errno));
                        return WH_EXIT_USAGE;
                }
                a->run.stdin_fd = in_fd;
        }
        if ((rc = open_output(a->stdout_path, STDOUT_FILENO, &out_fd)) != 0 ||
            (rc = open_output(a->stderr_path, STDERR_FILENO, &err_fd)) != 0)
                return rc;
        a->run.stdout_fd = out_fd;
        a->run.stderr_fd = err_fd;
        if (out_fd <= STDERR_FILENO)
                out_fd = -1; /* ours: not to be closed */
        if (err_fd <= STDERR_FILENO)
                err_fd = -1;
        return run_sandbox(a);
}

const struct cli_command cmd_exec_cli = {
    .name = "exec",
    .head = "Usage: whiskers exec [OPTIONS] -- PROGRAM [ARGS...]\n"
            "\n"
            "Run PROGRAM in a fresh sandbox: new user, pid, mount, net, ipc, uts and cgroup\n"
            "namespaces; a read-only root with the host's /usr; no capabilities; no_new_privs;\n"
            "a seccomp allowlist; Landlock; cgroup and rlimit limits. Prints nothing of its own\n"
            "unless asked: the status record says how the run ended (docs/sandbox.md).\n"
            "\n",
    .tail = "\n"
            "Exit status: 0 ok; 1 the program exited non-zero or died by a signal; 2 usage\n"
            "error (nothing ran); 3 a limit stopped it (timeout, oom, output); 4 killed for a\n"
            "forbidden system call; 5 the sandbox could not be set up; 6 the host forbids user\n"
            "namespaces; 126 the program cannot be executed; 127 the program was not found.\n",
    .options = options,
    .min_args = 1,
    .max_args = CLI_ANY_ARGS,
    .args = "the PROGRAM to run: whiskers exec [OPTIONS] -- PROGRAM",
    .options_first = true,
    .args_size = sizeof(struct exec_args),
    .defaults =
        &(const struct exec_args){
            .status_fd = -1,
            .config = {.host_uid = (uid_t)-1, .host_gid = (gid_t)-1},
            .env = {"PATH=/usr/local/bin:/usr/bin:/bin"},
            .n_env = 1,
            .run.limits = {.memory_bytes = UNSET, .pids = UNSET, .wall_ms = UNSET}},
    .run = cmd_exec,
    .done = exec_args_free,
};
