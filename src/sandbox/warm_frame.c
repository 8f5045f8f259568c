/* The warm protocol's frames (docs/warm.md): one line of ASCII text per
 * SOCK_SEQPACKET datagram, optionally with fds (SCM_RIGHTS). The receiving
 * end has SO_PASSCRED set, so the kernel attaches the sender's pid, mapped
 * into our pid namespace. A process in the sandbox has no capability, so it
 * cannot claim another pid: the pid says which process sent the frame. */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A frame is one line of printable ASCII: no control character (other
 * than its final newline) can reach a message or a log line. */
static bool printable(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x20 || s[i] > 0x7e)
                        return false;
        return true;
}

ssize_t warm_recv(int fd, char *text, size_t cap, pid_t *pid, int *fds, size_t max_fds,
                  size_t *n_fds)
{
        char buf[WARM_FRAME_MAX + 1];
        union {
                char c[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(8 * sizeof(int))];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.c,
                            .msg_controllen = sizeof(control.c)};
        *pid = 0;
        *n_fds = 0;
        ssize_t n;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        bool too_many = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                        continue;
                if (c->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred cred;
                        memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                        *pid = cred.pid;
                } else if (c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < k; i++) {
                                int got;
                                memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (*n_fds < max_fds)
                                        fds[(*n_fds)++] = got;
                                else
                                        close(got), too_many = true;
                        }
                }
        }
        /* An empty datagram reads as EOF: it carries no fds either. */
        if (n == 0 || too_many || (size_t)n > WARM_FRAME_MAX ||
            mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || buf[n - 1] != '\n' ||
            !printable(buf, (size_t)n - 1)) {
                for (size_t i = 0; i < *n_fds; i++)
                        close(fds[i]);
                *n_fds = 0;
                if (n == 0)
                        return 0;
                errno = EPROTO;
                return -1;
        }
        buf[n - 1] = '\0';
        snprintf(text, cap, "%s", buf);
        return n - 1;
}

/* One decimal number without sign or leading zero, at most max, then
 * `end`: advances *s past both. */
static bool take_number(const char **s, uint64_t max, char end, uint64_t *out)
{
        const char *p = *s;
        uint64_t v = 0;
        if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
                return false;
        for (; *p >= '0' && *p <= '9'; p++) {
                unsigned d = (unsigned)(*p - '0');
                if (v > (max - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        if (*p != end)
                return false;
        *s = p + (end != '\0');
        *out = v;
        return true;
}

int warm_parse_exit(const char *text, struct warm_exit *out)
{
        uint64_t status;
        const char *p = text;
        if (strncmp(p, "exit ", 5) != 0)
                return -1;
        p += 5;
        if (!take_number(&p, UINT64_MAX, ' ', &out->ordinal) ||
            !take_number(&p, INT_MAX, ' ', &status) ||
            !take_number(&p, UINT64_MAX, ' ', &out->cpu_us) ||
            !take_number(&p, UINT64_MAX / 1024, '\0', &out->maxrss_kb))
                return -1;
        out->status = (int)status;
        return 0;
}

int warm_parse_done(const char *text, int *code)
{
        uint64_t v;
        const char *p = text + 5;
        if (strncmp(text, "done ", 5) != 0 || !take_number(&p, 255, '\0', &v))
                return -1;
        *code = (int)v;
        return 0;
}

int warm_send(int fd, const char *text, const int *fds, size_t n_fds)
{
        union {
                char c[CMSG_SPACE(WARM_MAX_FDS * sizeof(int))];
                struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (n_fds) {
                memset(&control, 0, sizeof(control));
                mh.msg_control = control.c;
                mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
                memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        return n == (ssize_t)iov.iov_len ? 0 : -1;
}

int warm_read_status(pid_t pid, char *buf, size_t cap)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

int warm_pidfd_of_child_status(pid_t pid, pid_t parent, char *status, size_t cap)
{
        if (pid <= 0)
                return -1;
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -1;
        /* The status read after the pidfd was opened, and the process still
         * alive after the read: the status was that process's. */
        const char *ppid = NULL;
        if (warm_read_status(pid, status, cap) == 0)
                ppid = strstr(status, "\nPPid:");
        if (!ppid || (pid_t)strtol(ppid + 6, NULL, 10) != parent ||
            syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
                close(pidfd);
                return -1;
        }
        return pidfd;
}

int warm_pidfd_of_child(pid_t pid, pid_t parent)
{
        char status[4096];
        return warm_pidfd_of_child_status(pid, parent, status, sizeof(status));
}
