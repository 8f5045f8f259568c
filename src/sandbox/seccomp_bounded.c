/* Compiling a policy with a deadline.
 *
 * libseccomp 2.5 can take unbounded time on a small policy: the two rules
 *   allow openat arg3 >= 1 arg2 <= 1
 *   allow openat arg5 >= 1 arg2 <= 1
 * were still compiling after 100 s (found by tests/fuzz, kept in
 * tests/fuzz/open/seccomp). Policies come from the operator, but a run must
 * not hang before its sandbox exists, and libseccomp cannot be interrupted
 * from inside. So the compile runs in a forked child that sends the program
 * back through a pipe and is killed at the deadline. It only happens on a
 * cache miss (seccomp_cache.c), so the fork is not paid per run. */
#define _GNU_SOURCE
#include "sandbox/seccomp_internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the child sends first; `len` instructions follow when rc == 0. The
 * error's stage points into this executable's static strings, which the
 * forked parent shares. */
struct compile_answer {
        int rc;
        struct wh_err err;
        size_t len;
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static _Noreturn void compile_in_child(int fd, const struct wh_seccomp_rule *rules, size_t n_rules)
{
        struct compile_answer answer = {0};
        struct sock_filter *insns = NULL;
        answer.rc = wh_seccomp_compile(rules, n_rules, &insns, &answer.len, &answer.err);
        bool ok = wh_write_all(fd, &answer, sizeof(answer)) == 0;
        if (ok && answer.rc == 0)
                ok = wh_write_all(fd, insns, answer.len * sizeof(*insns)) == 0;
        _exit(ok ? 0 : 1);
}

/* Read exactly len bytes before the deadline: 0, or -1 with errno
 * (ETIMEDOUT at the deadline, EPIPE when the child went away early). */
static int read_before(int fd, void *buf, size_t len, uint64_t deadline)
{
        char *p = buf;
        while (len > 0) {
                uint64_t now = now_ms();
                if (now >= deadline)
                        return errno = ETIMEDOUT, -1;
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                int ready = poll(&pfd, 1, (int)(deadline - now));
                if (ready < 0 && errno != EINTR)
                        return -1;
                if (ready <= 0)
                        continue;
                ssize_t got = read(fd, p, len);
                if (got < 0 && errno != EINTR)
                        return -1;
                if (got == 0)
                        return errno = EPIPE, -1;
                if (got > 0) {
                        p += got;
                        len -= (size_t)got;
                }
        }
        return 0;
}

static int receive(int fd, uint64_t deadline, struct sock_filter **out, size_t *len,
                   struct wh_err *err)
{
        struct compile_answer answer;
        if (read_before(fd, &answer, sizeof(answer), deadline) < 0)
                return -1;
        if (answer.rc < 0) {
                *err = answer.err;
                return 1;
        }
        if (answer.len == 0 || answer.len > BPF_MAXINSNS)
                return errno = EPROTO, -1;
        cleanup_free struct sock_filter *insns = malloc(answer.len * sizeof(*insns));
        if (!insns)
                return errno = ENOMEM, -1;
        if (read_before(fd, insns, answer.len * sizeof(*insns), deadline) < 0)
                return -1;
        *out = steal_pointer(&insns);
        *len = answer.len;
        return 0;
}

/* glibc resets malloc's locks in a forked child; ASan's allocator does not,
 * so under ASan a fork beside other threads can leave the child deadlocked in
 * malloc (seen in test_threads). Such builds compile in process, without the
 * deadline, unless this is the only thread. */
static bool fork_is_safe(void)
{
#if defined(__SANITIZE_ADDRESS__)
        DIR *d = opendir("/proc/self/task");
        if (!d)
                return false;
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_name[0] != '.';
        closedir(d);
        return n == 1;
#else
        return true;
#endif
}

int wh_seccomp_compile_within(const struct wh_seccomp_rule *rules, size_t n_rules,
                              unsigned timeout_ms, struct sock_filter **out, size_t *len,
                              struct wh_err *err)
{
        if (!fork_is_safe())
                return wh_seccomp_compile(rules, n_rules, out, len, err);
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return wh_err_set(err, errno, "seccomp", "pipe2 for the policy compiler");
        cleanup_close int rd = fds[0], wr = fds[1];
        uint64_t deadline = now_ms() + timeout_ms;
        /* Killed when this returns: gone already unless it overran the deadline. */
        cleanup_child pid_t pid = fork();
        if (pid < 0)
                return wh_err_set(err, errno, "seccomp", "fork for the policy compiler");
        if (pid == 0) {
                close(rd);
                compile_in_child(wr, rules, n_rules);
        }
        close(steal_fd(&wr));
        int rc = receive(rd, deadline, out, len, err);
        int saved = errno;
        if (rc == 1)
                return -1; /* the compiler's own error, as it made it */
        if (rc < 0 && saved == ETIMEDOUT)
                return wh_err_set(err, 0, "seccomp",
                                  "libseccomp did not finish compiling the policy within %u ms; "
                                  "it is known to stall on several range comparisons (>=, <=) of "
                                  "one argument: write such rules as exact values or masks",
                                  timeout_ms);
        if (rc < 0)
                return wh_err_set(err, saved, "seccomp", "the policy compiler failed");
        return 0;
}
