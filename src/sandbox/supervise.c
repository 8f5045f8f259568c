/* The supervisor's side of one run: a single poll loop over the control
 * socket, init's pidfd, the payload's stdout and stderr pipes and the seccomp
 * listener, with the wall clock and the cgroup's CPU counter as deadlines.
 *
 * Whatever stops a run is decided here and recorded *before* the kill is
 * sent, and the first reason wins: a process killed for a timeout is reported
 * as timeout_wall, not as "signal 9". OOM is read from the cgroup's counters
 * at the end, never guessed from an exit status.
 *
 * Output: the pipes' read ends are non-blocking and each wake-up reads at
 * most one 64 KiB chunk per pipe, so deadlines are checked between chunks and
 * a payload that writes faster than its output is consumed waits on the full
 * pipe. Chunks go to the caller's fds and, for stdout, to the run spec's sink
 * (on_stdout), which may stop the run (sandbox_error at stage "output"). */
#define _GNU_SOURCE
#include "sandbox/internal.h"
#include "sandbox/cgroup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_GRACE_MS 1000 /* how long output may trail init's exit */

enum { P_CTL, P_INIT, P_OUT, P_ERR, P_NOTIF, P_STDIN, P_STDIN_PIPE, P_COUNT };

#define CHUNK 65536

struct run_state {
        struct supervise_io *io;
        struct wh_report *r;
        struct pollfd fds[P_COUNT];
        bool decided;   /* a kill reason has been recorded */
        bool started;   /* the payload is about to execve */
        bool have_exit; /* init sent the payload's wait status */
        bool setup_failed;
        bool init_gone;
        bool sink_done; /* the stdout sink asked to stop: it is not called again */
        uint64_t start_ns, end_ns, init_gone_ns;
        struct msg exit_msg;
        /* stdin being copied into the program's pipe: bytes read, not yet written */
        char in_buf[CHUNK];
        size_t in_off, in_len;
        bool in_eof;
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void kill_sandbox(struct run_state *s)
{
        /* pid 1 dying takes the whole pid namespace with it. */
        syscall(SYS_pidfd_send_signal, s->io->pidfd, SIGKILL, NULL, 0);
        if (s->io->cgroup)
                wh_cgroup_kill(s->io->cgroup);
}

static void decide(struct run_state *s, enum wh_status status)
{
        if (s->decided)
                return;
        s->decided = true;
        s->r->status = status;
        kill_sandbox(s);
}

/* The sink refused the output: stop the run, and stop reading stdout (what
 * the killed payload still has in the pipe is nobody's business). */
static void sink_stopped(struct run_state *s)
{
        s->sink_done = true;
        s->fds[P_OUT].fd = -1;
        if (s->decided)
                return;
        snprintf(s->r->stage, sizeof(s->r->stage), "output");
        snprintf(s->r->message, sizeof(s->r->message),
                 "the caller's check of the output stopped the run");
        decide(s, WH_STATUS_SANDBOX_ERROR);
}

size_t output_pass(const char *buf, size_t n, uint64_t limit, uint64_t *count, int dst)
{
        uint64_t take = n;
        if (limit && *count + take > limit)
                take = limit - *count;
        /* A consumer that went away costs the program nothing: keep counting. */
        if (dst >= 0 && take)
                (void)wh_write_all(dst, buf, (size_t)take);
        *count += take;
        return (size_t)take;
}

/* One chunk from an output pipe to where it goes, up to the output limit. */
static void pump(struct run_state *s, int slot, uint64_t *count, int dst)
{
        char buf[CHUNK];
        ssize_t n = read(s->fds[slot].fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                s->fds[slot].fd = -1;
                return;
        }
        size_t take = output_pass(buf, (size_t)n, s->io->limits->output_bytes, count, dst);
        /* The limit was crossed in this chunk before the sink looked at it. */
        if (take < (size_t)n)
                decide(s, WH_STATUS_OUTPUT_LIMIT);
        const struct supervise_io *io = s->io;
        if (slot == P_OUT && io->on_stdout && !s->sink_done && take &&
            io->on_stdout(io->stdout_ctx, buf, (size_t)take) != 0)
                sink_stopped(s);
}

/* The caller's stdin, when it is not a regular file (a terminal, above all),
 * is copied into a pipe rather than handed to the program, which could
 * otherwise change the caller's terminal (tcsetattr, TIOCSWINSZ). One chunk
 * at a time: read from stdin while the buffer is empty, write (non-blocking)
 * while it is not. The supervisor holds a read end of the pipe too, so a
 * program that exits or closes its stdin never turns a write into SIGPIPE;
 * the pipe just fills. At the end of stdin the write end is closed: EOF. */
static void arm_stdin(struct run_state *s)
{
        bool pending = s->in_off < s->in_len;
        if (!pending && s->in_eof && s->io->stdin_w >= 0) {
                close(s->io->stdin_w);
                s->io->stdin_w = -1;
        }
        s->fds[P_STDIN].fd = !pending && !s->in_eof ? s->io->stdin_src : -1;
        s->fds[P_STDIN_PIPE].fd = pending ? s->io->stdin_w : -1;
}

static void feed_stdin(struct run_state *s)
{
        const struct pollfd *src = &s->fds[P_STDIN], *dst = &s->fds[P_STDIN_PIPE];
        if (src->fd >= 0 && src->revents) {
                ssize_t n = read(src->fd, s->in_buf, sizeof(s->in_buf));
                if (n > 0)
                        s->in_off = 0, s->in_len = (size_t)n;
                else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                        s->in_eof = true;
        } else if (dst->fd >= 0 && dst->revents) {
                ssize_t n = write(dst->fd, s->in_buf + s->in_off, s->in_len - s->in_off);
                if (n > 0)
                        s->in_off += (size_t)n;
                else if (n < 0 && errno != EINTR && errno != EAGAIN)
                        s->in_eof = true, s->in_off = s->in_len; /* nobody to give it to */
        }
        arm_stdin(s);
}

/* Reads must never block the loop: the deadlines and the seccomp listener
 * are served by the same thread. */
static void make_nonblocking(struct run_state *s, int slot)
{
        int fl = fcntl(s->fds[slot].fd, F_GETFL);
        if (fl >= 0 && fcntl(s->fds[slot].fd, F_SETFL, fl | O_NONBLOCK) == 0)
                return;
        int e = errno;
        if (!s->decided) {
                snprintf(s->r->stage, sizeof(s->r->stage), "sandbox");
                snprintf(s->r->message, sizeof(s->r->message),
                         "cannot make the output pipes non-blocking: %s", strerror(e));
                s->r->error_errno = e;
        }
        decide(s, WH_STATUS_SANDBOX_ERROR);
}

int seccomp_notif_recv(int fd, union seccomp_notif_buf *u)
{
        struct seccomp_notif_sizes sizes;
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0 ||
            sizes.seccomp_notif > sizeof(*u)) {
                errno = EMSGSIZE;
                return -1;
        }
        memset(u, 0, sizeof(*u));
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &u->notif) < 0 ? -1 : 0;
}

void report_syscall(struct wh_report *r, const struct seccomp_notif *n)
{
        r->syscall_nr = n->data.nr;
        wh_syscall_name(n->data.arch, n->data.nr, r->syscall_name, sizeof(r->syscall_name));
        snprintf(r->syscall_arch, sizeof(r->syscall_arch), "%s",
                 wh_syscall_arch_name(n->data.arch, n->data.nr));
}

static void on_notification(struct run_state *s)
{
        union seccomp_notif_buf u;
        if (seccomp_notif_recv(s->fds[P_NOTIF].fd, &u) < 0) {
                if (errno == EMSGSIZE)
                        decide(s, WH_STATUS_SECCOMP_KILL);
                else if (errno != EINTR && errno != ENOENT)
                        s->fds[P_NOTIF].fd = -1;
                return;
        }
        if (!s->decided)
                report_syscall(s->r, &u.notif);
        decide(s, WH_STATUS_SECCOMP_KILL);
}

static void on_message(struct run_state *s)
{
        struct msg m;
        int fd = -1;
        int rc = msg_recv(s->fds[P_CTL].fd, &m, &fd);
        if (rc <= 0) {
                s->fds[P_CTL].fd = -1;
                return;
        }
        switch (m.type) {
        case MSG_APPLIED:
                s->r->landlock_abi = m.landlock_abi;
                break;
        case MSG_LISTENER:
                if (fd >= 0 && s->fds[P_NOTIF].fd < 0) {
                        s->fds[P_NOTIF].fd = fd;
                        fd = -1;
                }
                s->started = true;
                s->start_ns = now_ns();
                break;
        case MSG_SETUP_FAILED:
                if (!s->setup_failed && !s->decided) {
                        s->setup_failed = true;
                        snprintf(s->r->stage, sizeof(s->r->stage), "%s", m.stage);
                        snprintf(s->r->message, sizeof(s->r->message), "%s%s%s", m.text,
                                 m.errnum ? ": " : "", m.errnum ? strerror(m.errnum) : "");
                        s->r->error_errno = m.errnum;
                }
                break;
        case MSG_EXIT:
                s->have_exit = true;
                s->exit_msg = m;
                s->end_ns = now_ns();
                break;
        default:
                break;
        }
        if (fd >= 0)
                close(fd);
}

/* Milliseconds until the next deadline (wall or CPU check), -1 for none. */
static int next_timeout(struct run_state *s)
{
        const struct wh_limits *l = s->io->limits;
        if (s->init_gone) {
                uint64_t waited = (now_ns() - s->init_gone_ns) / 1000000;
                return waited >= DRAIN_GRACE_MS ? 0 : (int)(DRAIN_GRACE_MS - waited);
        }
        if (!s->started || s->decided)
                return -1;
        int64_t best = -1;
        uint64_t now = now_ns();
        if (l->wall_ms) {
                uint64_t deadline = s->start_ns + l->wall_ms * 1000000ull;
                best = now >= deadline ? 0 : (int64_t)((deadline - now + 999999) / 1000000);
        }
        uint64_t cpu_ns;
        if (l->cpu_ms && s->io->cgroup && wh_cgroup_cpu_ns(s->io->cgroup, &cpu_ns) == 0) {
                uint64_t used = cpu_ns / 1000000;
                if (used >= l->cpu_ms) {
                        decide(s, WH_STATUS_TIMEOUT_CPU);
                        return -1;
                }
                /* The tree cannot burn its remaining budget faster than on every CPU. */
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                int64_t wait = (int64_t)((l->cpu_ms - used) / (uint64_t)(cpus > 0 ? cpus : 1));
                if (wait < 1)
                        wait = 1;
                if (best < 0 || wait < best)
                        best = wait;
        }
        return best > 1000000 ? 1000000 : (int)best;
}

static void check_cancel(struct run_state *s)
{
        if (!s->io->cancel || !*s->io->cancel || s->decided)
                return;
        snprintf(s->r->stage, sizeof(s->r->stage), "cancelled");
        snprintf(s->r->message, sizeof(s->r->message), "the caller stopped the run");
        decide(s, WH_STATUS_SANDBOX_ERROR);
}

static void check_wall(struct run_state *s)
{
        const struct wh_limits *l = s->io->limits;
        if (s->started && !s->decided && l->wall_ms &&
            now_ns() >= s->start_ns + l->wall_ms * 1000000ull)
                decide(s, WH_STATUS_TIMEOUT_WALL);
}

static void classify(struct run_state *s, const struct wh_cgroup_stats *st)
{
        struct wh_report *r = s->r;
        const struct wh_limits *l = s->io->limits;
        int ws = s->exit_msg.wait_status;
        if (s->have_exit && !s->setup_failed) {
                r->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
                r->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
        }
        if (s->decided)
                return;
        if (s->setup_failed)
                r->status = WH_STATUS_SANDBOX_ERROR;
        else if (st->have_oom && st->oom_kills > 0)
                r->status = WH_STATUS_OOM;
        else if (!s->have_exit) {
                r->status = WH_STATUS_SANDBOX_ERROR;
                snprintf(r->stage, sizeof(r->stage), "init");
                snprintf(r->message, sizeof(r->message),
                         "the sandbox's init ended before the program did");
        } else
                r->status = status_of_end(ws, r, l);
}

enum wh_status status_of_end(int ws, const struct wh_report *r, const struct wh_limits *l)
{
        if (WIFEXITED(ws))
                return WEXITSTATUS(ws) == 0 ? WH_STATUS_OK : WH_STATUS_EXIT_NONZERO;
        if (l->cpu_ms && r->cpu_ms >= l->cpu_ms && (r->signal == SIGXCPU || r->signal == SIGKILL))
                return WH_STATUS_TIMEOUT_CPU;
        return WH_STATUS_SIGNAL;
}

void supervise(struct supervise_io *io, struct wh_report *r)
{
        struct run_state s = {.io = io, .r = r};
        int fds[P_COUNT] = {io->ctl_fd, io->pidfd, io->stdout_r, io->stderr_r, -1, -1, -1};
        for (int i = 0; i < P_COUNT; i++)
                s.fds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        s.fds[P_STDIN_PIPE].events = POLLOUT;
        s.in_eof = io->stdin_src < 0;
        arm_stdin(&s);
        make_nonblocking(&s, P_OUT);
        make_nonblocking(&s, P_ERR);

        while (s.fds[P_CTL].fd >= 0 || s.fds[P_OUT].fd >= 0 || s.fds[P_ERR].fd >= 0 ||
               s.fds[P_INIT].fd >= 0) {
                int timeout = next_timeout(&s);
                if (s.init_gone && timeout == 0)
                        break; /* output still open after the grace: give up on it */
                int n = poll(s.fds, P_COUNT, timeout);
                if (n < 0 && errno != EINTR)
                        break;
                check_wall(&s);
                check_cancel(&s);
                if (s.fds[P_NOTIF].fd >= 0 && s.fds[P_NOTIF].revents & POLLIN)
                        on_notification(&s);
                else if (s.fds[P_NOTIF].fd >= 0 && s.fds[P_NOTIF].revents & (POLLHUP | POLLERR)) {
                        close(s.fds[P_NOTIF].fd);
                        s.fds[P_NOTIF].fd = -1;
                }
                if (s.fds[P_CTL].revents)
                        on_message(&s);
                if (s.fds[P_OUT].revents)
                        pump(&s, P_OUT, &r->stdout_bytes, io->stdout_dst);
                if (s.fds[P_ERR].revents)
                        pump(&s, P_ERR, &r->stderr_bytes, io->stderr_dst);
                if (s.fds[P_STDIN].revents || s.fds[P_STDIN_PIPE].revents)
                        feed_stdin(&s);
                if (s.fds[P_INIT].revents) {
                        s.fds[P_INIT].fd = -1;
                        s.init_gone = true;
                        s.init_gone_ns = now_ns();
                }
        }
        if (s.fds[P_NOTIF].fd >= 0)
                close(s.fds[P_NOTIF].fd);
        if (s.started)
                r->wall_ms = ((s.have_exit ? s.end_ns : now_ns()) - s.start_ns) / 1000000;

        struct wh_cgroup_stats st = {0};
        if (io->cgroup)
                wh_cgroup_read_stats(io->cgroup, &st);
        r->cpu_ms = (st.have_cpu ? st.cpu_ns : s.exit_msg.cpu_ns) / 1000000;
        r->mem_peak_bytes = st.have_mem_peak ? st.mem_peak : s.exit_msg.maxrss_bytes;
        classify(&s, &st);
}
