/* The warm-execution protocol (docs/warm.md "Protocol"), supervisor side:
 * src/sandbox/warm_frame.c. The zygote and its children run the
 * normaliser's code, so every frame they send is hostile input. Each frame
 * goes through a real SOCK_SEQPACKET pair with SO_PASSCRED, as in a warm
 * run, into warm_recv; a frame it accepts goes to warm_parse_exit, the
 * parser of the zygote's "exit N STATUS CPU_US MAXRSS_KB" report.
 *
 * Input: frames separated by "\n====\n". A frame's first byte says how it
 * is sent, the rest is the datagram:
 *   bits 0-1  fds attached (0-3); bit 5 set: 9 fds, more than the
 *             supervisor's control buffer holds
 *   bits 2-3  how many fds the receiver accepts (0-3)
 *   bit 4     sent by warm_send (the text up to its first NUL) instead of
 *             a raw sendmsg
 * So "@" is a raw frame without fds, "P" the same through warm_send.
 *
 * Checks: warm_recv accepts exactly the frames the protocol allows (one
 * line of printable ASCII ending in '\n', at most WARM_FRAME_MAX bytes, no
 * more fds than accepted) and returns their text and fds unchanged, with
 * our own pid from the kernel; an empty datagram reads as EOF; no fd is
 * ever left open. warm_parse_exit accepts exactly the canonical report
 * (what the zygote's own printf makes) and its numbers fit. */
#include "fuzz.h"

#include "sandbox/warm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/socket.h>

#define SEP "\n====\n"

static int open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                abort();
        int n = 0;
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static bool frame_allowed(const char *p, size_t len)
{
        if (len == 0 || len > WARM_FRAME_MAX || p[len - 1] != '\n')
                return false;
        for (size_t i = 0; i + 1 < len; i++)
                if (p[i] < 0x20 || p[i] > 0x7e)
                        return false;
        return true;
}

static void check_exit_report(const char *text)
{
        struct warm_exit e;
        uint64_t ord, cpu, rss;
        int status, end = 0;
        char canon[WARM_FRAME_MAX];
        bool scanned = sscanf(text, "exit %" SCNu64 " %d %" SCNu64 " %" SCNu64 "%n", &ord, &status,
                              &cpu, &rss, &end) == 4 &&
                       text[end] == '\0' && status >= 0;
        if (scanned)
                snprintf(canon, sizeof(canon), "exit %" PRIu64 " %d %" PRIu64 " %" PRIu64, ord,
                         status, cpu, rss);
        bool canonical = scanned && strcmp(canon, text) == 0 && rss <= UINT64_MAX / 1024;
        int rc = warm_parse_exit(text, &e);
        fuzz_assert((rc == 0) == canonical, "warm_parse_exit %s \"%s\"",
                    rc == 0 ? "accepted" : "refused", text);
        if (rc == 0)
                fuzz_assert(e.ordinal == ord && e.status == status && e.cpu_us == cpu &&
                                e.maxrss_kb == rss,
                            "warm_parse_exit read other numbers from \"%s\"", text);
}

static void one_frame(const char *p, size_t len, uint8_t how)
{
        size_t attach = how & 0x20 ? 9 : how & 3, accept = (how >> 2) & 3;
        bool via_warm_send = how & 0x10;
        int sv[2], one = 1;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
        int before = open_fds();

        int give[9];
        for (size_t i = 0; i < attach; i++)
                if ((give[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
                        abort();
        union {
                char c[CMSG_SPACE(sizeof(give))];
                struct cmsghdr align;
        } control;
        int sent;
        if (via_warm_send && attach <= WARM_MAX_FDS) {
                len = strnlen(p, len);
                sent = warm_send(sv[1], p, give, attach);
        } else {
                struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
                struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
                if (attach) {
                        memset(&control, 0, sizeof(control));
                        mh.msg_control = control.c;
                        mh.msg_controllen = CMSG_SPACE(attach * sizeof(int));
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(attach * sizeof(int));
                        memcpy(CMSG_DATA(c), give, attach * sizeof(int));
                }
                sent = sendmsg(sv[1], &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
        }
        for (size_t i = 0; i < attach; i++)
                close(give[i]);
        if (sent < 0) { /* the kernel's limit, not the protocol's: nothing to read */
                close(sv[0]), close(sv[1]);
                return;
        }

        char text[WARM_FRAME_MAX];
        int fds[3];
        size_t n_fds = 99;
        pid_t pid = -1;
        errno = 0;
        ssize_t n = warm_recv(sv[0], text, sizeof(text), &pid, fds, accept, &n_fds);
        if (len == 0) {
                fuzz_assert(n == 0 && n_fds == 0, "an empty datagram gave %zd, %zu fds", n, n_fds);
        } else if (frame_allowed(p, len) && attach <= accept) {
                fuzz_assert(n == (ssize_t)len - 1, "a valid frame of %zu bytes gave %zd (%s)", len,
                            n, strerror(errno));
                fuzz_assert(memcmp(text, p, len - 1) == 0 && text[len - 1] == '\0',
                            "the text changed on the way");
                fuzz_assert(n_fds == attach, "%zu fds sent, %zu received", attach, n_fds);
                fuzz_assert(pid == getpid(), "the kernel's pid %d is not ours", (int)pid);
                check_exit_report(text);
        } else {
                fuzz_assert(n == -1 && errno == EPROTO && n_fds == 0,
                            "a frame the protocol forbids gave %zd, %zu fds (%zu sent, %zu "
                            "accepted)",
                            n, n_fds, attach, accept);
        }
        for (size_t i = 0; n >= 0 && i < n_fds; i++)
                close(fds[i]);
        fuzz_assert(open_fds() == before, "fds left open: %d before, %d after", before, open_fds());
        close(sv[0]), close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t len;
        char *part;
        while ((part = fuzz_next_part(&data, &size, SEP, strlen(SEP), &len))) {
                if (len)
                        one_frame(part + 1, len - 1, (uint8_t)part[0]);
                free(part);
        }
        return 0;
}
