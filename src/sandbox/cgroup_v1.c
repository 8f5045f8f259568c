/* cgroup v1 driver: one leaf per controller hierarchy, same name in each.
 *
 *   limit / counter    file (in the hierarchy carrying the controller)
 *   memory             memory.limit_in_bytes, memory.memsw.limit_in_bytes (when
 *                      swap accounting exists) = the same, memory.swappiness = 0
 *   pids               pids.max
 *   cpus               cpu.cfs_period_us = 100000, cpu.cfs_quota_us = cpus * period
 *   cpu_ns             cpuacct.usage (ns)
 *   mem_peak           memory.max_usage_in_bytes
 *   oom_kills          "oom_kill N" of memory.oom_control (kernel >= 4.13)
 *   mem_limit_hits     memory.failcnt + memory.memsw.failcnt (memsw trips first
 *                      when swap is off; some kernels count neither)
 *   pids_rejected      "max N" of pids.events
 *
 * memory and cpuacct leaves are also made when no limit needs them, for
 * accounting; those are optional and skipped when they cannot be made.
 * cpu,cpuacct co-mounted in one hierarchy get one leaf. */
#include "sandbox/cgroup_internal.h"

#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_v1_probe(const struct cg_env *env, unsigned need, struct cg_probe *out)
{
        *out = (struct cg_probe){.ok = true};
        unsigned missing = 0;
        for (unsigned bit = 1; bit < (1u << CG_N_CTRLS); bit <<= 1) {
                const struct cg_hierarchy *h = cg_env_v1(env, bit);
                if (!h || (!h->self && !env->parent))
                        missing |= bit;
        }
        out->accounting = !(missing & CG_CPUACCT) + !(missing & CG_MEMORY);
        char names[64];
        if (env->n_v1 == 0) {
                out->ok = false;
                wh_err_set(&out->why, ENOENT, "cgroup", "no v1 hierarchy mounted under %s",
                           env->fs_root);
        } else if (need & missing) {
                out->ok = false;
                wh_err_set(&out->why, ENOENT, "cgroup", "no v1 %s hierarchy mounted under %s",
                           cg_ctrls_list(need & missing, names, sizeof(names)), env->fs_root);
        }
}

static int set(const struct cg_leaf *leaf, const char *file, uint64_t value, struct wh_err *err)
{
        if (cg_write_u64(leaf->fd, file, value) == 0)
                return 0;
        char text[24];
        snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
        return cg_write_failed(err, errno, leaf->path, file, text);
}

static int apply_limits(struct wh_cgroup *cg, const struct wh_cgroup_limits *limits,
                        struct wh_err *err)
{
        for (size_t i = 0; i < cg->n_leaves; i++) {
                const struct cg_leaf *leaf = &cg->leaves[i];
                if ((leaf->ctrls & CG_MEMORY) && limits->memory_bytes) {
                        if (set(leaf, "memory.limit_in_bytes", limits->memory_bytes, err) < 0)
                                return -1;
                        /* memsw counts memory + swap: equal to the memory limit
                         * means no swap. Absent without swap accounting. */
                        if (cg_exists(leaf->fd, "memory.memsw.limit_in_bytes") &&
                            set(leaf, "memory.memsw.limit_in_bytes", limits->memory_bytes, err) < 0)
                                return -1;
                        if (set(leaf, "memory.swappiness", 0, err) < 0)
                                return -1;
                }
                if ((leaf->ctrls & CG_PIDS) && limits->pids &&
                    set(leaf, "pids.max", limits->pids, err) < 0)
                        return -1;
                if ((leaf->ctrls & CG_CPU) && limits->cpus > 0) {
                        if (set(leaf, "cpu.cfs_period_us", CG_CPU_PERIOD_US, err) < 0 ||
                            set(leaf, "cpu.cfs_quota_us", cg_cpu_quota_us(limits->cpus), err) < 0)
                                return -1;
                }
        }
        return 0;
}

int cg_v1_create(const struct cg_env *env, const struct wh_cgroup_limits *limits,
                 struct wh_cgroup *cg, struct wh_err *err)
{
        unsigned need = cg_ctrls_needed(limits);
        struct cg_leaf_req reqs[CG_N_CTRLS];
        size_t n = 0;
        int rc = -1;
        for (size_t i = 0; i < env->n_v1; i++) {
                const struct cg_hierarchy *h = &env->v1[i];
                if (!(h->ctrls & (need | CG_MEMORY | CG_CPUACCT)))
                        continue;
                bool required = (h->ctrls & need) != 0;
                struct wh_err why;
                char *parent = cg_env_parent_dir(env, h, &why);
                if (!parent) {
                        if (!required)
                                continue;
                        *err = why;
                        goto out;
                }
                reqs[n++] = (struct cg_leaf_req){parent, h->ctrls, required};
        }
        if (n == 0) {
                wh_err_set(err, ENOENT, "cgroup", "no usable v1 hierarchy under %s", env->fs_root);
                goto out;
        }
        if (cg_make_leaves(cg, reqs, n, env->hint, err) < 0)
                goto out;
        for (size_t i = 0; i < cg->n_leaves; i++) {
                const struct cg_leaf *leaf = &cg->leaves[i];
                if (leaf->ctrls & CG_MEMORY)
                        cg->mem_fd = leaf->fd;
                if (leaf->ctrls & CG_PIDS)
                        cg->pids_fd = leaf->fd;
                if (leaf->ctrls & CG_CPUACCT)
                        cg->cpu_fd = leaf->fd;
        }
        if (apply_limits(cg, limits, err) < 0) {
                cg_undo(cg);
                goto out;
        }
        rc = 0;
out:
        for (size_t i = 0; i < n; i++)
                free(reqs[i].parent);
        return rc;
}

/* A counter that may be missing (older kernels): not an error. */
static int optional_key(int fd, const char *file, const char *key, uint64_t *out, bool *have)
{
        if (cg_read_key(fd, file, key, out) == 0) {
                if (have)
                        *have = true;
                return 0;
        }
        return errno == ENOENT ? 0 : -1;
}

int cg_v1_read_stats(struct wh_cgroup *cg, struct wh_cgroup_stats *out)
{
        if (cg->cpu_fd >= 0) {
                if (cg_read_u64(cg->cpu_fd, "cpuacct.usage", &out->cpu_ns) < 0)
                        return -1;
                out->have_cpu = true;
        }
        if (cg->mem_fd >= 0) {
                uint64_t memsw_hits = 0;
                if (cg_read_u64(cg->mem_fd, "memory.max_usage_in_bytes", &out->mem_peak) < 0 ||
                    cg_read_u64(cg->mem_fd, "memory.failcnt", &out->mem_limit_hits) < 0 ||
                    (cg_read_u64(cg->mem_fd, "memory.memsw.failcnt", &memsw_hits) < 0 &&
                     errno != ENOENT))
                        return -1;
                out->mem_limit_hits += memsw_hits;
                out->have_mem_peak = true;
                if (optional_key(cg->mem_fd, "memory.oom_control", "oom_kill", &out->oom_kills,
                                 &out->have_oom) < 0)
                        return -1;
        }
        if (cg->pids_fd >= 0 &&
            optional_key(cg->pids_fd, "pids.events", "max", &out->pids_rejected, NULL) < 0)
                return -1;
        return 0;
}
