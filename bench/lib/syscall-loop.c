/*
 * syscall-loop: a syscall-heavy loop for measuring seccomp overhead.
 *
 * Each iteration makes three real system calls that every sandbox allows:
 * getppid(), clock_gettime() through syscall() (the vDSO version would never
 * enter the kernel, so the filter would not run) and a 1-byte read() from
 * /dev/zero. Prints one line "ns_per_syscall N.N" (wall time of the loop divided
 * by the number of syscalls) so the bench can compare the same loop with and
 * without a seccomp filter.
 *
 * Usage: syscall-loop [ITERATIONS] (default 1000000, i.e. 3 million syscalls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SYSCALLS_PER_ITERATION 3

static double to_ns(const struct timespec *ts)
{
        return (double)ts->tv_sec * 1e9 + (double)ts->tv_nsec;
}

int main(int argc, char **argv)
{
        char *end = NULL;
        unsigned long iterations = 1000000;
        if (argc > 1) {
                errno = 0;
                iterations = strtoul(argv[1], &end, 10);
                if (errno != 0 || *end != '\0' || iterations == 0) {
                        fprintf(stderr, "usage: %s [ITERATIONS > 0]\n", argv[0]);
                        return 2;
                }
        }
        int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "syscall-loop: open /dev/zero: %s\n", strerror(errno));
                return 1;
        }
        struct timespec start, now;
        if (clock_gettime(CLOCK_MONOTONIC, &start) < 0) {
                fprintf(stderr, "syscall-loop: clock_gettime: %s\n", strerror(errno));
                return 1;
        }
        char byte;
        for (unsigned long i = 0; i < iterations; i++) {
                /* getppid cannot fail; the other two are checked. */
                syscall(SYS_getppid);
                if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now) < 0 ||
                    read(fd, &byte, 1) != 1) {
                        fprintf(stderr, "syscall-loop: syscall in loop: %s\n", strerror(errno));
                        return 1;
                }
        }
        if (clock_gettime(CLOCK_MONOTONIC, &now) < 0) {
                fprintf(stderr, "syscall-loop: clock_gettime: %s\n", strerror(errno));
                return 1;
        }
        double elapsed = to_ns(&now) - to_ns(&start);
        printf("ns_per_syscall %.1f\n", elapsed / ((double)iterations * SYSCALLS_PER_ITERATION));
        return 0;
}
