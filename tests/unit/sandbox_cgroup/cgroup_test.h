/* Helpers shared by the cgroup tests: small file I/O and children that wait
 * on a pipe until the test has moved them into a cgroup. */
#ifndef WH_TEST_CGROUP_TEST_H
#define WH_TEST_CGROUP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whole small file as a string (static buffer, "" when unreadable). */
static inline const char *slurp(const char *path)
{
        static char buf[8192];
        buf[0] = '\0';
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return buf;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
        return buf;
}

static inline const char *slurp_in(const char *dir, const char *file)
{
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        return slurp(path);
}

/* "<hint>-<ns>-<pid>-", how our leaves' names start: ns is the inode of our
 * pid namespace, looked up here independently of the code under test. */
static inline const char *leaf_prefix(const char *hint)
{
        static char buf[64];
        struct stat st;
        if (stat("/proc/self/ns/pid", &st) < 0)
                return "(no /proc/self/ns/pid)";
        snprintf(buf, sizeof(buf), "%s-%lu-%d-", hint, (unsigned long)st.st_ino, (int)getpid());
        return buf;
}

static inline bool exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0;
}

/* Fork a child that blocks until go() and then returns fn()'s value as its
 * exit status. Children never return into cmocka. */
static inline pid_t spawn_waiting(int (*fn)(void), int *go_fd)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                char c;
                close(p[1]);
                if (read(p[0], &c, 1) != 1)
                        _exit(120);
                _exit(fn());
        }
        close(p[0]);
        *go_fd = p[1];
        return pid;
}

static inline void go(int go_fd)
{
        char c = 'g';
        if (write(go_fd, &c, 1) != 1)
                abort();
        close(go_fd);
}

/* Reap every child, including orphans handed to us as subreaper. */
static inline void reap_all(void)
{
        while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
                ;
}

/* Children used by the real-cgroup tests. */
static inline int child_spin(void)
{
        for (volatile unsigned long i = 0;; i++)
                ;
        return 0;
}

static inline int child_memhog(void)
{
        /* 200 MiB, every page touched, so it is really charged. */
        for (int i = 0; i < 200; i++) {
                char *p = malloc(1 << 20);
                if (!p)
                        return 2;
                memset(p, i + 1, 1 << 20);
        }
        return 0;
}

/* Fork 100 sleeping children; exit status = forks refused (at most 100). */
static inline int child_forker(void)
{
        int refused = 0;
        for (int i = 0; i < 100; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        pause();
                        _exit(0);
                }
                if (pid < 0)
                        refused++;
        }
        return refused;
}

static inline int child_family(void)
{
        for (int i = 0; i < 3; i++)
                if (fork() == 0)
                        for (;;)
                                pause();
        for (;;)
                pause();
        return 0;
}

#endif
