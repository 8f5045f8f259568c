/* The checks of an input's child, before "go" (docs/warm.md "One input"
 * step 2), and the same done ahead for a child forked ahead (fork_ahead in
 * warm_input.c): a thread waits for its "hello" and admits it while the
 * caller builds the last input's result and stages the next, so that the
 * next input finds it checked and in its memory cgroup, and only "go"
 * remains. The thread touches nothing but the channel, the child and its
 * own fields; the zygote's notes it reads (zpid, zlevels, zuserns, the
 * leaf) do not change until warm_down, which stops it first. The checks
 * are those of a child that says hello during its input; what could change
 * while it waits is checked again at "go" (warm_ahead_take). */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define AHEAD_STACK (256u << 10)
#define EXITING_MS  200

int warm_admit(struct wh_warm *w, uint64_t ordinal, pid_t pid, int *pidfd_out, char *why,
               size_t cap)
{
        char status[4096], reason[256];
        int pidfd = warm_pidfd_of_child_status(pid, w->zpid, status, sizeof(status));
        if (pidfd < 0) {
                snprintf(why, cap, "\"hello\" came from pid %d, which is not a child of the zygote",
                         (int)pid);
                return -1;
        }
        *pidfd_out = pidfd; /* the caller's to close, refused or not */
        if (warm_check_isolated(w, pid, pidfd, status, reason, sizeof(reason)) < 0 ||
            warm_leaf_enter(w, pid, strstr(status, "\nThreads:\t1\n") != NULL, reason,
                            sizeof(reason)) < 0) {
                snprintf(why, cap, "input %" PRIu64 "'s child is not isolated from the zygote: %s",
                         ordinal, reason);
                return -1;
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        bool adj = fd >= 0 && write(fd, "1000", 4) == 4;
        int saved = errno;
        if (fd >= 0)
                close(fd);
        if (!adj) {
                snprintf(why, cap, "cannot make input %" PRIu64 "'s child the first OOM victim: %s",
                         ordinal, strerror(saved));
                return -1;
        }
        return 0;
}

/* The thread: "hello" on the spare's channel, then the child admitted. */
static void *admit_ahead(void *arg)
{
        struct wh_warm *w = arg;
        struct warm_ahead *a = &w->ahead;
        struct pollfd p[] = {{.fd = a->chan, .events = POLLIN}, {.fd = a->stop, .events = POLLIN}};
        a->rc = WARM_AHEAD_REFUSED;
        while (poll(p, 2, -1) < 0)
                if (errno != EINTR) {
                        snprintf(a->why, sizeof(a->why),
                                 "cannot wait for input %" PRIu64 "'s child's hello: %s",
                                 a->ordinal, strerror(errno));
                        goto out;
                }
        if (p[1].revents)
                goto out; /* warm_down */
        char text[WARM_FRAME_MAX];
        int none[1];
        size_t nfd;
        ssize_t n = warm_recv(a->chan, text, sizeof(text), &a->pid, none, 0, &nfd);
        if (n == 0)
                a->rc = WARM_AHEAD_ENDED; /* before its hello: the zygote says how */
        else if (n < 0 || strcmp(text, "hello") != 0)
                snprintf(a->why, sizeof(a->why),
                         "protocol error: the child's first frame was not \"hello\"");
        else if (warm_admit(w, a->ordinal, a->pid, &a->pidfd, a->why, sizeof(a->why)) == 0)
                a->rc = WARM_AHEAD_ADMITTED;
out:
        eventfd_write(a->done, 1);
        return NULL;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

void warm_ahead_start(struct wh_warm *w)
{
        struct warm_ahead *a = &w->ahead;
        *a = (struct warm_ahead){.pidfd = -1, .chan = w->spare, .ordinal = w->ordinal + 1};
        a->done = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        a->stop = eventfd(0, EFD_CLOEXEC);
        pthread_attr_t attr;
        bool made = a->done >= 0 && a->stop >= 0 && pthread_attr_init(&attr) == 0;
        if (made) {
                pthread_attr_setstacksize(&attr, AHEAD_STACK);
                made = pthread_create(&a->thread, &attr, admit_ahead, w) == 0;
                pthread_attr_destroy(&attr);
        }
        a->running = made;
        if (!made) /* the input checks its child when it comes, as the first one */
                close_fd(&a->done), close_fd(&a->stop);
}

/* Joined: what it wrote may be read. */
static void join(struct warm_ahead *a)
{
        pthread_join(a->thread, NULL);
        a->running = false;
        close_fd(&a->done), close_fd(&a->stop);
}

void warm_ahead_stop(struct wh_warm *w)
{
        if (!w->ahead.running)
                return;
        eventfd_write(w->ahead.stop, 1);
        join(&w->ahead);
        close_fd(&w->ahead.pidfd);
}

bool warm_child_ending(int pidfd)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        return poll(&p, 1, EXITING_MS) != 0;
}

/* The child still is what was admitted: alive (its pidfd, checked last, says
 * the answers before were about it) and still in its memory cgroup. */
static int still_admitted(struct wh_warm *w, struct warm_ahead *a)
{
        struct pollfd p = {.fd = a->pidfd, .events = POLLIN};
        bool held = !w->leaf.cg || wh_cgroup_holds(w->leaf.cg, a->pid);
        if (held ? poll(&p, 1, 0) != 0 : warm_child_ending(a->pidfd))
                return WARM_AHEAD_ENDED;
        if (held)
                return WARM_AHEAD_ADMITTED;
        snprintf(a->why, sizeof(a->why),
                 "input %" PRIu64 "'s child left its memory cgroup %s while it waited", a->ordinal,
                 wh_cgroup_dir(w->leaf.cg, "memory"));
        return WARM_AHEAD_REFUSED;
}

int warm_ahead_take(struct wh_warm *w, int *pidfd, pid_t *pid, char *why, size_t cap)
{
        struct warm_ahead *a = &w->ahead;
        join(a);
        int rc = a->rc;
        if (rc == WARM_AHEAD_ADMITTED)
                rc = still_admitted(w, a);
        bool keep = a->rc == WARM_AHEAD_ADMITTED && rc != WARM_AHEAD_REFUSED;
        *pidfd = keep ? a->pidfd : -1;
        *pid = a->pid;
        snprintf(why, cap, "%s", a->why);
        if (!keep)
                close_fd(&a->pidfd);
        a->pidfd = -1; /* the caller's now, or closed */
        return rc;
}
