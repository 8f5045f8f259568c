/* Between two inputs, from outside the sandbox: nothing an input started
 * may live on, and nothing it wrote to /tmp may be there for the next one.
 *
 * Processes: the sandbox cgroup's cgroup.procs, and those of the leaves
 * beneath it (wh_cgroup_procs: on v2 init and the zygote are in one, the
 * input's child in another), list every process in it (host pids; reads of
 * small files, no global lock); all but init, the
 * zygote and a persistent child between its inputs are killed through
 * pidfds, in rounds until none is left. A daemon that forks faster than the
 * rounds go is bounded by the pids limit and, after MAX_ROUNDS, makes the
 * caller kill the whole sandbox.
 *
 * Without a cgroup there is nothing to sweep: an input's processes are in
 * its child's pid namespace, which the kernel empties before the zygote can
 * reap the child (warm_isolate.c). What is checked instead is that the
 * sandbox holds init and the zygote only: init's children are the zygote
 * alone (orphans are re-parented to init), the zygote has none. Anything
 * else is the zygote's own doing and costs the sandbox.
 *
 * /tmp: the sandbox's tmpfs, reached once through /proc/ZYGOTE/root/tmp and
 * kept open. Emptied with *at() calls that never follow a symlink; a tree
 * deeper than MAX_DEPTH, or anything that cannot be removed, fails (the
 * caller then kills the sandbox: the next zygote gets a fresh tmpfs). */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_ROUNDS 100
#define MAX_DEPTH  32

/* One round: signal every process but init and the zygote. Returns how many
 * there were, or -1. */
static int kill_round(struct wh_warm *w)
{
        char buf[8192];
        ssize_t n = wh_cgroup_procs(w->l.cgroup, buf, sizeof(buf));
        if (n < 0)
                return -1;
        int found = 0;
        for (char *p = buf, *end; *p; p = end) {
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid <= 0 || pid == w->l.pid || pid == w->zpid || pid == w->p.pid)
                        continue;
                found++;
                int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
                if (pidfd >= 0) {
                        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        close(pidfd);
                }
        }
        /* A full buffer may have cut the list: count it as not done. */
        return n == (ssize_t)sizeof(buf) - 1 ? found + 1 : found;
}

/* Processes the pids controller still counts: the killed leave cgroup.procs
 * when they exit, but are counted until init has reaped them, and until
 * then the next input would see them in /proc. -1: no pids controller. */
static long pids_counted(struct wh_warm *w)
{
        const char *dir = wh_cgroup_dir(w->l.cgroup, "pids");
        char path[PATH_MAX], buf[32];
        if (!dir || snprintf(path, sizeof(path), "%s/pids.current", dir) >= (int)sizeof(path))
                return -1;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return strtol(buf, NULL, 10);
}

/* The children of one thread, from /proc: its text ("" for none), or -1. */
static int children_of(pid_t pid, const char *tid, char *buf, size_t cap)
{
        char path[96];
        snprintf(path, sizeof(path), "/proc/%d/task/%.24s/children", (int)pid, tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

/* Every thread of pid has exactly the children `expect` lists ("" or "PID "). */
static int children_are(pid_t pid, const char *expect)
{
        char buf[256], path[64];
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        int rc = 0;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)))
                if (e->d_name[0] != '.' &&
                    (children_of(pid, e->d_name, buf, sizeof(buf)) < 0 || strcmp(buf, expect)))
                        rc = -1, errno = EBUSY;
        closedir(d);
        return rc;
}

/* Init's only child is the zygote; the zygote has none but a persistent
 * child between its inputs, which has none. */
static int only_init_and_zygote(struct wh_warm *w)
{
        char zygote[24], kept[24] = "";
        snprintf(zygote, sizeof(zygote), "%d ", (int)w->zpid);
        if (w->p.pid > 0)
                snprintf(kept, sizeof(kept), "%d ", (int)w->p.pid);
        return children_are(w->l.pid, zygote) < 0 || children_are(w->zpid, kept) < 0 ||
                       (w->p.pid > 0 && children_are(w->p.pid, "") < 0)
                   ? -1
                   : 0;
}

int warm_kill_leftovers(struct wh_warm *w)
{
        if (!w->procs_listed)
                return only_init_and_zygote(w);
        for (int round = 0; round < MAX_ROUNDS; round++) {
                int n = kill_round(w);
                if (n < 0)
                        return n;
                if (n == 0 && pids_counted(w) <= (w->p.pid ? 3 : 2))
                        return 0; /* init, the zygote (and a persistent child), or no
                                     pids controller to ask */
                usleep(round < 10 ? 100 : 2000);
        }
        errno = EBUSY;
        return -1;
}

static int empty_dir(int dir, int depth)
{
        if (depth > MAX_DEPTH)
                return errno = ELOOP, -1;
        int fd = dup(dir);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        rewinddir(d);
        int rc = 0;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(dir, e->d_name, 0) == 0)
                        continue;
                if (errno != EISDIR && errno != EPERM) {
                        rc = -1;
                        break;
                }
                /* A directory: its owner (the sandbox's root, our id or one we
                 * have power over) may have made it unreadable. */
                int made_readable = fchmodat(dir, e->d_name, 0700, 0);
                (void)made_readable; /* if not, openat says why */
                int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0 || empty_dir(sub, depth + 1) < 0 ||
                    unlinkat(dir, e->d_name, AT_REMOVEDIR) < 0)
                        rc = -1;
                if (sub >= 0)
                        close(sub);
        }
        closedir(d);
        return rc;
}

int warm_open_tmp(struct wh_warm *w)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root/tmp", (int)w->zpid);
        w->tmp_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return w->tmp_fd < 0 ? -1 : 0;
}

int warm_empty_tmp(struct wh_warm *w)
{
        return w->tmp_fd < 0 ? -1 : empty_dir(w->tmp_fd, 0);
}

/* What an input's child could change in its parent from outside: resource
 * limits (prlimit needs only the same uid) and whether it runs (SIGSTOP). */
static int zygote_facts(struct wh_warm *w, char *buf, size_t cap)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/limits", (int)w->zpid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, cap - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

int warm_note_zygote(struct wh_warm *w)
{
        return zygote_facts(w, w->limits, sizeof(w->limits));
}

int warm_check_zygote(struct wh_warm *w)
{
        char now[sizeof(w->limits)], path[64], stat[512];
        if (zygote_facts(w, now, sizeof(now)) < 0 || strcmp(now, w->limits) != 0)
                return -1;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)w->zpid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, stat, sizeof(stat) - 1) : -1;
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return -1;
        stat[n] = '\0';
        const char *state = strrchr(stat, ')');
        return state && state[1] == ' ' && (state[2] == 'S' || state[2] == 'R') ? 0 : -1;
}
