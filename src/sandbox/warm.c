/* The zygote's life (docs/warm.md): the sandbox is launched like a cold run's
 * (sandbox_launch), with a SOCK_SEQPACKET socket as the payload's stdin; we
 * wait until the payload, the zygote, says "ready" on it, and take its pid
 * from the kernel (SCM_CREDENTIALS), checked to be init's child. A start
 * that fails says why in w->error, with the start of what the zygote wrote;
 * after WARM_GIVE_UP failures in a row the warm sandbox gives up. */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"
#include "sandbox/cgroup.h"
#include "sandbox/net.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LOAD_MS 60000

uint64_t warm_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int wh_warm_new(struct wh_sandbox *sb, const struct wh_run_spec *zygote, uint64_t load_ms,
                struct wh_warm **out, struct wh_err *err)
{
        if (!zygote || !zygote->argv || !zygote->argv[0])
                return wh_err_set(err, EINVAL, "warm", "no zygote program to run");
        struct wh_warm *w = calloc(1, sizeof(*w));
        if (!w)
                return wh_err_set(err, ENOMEM, "warm", "allocating the warm sandbox");
        w->sb = sb;
        w->zygote = zygote;
        w->load_ms = load_ms ? load_ms : DEFAULT_LOAD_MS;
        w->zsock = w->zpidfd = w->notif = w->tmp_fd = w->spare = -1;
        w->l = (struct launched){
            .pid = -1, .pidfd = -1, .ctl = -1, .out_r = -1, .err_r = -1, .stdin_w = -1};
        wh_warm_persistent(w, 0);
        if (warm_zygote_policy(w, err) < 0) {
                wh_warm_free(w);
                return -1;
        }
        *out = w;
        return 0;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

void warm_down(struct wh_warm *w)
{
        warm_ahead_stop(w); /* it reads the leaf and the spare's channel */
        warm_leaf_down(w);
        warm_persist_forget(w);
        close_fd(&w->spare);
        close_fd(&w->zsock);
        close_fd(&w->zpidfd);
        close_fd(&w->notif);
        close_fd(&w->tmp_fd);
        if (w->l.net) {
                /* The input in flight keeps what it logged until the end. */
                sandbox_launch_kill(&w->l);
                net_run_take(w->l.net, &w->net_left);
        }
        sandbox_launch_end(&w->l);
        w->up = false;
        w->zpid = 0;
}

int warm_net_take(struct wh_warm *w, struct wh_report *r)
{
        if (w->sb->config.net != WH_NET_ALLOW)
                return 0;
        int rc = w->up && w->l.net ? net_run_take(w->l.net, &w->net_left) : 0;
        r->net_allow = true;
        r->net = w->net_left;
        w->net_left.n = w->net_left.dropped = 0;
        return rc;
}

void wh_warm_free(struct wh_warm *w)
{
        if (!w)
                return;
        warm_down(w);
        wh_seccomp_policy_free(w->zpolicy);
        free(w);
}

bool wh_warm_given_up(const struct wh_warm *w)
{
        return w->failures >= WARM_GIVE_UP;
}

const char *wh_warm_last_error(const struct wh_warm *w)
{
        return w->error;
}

/* VmRSS of a process in bytes, 0 if it cannot be read (gone). */
static uint64_t vm_rss(pid_t pid)
{
        char buf[4096];
        if (warm_read_status(pid, buf, sizeof(buf)) < 0)
                return 0;
        const char *line = strstr(buf, "\nVmRSS:");
        return line ? strtoull(line + 7, NULL, 10) * 1024 : 0;
}

uint64_t wh_warm_rss(const struct wh_warm *w)
{
        return w->up ? vm_rss(w->l.pid) + vm_rss(w->zpid) : 0;
}

/* What the zygote wrote to stdout and stderr while loading: kept for the
 * error message (the end of it, where a traceback says what went wrong). */
struct zout {
        char text[1024];
        size_t len;
};

static void drain(int *fd, struct zout *o)
{
        char buf[4096];
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        close_fd(fd);
                return;
        }
        size_t keep = sizeof(o->text) - 1;
        for (ssize_t i = 0; i < n; i++) {
                if (o->len == keep) {
                        memmove(o->text, o->text + 1, keep - 1);
                        o->len--;
                }
                o->text[o->len++] = buf[i] >= 0x20 || buf[i] == '\n' ? buf[i] : '?';
        }
        o->text[o->len] = '\0';
}

static int fail(struct wh_warm *w, const struct zout *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct wh_warm *w, const struct zout *o, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->error, sizeof(w->error), fmt, ap);
        va_end(ap);
        size_t tail = o && o->len > 300 ? o->len - 300 : 0;
        if (o && o->len && n > 0 && (size_t)n < sizeof(w->error) - 320)
                snprintf(w->error + n, sizeof(w->error) - (size_t)n, "; it wrote: %.300s",
                         o->text + tail);
        warm_down(w);
        w->failures++;
        return -1;
}

/* The frame "ready" from the zygote: its pid, checked, and a pidfd to it. */
static int on_ready(struct wh_warm *w, const struct zout *o)
{
        char text[WARM_FRAME_MAX];
        int fds[WARM_MAX_FDS];
        size_t nfd;
        pid_t pid;
        ssize_t n = warm_recv(w->zsock, text, sizeof(text), &pid, fds, 0, &nfd);
        if (n < 0 && errno == EAGAIN)
                return 0;
        if (n == 0)
                return 2; /* it is ending: init's MSG_EXIT says how */
        if (n < 0)
                return fail(w, o,
                            "protocol error: a bad frame from the zygote before \"ready\": %s",
                            strerror(errno));
        if (strcmp(text, "ready") != 0)
                return fail(w, o, "protocol error: the zygote sent \"%.64s\" instead of \"ready\"",
                            text);
        w->zpidfd = warm_pidfd_of_child(pid, w->l.pid);
        if (w->zpidfd < 0)
                return fail(w, o, "\"ready\" came from pid %d, which is not the zygote", (int)pid);
        w->zpid = pid;
        return 1;
}

static int on_init_msg(struct wh_warm *w, const struct zout *o, bool *applied)
{
        struct msg m;
        int fd = -1;
        if (msg_recv(w->l.ctl, &m, &fd) != 1)
                return fail(w, o, "the sandbox's init ended while the zygote was loading");
        switch (m.type) {
        case MSG_APPLIED:
                w->landlock_abi = m.landlock_abi;
                *applied = true;
                break;
        case MSG_LISTENER:
                if (fd >= 0 && w->notif < 0)
                        w->notif = fd, fd = -1;
                break;
        case MSG_SETUP_FAILED:
                if (fd >= 0)
                        close(fd);
                return fail(w, o, "the sandbox could not be set up: stage %s: %s%s%s", m.stage,
                            m.text, m.errnum ? ": " : "", m.errnum ? strerror(m.errnum) : "");
        case MSG_EXIT:
                return fail(w, o, "the zygote %s %d while loading",
                            WIFEXITED(m.wait_status) ? "exited with status"
                                                     : "was killed by signal",
                            WIFEXITED(m.wait_status) ? WEXITSTATUS(m.wait_status)
                                                     : WTERMSIG(m.wait_status));
        }
        if (fd >= 0)
                close(fd);
        return 0;
}

/* Up when the zygote said "ready" and init reported what it applied. Init
 * sends that before it execs the zygote, but both can be waiting at once, with
 * other messages of init's before it: returning at "ready" alone left the
 * report unread and a warm run's provenance said landlock_abi 0 (seen under
 * ASan in CI, where the cold run of the same input said 7). */
static int wait_ready(struct wh_warm *w)
{
        struct zout o = {.len = 0};
        bool eof = false, ready = false, applied = false;
        uint64_t deadline = warm_now_ns() + w->load_ms * 1000000ull;
        for (;;) {
                uint64_t now = warm_now_ns();
                if (now >= deadline)
                        return fail(w, &o, "the zygote was not ready after %llu ms (load timeout)",
                                    (unsigned long long)w->load_ms);
                struct pollfd p[] = {{.fd = eof || ready ? -1 : w->zsock, .events = POLLIN},
                                     {.fd = w->l.ctl, .events = POLLIN},
                                     {.fd = w->l.out_r, .events = POLLIN},
                                     {.fd = w->l.err_r, .events = POLLIN},
                                     {.fd = w->notif, .events = POLLIN}};
                int n = poll(p, 5, (int)((deadline - now) / 1000000 + 1));
                if (n < 0 && errno != EINTR)
                        return fail(w, &o, "poll: %s", strerror(errno));
                if (p[4].revents & POLLIN)
                        return fail(w, &o, "the zygote made a forbidden system call while loading");
                if (p[4].revents)
                        close_fd(&w->notif); /* no process left under the filter */
                if (p[2].revents)
                        drain(&w->l.out_r, &o);
                if (p[3].revents)
                        drain(&w->l.err_r, &o);
                if (p[0].revents) {
                        int rc = on_ready(w, &o);
                        if (rc < 0)
                                return -1;
                        eof = eof || rc == 2;
                        ready = ready || rc == 1;
                }
                if (p[1].revents && on_init_msg(w, &o, &applied) < 0)
                        return -1;
                if (ready && applied)
                        return 0;
        }
}

int warm_start(struct wh_warm *w)
{
        int zs[2];
        w->error[0] = '\0';
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, zs) < 0)
                return fail(w, NULL, "socketpair: %s", strerror(errno));
        int one = 1;
        setsockopt(zs[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
        w->zsock = zs[0];
        w->zspec = *w->zygote;
        w->zspec.stdin_fd = -1;
        w->zspec.stdout_fd = w->zspec.stderr_fd = -1;
        w->zspec.on_stdout = NULL;
        w->zspec.limits.wall_ms = w->zspec.limits.cpu_ms = 0;
        if (w->zspec.limits.pids)
                w->zspec.limits.pids++; /* the zygote beside the input's process */
        struct wh_report r;
        report_init(&r, w->sb);
        int rc = sandbox_launch(&w->zsb, &w->zspec, zs[1], &r, &w->l);
        close(zs[1]);
        w->limits_by = r.limits_by;
        if (rc < 0)
                return fail(w, NULL, "the sandbox could not be set up: stage %s: %s", r.stage,
                            r.message);
        fcntl(w->l.out_r, F_SETFL, O_NONBLOCK);
        fcntl(w->l.err_r, F_SETFL, O_NONBLOCK);
        /* Without a cgroup, what an input leaves is found through the
         * processes' children lists (warm_clean.c), its CPU time is limited
         * by RLIMIT_CPU (warm_input.c), memory and pids by the rlimits the
         * zygote got and its children inherit. */
        w->procs_listed = wh_cgroup_driver(w->l.cgroup) != WH_CGROUP_NONE;
        uint64_t cpu;
        w->cpu_by_cgroup = wh_cgroup_cpu_ns(w->l.cgroup, &cpu) == 0;
        if (wait_ready(w) < 0)
                return -1;
        if (warm_note_zygote(w) < 0 || warm_note_isolation(w) < 0 || warm_open_tmp(w) < 0 ||
            warm_empty_tmp(w) < 0)
                return fail(w, NULL,
                            "cannot read the zygote's limits or namespaces, or empty the "
                            "sandbox's /tmp: %s",
                            strerror(errno));
        struct wh_cgroup_stats st = {0};
        wh_cgroup_read_stats(w->l.cgroup, &st);
        w->oom_kills = st.oom_kills;
        struct wh_err err = {0};
        if (warm_leaf_start(w, &err) < 0)
                return fail(w, NULL, "cannot make the inputs' memory cgroup: %s: %s", err.msg,
                            strerror(err.errnum));
        /* Unique in the process: a worker keeps several zygotes (one per
         * normaliser and tenant), and their ids tell them apart. */
        static atomic_uint zygotes_started;
        w->ordinal = 0;
        snprintf(w->id, sizeof(w->id), "%d.%u", (int)getpid(),
                 atomic_fetch_add(&zygotes_started, 1) + 1);
        w->up = true;
        return 0;
}
