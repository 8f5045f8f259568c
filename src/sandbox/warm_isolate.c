/* An input's child cannot reach the zygote (docs/warm.md "Isolation").
 *
 * The zygote forks each child with clone(CLONE_NEWUSER | CLONE_NEWPID): the
 * child is pid 1 of a new pid namespace, so no pid it can name (kill,
 * prlimit, pidfd_open, sched_setaffinity...) is the zygote's, and a pidfd
 * it makes from /proc/ZYGOTE is refused by pidfd_send_signal (not in its
 * namespace); its daemons die with it (the kernel kills a pid namespace
 * whose init exits). The user namespace is what lets an unprivileged zygote
 * make the pid namespace; the child's capabilities are in that namespace
 * only, which owns nothing but the child's pid namespace, and since it is
 * not the zygote's, /proc/ZYGOTE/{fd,environ,mem,...} need a capability
 * over the zygote's namespace that the child lacks. The child also leads a
 * process group of its own (setpgid(0, 0)): kill(0, ...) signals the caller's
 * process group, whatever the namespace, and would otherwise reach the
 * zygote's. (Not setsid: a new session is a new scheduling autogroup, which
 * cost 14 ms per input on a loaded machine, bench/warm.)
 *
 * Nobody keeps a capability for this: no process of the sandbox holds one
 * over anything shared. The price is one rule the cold policy does not
 * have: the zygote's seccomp filter also allows clone with CLONE_NEWUSER and
 * CLONE_NEWPID (no other namespace), inherited by the children.
 *
 * The supervisor does not take the zygote's word for it: before "go", the
 * child's /proc/PID/status must show it as pid 1 of a namespace one level
 * below the zygote's and the leader of its own process group, and its user
 * namespace must not be the zygote's. Otherwise the input is refused and the
 * zygote replaced. */
#define _GNU_SOURCE
#include "sandbox/warm_internal.h"
#include "sandbox/seccomp_internal.h" /* the built-in policy's text */
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define POLICY_MAX (1u << 20)

/* Added to the sandbox's policy for the zygote: the only namespaces clone may
 * create are a user and a pid namespace. */
static const char zygote_rule[] =
    "\n# warm mode (docs/warm.md): an input's child in new user and pid namespaces\n"
    "allow clone arg0 & CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET == 0\n";

int warm_zygote_policy(struct wh_warm *w, struct wh_err *err)
{
        const char *path = w->sb->config.seccomp_policy;
        char *file = NULL;
        size_t len = 0;
        if (path && wh_read_file(path, POLICY_MAX, &file, &len, err) < 0)
                return -1;
        const char *base = path ? file : wh_seccomp_default_policy;
        size_t n = strlen(base) + sizeof(zygote_rule);
        char *text = malloc(n);
        if (!text) {
                free(file);
                return wh_err_set(err, ENOMEM, "warm", "allocating the zygote's seccomp policy");
        }
        snprintf(text, n, "%s%s", base, zygote_rule);
        free(file);
        int rc = wh_seccomp_policy_parse_compiled("the zygote's policy", text, &w->zpolicy, err);
        free(text);
        const struct sock_fprog *bpf;
        if (rc < 0 || wh_seccomp_policy_bpf(w->zpolicy, &bpf, err) < 0)
                return -1;
        /* The zygote's sandbox is the caller's in all but the filter. */
        w->zsb = *w->sb;
        w->zsb.bpf = bpf;
        return 0;
}

/* The value of a "Name:\t..." line of a /proc/PID/status text: how many
 * numbers it holds and the last one. */
static int status_field(const char *status, const char *name, int *count, long *last)
{
        const char *p = strstr(status, name);
        if (!p)
                return -1;
        p += strlen(name);
        *count = 0;
        for (char *end;; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                *last = v;
                (*count)++;
        }
        return *count > 0 ? 0 : -1;
}

static int userns_of(pid_t pid, char *buf, size_t cap)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        ssize_t n = readlink(path, buf, cap - 1);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

int warm_note_isolation(struct wh_warm *w)
{
        char status[4096];
        long last;
        if (warm_read_status(w->zpid, status, sizeof(status)) < 0 ||
            status_field(status, "\nNSpid:", &w->zlevels, &last) < 0)
                return -1;
        return userns_of(w->zpid, w->zuserns, sizeof(w->zuserns));
}

int warm_check_isolated(struct wh_warm *w, pid_t pid, int pidfd, const char *status, char *why,
                        size_t cap)
{
        char userns[sizeof(w->zuserns)];
        int levels, pgid_levels;
        long nspid = 0, nspgid = 0;
        /* The status was read after the pidfd was opened; the link too, and
         * the process still alive after both: they were its. */
        if (status_field(status, "\nNSpid:", &levels, &nspid) < 0 ||
            status_field(status, "\nNSpgid:", &pgid_levels, &nspgid) < 0 ||
            userns_of(pid, userns, sizeof(userns)) < 0 ||
            syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
                snprintf(why, cap, "its /proc entry could not be read: %s", strerror(errno));
                return -1;
        }
        if (levels != w->zlevels + 1 || nspid != 1)
                snprintf(why, cap,
                         "it is not pid 1 of a new pid namespace (the zygote must clone it "
                         "with CLONE_NEWUSER|CLONE_NEWPID)");
        else if (strcmp(userns, w->zuserns) == 0)
                snprintf(why, cap, "it shares the zygote's user namespace");
        else if (nspgid != 1)
                snprintf(why, cap,
                         "it does not lead its own process group (setpgid(0, 0) before "
                         "\"hello\")");
        else
                return 0;
        return -1;
}
