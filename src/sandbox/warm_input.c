/* One input through the zygote (docs/warm.md "One input"):
 *
 *   "input N" + a fresh channel -> zygote        the zygote forks a child
 *     (+ the memory leaf's tasks file: the child moves itself in)
 *   child: "hello" on the channel                 its pid, from the kernel
 *   pidfd, parent checked, oom_score_adj 1000    now it can be killed alone
 *     (a child forked ahead: all this done by warm_ahead.c's thread before
 *     its input starts; at "go" it is seen alive and in its cgroup again;
 *     one that ended before "go" is not the input's: once the zygote reports
 *     its end, a fresh child is asked for, once)
 *   "go" + stdin, stdout, stderr -> the child     only now does input flow
 *   child's stdout/stderr pumped and limited; wall and CPU time (the cgroup's
 *   counter) watched; seccomp notifications answered with a kill
 *   zygote: "exit N STATUS CPU_US MAXRSS_KB"     how its child ended
 *   every other process killed, /tmp emptied     nothing left for input N+1
 *
 * The first reason to stop wins and is recorded before the kill, as in a
 * cold run (supervise.c). A zygote that breaks the protocol, dies, or
 * does not report within DRAIN_GRACE_MS of its child's end fails this input
 * (sandbox_error, stage "warm") and is killed; the next input starts a new
 * one. */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"
#include "sandbox/cgroup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DRAIN_GRACE_MS 1000

enum { P_ZSOCK, P_CHAN, P_CHILD, P_OUT, P_ERR, P_NOTIF, P_INIT, P_ZOUT, P_ZERR, P_COUNT };

struct input {
        struct wh_warm *w;
        const struct wh_run_spec *spec;
        struct wh_report *r;
        struct pollfd p[P_COUNT];
        int out_w, err_w, stdin_fd;
        int chan;  /* our end of the input's channel to the child */
        int pidfd; /* the child, once it said hello */
        bool decided, broken, reported, sink_done, swept;
        bool gone;         /* the zygote reported the child's end */
        bool given;        /* "go" sent: the channel now only says "done" (persistent) */
        bool persistent;   /* the child is w->p's: it outlives the input */
        bool hung_up;      /* persistent: it closed its channel alive, and was killed */
        bool ahead;        /* its child forked ahead: P_CHAN is warm_ahead.c's "done" */
        bool spare;        /* its child was forked ahead and not replaced: an end
                              reported before "go" is that child's, not the input's */
        uint64_t ended_ns; /* the child ended before "go": the zygote's report is due */
        uint64_t process;  /* the ordinal the zygote's "exit" report names */
        int wait_status;
        uint64_t cpu_us, maxrss_kb;
        uint64_t cpu0_us; /* persistent, no cgroup: the process's CPU time before the input */
        uint64_t start_ns, end_ns, cpu0_ns, decided_ns;
};

/* Send "input N" with the child's end of a fresh channel (*chan is ours)
 * and, with a v1 memory leaf, the leaf's tasks file for the child to move
 * itself in (docs/warm.md "Protocol"). */
static int offer(struct wh_warm *w, uint64_t ordinal, int *chan)
{
        int ch[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch) < 0)
                return -1;
        int one = 1;
        setsockopt(ch[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
        char text[64];
        snprintf(text, sizeof(text), "input %" PRIu64 "\n", ordinal);
        int fds[] = {ch[1], w->leaf.tasks};
        int rc = warm_send(w->zsock, text, fds, w->leaf.tasks >= 0 ? 2 : 1);
        close(ch[1]);
        if (rc < 0)
                close(ch[0]);
        else
                *chan = ch[0];
        return rc;
}

static void kill_child(struct input *in)
{
        if (in->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, in->pidfd, SIGKILL, NULL, 0);
        if (in->w->procs_listed)
                warm_kill_leftovers(in->w); /* else its pid namespace dies with it */
}

static void decide(struct input *in, enum wh_status status)
{
        if (in->decided)
                return;
        in->decided = true;
        in->decided_ns = warm_now_ns();
        in->r->status = status;
        kill_child(in);
}

/* The zygote cannot be trusted to serve the next input: this one fails (if
 * nothing decided it before), the sandbox is killed. */
static void broken(struct input *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void broken(struct input *in, const char *fmt, ...)
{
        if (!in->decided) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(in->r->message, sizeof(in->r->message), fmt, ap);
                va_end(ap);
                snprintf(in->r->stage, sizeof(in->r->stage), "warm");
                in->decided = true;
                in->r->status = WH_STATUS_SANDBOX_ERROR;
        }
        in->broken = true;
        in->w->failures++; /* reset by the next input that ends well */
        for (int i = 0; i < P_COUNT; i++)
                if (i != P_OUT && i != P_ERR)
                        in->p[i].fd = -1;
        warm_down(in->w);
}

static void pump(struct input *in, int slot, uint64_t *count, int dst)
{
        char buf[65536];
        ssize_t n = read(in->p[slot].fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                close(in->p[slot].fd);
                in->p[slot].fd = -1;
                return;
        }
        size_t take = output_pass(buf, (size_t)n, in->spec->limits.output_bytes, count, dst);
        if (take < (size_t)n)
                decide(in, WH_STATUS_OUTPUT_LIMIT);
        const struct wh_run_spec *s = in->spec;
        if (slot == P_OUT && s->on_stdout && !in->sink_done && take &&
            s->on_stdout(s->stdout_ctx, buf, (size_t)take) != 0) {
                in->sink_done = true;
                if (!in->decided) {
                        snprintf(in->r->stage, sizeof(in->r->stage), "output");
                        snprintf(in->r->message, sizeof(in->r->message),
                                 "the caller's check of the output stopped the run");
                        decide(in, WH_STATUS_SANDBOX_ERROR);
                }
        }
}

static void discard(struct input *in, int slot)
{
        char buf[4096];
        ssize_t n = read(in->p[slot].fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                in->p[slot].fd = -1;
}

/* One frame without fds (any sent with it are closed), as warm_recv. */
static ssize_t recv_plain(int fd, char text[WARM_FRAME_MAX], pid_t *pid)
{
        int none[1];
        size_t nfd;
        return warm_recv(fd, text, WARM_FRAME_MAX, pid, none, 0, &nfd);
}

/* The next frame on the input's channel into *n; false: none yet. Any
 * other outcome ends this round of the channel: it is no longer polled. */
static bool recv_chan(struct input *in, char text[WARM_FRAME_MAX], pid_t *pid, ssize_t *n)
{
        *n = recv_plain(in->chan, text, pid);
        if (*n < 0 && errno == EAGAIN)
                return false;
        in->p[P_CHAN].fd = -1;
        return true;
}

/* The child ended before its "go": its end is due from the zygote (within
 * DRAIN_GRACE_MS), and is the input's unless the child was a spare. */
static void ended_before_go(struct input *in)
{
        in->p[P_CHAN].fd = in->p[P_CHILD].fd = -1;
        in->ended_ns = warm_now_ns();
}

/* The spare ended before its input and the zygote reported it: the input
 * asks for a fresh child, as the first input of a zygote does. Once: a
 * child asked for during its input is the input's, whatever it does. */
static void ask_again(struct input *in)
{
        warm_ahead_stop(in->w); /* it may still wait for the spare's hello */
        in->spare = in->ahead = false;
        in->ended_ns = 0;
        close(in->chan);
        if (in->pidfd >= 0) { /* it ended, as the zygote said; if it lied, it ends now */
                syscall(SYS_pidfd_send_signal, in->pidfd, SIGKILL, NULL, 0);
                close(in->pidfd);
        }
        in->chan = in->pidfd = in->p[P_CHILD].fd = -1;
        if (offer(in->w, in->r->ordinal, &in->chan) < 0)
                return broken(in, "cannot hand input %" PRIu64 " to the zygote again: %s",
                              in->r->ordinal, strerror(errno));
        in->p[P_CHAN].fd = in->chan;
}

/* "go" with the input's fds; a persistent child answers "done" on the
 * channel when it has served it. */
static void give(struct input *in)
{
        if (in->persistent && !in->w->cpu_by_cgroup)
                in->cpu0_us = warm_persist_cpu_us(in->w->p.pid); /* polled: check_limits */
        char why[256];
        if (warm_leaf_begin(in->w, in->spec->limits.memory_bytes, why, sizeof(why)) < 0)
                return broken(in, "input %" PRIu64 "'s memory cgroup: %s", in->r->ordinal, why);
        int fds[] = {in->stdin_fd, in->out_w, in->err_w};
        if (warm_send(in->chan, "go\n", fds, 3) < 0 && !in->decided) {
                bool ending = warm_child_ending(in->pidfd);
                if (ending && in->spare)
                        return ended_before_go(in);
                if (!ending)
                        decide(in, WH_STATUS_SANDBOX_ERROR); /* else the zygote says how */
        }
        close(in->out_w), close(in->err_w);
        in->out_w = in->err_w = -1;
        in->given = true;
        if (in->persistent)
                in->p[P_CHAN].fd = in->chan;
        in->start_ns = warm_now_ns();
}

/* "done CODE" from a persistent child: the input is served, the child waits
 * for the next. EOF: it died, and the zygote's report says how. */
static void on_done(struct input *in)
{
        char text[WARM_FRAME_MAX];
        pid_t pid;
        ssize_t n;
        if (!recv_chan(in, text, &pid, &n))
                return;
        int code;
        if (n == 0 && !in->decided && !in->reported)
                in->hung_up = warm_persist_hung_up(in->w);
        if (n == 0 || in->decided)
                return;
        if (n < 0 || pid != in->w->p.pid || warm_parse_done(text, &code) < 0) {
                snprintf(in->r->stage, sizeof(in->r->stage), "warm");
                snprintf(in->r->message, sizeof(in->r->message),
                         "protocol error: expected \"done CODE\" from input %" PRIu64
                         "'s persistent process",
                         in->r->ordinal);
                return decide(in, WH_STATUS_SANDBOX_ERROR);
        }
        in->wait_status = code << 8; /* as if it had exited with CODE */
        in->maxrss_kb = warm_persist_hwm_kb(pid);
        in->cpu_us = warm_persist_cpu_us(pid);
        in->reported = true;
        in->end_ns = warm_now_ns();
        in->p[P_ZSOCK].fd = in->p[P_CHILD].fd = -1; /* the zygote has nothing to say */
}

/* No cgroup counts the input's CPU time: the child gets RLIMIT_CPU, as a
 * cold run's program does (privs.c), rounded up to whole seconds by the
 * kernel; each process it forks has its own. Soft = hard: the kernel's
 * SIGKILL at the hard limit, since the SIGXCPU a cold run gets first is
 * ignored by the init of a pid namespace. */
static int limit_cpu(pid_t pid, uint64_t cpu_ms)
{
        if (!cpu_ms)
                return 0;
        struct rlimit rl = {.rlim_cur = (cpu_ms + 999) / 1000, .rlim_max = (cpu_ms + 999) / 1000};
        return prlimit(pid, RLIMIT_CPU, &rl, NULL);
}

/* The child was admitted (warm_admit): its CPU limit without a cgroup, then the input. */
static void admitted(struct input *in, pid_t pid)
{
        struct wh_warm *w = in->w;
        if (!w->cpu_by_cgroup && !w->p.max_inputs && limit_cpu(pid, in->spec->limits.cpu_ms) < 0)
                return broken(in, "cannot limit input %" PRIu64 "'s CPU time (RLIMIT_CPU): %s",
                              in->r->ordinal, strerror(errno));
        if (w->p.max_inputs) {
                warm_persist_keep(w, in->chan, in->pidfd, pid, in->process);
                in->persistent = true;
        }
        give(in);
}

/* The channel ended before "hello": the child ended, and the zygote says
 * how (it may have already); anything else is a protocol error. */
static void no_hello(struct input *in, bool eof)
{
        if (!eof)
                return broken(in, "protocol error: the child's first frame was not \"hello\"");
        if (!in->reported)
                ended_before_go(in);
}

/* "hello" from the child: admit it, then give it the input. */
static void on_hello(struct input *in)
{
        char text[WARM_FRAME_MAX], why[WH_MESSAGE_MAX];
        pid_t pid;
        ssize_t n;
        if (!recv_chan(in, text, &pid, &n))
                return;
        if (n <= 0 || strcmp(text, "hello") != 0)
                return no_hello(in, n == 0);
        int rc = warm_admit(in->w, in->r->ordinal, pid, &in->pidfd, why, sizeof(why));
        in->p[P_CHILD].fd = in->pidfd;
        if (rc < 0)
                return broken(in, "%s", why);
        admitted(in, pid);
}

/* The child forked ahead was admitted (or refused) by warm_ahead.c's thread:
 * what is left is "go", once it is seen to be alive and in place still. */
static void on_ahead(struct input *in)
{
        char why[WH_MESSAGE_MAX];
        pid_t pid;
        eventfd_t ignored;
        if (eventfd_read(in->p[P_CHAN].fd, &ignored) < 0)
                return;
        in->p[P_CHAN].fd = -1;
        in->ahead = false;
        int rc = warm_ahead_take(in->w, &in->pidfd, &pid, why, sizeof(why));
        in->p[P_CHILD].fd = in->pidfd;
        if (rc == WARM_AHEAD_REFUSED)
                return broken(in, "%s", why);
        if (in->pidfd < 0)
                return no_hello(in, true);
        if (rc == WARM_AHEAD_ADMITTED)
                return admitted(in, pid);
        ended_before_go(in); /* while it waited: not the input's */
}

/* "exit N STATUS CPU_US MAXRSS_KB" from the zygote, after it reaped its child. */
static void on_zygote(struct input *in)
{
        char text[WARM_FRAME_MAX];
        pid_t pid;
        ssize_t n = recv_plain(in->p[P_ZSOCK].fd, text, &pid);
        if (n < 0 && errno == EAGAIN)
                return;
        if (n == 0)
                return broken(in, "the zygote closed its control socket during input %" PRIu64,
                              in->r->ordinal);
        struct warm_exit e;
        if (n < 0 || pid != in->w->zpid || warm_parse_exit(text, &e) < 0 ||
            e.ordinal != in->process)
                return broken(in,
                              "protocol error: expected \"exit %" PRIu64
                              " STATUS CPU_US MAXRSS_KB\" from the zygote",
                              in->process);
        if (in->spare && !in->given && !in->decided)
                return ask_again(in); /* the spare ended before its input */
        in->wait_status = e.status;
        in->cpu_us = e.cpu_us;
        in->maxrss_kb = e.maxrss_kb;
        in->reported = true;
        if (!in->given) { /* it ended before "go": nobody will write the output pipes */
                close(in->out_w), close(in->err_w);
                in->out_w = in->err_w = -1;
        }
        in->gone = true;
        if (in->persistent)
                in->w->p.pid = 0; /* not to be spared or expected by the sweep */
        in->end_ns = warm_now_ns();
        in->p[P_ZSOCK].fd = -1;
        in->p[P_CHILD].fd = -1; /* its end is known; the pidfd stays open for kills */
}

static void on_notification(struct input *in)
{
        union seccomp_notif_buf u;
        if (seccomp_notif_recv(in->p[P_NOTIF].fd, &u) < 0) {
                if (errno == EINTR || errno == ENOENT)
                        return;
                return broken(in, "cannot read the seccomp listener: %s", strerror(errno));
        }
        if (!in->decided)
                report_syscall(in->r, &u.notif);
        if ((pid_t)u.notif.pid == in->w->zpid) {
                in->decided = in->decided || (in->r->status = WH_STATUS_SECCOMP_KILL, true);
                return broken(in, "the zygote made a forbidden system call");
        }
        /* The offender is the child or one of its descendants: the leftover
         * sweep after the child's end kills the rest. */
        decide(in, WH_STATUS_SECCOMP_KILL);
        int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)u.notif.pid, 0);
        if (pidfd >= 0) {
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                close(pidfd);
        }
}

static int next_timeout(struct input *in)
{
        const struct wh_limits *l = &in->spec->limits;
        uint64_t now = warm_now_ns();
        if (in->reported) {
                uint64_t waited = (now - in->end_ns) / 1000000;
                return waited >= DRAIN_GRACE_MS ? 0 : (int)(DRAIN_GRACE_MS - waited);
        }
        if (in->decided || in->ended_ns) {
                uint64_t waited = (now - (in->decided ? in->decided_ns : in->ended_ns)) / 1000000;
                return waited >= DRAIN_GRACE_MS ? 0 : (int)(DRAIN_GRACE_MS - waited);
        }
        int64_t best = -1;
        if (l->wall_ms && !in->decided) {
                uint64_t deadline = in->start_ns + l->wall_ms * 1000000ull;
                best = now >= deadline ? 0 : (int64_t)((deadline - now + 999999) / 1000000);
        }
        if (l->cpu_ms && (in->w->cpu_by_cgroup || in->persistent) && !in->decided &&
            (best < 0 || best > 10))
                best = 10; /* the cgroup's CPU counter, polled */
        return (int)best;
}

static void check_limits(struct input *in)
{
        const struct wh_limits *l = &in->spec->limits;
        uint64_t now = warm_now_ns();
        if (in->decided || in->reported)
                return;
        if (in->spec->cancel && *in->spec->cancel) {
                snprintf(in->r->stage, sizeof(in->r->stage), "cancelled");
                snprintf(in->r->message, sizeof(in->r->message), "the caller stopped the run");
                return decide(in, WH_STATUS_SANDBOX_ERROR);
        }
        if (l->wall_ms && now >= in->start_ns + l->wall_ms * 1000000ull)
                return decide(in, WH_STATUS_TIMEOUT_WALL);
        uint64_t cpu;
        if (l->cpu_ms && wh_cgroup_cpu_ns(in->w->l.cgroup, &cpu) == 0 &&
            (cpu - in->cpu0_ns) / 1000000 >= l->cpu_ms)
                return decide(in, WH_STATUS_TIMEOUT_CPU);
        /* No cgroup, a persistent process: an rlimit cannot be moved on
         * for each input (its hard limit cannot be raised again), so its
         * CPU time is polled (its threads; what it forks has none). */
        if (l->cpu_ms && in->persistent && !in->w->cpu_by_cgroup && in->given &&
            (warm_persist_cpu_us(in->w->p.pid) - in->cpu0_us) / 1000 >= l->cpu_ms)
                decide(in, WH_STATUS_TIMEOUT_CPU);
}

static bool done(struct input *in)
{
        if (in->broken)
                return true; /* what is left in the pipes is nobody's business */
        return in->reported && in->p[P_OUT].fd < 0 && in->p[P_ERR].fd < 0;
}

static void loop(struct input *in)
{
        struct wh_warm *w = in->w;
        while (!done(in)) {
                int timeout = next_timeout(in);
                if (timeout == 0 && in->reported)
                        break; /* output held open past the grace: the sweep closed it */
                if (timeout == 0 && (in->decided || in->ended_ns) && !in->reported)
                        return broken(in, "the zygote did not report input %" PRIu64 "'s end",
                                      in->r->ordinal);
                int n = poll(in->p, P_COUNT, timeout < 0 ? -1 : timeout);
                if (n < 0 && errno != EINTR)
                        return broken(in, "poll: %s", strerror(errno));
                check_limits(in);
                if (in->p[P_NOTIF].fd >= 0 && in->p[P_NOTIF].revents & POLLIN)
                        on_notification(in);
                else if (in->p[P_NOTIF].fd >= 0 && in->p[P_NOTIF].revents)
                        in->p[P_NOTIF].fd = -1; /* no process left under the filter */
                if (in->p[P_OUT].fd >= 0 && in->p[P_OUT].revents)
                        pump(in, P_OUT, &in->r->stdout_bytes, in->spec->stdout_fd);
                if (in->p[P_ERR].fd >= 0 && in->p[P_ERR].revents)
                        pump(in, P_ERR, &in->r->stderr_bytes, in->spec->stderr_fd);
                if (in->p[P_ZOUT].fd >= 0 && in->p[P_ZOUT].revents)
                        discard(in, P_ZOUT);
                if (in->p[P_ZERR].fd >= 0 && in->p[P_ZERR].revents)
                        discard(in, P_ZERR);
                if (in->p[P_ZSOCK].fd >= 0 && in->p[P_ZSOCK].revents)
                        on_zygote(in);
                if (in->p[P_CHAN].fd >= 0 && in->p[P_CHAN].revents)
                        in->given ? on_done(in) : in->ahead ? on_ahead(in) : on_hello(in);
                if (in->p[P_CHILD].fd >= 0 && in->p[P_CHILD].revents)
                        in->p[P_CHILD].fd = -1; /* ended; the zygote's report follows */
                if (in->p[P_INIT].fd >= 0 && in->p[P_INIT].revents)
                        return broken(in, "the zygote died during input %" PRIu64, in->r->ordinal);
                if (in->reported && !in->broken && !in->swept) {
                        /* Its writers are gone once the leftovers are: EOF follows. */
                        in->swept = true;
                        if (warm_kill_leftovers(w) < 0)
                                return broken(in,
                                              "processes input %" PRIu64
                                              " left behind could not be killed",
                                              in->r->ordinal);
                }
        }
}

static void classify(struct input *in)
{
        struct wh_report *r = in->r;
        const struct wh_limits *l = &in->spec->limits;
        struct wh_cgroup_stats st = {0};
        if (!in->broken)
                wh_cgroup_read_stats(in->w->l.cgroup, &st);
        uint64_t cpu_us = in->cpu_us > in->cpu0_us ? in->cpu_us - in->cpu0_us : 0;
        r->cpu_ms = st.have_cpu ? (st.cpu_ns - in->cpu0_ns) / 1000000 : cpu_us / 1000;
        r->mem_peak_bytes = in->maxrss_kb * 1024;
        r->wall_ms = ((in->reported ? in->end_ns : warm_now_ns()) - in->start_ns) / 1000000;
        int ws = in->wait_status;
        if (in->reported) {
                r->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
                r->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
        }
        enum warm_oom oom = warm_leaf_end(in->w, &st, in->broken, in->decided, r);
        if (in->decided || oom == WARM_OOM_SANDBOX)
                return;
        if (in->hung_up && oom == WARM_OOM_NONE && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL)
                return warm_persist_hung_up_status(r);
        r->status = oom == WARM_OOM_INPUT ? WH_STATUS_OOM : status_of_end(ws, r, l);
}

/* The input's stdout and stderr pipes. */
static int make_pipes(struct input *in)
{
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) < 0)
                return -1;
        if (pipe2(err, O_CLOEXEC) < 0) {
                close(out[0]), close(out[1]);
                return -1;
        }
        fcntl(out[0], F_SETFL, O_NONBLOCK);
        fcntl(err[0], F_SETFL, O_NONBLOCK);
        in->p[P_OUT].fd = out[0], in->out_w = out[1];
        in->p[P_ERR].fd = err[0], in->err_w = err[1];
        return 0;
}

/* The next input's child, forked now: the zygote forks it, the child says
 * hello and a thread admits it (warm_ahead.c: checks, memory cgroup) while
 * we finish this input's result and stage the next, so that none of these
 * waits is the next input's. It is a copy of the zygote that has seen no
 * input, made after this input's leftovers were killed and /tmp emptied. */
static void fork_ahead(struct wh_warm *w)
{
        if (!w->up || w->p.max_inputs || w->spare >= 0)
                return;
        if (offer(w, w->ordinal + 1, &w->spare) < 0)
                w->spare = -1; /* the next input offers again, and finds out why */
        else
                warm_ahead_start(w);
}

int wh_warm_run(struct wh_warm *w, const struct wh_run_spec *spec, struct wh_report *r,
                struct wh_err *err)
{
        if (!w || !spec || !r)
                return wh_err_set(err, EINVAL, "warm", "no warm sandbox, input or report");
        /* Handed to the child as it is: a regular file or nothing, never a
         * terminal or socket it could act on (sandbox.c: open_stdin). */
        struct stat st;
        if (spec->stdin_fd >= 0 && (fstat(spec->stdin_fd, &st) < 0 || !S_ISREG(st.st_mode)))
                return wh_err_set(err, EINVAL, "warm",
                                  "a warm input's stdin must be a regular file or none");
        report_init(r, w->sb);
        r->warm = true;
        bool reuse = warm_persist_alive(w); /* it may have ended since: then not */
        if (!w->up && (wh_warm_given_up(w) || warm_start(w) < 0)) {
                snprintf(r->stage, sizeof(r->stage), "warm");
                snprintf(r->message, sizeof(r->message), "the zygote could not start: %.480s",
                         w->error);
                warm_net_take(w, r); /* what it logged while it loaded */
                return 0;
        }
        snprintf(r->zygote, sizeof(r->zygote), "%s", w->id);
        snprintf(r->cgroup_driver, sizeof(r->cgroup_driver), "%s",
                 wh_cgroup_driver_name(w->l.cgroup));
        r->landlock_abi = w->landlock_abi;
        r->limits = spec->limits;
        r->limits_by = w->limits_by;
        r->ordinal = ++w->ordinal;

        struct input in = {
            .w = w, .spec = spec, .r = r, .out_w = -1, .err_w = -1, .chan = -1, .pidfd = -1};
        for (int i = 0; i < P_COUNT; i++)
                in.p[i] = (struct pollfd){.fd = -1, .events = POLLIN};
        in.stdin_fd =
            spec->stdin_fd >= 0 ? spec->stdin_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
        wh_cgroup_cpu_ns(w->l.cgroup, &in.cpu0_ns);
        in.start_ns = warm_now_ns();
        in.process = reuse ? w->p.first : r->ordinal;
        r->persistent = w->p.max_inputs > 0;
        r->process = in.process;
        r->process_ordinal = reuse ? w->p.served + 1 : 1;
        if (!reuse && w->spare >= 0) {
                in.chan = w->spare, w->spare = -1; /* asked for as input r->ordinal */
                in.ahead = w->ahead.running;
                in.spare = true;
        }
        if (in.stdin_fd < 0 || make_pipes(&in) < 0 ||
            (!reuse && in.chan < 0 && offer(w, r->ordinal, &in.chan) < 0)) {
                broken(&in, "cannot hand input %" PRIu64 " to the zygote: %s", r->ordinal,
                       strerror(errno));
        } else {
                in.p[P_ZSOCK].fd = w->zsock;
                in.p[P_CHAN].fd = in.ahead ? w->ahead.done : in.chan;
                if (reuse) {
                        in.persistent = true;
                        in.chan = w->p.chan;
                        in.pidfd = in.p[P_CHILD].fd = w->p.pidfd;
                        give(&in);
                }
                in.p[P_NOTIF].fd = w->notif;
                in.p[P_INIT].fd = w->l.pidfd;
                in.p[P_ZOUT].fd = w->l.out_r;
                in.p[P_ZERR].fd = w->l.err_r;
                loop(&in);
        }
        warm_ahead_stop(w); /* still waiting for a hello, the input over: before chan closes */
        classify(&in);
        if (in.persistent) {
                in.chan = in.pidfd = -1; /* w->p's, kept for the next input */
                if (in.gone)
                        warm_persist_forget(w);
        }
        int fds[] = {in.chan, in.out_w, in.err_w, in.p[P_OUT].fd, in.p[P_ERR].fd, in.pidfd};
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        if (spec->stdin_fd < 0 && in.stdin_fd >= 0)
                close(in.stdin_fd);
        if (w->up && (warm_kill_leftovers(w) < 0 || warm_empty_tmp(w) < 0 ||
                      warm_check_zygote(w) < 0 || warm_persist_after(w) < 0))
                warm_down(w); /* the next input gets a fresh sandbox */
        if (warm_net_take(w, r) < 0)
                warm_down(w);
        if (w->up && in.reported)
                w->failures = 0;
        fork_ahead(w);
        return 0;
}
