/* Fixed-size messages with an optional passed fd (SCM_RIGHTS) over the
 * SOCK_SEQPACKET control socket. Async-signal-safe: used after clone/fork. */
#include "sandbox/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int msg_send(int fd, const struct msg *m, int pass_fd)
{
        struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pass_fd >= 0) {
                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

int msg_recv(int fd, struct msg *m, int *recv_fd)
{
        struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        if (recv_fd)
                *recv_fd = -1;
        ssize_t n;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return (int)n;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int got;
                        memcpy(&got, CMSG_DATA(c), sizeof(int));
                        if (recv_fd && *recv_fd < 0)
                                *recv_fd = got;
                        else
                                close(got);
                }
        }
        if (n != (ssize_t)sizeof(*m)) {
                errno = EPROTO;
                return -1;
        }
        return 1;
}

void child_fail(int ctl_fd, const char *stage, int errnum, const char *what)
{
        struct msg m = {.type = MSG_SETUP_FAILED, .errnum = errnum};
        strncpy(m.stage, stage, sizeof(m.stage) - 1);
        strncpy(m.text, what, sizeof(m.text) - 1);
        msg_send(ctl_fd, &m, -1);
        _exit(127);
}
