/* A leaf beneath a sandbox's cgroup for one process at a time (cgroup.h:
 * wh_cgroup_sub): a warm input's child is moved into it before its input
 * flows, so that its memory is limited and counted apart from the zygote's.
 * This file is the API and v1; v2's leaves are cgroup_sub_v2.c's.
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
        if (cg->kind == WH_CGROUP_V2)
                return cg_v2_make_sub(cg, err);
        const struct cg_leaf *mem = NULL;
        for (size_t i = 0; i < cg->n_leaves; i++)
                if (cg->leaves[i].ctrls & CG_MEMORY)
                        mem = &cg->leaves[i];
        if (cg->kind != WH_CGROUP_V1 || !mem) {
                errno = ENOTSUP;
                return wh_err_set(
                    err, ENOTSUP, "cgroup", "no per-input memory cgroup with the %s driver",
                    cg->kind == WH_CGROUP_V1 ? "v1 without a memory hierarchy" : "none");
        }
        struct wh_cgroup *sub = cg_child(WH_CGROUP_V1, mem->path, CG_SUB_NAME, CG_MEMORY, err);
        if (!sub)
                return -1;
        sub->mem_fd = sub->leaves[0].fd;
        /* No swap for the input, as for the sandbox (cgroup_v1.c). */
        if (cg_write_u64(sub->mem_fd, "memory.swappiness", 0) < 0) {
                int e = errno;
                cg_write_failed(err, e, sub->leaves[0].path, "memory.swappiness", "0");
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
        if (cg->kind == WH_CGROUP_V2 && cg->mem_fd >= 0)
                return cg_v2_set_memory(cg, bytes, err);
        if (cg->kind != WH_CGROUP_V1 || cg->mem_fd < 0)
                return wh_err_set(err, ENOTSUP, "cgroup", "no memory cgroup to limit");
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
        if (cg->kind == WH_CGROUP_NONE || cg->mem_fd < 0) {
                errno = ENOTSUP;
                return -1;
        }
        return cg_read_u64(
            cg->mem_fd, cg->kind == WH_CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes", out);
}

int wh_cgroup_reset_peak(struct wh_cgroup *cg)
{
        if (cg->kind == WH_CGROUP_V2)
                return cg_v2_reset_peak(cg);
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
        if (cg->kind == WH_CGROUP_V2)
                return cg_v2_oom_events(cg, out);
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
 * ends in `suffix`? The controller "" names v2's line, "0::PATH". */
static bool line_ends_in(const char *text, const char *controller, const char *suffix)
{
        size_t clen = strlen(controller), slen = strlen(suffix);
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                const char *c = memchr(line, ':', len);
                const char *p = c ? memchr(c + 1, ':', len - (size_t)(c + 1 - line)) : NULL;
                bool named = p && clen == 0 && p == c + 1;
                /* The controllers field is a comma-separated list. */
                for (const char *w = p ? c + 1 : NULL; p && clen && w < p && !named;) {
                        size_t n = strcspn(w, ",:");
                        named = n == clen && strncmp(w, controller, n) == 0;
                        w += n + (w[n] == ',');
                }
                if (named)
                        return (size_t)(line + len - (p + 1)) >= slen &&
                               strncmp(line + len - slen, suffix, slen) == 0;
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
                            !line_ends_in(text, cg->kind == WH_CGROUP_V2 ? "" : cg_ctrl_name(bit),
                                          prev ? prev : leaf))
                                return false;
        }
        return true;
}

/* Append dir's cgroup.procs to buf (len bytes used of cap). */
static int append_procs(int dirfd, char *buf, size_t cap, size_t *len)
{
        if (cg_read(dirfd, "cgroup.procs", buf + *len, cap - *len) < 0)
                return -1;
        *len += strlen(buf + *len);
        return 0;
}

ssize_t wh_cgroup_procs(struct wh_cgroup *cg, char *buf, size_t cap)
{
        if (cg->n_leaves == 0) {
                errno = ENOTSUP;
                return -1;
        }
        /* One hierarchy's: its leaf and the cgroups beneath it there. A
         * process is in one cgroup per hierarchy, so none is missed or
         * listed twice. */
        const struct cg_leaf *top = &cg->leaves[0];
        const struct wh_cgroup *beneath[] = {cg->home, cg->sub};
        size_t len = 0, top_len = strlen(top->path);
        if (append_procs(top->fd, buf, cap, &len) < 0)
                return -1;
        for (size_t i = 0; i < sizeof(beneath) / sizeof(beneath[0]); i++) {
                const struct cg_leaf *b = beneath[i] ? &beneath[i]->leaves[0] : NULL;
                if (b && strncmp(b->path, top->path, top_len) == 0 && b->path[top_len] == '/' &&
                    append_procs(b->fd, buf, cap, &len) < 0)
                        return -1;
        }
        return (ssize_t)len;
}

int wh_cgroup_own_oom_kills(struct wh_cgroup *cg, uint64_t *out)
{
        struct wh_cgroup_stats st;
        if (cg->kind == WH_CGROUP_V2)
                return cg_v2_own_oom_kills(cg, out);
        /* v1 counts a kill in the victim's cgroup only. */
        if (wh_cgroup_read_stats(cg, &st) < 0)
                return -1;
        if (!st.have_oom) {
                errno = ENOTSUP;
                return -1;
        }
        *out = st.oom_kills;
        return 0;
}
