/* Leaf directories: making them under a parent with a fresh name, removing
 * them, and emptying them with SIGKILL.
 *
 * Names are <hint>-<ns>-<pid>-<n>: ns is the inode of our pid namespace
 * (/proc/self/ns/pid), since a pid means something only there, and n counts
 * up in this process; mkdir is atomic, so a name that is taken (a leftover of
 * a crashed run) is simply skipped, never reused.
 *
 * A supervisor killed with SIGKILL cannot remove its leaves, so creating one
 * first sweeps the parent for *empty* leaves of our pid namespace whose pid is
 * gone and that are older than a minute. Leaves of another pid namespace
 * (another container sharing the parent) are left to its workers: its pids
 * are not ours to test. Old names without ns (<hint>-<pid>-<n>, whiskers
 * before 2026-12) are swept as before, taken to be ours; a minute of age
 * spares another namespace's fresh one, and a leaf with processes cannot be
 * removed at all. */
#define _GNU_SOURCE
#include "sandbox/cgroup_internal.h"

#include "base/cleanup.h"
#include "base/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NAME_TRIES  16
#define KILL_ROUNDS 1000

static unsigned next_seq;

static int make_one(struct cg_leaf *leaf, const struct cg_leaf_req *req, const char *name,
                    struct wh_err *err)
{
        if (asprintf(&leaf->path, "%s/%s", req->parent, name) < 0) {
                leaf->path = NULL;
                return wh_err_set(err, ENOMEM, "cgroup", "building a cgroup path");
        }
        if (mkdir(leaf->path, 0755) < 0) {
                int e = errno;
                wh_err_set(err, e, "cgroup", "cannot create %s", leaf->path);
                free(steal_pointer(&leaf->path));
                errno = e;
                return -1;
        }
        leaf->fd = open(leaf->path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (leaf->fd < 0) {
                int e = errno;
                wh_err_set(err, e, "cgroup", "cannot open %s", leaf->path);
                rmdir(leaf->path);
                free(steal_pointer(&leaf->path));
                errno = e;
                return -1;
        }
        leaf->ctrls = req->ctrls;
        return 0;
}

/* One attempt with one name: 0, or -1 with errno (EEXIST: try another). */
static int make_all(struct wh_cgroup *cg, const struct cg_leaf_req *reqs, size_t n,
                    const char *name, struct wh_err *err)
{
        struct wh_err first = {0};
        for (size_t i = 0; i < n; i++) {
                struct cg_leaf *leaf = &cg->leaves[cg->n_leaves];
                if (make_one(leaf, &reqs[i], name, err) == 0) {
                        cg->n_leaves++;
                        continue;
                }
                int e = errno;
                if (e == EEXIST || reqs[i].required) {
                        cg_undo(cg);
                        errno = e;
                        return -1;
                }
                if (!first.stage)
                        first = *err;
        }
        if (cg->n_leaves == 0) {
                *err = first;
                errno = first.errnum;
                return -1;
        }
        return 0;
}

#define STALE_AFTER_S 60

unsigned long cg_pidns_id(void)
{
        struct stat st;
        return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* The pid a leaf name after the hint is for, when it is of our pid namespace
 * (or an old name without one); 0 otherwise. */
static int leaf_pid(const char *rest, unsigned long own_ns)
{
        unsigned long ns;
        int pid;
        unsigned seq;
        char end;
        if (sscanf(rest, "-%lu-%d-%u%c", &ns, &pid, &seq, &end) == 3)
                return ns == own_ns && ns != 0 && pid > 0 ? pid : 0;
        if (sscanf(rest, "-%d-%u%c", &pid, &seq, &end) == 2)
                return pid > 0 ? pid : 0;
        return 0;
}

unsigned cg_sweep_stale(const char *parent, const char *hint)
{
        unsigned removed = 0;
        DIR *dir = opendir(parent);
        if (!dir)
                return 0;
        size_t hint_len = strlen(hint);
        unsigned long own_ns = cg_pidns_id();
        time_t now = time(NULL);
        for (struct dirent *e; (e = readdir(dir));) {
                if (strncmp(e->d_name, hint, hint_len) != 0)
                        continue;
                int pid = leaf_pid(e->d_name + hint_len, own_ns);
                if (pid == 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
                        continue;
                struct stat st;
                if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                    !S_ISDIR(st.st_mode) || now - st.st_mtime <= STALE_AFTER_S)
                        continue;
                /* Its leaves beneath (cgroup_sub.c) first: a cgroup with a
                 * child cannot be removed. All fail if not empty. */
                static const char *const beneath[] = {CG_SUB_NAME, CG_HOME_NAME};
                for (size_t i = 0; i < sizeof(beneath) / sizeof(beneath[0]); i++) {
                        char sub[512];
                        snprintf(sub, sizeof(sub), "%s/%s", e->d_name, beneath[i]);
                        unlinkat(dirfd(dir), sub, AT_REMOVEDIR);
                }
                if (unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR) == 0)
                        removed++;
        }
        closedir(dir);
        return removed;
}

int cg_make_leaves(struct wh_cgroup *cg, const struct cg_leaf_req *reqs, size_t n, const char *hint,
                   struct wh_err *err)
{
        for (size_t i = 0; i < n; i++)
                cg_sweep_stale(reqs[i].parent, hint);
        unsigned long ns = cg_pidns_id();
        for (int attempt = 0; attempt < NAME_TRIES; attempt++) {
                char name[96];
                unsigned seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);
                snprintf(name, sizeof(name), "%s-%lu-%d-%u", hint, ns, (int)getpid(), seq);
                if (make_all(cg, reqs, n, name, err) == 0)
                        return 0;
                if (errno != EEXIST)
                        return -1;
        }
        return -1; /* err says which name was taken last */
}

int cg_leaf_rmdir(const struct cg_leaf *leaf)
{
        return rmdir(leaf->path);
}

void cg_leaf_release(struct cg_leaf *leaf)
{
        if (leaf->fd >= 0)
                close(leaf->fd);
        leaf->fd = -1;
        free(steal_pointer(&leaf->path));
}

void cg_undo(struct wh_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_leaves; i++) {
                cg_leaf_rmdir(&cg->leaves[i]);
                cg_leaf_release(&cg->leaves[i]);
        }
        cg->n_leaves = 0;
}

/* The pids listed in dir/cgroup.procs; *n = 0 when empty. */
static pid_t *read_procs(const char *dir, size_t *n)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        cleanup_free char *text = NULL;
        struct wh_err ignored;
        size_t len;
        if (wh_read_file(path, 4 * 1024 * 1024, &text, &len, &ignored) < 0) {
                errno = ignored.errnum;
                return NULL;
        }
        size_t lines = 0;
        for (size_t i = 0; i < len; i++)
                lines += text[i] == '\n';
        pid_t *pids = calloc(lines + 1, sizeof(*pids));
        if (!pids)
                return NULL;
        *n = 0;
        for (char *p = text, *end; *p; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0 && *n < lines + 1)
                        pids[(*n)++] = (pid_t)v;
                end += strspn(end, "\n");
        }
        return pids;
}

static bool listed(const pid_t *pids, size_t n, pid_t pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* One round: pin every listed process with a pidfd, re-read the list, and
 * signal the pinned ones still listed. A pid still listed after its pidfd was
 * opened is the pinned process, so a recycled pid is never signalled.
 * Without pidfds (kernel < 5.3) plain kill() leaves that small window open. */
static int kill_round(const char *dir, const pid_t *pids, size_t n)
{
        int *fds = calloc(n, sizeof(*fds));
        if (!fds)
                return -1;
        bool no_pidfd = false;
        for (size_t i = 0; i < n; i++) {
                fds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
                if (fds[i] < 0 && errno == ENOSYS)
                        no_pidfd = true;
        }
        size_t n_again = 0;
        cleanup_free pid_t *again = read_procs(dir, &n_again);
        int rc = again ? 0 : -1;
        for (size_t i = 0; i < n; i++) {
                if (again && listed(again, n_again, pids[i])) {
                        if (fds[i] >= 0)
                                syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, NULL, 0);
                        else if (no_pidfd)
                                kill(pids[i], SIGKILL);
                }
                if (fds[i] >= 0)
                        close(fds[i]);
        }
        free(fds);
        return rc;
}

int cg_kill_procs(const char *dir)
{
        const struct timespec pause = {.tv_nsec = 1000 * 1000};
        for (int round = 0; round < KILL_ROUNDS; round++) {
                size_t n = 0;
                cleanup_free pid_t *pids = read_procs(dir, &n);
                if (!pids)
                        return -1;
                if (n == 0)
                        return 0;
                if (kill_round(dir, pids, n) < 0)
                        return -1;
                /* Killed processes leave the list once they have exited. */
                nanosleep(&pause, NULL);
        }
        errno = EBUSY;
        return -1;
}
