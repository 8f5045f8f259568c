/*
 * drop-cgroup2-exec: runs PROGRAM [ARGS...] in a private mount namespace in
 * which the cgroup2 hierarchy of a hybrid-cgroup host is unmounted.
 *
 * WHY: crun 1.8 refuses to start on a hybrid host ("cgroups in hybrid mode not
 * supported"); without the v2 mount it sees a plain v1 host and uses cgroupfs.
 * Doing this in one small exec (instead of `unshare -m sh -c 'umount ...;
 * exec crun'`, three execs) keeps the wrapper's share of the crun figure small;
 * the bench measures this wrapper running /bin/true as its own row.
 *
 * Usage: drop-cgroup2-exec CGROUP2_MOUNTPOINT PROGRAM [ARGS...]. Needs
 * CAP_SYS_ADMIN (root). Exits 125 when the namespace cannot be set up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: %s CGROUP2_MOUNTPOINT PROGRAM [ARGS...]\n", argv[0]);
                return 125;
        }
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "drop-cgroup2-exec: unshare(CLONE_NEWNS): %s (run as root)\n",
                        strerror(errno));
                return 125;
        }
        /* Private propagation: the umount below must not reach the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "drop-cgroup2-exec: make / private: %s\n", strerror(errno));
                return 125;
        }
        if (umount2(argv[1], MNT_DETACH) < 0) {
                fprintf(stderr, "drop-cgroup2-exec: umount %s: %s\n", argv[1], strerror(errno));
                return 125;
        }
        execvp(argv[2], argv + 2);
        fprintf(stderr, "drop-cgroup2-exec: exec %s: %s\n", argv[2], strerror(errno));
        return 127;
}
