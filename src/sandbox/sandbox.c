/* wh_sandbox_new / wh_sandbox_run / wh_sandbox_free: one run from the
 * supervisor's side. Read top to bottom, wh_sandbox_run() is the whole story:
 * cgroup, pipes, clone into new namespaces (init joins the cgroup itself),
 * id maps, go, supervise, report,
 * clean up. Every early exit still produces a status record. */
#define _GNU_SOURCE
#include "sandbox/internal.h"
#include "sandbox/cgroup.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAMESPACES "user,pid,mount,net,ipc,uts,cgroup"
#define CLONE_NS_FLAGS                                                                             \
        (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* WH_NET_ALLOW: the tools it needs, and the resolver files bound after the
 * caller's binds (so no bind of the caller's replaces them). */
static int net_allow_prepare(struct wh_sandbox *sb, struct wh_err *err)
{
        const struct wh_net_policy *p = sb->config.net_policy;
        const char *missing = net_tool_missing();
        if (missing)
                return wh_err_set(err, ENOENT, "net", "--net-allow needs %s", missing);
        size_t n = sb->config.n_binds + NET_RESOLVER_FILES;
        sb->all_binds = calloc(n, sizeof(*sb->all_binds));
        if (!sb->all_binds)
                return wh_err_set(err, ENOMEM, "net", "allocating the binds");
        if (net_resolver_create(p, sb->config.rootfs, &sb->resolver, err) < 0) {
                free(sb->all_binds);
                sb->all_binds = NULL;
                return -1;
        }
        if (sb->config.n_binds)
                memcpy(sb->all_binds, sb->config.binds,
                       sb->config.n_binds * sizeof(struct wh_bind));
        memcpy(sb->all_binds + sb->config.n_binds, sb->resolver.binds,
               sb->resolver.n_binds * sizeof(struct wh_bind));
        sb->config.binds = sb->all_binds;
        sb->config.n_binds += sb->resolver.n_binds;
        return 0;
}

static void net_allow_release(struct wh_sandbox *sb)
{
        net_resolver_remove(&sb->resolver);
        free(sb->all_binds);
        sb->all_binds = NULL;
}

int wh_sandbox_new(const struct wh_sandbox_config *config, struct wh_sandbox **out,
                   struct wh_err *err)
{
        if (config->rootfs) {
                struct stat st;
                if (stat(config->rootfs, &st) < 0)
                        return wh_err_set(err, errno, "rootfs", "cannot use rootfs %s",
                                          config->rootfs);
                if (!S_ISDIR(st.st_mode))
                        return wh_err_set(err, ENOTDIR, "rootfs", "rootfs %s", config->rootfs);
        }
        if (config->net == WH_NET_ALLOW && !config->net_policy)
                return wh_err_set(err, EINVAL, "net", "WH_NET_ALLOW needs a net_policy");
        for (size_t i = 0; i < config->n_binds; i++) {
                const struct wh_bind *b = &config->binds[i];
                if (!b->dst || b->dst[0] != '/' || strstr(b->dst, "..") || !b->src)
                        return wh_err_set(err, EINVAL, "binds",
                                          "bind destination '%s' must be an absolute path "
                                          "without '..'",
                                          b->dst ? b->dst : "");
                /* Refused, never cut short: a shorter path is another place. */
                if (strlen(b->dst) >= PATH_MAX)
                        return wh_err_set(err, ENAMETOOLONG, "binds",
                                          "bind destination of %zu bytes: at most %d",
                                          strlen(b->dst), PATH_MAX - 1);
                if (access(b->src, F_OK) < 0)
                        return wh_err_set(err, errno, "binds", "bind source %s", b->src);
        }
        cleanup_free struct wh_sandbox *sb = calloc(1, sizeof(*sb));
        if (!sb)
                return wh_err_set(err, ENOMEM, "sandbox", "allocating the sandbox");
        sb->config = *config;
        sb->caller_is_root = geteuid() == 0;
        sb->host_uid = config->host_uid != (uid_t)-1 ? config->host_uid
                       : sb->caller_is_root          ? WH_DEFAULT_HOST_ID
                                                     : geteuid();
        sb->host_gid = config->host_gid != (gid_t)-1 ? config->host_gid
                       : sb->caller_is_root          ? WH_DEFAULT_HOST_ID
                                                     : getegid();
        if (!sb->caller_is_root && (sb->host_uid != geteuid() || sb->host_gid != getegid()))
                return wh_err_set(err, EPERM, "userns",
                                  "only root can map the sandbox to another host id");
        if (caller_areas_find(&sb->caller, err) < 0)
                return -1;
        if (config->net == WH_NET_ALLOW && net_allow_prepare(sb, err) < 0)
                return -1;
        if (net_seccomp_load(config, &sb->policy, err) < 0) {
                net_allow_release(sb);
                return -1;
        }
        if (wh_seccomp_policy_bpf(sb->policy, &sb->bpf, err) < 0) {
                wh_seccomp_policy_free(sb->policy);
                net_allow_release(sb);
                return -1;
        }
        *out = steal_pointer(&sb);
        return 0;
}

void wh_sandbox_free(struct wh_sandbox *sb)
{
        if (!sb)
                return;
        wh_seccomp_policy_free(sb->policy);
        net_allow_release(sb);
        free(sb);
}

void report_init(struct wh_report *r, const struct wh_sandbox *sb)
{
        memset(r, 0, sizeof(*r));
        r->status = WH_STATUS_SANDBOX_ERROR;
        r->exit_code = -1;
        r->syscall_nr = -1;
        snprintf(r->namespaces, sizeof(r->namespaces), NAMESPACES);
        snprintf(r->cgroup_driver, sizeof(r->cgroup_driver), "none");
        snprintf(r->seccomp_policy_hash, sizeof(r->seccomp_policy_hash), "%s",
                 wh_seccomp_policy_hash(sb->policy));
}

/* A run that could not start: the report says where and why; returns 0. */
static int setup_error(struct wh_report *r, const struct wh_err *e)
{
        r->status = WH_STATUS_SANDBOX_ERROR;
        snprintf(r->stage, sizeof(r->stage), "%s", e->stage ? e->stage : "sandbox");
        snprintf(r->message, sizeof(r->message), "%s", e->msg);
        r->error_errno = e->errnum;
        return 0;
}

/* The run's cgroup; *by says who enforces memory, pids and cpus. */
static int create_cgroup(const struct wh_sandbox *sb, const struct wh_limits *l,
                         struct wh_cgroup **cg, enum wh_limits_by *by, struct wh_err *err)
{
        struct wh_cgroup_opts opts = {.driver = sb->config.cgroup_driver,
                                      .parent = sb->config.cgroup_parent};
        struct wh_cgroup_limits limits = {
            .memory_bytes = l->memory_bytes, .pids = l->pids, .cpus = l->cpus};
        bool any = l->memory_bytes || l->pids || l->cpus > 0;
        *by = any ? WH_LIMITS_BY_CGROUP : WH_LIMITS_BY_NONE;
        if (wh_cgroup_create(&opts, &limits, cg, err) == 0)
                return 0;
        /* rlimits stand in for memory and pids only: never for cpus. */
        if (l->rlimit_fallback && l->cpus <= 0)
                *by = WH_LIMITS_BY_RLIMIT;
        else if (l->allow_unenforced)
                *by = WH_LIMITS_BY_UNENFORCED;
        else
                return -1;
        /* Keep the accounting we can get. */
        struct wh_cgroup_limits none = {0};
        return wh_cgroup_create(&opts, &none, cg, err);
}

/* The program's stdin: /dev/null; the caller's regular file itself (seekable,
 * as docs/contract.md promises); anything else - a terminal above all - is
 * never handed over, since the program could act on it (tcsetattr,
 * TIOCSWINSZ; send on a socket): it gets a pipe (the read end returned,
 * both ends in pipe_fds) that the supervisor copies the caller's stdin into. */
static int open_stdin(int fd, int pipe_fds[2])
{
        if (fd < 0)
                return open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -1;
        if (S_ISREG(st.st_mode))
                return fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (pipe2(pipe_fds, O_CLOEXEC) < 0 || fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK) < 0)
                return -1;
        return fcntl(pipe_fds[0], F_DUPFD_CLOEXEC, 3);
}

static pid_t clone_init(struct child_ctx *ctx, int *pidfd)
{
        struct clone_args args = {.flags = CLONE_NS_FLAGS | CLONE_PIDFD,
                                  .pidfd = (uint64_t)(uintptr_t)pidfd,
                                  .exit_signal = SIGCHLD};
        if (ctx->join->clone_into_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)ctx->join->clone_into_fd;
        }
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid == 0)
                _exit(init_main(ctx));
        return pid;
}

/* WH_NET_ALLOW: connect init's network namespace outward behind the
 * ruleset; init is still waiting for MSG_GO, so nothing of the payload runs.
 * A warm sandbox's is set up once, here, and kept for its life. */
static int net_launch(struct wh_sandbox *sb, struct launched *l, struct wh_err *e)
{
        if (sb->config.net != WH_NET_ALLOW)
                return 0;
        l->net = calloc(1, sizeof(*l->net));
        if (!l->net)
                return wh_err_set(e, ENOMEM, "net", "allocating the network state");
        return net_run_start(l->net, l->pid, sb, e);
}

int sandbox_launch(struct wh_sandbox *sb, const struct wh_run_spec *run, int control_fd,
                   struct wh_report *r, struct launched *l)
{
        *l = (struct launched){
            .pid = -1, .pidfd = -1, .ctl = -1, .out_r = -1, .err_r = -1, .stdin_w = -1};
        struct wh_err e = {0};
        r->limits = run->limits;
        if (create_cgroup(sb, &run->limits, &l->cgroup, &r->limits_by, &e) < 0)
                return setup_error(r, &e), -1;
        snprintf(r->cgroup_driver, sizeof(r->cgroup_driver), "%s",
                 wh_cgroup_driver_name(l->cgroup));

        struct wh_cgroup_join join = {.clone_into_fd = -1};
        int ctl[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
        cleanup_close int stdin_fd = -1;
        /* A warm sandbox's processes in a leaf of their own on v2, so that an
         * input's child can have its own memory cgroup (docs/warm.md). */
        if ((control_fd >= 0 && wh_cgroup_nest(l->cgroup, &e) < 0) ||
            wh_cgroup_join_prepare(l->cgroup, &join, &e) < 0 ||
            run_strings_copy(run, &l->strings, &e) < 0)
                goto fail;
        /* The warm zygote's control socket is its stdin on purpose (warm.c). */
        stdin_fd =
            control_fd >= 0 ? fcntl(control_fd, F_DUPFD_CLOEXEC, 3) : open_stdin(run->stdin_fd, in);
        if (stdin_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
            pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                wh_err_set(&e, errno, "sandbox", "cannot create the run's pipes");
                goto fail;
        }
        struct child_ctx ctx = {.sb = sb,
                                .run = run,
                                .strings = &l->strings,
                                .ctl_fd = ctl[1],
                                .stdin_fd = stdin_fd,
                                .stdout_w = out[1],
                                .stderr_w = errp[1],
                                .cpu_via_rlimit = wh_cgroup_driver(l->cgroup) == WH_CGROUP_NONE,
                                .mem_pids_via_rlimit = r->limits_by == WH_LIMITS_BY_RLIMIT,
                                .join = &join};
        pid_t pid = clone_init(&ctx, &l->pidfd);
        if (pid < 0) {
                const char *why = userns_unavailable_reason(errno);
                if (why)
                        wh_err_set(&e, errno, "userns", "%s", why);
                else
                        wh_err_set(&e, errno, "namespaces", "cannot create the namespaces");
                goto fail;
        }
        l->pid = pid;
        close(ctl[1]), close(out[1]), close(errp[1]);
        if (in[0] >= 0)
                close(in[0]);
        l->ctl = ctl[0], l->out_r = out[0], l->err_r = errp[0], l->stdin_w = in[1];
        wh_cgroup_join_release(&join);
        if (userns_write_maps(pid, sb, &e) < 0 || net_launch(sb, l, &e) < 0) {
                sandbox_launch_end(l);
                return setup_error(r, &e), -1;
        }
        struct msg go = {.type = MSG_GO};
        msg_send(l->ctl, &go, -1);
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                if (ctl[i] >= 0)
                        close(ctl[i]);
                if (out[i] >= 0)
                        close(out[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
                if (in[i] >= 0)
                        close(in[i]);
        }
        wh_cgroup_join_release(&join);
        sandbox_launch_end(l);
        return setup_error(r, &e), -1;
}

void sandbox_launch_kill(struct launched *l)
{
        if (l->pid > 0) {
                syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
                waitpid(l->pid, NULL, 0);
        }
        l->pid = -1;
}

void sandbox_launch_end(struct launched *l)
{
        sandbox_launch_kill(l);
        int fds[] = {l->pidfd, l->ctl, l->out_r, l->err_r, l->stdin_w};
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        if (l->net) {
                net_run_stop(l->net);
                free(l->net);
        }
        wh_cgroup_destroy(l->cgroup);
        run_strings_free(&l->strings);
        *l = (struct launched){
            .pid = -1, .pidfd = -1, .ctl = -1, .out_r = -1, .err_r = -1, .stdin_w = -1};
}

int wh_sandbox_run(struct wh_sandbox *sb, const struct wh_run_spec *run, struct wh_report *r,
                   struct wh_err *err)
{
        if (!run->argv || !run->argv[0])
                return wh_err_set(err, EINVAL, "exec", "no program to run");
        report_init(r, sb);
        struct launched l;
        if (sandbox_launch(sb, run, -1, r, &l) < 0)
                return 0;
        struct supervise_io io = {.pidfd = l.pidfd,
                                  .ctl_fd = l.ctl,
                                  .stdout_r = l.out_r,
                                  .stderr_r = l.err_r,
                                  .stdout_dst = run->stdout_fd,
                                  .stderr_dst = run->stderr_fd,
                                  .stdin_src = l.stdin_w >= 0 ? run->stdin_fd : -1,
                                  .stdin_w = l.stdin_w,
                                  .cgroup = l.cgroup,
                                  .limits = &run->limits,
                                  .cancel = run->cancel,
                                  .on_stdout = run->on_stdout,
                                  .stdout_ctx = run->stdout_ctx};
        supervise(&io, r);
        l.stdin_w = io.stdin_w; /* -1 once the loop has closed it */
        waitpid(l.pid, NULL, 0);
        l.pid = -1;
        if (l.net)
                net_run_finish(l.net, r);
        sandbox_launch_end(&l);
        return 0;
}
