/* A leaf beneath a sandbox's cgroup for one process at a time (cgroup.h:
 * wh_cgroup_sub): a warm input's child is moved into it before its input
 * flows, so that its memory is limited and counted apart from the zygote's.
 *
 * Only the memory hierarchy gets one. v1 charges a page to the cgroup of the
 * process that faults it in, so the child's copy-on-write copies of the
 * zygote's pages and everything it allocates land in the leaf, while the
 * zygote's pages stay charged to the sandbox. The leaf is reused input after
 * input (its peak and failure counters written back to 0 before each):
 * a mkdir + rmdir per input costs about as much as the move itself, and
 * each removed memory cgroup lingers in the kernel while pages are charged
 * to it. */
#define _GNU_SOURCE
#include "sandbox/cgroup_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_sub(struct wh_cgroup *cg, struct wh_err *err)
{
        const struct cg_leaf *mem = NULL;
        for (size_t i = 0; i < cg->n_leaves; i++)
                if (cg->leaves[i].ctrls & CG_MEMORY)
                        mem = &cg->leaves[i];
        if (cg->kind != WH_CGROUP_V1 || !mem) {
                errno = ENOTSUP;
                return wh_err_set(
                    err, ENOTSUP, "cgroup", "no per-input memory cgroup with the %s driver%s",
                    cg->kind == WH_CGROUP_V1   ? "v1"
                    : cg->kind == WH_CGROUP_V2 ? "v2"
                                               : "none",
                    cg->kind == WH_CGROUP_V2 ? ": v2 enables no controller for a child of a cgroup "
                                               "with processes (the sandbox's init and zygote)"
                                             : "");
        }
        struct wh_cgroup *sub = cg_new(WH_CGROUP_V1);
        if (!sub)
                return wh_err_set(err, ENOMEM, "cgroup", "allocating a cgroup");
        struct cg_leaf *leaf = &sub->leaves[0];
        if (asprintf(&leaf->path, "%s/" CG_SUB_NAME, mem->path) < 0) {
                free(sub);
                return wh_err_set(err, ENOMEM, "cgroup", "building a cgroup path");
        }
        /* Left over from an earlier sub of the same sandbox cgroup: none can
         * be (the sandbox's leaf name is never reused), so EEXIST fails. */
        if (mkdir(leaf->path, 0755) < 0 ||
            (leaf->fd = open(leaf->path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
                int e = errno;
                wh_err_set(err, e, "cgroup", "cannot create %s", leaf->path);
                rmdir(leaf->path);
                free(leaf->path);
                free(sub);
                errno = e;
                return -1;
        }
        leaf->ctrls = CG_MEMORY;
        sub->n_leaves = 1;
        sub->mem_fd = leaf->fd;
        /* No swap for the input, as for the sandbox (cgroup_v1.c). */
        if (cg_write_u64(leaf->fd, "memory.swappiness", 0) < 0) {
                int e = errno;
                cg_write_failed(err, e, leaf->path, "memory.swappiness", "0");
                wh_cgroup_destroy(sub);
                errno = e;
                return -1;
        }
        cg->sub = sub;
        return 0;
}

int wh_cgroup_sub(struct wh_cgroup *cg, struct wh_cgroup **out, struct wh_err *err)
{
        if (!cg->sub && make_sub(cg, err) < 0)
                return -1;
        *out = cg->sub;
        return 0;
}

int wh_cgroup_set_memory(struct wh_cgroup *cg, uint64_t bytes, struct wh_err *err)
{
        const char *dir = wh_cgroup_dir(cg, "memory");
        if (cg->kind != WH_CGROUP_V1 || cg->mem_fd < 0)
                return wh_err_set(err, ENOTSUP, "cgroup", "no v1 memory cgroup to limit");
        char value[24] = "-1"; /* v1's "no limit" */
        if (bytes)
                snprintf(value, sizeof(value), "%" PRIu64, bytes);
        uint64_t now = 0;
        if (cg_read_u64(cg->mem_fd, "memory.limit_in_bytes", &now) < 0)
                return wh_err_set(err, errno, "cgroup", "cannot read %s/memory.limit_in_bytes",
                                  dir);
        const char *order[2] = {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"};
        if (!bytes || bytes > now) { /* raising: memsw first, it must stay >= memory */
                order[0] = "memory.memsw.limit_in_bytes";
                order[1] = "memory.limit_in_bytes";
        }
        for (size_t i = 0; i < 2; i++) {
                /* memsw is absent without swap accounting. */
                if (strstr(order[i], "memsw") && !cg_exists(cg->mem_fd, order[i]))
                        continue;
                if (cg_write(cg->mem_fd, order[i], value) < 0)
                        return cg_write_failed(err, errno, dir, order[i], value);
        }
        return 0;
}

int wh_cgroup_memory_usage(struct wh_cgroup *cg, uint64_t *out)
{
        if (cg->kind != WH_CGROUP_V1 || cg->mem_fd < 0) {
                errno = ENOTSUP;
                return -1;
        }
        return cg_read_u64(cg->mem_fd, "memory.usage_in_bytes", out);
}

int wh_cgroup_reset_peak(struct wh_cgroup *cg)
{
        if (cg->kind != WH_CGROUP_V1 || cg->mem_fd < 0) {
                errno = ENOTSUP;
                return -1;
        }
        if (cg_write(cg->mem_fd, "memory.max_usage_in_bytes", "0") < 0 ||
            cg_write(cg->mem_fd, "memory.failcnt", "0") < 0)
                return -1;
        if (cg_exists(cg->mem_fd, "memory.memsw.failcnt") &&
            (cg_write(cg->mem_fd, "memory.memsw.max_usage_in_bytes", "0") < 0 ||
             cg_write(cg->mem_fd, "memory.memsw.failcnt", "0") < 0))
                return -1;
        return 0;
}

int wh_cgroup_oom_events(struct wh_cgroup *cg, uint64_t *out)
{
        if (cg->kind != WH_CGROUP_V1 || cg->mem_fd < 0) {
                errno = ENOTSUP;
                return -1;
        }
        if (cg->oom_efd < 0) {
                int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                cleanup_close int ofd =
                    openat(cg->mem_fd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
                char text[32];
                snprintf(text, sizeof(text), "%d %d", efd, ofd);
                if (efd < 0 || ofd < 0 || cg_write(cg->mem_fd, "cgroup.event_control", text) < 0) {
                        int e = errno;
                        if (efd >= 0)
                                close(efd);
                        errno = e;
                        return -1;
                }
                cg->oom_efd = efd;
        }
        uint64_t n;
        if (read(cg->oom_efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
                cg->oom_events += n;
        else if (errno != EAGAIN)
                return -1;
        *out = cg->oom_events;
        return 0;
}

/* The "N:CONTROLLERS:PATH" line of /proc/PID/cgroup naming `controller`
 * ends in `suffix`? */
static bool line_ends_in(const char *text, const char *controller, const char *suffix)
{
        size_t clen = strlen(controller), slen = strlen(suffix);
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                const char *c = memchr(line, ':', len);
                const char *p = c ? memchr(c + 1, ':', len - (size_t)(c + 1 - line)) : NULL;
                if (p) {
                        /* The controllers field is a comma-separated list. */
                        for (const char *w = c + 1; w < p;) {
                                size_t n = strcspn(w, ",:");
                                if (n == clen && strncmp(w, controller, n) == 0)
                                        return (size_t)(line + len - (p + 1)) >= slen &&
                                               strncmp(line + len - slen, suffix, slen) == 0;
                                w += n + (w[n] == ',');
                        }
                }
                line += len;
                line += *line == '\n';
        }
        return false;
}

bool wh_cgroup_holds(struct wh_cgroup *cg, pid_t pid)
{
        char path[64], text[4096];
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
        if (n <= 0 || cg->n_leaves == 0)
                return false;
        text[n] = '\0';
        for (size_t i = 0; i < cg->n_leaves; i++) {
                /* Our view of its cgroup is a path from the hierarchy's root;
                 * the leaf's is the mount's. The last two names (the
                 * sandbox's unique leaf and ours) tell it apart. */
                const char *leaf = cg->leaves[i].path, *last = strrchr(leaf, '/');
                const char *prev = last ? memrchr(leaf, '/', (size_t)(last - leaf)) : NULL;
                for (unsigned bit = 1; bit < (1u << CG_N_CTRLS); bit <<= 1)
                        if ((cg->leaves[i].ctrls & bit) &&
                            !line_ends_in(text, cg_ctrl_name(bit), prev ? prev : leaf))
                                return false;
        }
        return true;
}
