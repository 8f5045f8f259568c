/* One Hostname per line of the raw file (stdin). Cold: handle() once.
 * Warm (WHISKERS_WARM=fork, docs/warm.md): fd 0 is the control socket; say
 * "ready", then per "input N" (with a channel fd, maybe a memory cgroup's
 * tasks file) fork a child into new user and pid namespaces that moves
 * itself into that cgroup, leads its own process group, says "hello", gets
 * stdin/stdout/stderr with "go" and runs handle(); report
 * "exit N STATUS CPU_US MAXRSS_KB" once it is reaped. Persistent
 * (WHISKERS_WARM=persistent): the child then points its stdio at /dev/null,
 * says "done CODE" and serves the next "go", until the channel ends. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int handle(void)
{
        char line[256];
        while (fgets(line, sizeof(line), stdin)) {
                line[strcspn(line, "\r\n")] = '\0';
                size_t ok = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789.-");
                if (line[0] && !line[ok])
                        printf("{\"object_type\":\"Hostname\",\"network\":\"Network|internet\","
                               "\"name\":\"%s\"}\n",
                               line);
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

/* One frame, with min..3 fds (*n of them); returns its length, 0 at EOF,
 * -1 on error. */
static ssize_t recv_frame(int sock, char *buf, size_t cap, int *fds, size_t min, size_t *n)
{
        char ctl[CMSG_SPACE(3 * sizeof(int))];
        struct iovec iov = {buf, cap - 1};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
        ssize_t len = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        *n = c && c->cmsg_type == SCM_RIGHTS ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
        if (len <= 0 || *n < min)
                return len <= 0 ? len : -1;
        memcpy(fds, CMSG_DATA(c), *n * sizeof(int));
        buf[len] = '\0';
        return len;
}

static int take_stdio(const int io[3])
{
        for (int i = 0; i < 3; i++)
                if (dup2(io[i], i) < 0 || close(io[i]) < 0)
                        return -1;
        clearerr(stdin);
        return 0;
}

static int child(int chan, int tasks, bool persistent)
{
        char buf[64];
        int io[3];
        size_t got;
        if (tasks >= 0) { /* into the input's memory cgroup; failing that, we are moved */
                ssize_t moved = write(tasks, "0", 1);
                close(tasks);
                (void)moved;
        }
        if (setpgid(0, 0) < 0 || write(chan, "hello\n", 6) != 6)
                return 2;
        for (;;) {
                ssize_t n = recv_frame(chan, buf, sizeof(buf), io, 3, &got);
                if (n == 0 && persistent)
                        return 0; /* recycled */
                if (n <= 0 || strcmp(buf, "go\n") != 0 || take_stdio(io) < 0)
                        return 2;
                int code = handle();
                if (!persistent)
                        return code;
                int null[3] = {open("/dev/null", O_RDWR), dup(null[0]), dup(null[0])};
                int len = snprintf(buf, sizeof(buf), "done %d\n", code);
                if (null[0] < 0 || take_stdio(null) < 0 || write(chan, buf, (size_t)len) != len)
                        return 2;
        }
}

int main(void)
{
        const char *mode = getenv("WHISKERS_WARM");
        if (!mode || (strcmp(mode, "fork") != 0 && strcmp(mode, "persistent") != 0))
                return handle();
        bool persistent = strcmp(mode, "persistent") == 0;
        unsetenv("WHISKERS_WARM");
        char buf[256], reply[256];
        int fds[3] = {-1, -1, -1};
        size_t got;
        if (write(0, "ready\n", 6) != 6)
                return 2;
        while (recv_frame(0, buf, sizeof(buf), fds, 1, &got) > 0 && got <= 2 &&
               strncmp(buf, "input ", 6) == 0) {
                pid_t pid =
                    (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
                if (pid == 0)
                        _exit(child(fds[0], got == 2 ? fds[1] : -1, persistent));
                for (size_t i = 0; i < got; i++)
                        close(fds[i]);
                int status;
                struct rusage ru;
                if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
                        return 2;
                long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L +
                              ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
                int n =
                    snprintf(reply, sizeof(reply), "exit %.*s %d %ld %ld\n",
                             (int)strcspn(buf + 6, "\n"), buf + 6, status, cpu_us, ru.ru_maxrss);
                if (write(0, reply, (size_t)n) != n)
                        return 2;
        }
        return 0;
}
