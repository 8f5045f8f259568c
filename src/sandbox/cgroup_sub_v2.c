/* cgroup v2 beneath a sandbox's cgroup (cgroup.h: wh_cgroup_nest,
 * wh_cgroup_sub). A v2 cgroup with processes of its own cannot enable a
 * controller for a child ("no internal processes"), so a warm sandbox's own
 * processes are born in a leaf of their own and the sandbox's cgroup, empty
 * itself, enables memory for its children:
 *
 *   <sandbox>/          memory.max, pids.max, cpu.max of the whole sandbox;
 *                       its counters (cpu.stat, memory.events, memory.peak,
 *                       pids.current) are hierarchical: they cover both
 *   <sandbox>/zygote/   init and the zygote, placed there at birth
 *                       (clone3 CLONE_INTO_CGROUP: no move, no lock)
 *   <sandbox>/input/    an input's child, moved in; memory.max its own
 *
 * Whose OOM: memory.events counts an event in the cgroup and every cgroup
 * above it, memory.events.local in the cgroup alone. The sandbox's own
 * limit reached is the "oom" of its memory.events.local; init or the zygote
 * killed, the "oom_kill" of zygote/'s; the input's, the "oom_kill" of
 * input/'s memory.events.
 *
 * Peak: memory.peak is the peak since the cgroup was made. Since 6.12 a
 * write to it restarts it for the reads through the same fd: input/'s is
 * kept open for that. Before, it cannot be restarted and input/ reports no
 * peak (the input's is then its child's max RSS, docs/warm.md). */
#define _GNU_SOURCE
#include "sandbox/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A leaf beneath cg, memory accounted. */
static struct wh_cgroup *child(struct wh_cgroup *cg, const char *name, struct wh_err *err)
{
        struct wh_cgroup *c = cg_child(WH_CGROUP_V2, cg->leaves[0].path, name, CG_MEMORY, err);
        if (!c)
                return NULL;
        const struct cg_leaf *leaf = &c->leaves[0];
        c->mem_fd = c->pids_fd = c->cpu_fd = leaf->fd;
        c->has_kill_file = cg->has_kill_file;
        if (!cg_exists(leaf->fd, "memory.events.local")) {
                wh_err_set(err, ENOENT, "cgroup",
                           "%s/memory.events.local is missing (kernel before 5.2?): an input's "
                           "OOM cannot be told from the sandbox's",
                           leaf->path);
                wh_cgroup_destroy(c);
                return NULL;
        }
        c->has_mem_events = true;
        return c;
}

int wh_cgroup_nest(struct wh_cgroup *cg, struct wh_err *err)
{
        char avail[512];
        if (cg->kind != WH_CGROUP_V2 || cg->n_leaves == 0 || cg->home)
                return 0;
        const struct cg_leaf *top = &cg->leaves[0];
        if (cg_read(top->fd, "cgroup.controllers", avail, sizeof(avail)) < 0)
                return wh_err_set(err, errno, "cgroup", "cannot read %s/cgroup.controllers",
                                  top->path);
        if (!cg_word_in(avail, "memory"))
                return 0; /* nothing to count apart: the sandbox's counters, as before */
        if (cg_write(top->fd, "cgroup.subtree_control", "+memory") < 0)
                return cg_write_failed(err, errno, top->path, "cgroup.subtree_control", "+memory");
        cg->home = child(cg, CG_HOME_NAME, err);
        return cg->home ? 0 : -1;
}

/* memory.peak open for restarting, or -1: before 6.12 it is read-only
 * (0444), but root may still open it for writing; the write then fails
 * (EINVAL, seen on 6.1). So its mode decides, as the kernel's own tests do. */
static int open_peak(int dirfd)
{
        struct stat st;
        int fd = openat(dirfd, "memory.peak", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && (fstat(fd, &st) < 0 || !(st.st_mode & 0222))) {
                close(fd);
                return -1;
        }
        return fd;
}

int cg_v2_make_sub(struct wh_cgroup *cg, struct wh_err *err)
{
        if (!cg->home) {
                errno = ENOTSUP;
                return wh_err_set(err, ENOTSUP, "cgroup",
                                  "no per-input memory cgroup: the sandbox's processes are not in "
                                  "a leaf of their own (wh_cgroup_nest), or %s has no memory "
                                  "controller",
                                  cg->leaves[0].path);
        }
        struct wh_cgroup *sub = child(cg, CG_SUB_NAME, err);
        if (!sub)
                return -1;
        const char *path = sub->leaves[0].path;
        /* No swap for the input, as for the sandbox (cgroup_v2.c). */
        if (cg_exists(sub->mem_fd, "memory.swap.max") &&
            cg_write(sub->mem_fd, "memory.swap.max", "0") < 0) {
                int e = errno;
                cg_write_failed(err, e, path, "memory.swap.max", "0");
                wh_cgroup_destroy(sub);
                errno = e;
                return -1;
        }
        sub->peak_fd = open_peak(sub->mem_fd);
        sub->has_mem_peak = sub->peak_fd >= 0;
        cg->sub = sub;
        return 0;
}

int cg_v2_set_memory(struct wh_cgroup *cg, uint64_t bytes, struct wh_err *err)
{
        char value[24] = "max";
        if (bytes)
                snprintf(value, sizeof(value), "%" PRIu64, bytes);
        if (cg_write(cg->mem_fd, "memory.max", value) < 0)
                return cg_write_failed(err, errno, cg->leaves[0].path, "memory.max", value);
        return 0;
}

int cg_v2_reset_peak(struct wh_cgroup *cg)
{
        /* Any text restarts it; written at the start (a seq_file refuses
         * pwrite), so that a plain file holds what the kernel was told. */
        if (cg->peak_fd < 0)
                return 0;
        return lseek(cg->peak_fd, 0, SEEK_SET) == 0 && write(cg->peak_fd, "0\n", 2) == 2 ? 0 : -1;
}

int cg_v2_oom_events(struct wh_cgroup *cg, uint64_t *out)
{
        if (cg->mem_fd < 0) {
                errno = ENOTSUP;
                return -1;
        }
        return cg_read_key(cg->mem_fd, "memory.events.local", "oom", out);
}

int cg_v2_own_oom_kills(struct wh_cgroup *cg, uint64_t *out)
{
        if (cg->home)
                return cg_read_key(cg->home->mem_fd, "memory.events.local", "oom_kill", out);
        if (cg->mem_fd < 0 || !cg->has_mem_events) {
                errno = ENOTSUP;
                return -1;
        }
        return cg_read_key(cg->mem_fd, "memory.events", "oom_kill", out);
}
