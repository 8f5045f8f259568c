/* Unit tests for the warm protocol's frames (src/sandbox/warm_frame.c): what
 * a zygote or child may send that must be refused, and that the sender's
 * pid comes from the kernel, not from the frame. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/warm_internal.h"

static int pair[2];

static int setup(void **state)
{
        (void)state;
        int one = 1;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0 ||
            setsockopt(pair[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        close(pair[0]);
        close(pair[1]);
        return 0;
}

static ssize_t recv_one(char *text, size_t cap, pid_t *pid, int *fds, size_t max, size_t *n)
{
        return warm_recv(pair[0], text, cap, pid, fds, max, n);
}

static void test_frame_with_pid_and_fds(void **state)
{
        (void)state;
        int fds[3] = {0, 1, 2}, got[3];
        assert_int_equal(warm_send(pair[1], "input 7\n", fds, 3), 0);
        char text[WARM_FRAME_MAX];
        pid_t pid;
        size_t n;
        assert_int_equal(recv_one(text, sizeof(text), &pid, got, 3, &n), 7);
        assert_string_equal(text, "input 7");
        assert_int_equal(pid, getpid());
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++) {
                assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
                close(got[i]);
        }
}

static void test_pid_is_the_senders(void **state)
{
        (void)state;
        pid_t child = fork();
        if (child == 0)
                _exit(warm_send(pair[1], "hello\n", NULL, 0) < 0);
        int st;
        assert_int_equal(waitpid(child, &st, 0), child);
        char text[WARM_FRAME_MAX];
        pid_t pid;
        size_t n;
        assert_int_equal(recv_one(text, sizeof(text), &pid, NULL, 0, &n), 5);
        assert_int_equal(pid, child);
}

/* The next frame is refused as a protocol error, its fds closed. */
static void expect_eproto(void)
{
        char text[WARM_FRAME_MAX];
        pid_t pid;
        size_t n;
        errno = 0;
        assert_int_equal(recv_one(text, sizeof(text), &pid, NULL, 0, &n), -1);
        assert_int_equal(errno, EPROTO);
        assert_int_equal(n, 0);
}

static void expect_refused(const char *data, size_t len)
{
        assert_int_equal(send(pair[1], data, len, 0), (ssize_t)len);
        expect_eproto();
}

static void test_bad_frames_refused(void **state)
{
        (void)state;
        expect_refused("ready", 5);    /* no newline */
        expect_refused("re\0dy\n", 6); /* a NUL */
        /* Not one line of printable ASCII (found by tests/fuzz/fuzz_warm.c):
         * the text would reach messages and logs. */
        expect_refused("ready\x1b[2J\n", 10);
        expect_refused("ready\nready\n", 12);
        expect_refused("hello\xc3\xa9\n", 8);
        char big[WARM_FRAME_MAX + 50]; /* longer than a frame: cut by the kernel */
        memset(big, 'x', sizeof(big));
        big[sizeof(big) - 1] = '\n';
        expect_refused(big, sizeof(big));
        static char huge[100000]; /* a "4 GB length" means nothing: a frame is a datagram */
        memset(huge, 'y', sizeof(huge));
        huge[sizeof(huge) - 1] = '\n';
        expect_refused(huge, sizeof(huge));
}

static int open_fds(void)
{
        int n = 0;
        for (int fd = 0; fd < 1024; fd++)
                n += fcntl(fd, F_GETFD) >= 0;
        return n;
}

static void test_unexpected_fds_closed(void **state)
{
        (void)state;
        int fds[2] = {0, 1};
        int before = open_fds();
        assert_int_equal(warm_send(pair[1], "exit 1 0 0 0\n", fds, 2), 0);
        expect_eproto();
        assert_int_equal(open_fds(), before); /* the passed fds were closed again */
}

static void test_eof(void **state)
{
        (void)state;
        close(pair[1]);
        pair[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        char text[WARM_FRAME_MAX];
        pid_t pid;
        size_t n;
        assert_int_equal(recv_one(text, sizeof(text), &pid, NULL, 0, &n), 0);
}

/* An empty datagram is EOF to the receiver: fds sent with it are closed. */
static void test_empty_frame_with_fds(void **state)
{
        (void)state;
        int fds[1] = {0}, got[1] = {-1};
        int before = open_fds();
        char control[CMSG_SPACE(sizeof(int))] = {0};
        struct msghdr mh = {.msg_control = control, .msg_controllen = sizeof(control)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        *c = (struct cmsghdr){
            .cmsg_len = CMSG_LEN(sizeof(int)), .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS};
        memcpy(CMSG_DATA(c), fds, sizeof(int));
        assert_int_equal(sendmsg(pair[1], &mh, 0), 0);
        char text[WARM_FRAME_MAX];
        pid_t pid;
        size_t n;
        assert_int_equal(recv_one(text, sizeof(text), &pid, got, 1, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(open_fds(), before);
}

static void expect_exit(const char *text, uint64_t ord, int status, uint64_t cpu, uint64_t rss)
{
        struct warm_exit e;
        assert_int_equal(warm_parse_exit(text, &e), 0);
        assert_true(e.ordinal == ord && e.status == status && e.cpu_us == cpu &&
                    e.maxrss_kb == rss);
}

/* A persistent child's "done CODE": 0..255, canonical. */
static void test_done_report(void **state)
{
        (void)state;
        int code = -1;
        assert_int_equal(warm_parse_done("done 0", &code), 0);
        assert_int_equal(code, 0);
        assert_int_equal(warm_parse_done("done 255", &code), 0);
        assert_int_equal(code, 255);
        const char *bad[] = {"done 256", "done -1", "done +1", "done 01", "done 1 ",
                             "done  1",  "done",    "done ",   "don 1",   "exit 1 0 0 0"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (warm_parse_done(bad[i], &code) == 0)
                        fail_msg("accepted \"%s\"", bad[i]);
}

static void test_exit_report(void **state)
{
        (void)state;
        expect_exit("exit 1 0 1234 10240", 1, 0, 1234, 10240);
        expect_exit("exit 18446744073709551615 2147483647 18446744073709551615 18014398509481983",
                    UINT64_MAX, INT32_MAX, UINT64_MAX, UINT64_MAX / 1024);
        /* What sscanf took: signs, leading zeros, extra blanks, wrapped
         * numbers, a MAXRSS_KB whose byte count wraps. */
        const char *bad[] = {"exit 01 0 0 0",
                             "exit 1 -0 0 0",
                             "exit +1 0 0 0",
                             "exit -18446744073709551615 0 0 0",
                             "exit 1  0 0 0",
                             "exit 1 0 0 0 ",
                             "exit 1 0 0",
                             "exit 1 2147483648 0 0",
                             "exit 18446744073709551616 0 0 0",
                             "exit 1 0 0 18014398509481984",
                             "exit 1 0 0 0x10",
                             "exit  1 0 0 0"};
        struct warm_exit e;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (warm_parse_exit(bad[i], &e) == 0)
                        fail_msg("accepted \"%s\"", bad[i]);
}

static void test_pidfd_of_child(void **state)
{
        (void)state;
        pid_t child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        int pidfd = warm_pidfd_of_child(child, getpid());
        assert_true(pidfd >= 0);
        close(pidfd);
        /* The status it checked is the child's, handed back for the isolation check. */
        char status[4096], line[64];
        pidfd = warm_pidfd_of_child_status(child, getpid(), status, sizeof(status));
        assert_true(pidfd >= 0);
        close(pidfd);
        snprintf(line, sizeof(line), "\nPid:\t%d\n", (int)child);
        assert_non_null(strstr(status, line));
        assert_int_equal(warm_pidfd_of_child(child, getppid()), -1); /* not its parent */
        assert_int_equal(warm_pidfd_of_child(getpid(), getpid()), -1);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        assert_int_equal(warm_pidfd_of_child(child, getpid()), -1); /* gone */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_frame_with_pid_and_fds, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pid_is_the_senders, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_frames_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unexpected_fds_closed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
            cmocka_unit_test_setup_teardown(test_empty_frame_with_fds, setup, teardown),
            cmocka_unit_test(test_exit_report),
            cmocka_unit_test(test_done_report),
            cmocka_unit_test(test_pidfd_of_child),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
