/* The two processes inside the sandbox.
 *
 * init (pid 1 of the new pid namespace): joins the run's cgroup, waits until
 * the supervisor has mapped its ids, builds the filesystem, drops every
 * privilege, applies Landlock, forks the payload, reaps everything, and sends
 * the payload's wait status back. When init exits the kernel kills whatever
 * is left in the namespace.
 *
 * payload: sets rlimits and stdio, installs seccomp (handing the listener to
 * the supervisor), and execs the program, searching PATH if needed.
 *
 * Both run after a raw clone of a possibly multi-threaded caller: no malloc,
 * no glibc call that takes a lock or talks to other threads (setxid, fork):
 * only syscalls and stack buffers. A failed step is sent to the supervisor as
 * MSG_SETUP_FAILED naming the stage; nothing ever continues half-confined. */
#define _GNU_SOURCE
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void payload_fail(int ctl, const char *stage, const char *what)
{
        child_fail(ctl, stage, errno, what);
}

/* Like execvpe, but with the PATH of the sandbox's environment and no
 * allocation. Returns only on failure, with errno of the most telling try. */
static void exec_program(char *const *argv, char *const *envp)
{
        const char *file = argv[0];
        if (strchr(file, '/')) {
                execve(file, argv, envp);
                return;
        }
        const char *path = "/usr/local/bin:/usr/bin:/bin";
        for (char *const *e = envp; *e; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        path = *e + 5;
        int saved = ENOENT;
        for (const char *p = path; *p;) {
                const char *end = strchrnul(p, ':');
                char full[4096];
                int n = snprintf(full, sizeof(full), "%.*s/%s", (int)(end - p), p, file);
                if (n > 0 && (size_t)n < sizeof(full)) {
                        execve(full, argv, envp);
                        if (errno == EACCES)
                                saved = EACCES;
                }
                p = *end ? end + 1 : end;
        }
        errno = saved;
}

static void payload_exec(const struct child_ctx *ctx)
{
        const struct run_strings *strings = ctx->strings;
        int ctl = ctx->ctl_fd;

        /* A new session: the payload can never reach the caller's terminal
         * (TIOCSTI injection) even if it were given one. */
        if (setsid() < 0)
                payload_fail(ctl, "exec", "setsid");
        if (dup2(ctx->stdin_fd, 0) < 0 || dup2(ctx->stdout_w, 1) < 0 || dup2(ctx->stderr_w, 2) < 0)
                payload_fail(ctl, "exec", "cannot set up stdio");
        /* Only stdio and the control socket (CLOEXEC) survive into the program. */
        if ((ctl > 3 && close_range(3, (unsigned)ctl - 1, 0) < 0) ||
            close_range((unsigned)ctl + 1, ~0u, 0) < 0)
                payload_fail(ctl, "exec", "cannot close inherited fds");
        if (privs_set_rlimits(ctx) < 0)
                payload_fail(ctl, "rlimit", "cannot set resource limits");
        if (chdir(strings->cwd) < 0)
                payload_fail(ctl, "exec", "cannot change to the working directory");
        /* The program starts with default signal handling whatever the
         * caller ignored (a CLI ignores SIGPIPE, for one). */
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        int listener = -1;
        if (wh_seccomp_install(ctx->sb->bpf, &listener) < 0)
                payload_fail(ctl, "seccomp", "cannot install the seccomp filter");
        struct msg m = {.type = MSG_LISTENER};
        if (msg_send(ctl, &m, listener) < 0)
                payload_fail(ctl, "seccomp", "cannot hand the seccomp listener to the supervisor");
        close(listener);

        exec_program(strings->argv, strings->envp);
        child_fail(ctl, "exec", errno, strings->argv[0]);
}

static void init_setup(const struct child_ctx *ctx)
{
        const struct wh_sandbox *sb = ctx->sb;
        int ctl = ctx->ctl_fd;
        struct msg m;

        /* Wait for the supervisor to map our ids. EOF means it died. */
        if (msg_recv(ctl, &m, NULL) != 1 || m.type != MSG_GO)
                _exit(127);
        /* Raw syscalls: glibc's wrappers would try to change the ids of the
         * caller's other threads too (nptl setxid), which do not exist here,
         * and wait for them forever. */
        if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
                child_fail(ctl, "userns", errno, "cannot become root of the user namespace");
        if (sb->caller_is_root && syscall(SYS_setgroups, 0, NULL) < 0)
                child_fail(ctl, "userns", errno, "cannot drop supplementary groups");
        /* If the supervisor dies, so does the sandbox: with pid 1 gone, the
         * kernel kills every process in the namespace. Set only now, because
         * changing credentials (setresuid above) clears it; and since the
         * supervisor could have died before, look at its end of the socket. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                child_fail(ctl, "init", errno, "cannot set the parent-death signal");
        struct pollfd alive = {.fd = ctl, .events = POLLIN};
        if (poll(&alive, 1, 0) < 0 || alive.revents & (POLLHUP | POLLERR))
                _exit(127);
        if (unshare(CLONE_NEWCGROUP) < 0)
                child_fail(ctl, "namespaces", errno, "cannot create the cgroup namespace");
        const char *host = sb->config.hostname ? sb->config.hostname : "whiskers";
        if (sethostname(host, strlen(host)) < 0)
                child_fail(ctl, "namespaces", errno, "cannot set the hostname");
        if (sb->config.net != WH_NET_NONE && net_loopback_up() < 0)
                child_fail(ctl, "net", errno, "cannot bring up the loopback interface");

        const char *stage = "mount";
        char what[256];
        if (rootfs_setup(ctx, &stage, what, sizeof(what)) < 0)
                child_fail(ctl, stage, errno, what);
        const struct wh_net_policy *np = sb->config.net_policy;
        if (privs_drop_all(sb->config.net == WH_NET_ALLOW && np && np->raw_sockets) < 0)
                child_fail(ctl, "capabilities", errno, "cannot drop capabilities");
        /* init runs without the seccomp filter. Non-dumpable, its /proc/1/mem
         * and /proc/1/fd need CAP_SYS_PTRACE, which the program never has, so
         * the program cannot take init over to make calls the filter forbids.
         * (The program itself is dumpable again after its execve.) */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                child_fail(ctl, "init", errno, "cannot make init non-dumpable");
        int abi = landlock_apply(&sb->config);
        if (abi < 0)
                child_fail(ctl, "landlock", errno, "cannot apply the Landlock ruleset");
        struct msg applied = {.type = MSG_APPLIED, .landlock_abi = abi};
        if (msg_send(ctl, &applied, -1) < 0)
                _exit(127);
}

/* Close every fd inherited from the caller but the four init needs. Among
 * them is the supervisor's own end of the control socket (and, in a threaded
 * caller, other sandboxes' ends): while a copy is open here, a supervisor
 * that dies before sending MSG_GO would never be seen to go. */
static void close_inherited(const struct child_ctx *ctx)
{
        int keep[] = {ctx->ctl_fd, ctx->stdin_fd, ctx->stdout_w, ctx->stderr_w};
        size_t n = sizeof(keep) / sizeof(keep[0]);
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        unsigned from = 3; /* stdio stays: the program gets its own */
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < (int)from)
                        continue;
                if (keep[i] > (int)from && close_range(from, (unsigned)keep[i] - 1, 0) < 0)
                        child_fail(ctx->ctl_fd, "init", errno, "cannot close inherited fds");
                from = (unsigned)keep[i] + 1;
        }
        if (close_range(from, ~0u, 0) < 0)
                child_fail(ctx->ctl_fd, "init", errno, "cannot close inherited fds");
}

int init_main(void *arg)
{
        const struct child_ctx *ctx = arg;
        /* Die with the supervisor from the start; set again after the uid
         * change in init_setup(), which clears it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(127);
        /* Before anything runs that the cgroup should count or limit. */
        if (wh_cgroup_join_self(ctx->join) < 0)
                child_fail(ctx->ctl_fd, "cgroup", errno, "cannot join the sandbox cgroup");
        close_inherited(ctx);
        init_setup(ctx);
        caller_areas_wipe(&ctx->sb->caller);

        /* A raw clone, not fork(): glibc's fork takes locks (malloc, stdio)
         * that another thread of the caller may have held at clone time. */
        pid_t payload = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
        if (payload < 0)
                child_fail(ctx->ctl_fd, "init", errno, "cannot fork the program");
        if (payload == 0)
                payload_exec(ctx);
        close(ctx->stdout_w);
        close(ctx->stderr_w);
        close(ctx->stdin_fd);

        /* Reap until the payload exits, adopting orphans on the way. */
        int status = 0;
        for (;;) {
                int st;
                pid_t pid = wait(&st);
                if (pid == payload) {
                        status = st;
                        break;
                }
                if (pid < 0 && errno != EINTR)
                        break;
        }
        kill(-1, SIGKILL);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        struct rusage ru;
        getrusage(RUSAGE_CHILDREN, &ru);
        struct msg m = {
            .type = MSG_EXIT,
            .wait_status = status,
            .cpu_ns =
                ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
                ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull,
            .maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024,
        };
        msg_send(ctx->ctl_fd, &m, -1);
        _exit(0);
}
