/* cgroup v2 driver: one leaf in the unified hierarchy.
 *
 *   limit / counter    file
 *   memory             memory.max, memory.swap.max = 0 (when swap is accounted)
 *   pids               pids.max
 *   cpus               cpu.max = "<cpus * 100000> 100000"
 *   cpu_ns             "usage_usec" of cpu.stat (in every cgroup, even without
 *                      the cpu controller) * 1000
 *   mem_peak           memory.peak (kernel >= 5.19)
 *   oom_kills          "oom_kill" of memory.events
 *   mem_limit_hits     "max" of memory.events
 *   pids_rejected      "max" of pids.events
 *   kill               cgroup.kill (kernel >= 5.14), else the pidfd kill loop
 *
 * A limit needs its controller enabled in the parent's cgroup.subtree_control.
 * The parent is our own cgroup or the operator's delegated one, so we may
 * enable it there, and only then; when that is refused the limit cannot be
 * enforced and create fails. Nothing is ever disabled again: siblings may
 * rely on it. */
#define _GNU_SOURCE
#include "sandbox/cgroup_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read the parent's available and enabled controllers. */
static int parent_ctrls(const char *dir, unsigned *avail, unsigned *enabled, char *avail_text,
                        size_t size, struct wh_err *err)
{
        cleanup_close int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char enabled_text[512];
        if (fd < 0)
                return wh_err_set(err, errno, "cgroup", "cannot open %s", dir);
        if (cg_read(fd, "cgroup.controllers", avail_text, size) < 0)
                return wh_err_set(err, errno, "cgroup", "cannot read %s/cgroup.controllers", dir);
        if (cg_read(fd, "cgroup.subtree_control", enabled_text, sizeof(enabled_text)) < 0)
                return wh_err_set(err, errno, "cgroup", "cannot read %s/cgroup.subtree_control",
                                  dir);
        *avail = *enabled = 0;
        for (unsigned bit = 1; bit < (1u << CG_N_CTRLS); bit <<= 1) {
                /* v2 has no cpuacct: CPU time is in every cgroup's cpu.stat. */
                if (bit == CG_CPUACCT)
                        continue;
                if (cg_word_in(avail_text, cg_ctrl_name(bit)))
                        *avail |= bit;
                if (cg_word_in(enabled_text, cg_ctrl_name(bit)))
                        *enabled |= bit;
        }
        avail_text[strcspn(avail_text, "\n")] = '\0';
        return 0;
}

/* Check that `need` is available in dir; *enabled gets what already is. */
static int check_available(const char *dir, unsigned need, unsigned *enabled, struct wh_err *err)
{
        char avail_text[512], names[64];
        unsigned avail = 0;
        if (parent_ctrls(dir, &avail, enabled, avail_text, sizeof(avail_text), err) < 0)
                return -1;
        if (need & ~avail)
                return wh_err_set(
                    err, 0, "cgroup", "controller %s not available in %s (it has: '%s')",
                    cg_ctrls_list(need & ~avail, names, sizeof(names)), dir, avail_text);
        return 0;
}

void cg_v2_probe(const struct cg_env *env, unsigned need, struct cg_probe *out)
{
        *out = (struct cg_probe){.ok = true, .accounting = 1};
        if (!env->has_v2) {
                out->ok = false;
                wh_err_set(&out->why, ENOENT, "cgroup", "no cgroup2 filesystem mounted under %s",
                           env->fs_root);
                return;
        }
        cleanup_free char *dir = cg_env_parent_dir(env, &env->v2, &out->why);
        unsigned enabled = 0;
        if (!dir || check_available(dir, need, &enabled, &out->why) < 0) {
                out->ok = false;
                return;
        }
        if ((enabled | need) & CG_MEMORY)
                out->accounting = 2;
}

static int enable(const char *dir, unsigned need, struct wh_err *err)
{
        unsigned enabled;
        if (check_available(dir, need, &enabled, err) < 0)
                return -1;
        unsigned todo = need & ~enabled;
        if (!todo)
                return 0;
        char request[64] = "", names[64];
        for (unsigned bit = 1; bit < (1u << CG_N_CTRLS); bit <<= 1)
                if (todo & bit)
                        snprintf(request + strlen(request), sizeof(request) - strlen(request),
                                 "%s+%s", request[0] ? " " : "", cg_ctrl_name(bit));
        cleanup_close int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && cg_write(fd, "cgroup.subtree_control", request) == 0)
                return 0;
        int e = errno;
        cg_ctrls_list(todo, names, sizeof(names));
        /* Short, and the way out first: the caller's message leaves this reason ~200 bytes. */
        if (e == EBUSY)
                return wh_err_set(
                    err, e, "cgroup",
                    "%s has processes of its own (v2 then enables no controller): run "
                    "whiskers in a child cgroup (contrib/systemd/whiskers-in-subgroup) "
                    "and pass --cgroup-parent",
                    dir);
        return wh_err_set(err, e, "cgroup", "cannot enable %s in %s/cgroup.subtree_control", names,
                          dir);
}

static int apply_limits(const struct cg_leaf *leaf, const struct wh_cgroup_limits *limits,
                        struct wh_err *err)
{
        char value[64];
        if (limits->memory_bytes) {
                snprintf(value, sizeof(value), "%" PRIu64, limits->memory_bytes);
                if (cg_write(leaf->fd, "memory.max", value) < 0)
                        return cg_write_failed(err, errno, leaf->path, "memory.max", value);
                /* Absent when the kernel does not account swap (no swap). */
                if (cg_exists(leaf->fd, "memory.swap.max") &&
                    cg_write(leaf->fd, "memory.swap.max", "0") < 0)
                        return cg_write_failed(err, errno, leaf->path, "memory.swap.max", "0");
        }
        if (limits->pids) {
                snprintf(value, sizeof(value), "%" PRIu64, limits->pids);
                if (cg_write(leaf->fd, "pids.max", value) < 0)
                        return cg_write_failed(err, errno, leaf->path, "pids.max", value);
        }
        if (limits->cpus > 0) {
                snprintf(value, sizeof(value), "%" PRIu64 " %d", cg_cpu_quota_us(limits->cpus),
                         CG_CPU_PERIOD_US);
                if (cg_write(leaf->fd, "cpu.max", value) < 0)
                        return cg_write_failed(err, errno, leaf->path, "cpu.max", value);
        }
        return 0;
}

int cg_v2_create(const struct cg_env *env, const struct wh_cgroup_limits *limits,
                 struct wh_cgroup *cg, struct wh_err *err)
{
        if (!env->has_v2)
                return wh_err_set(err, ENOENT, "cgroup", "no cgroup2 filesystem mounted under %s",
                                  env->fs_root);
        cleanup_free char *dir = cg_env_parent_dir(env, &env->v2, err);
        if (!dir)
                return -1;
        unsigned need = cg_ctrls_needed(limits);
        if (need && enable(dir, need, err) < 0)
                return -1;
        struct cg_leaf_req req = {dir, CG_MEMORY | CG_PIDS | CG_CPU | CG_CPUACCT, true};
        if (cg_make_leaves(cg, &req, 1, env->hint, err) < 0)
                return -1;
        const struct cg_leaf *leaf = &cg->leaves[0];
        cg->mem_fd = cg->pids_fd = cg->cpu_fd = leaf->fd;
        cg->has_mem_peak = cg_exists(leaf->fd, "memory.peak");
        cg->has_mem_events = cg_exists(leaf->fd, "memory.events");
        cg->has_pids_events = cg_exists(leaf->fd, "pids.events");
        cg->has_kill_file = cg_exists(leaf->fd, "cgroup.kill");
        if (apply_limits(leaf, limits, err) < 0) {
                cg_undo(cg);
                return -1;
        }
        return 0;
}

int cg_v2_read_stats(struct wh_cgroup *cg, struct wh_cgroup_stats *out)
{
        uint64_t usec;
        if (cg_read_key(cg->cpu_fd, "cpu.stat", "usage_usec", &usec) < 0)
                return -1;
        out->cpu_ns = usec * 1000;
        out->have_cpu = true;
        if (cg->has_mem_peak) {
                /* peak_fd: restarted through it (cgroup_sub_v2.c). */
                if ((cg->peak_fd >= 0 ? cg_pread_u64(cg->peak_fd, &out->mem_peak)
                                      : cg_read_u64(cg->mem_fd, "memory.peak", &out->mem_peak)) < 0)
                        return -1;
                out->have_mem_peak = true;
        }
        if (cg->has_mem_events) {
                char events[1024];
                if (cg_read(cg->mem_fd, "memory.events", events, sizeof(events)) < 0 ||
                    cg_key(events, "oom_kill", &out->oom_kills) < 0 ||
                    cg_key(events, "max", &out->mem_limit_hits) < 0)
                        return -1;
                out->have_oom = true;
        }
        if (cg->has_pids_events &&
            cg_read_key(cg->pids_fd, "pids.events", "max", &out->pids_rejected) < 0)
                return -1;
        return 0;
}
