/* The cgroup API (cgroup.h): choose a driver, then dispatch to it.
 *
 * Choice: each candidate driver is probed read-only (is every controller a
 * requested limit needs there? how much accounting would it give?), the
 * candidates are ranked, and the best is created; if creating fails (e.g. a
 * directory we may not write) the next is tried. Every failure reason is
 * kept, so the final error says what was tried and why each failed. */
#define _GNU_SOURCE
#include "sandbox/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DESTROY_ROUNDS 100 /* 10 ms apart */

enum mode { MODE_AUTO, MODE_V1, MODE_V2, MODE_NONE };

struct candidate {
        enum wh_cgroup_driver_kind kind;
        struct cg_probe probe;
};

static const char *const kind_names[] = {"none", "v1", "v2"};

static const char limits_advice[] =
    "delegate a writable cgroup to this user (systemd Delegate=yes, or chown a v1 subtree) and "
    "pass --cgroup-parent, or pass --allow-unenforced-limits (see docs/cgroups.md)";
static const char driver_advice[] =
    "delegate a writable cgroup to this user (systemd Delegate=yes, or chown a v1 subtree) and "
    "pass --cgroup-parent, or use --cgroup-driver auto (see docs/cgroups.md)";

static int parse_mode(const char *driver, enum mode *mode, struct wh_err *err)
{
        static const char *const names[] = {"auto", "v1", "v2", "none"};
        if (!driver) {
                *mode = MODE_AUTO;
                return 0;
        }
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(driver, names[i]) == 0) {
                        *mode = (enum mode)i;
                        return 0;
                }
        return wh_err_set(err, EINVAL, "cgroup",
                          "unknown cgroup driver '%s': use auto, v1, v2 or none", driver);
}

struct wh_cgroup *cg_new(enum wh_cgroup_driver_kind kind)
{
        struct wh_cgroup *cg = calloc(1, sizeof(*cg));
        if (!cg)
                return NULL;
        cg->kind = kind;
        cg->mem_fd = cg->pids_fd = cg->cpu_fd = cg->oom_efd = cg->peak_fd = -1;
        for (size_t i = 0; i < CG_MAX_LEAVES; i++)
                cg->leaves[i].fd = -1;
        return cg;
}

struct wh_cgroup *cg_child(enum wh_cgroup_driver_kind kind, const char *dir, const char *name,
                           unsigned ctrls, struct wh_err *err)
{
        struct wh_cgroup *sub = cg_new(kind);
        if (!sub) {
                wh_err_set(err, ENOMEM, "cgroup", "allocating a cgroup");
                return NULL;
        }
        struct cg_leaf *leaf = &sub->leaves[0];
        if (asprintf(&leaf->path, "%s/%s", dir, name) < 0) {
                free(sub);
                wh_err_set(err, ENOMEM, "cgroup", "building a cgroup path");
                return NULL;
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
                return NULL;
        }
        leaf->ctrls = ctrls;
        sub->n_leaves = 1;
        return sub;
}

static int make_none(struct wh_cgroup **out, struct wh_err *err)
{
        *out = cg_new(WH_CGROUP_NONE);
        return *out ? 0 : wh_err_set(err, ENOMEM, "cgroup", "allocating a cgroup");
}

static int try_create(const struct cg_env *env, const struct wh_cgroup_limits *limits,
                      enum wh_cgroup_driver_kind kind, struct wh_cgroup **out, struct wh_err *why)
{
        struct wh_cgroup *cg = cg_new(kind);
        if (!cg)
                return wh_err_set(why, ENOMEM, "cgroup", "allocating a cgroup");
        int rc = kind == WH_CGROUP_V2 ? cg_v2_create(env, limits, cg, why)
                                      : cg_v1_create(env, limits, cg, why);
        if (rc < 0) {
                free(cg);
                return -1;
        }
        *out = cg;
        return 0;
}

static int cannot(struct wh_err *err, unsigned need, const char *tried, int errnum)
{
        char names[64];
        cg_ctrls_list(need, names, sizeof(names));
        if (need)
                wh_err_set(err, 0, "cgroup", "cannot enforce the %s limit%s with cgroups; %s. %s",
                           names, strchr(names, ',') ? "s" : "", limits_advice, tried);
        else
                wh_err_set(err, 0, "cgroup", "cannot create a cgroup; %s. %s", driver_advice,
                           tried);
        err->errnum = errnum;
        return -1;
}

/* Probe the drivers `mode` allows, then create the best that works. */
static int create_best(const struct cg_env *env, enum mode mode,
                       const struct wh_cgroup_limits *limits, struct wh_cgroup **out,
                       struct wh_err *err)
{
        unsigned need = cg_ctrls_needed(limits);
        struct candidate cands[2];
        size_t n = 0;
        if (mode != MODE_V1) {
                cands[n].kind = WH_CGROUP_V2;
                cg_v2_probe(env, need, &cands[n++].probe);
        }
        if (mode != MODE_V2) {
                cands[n].kind = WH_CGROUP_V1;
                cg_v1_probe(env, need, &cands[n++].probe);
        }
        /* v2 first, unless v1 is the only one that can, or it accounts more. */
        if (n == 2 && cands[1].probe.ok &&
            (!cands[0].probe.ok || cands[1].probe.accounting > cands[0].probe.accounting)) {
                struct candidate t = cands[0];
                cands[0] = cands[1];
                cands[1] = t;
        }
        /* The details go last, in what the message has left; the best-ranked
         * driver's reason first, with all but 40 bytes per later one. */
        char tried[280] = "Tried";
        int errnum = 0;
        for (size_t i = 0; i < n; i++) {
                struct wh_err why = cands[i].probe.why;
                if (cands[i].probe.ok && try_create(env, limits, cands[i].kind, out, &why) == 0)
                        return 0;
                size_t used = strlen(tried);
                int room = (int)(sizeof(tried) - used) - 12 - 40 * (int)(n - 1 - i);
                snprintf(tried + used, sizeof(tried) - used, "%s %s: %.*s", i ? ";" : "",
                         kind_names[cands[i].kind], room, why.msg);
                errnum = why.errnum;
        }
        if (mode == MODE_AUTO && !need)
                return make_none(out, err);
        return cannot(err, need, tried, errnum);
}

int wh_cgroup_create(const struct wh_cgroup_opts *opts, const struct wh_cgroup_limits *limits,
                     struct wh_cgroup **out, struct wh_err *err)
{
        static const struct wh_cgroup_opts default_opts;
        static const struct wh_cgroup_limits no_limits;
        opts = opts ? opts : &default_opts;
        limits = limits ? limits : &no_limits;
        *out = NULL;
        enum mode mode = MODE_AUTO;
        if (parse_mode(opts->driver, &mode, err) < 0)
                return -1;
        if (limits->cpus != 0 && !(limits->cpus >= 0.01 && limits->cpus <= 1e6))
                return wh_err_set(err, EINVAL, "cgroup",
                                  "cpus %g is out of range: give at least 0.01", limits->cpus);
        unsigned need = cg_ctrls_needed(limits);
        char names[64];
        if (mode == MODE_NONE && need)
                return wh_err_set(err, 0, "cgroup",
                                  "cannot enforce the %s limit with the cgroup driver \"none\": "
                                  "use --cgroup-driver auto, v1 or v2, or pass "
                                  "--allow-unenforced-limits",
                                  cg_ctrls_list(need, names, sizeof(names)));
        if (mode == MODE_NONE)
                return make_none(out, err);
        struct cg_env env;
        if (cg_env_load(opts, &env, err) < 0)
                return mode == MODE_AUTO && !need ? make_none(out, err) : -1;
        int rc = create_best(&env, mode, limits, out, err);
        cg_env_free(&env);
        return rc;
}

static unsigned sweep_beneath(const struct cg_env *env, const struct cg_hierarchy *h)
{
        struct wh_err ignored;
        char *dir = cg_env_parent_dir(env, h, &ignored);
        unsigned n = dir ? cg_sweep_stale(dir, env->hint) : 0;
        free(dir);
        return n;
}

unsigned wh_cgroup_sweep_stale(const struct wh_cgroup_opts *opts)
{
        enum mode mode = MODE_NONE; /* gcc -O3 cannot see parse_mode set it */
        struct wh_err ignored;
        struct cg_env env;
        if (parse_mode(opts->driver, &mode, &ignored) < 0 || mode == MODE_NONE ||
            cg_env_load(opts, &env, &ignored) < 0)
                return 0;
        unsigned n = env.has_v2 ? sweep_beneath(&env, &env.v2) : 0;
        for (size_t i = 0; i < env.n_v1; i++)
                n += sweep_beneath(&env, &env.v1[i]);
        cg_env_free(&env);
        return n;
}

enum wh_cgroup_driver_kind wh_cgroup_driver(const struct wh_cgroup *cg)
{
        return cg->kind;
}

const char *wh_cgroup_driver_name(const struct wh_cgroup *cg)
{
        return kind_names[cg->kind];
}

const char *wh_cgroup_dir(const struct wh_cgroup *cg, const char *controller)
{
        if (cg->kind == WH_CGROUP_V2)
                return cg->leaves[0].path;
        if (!controller)
                return NULL;
        unsigned bit = cg_ctrl_bit(controller, strlen(controller));
        for (size_t i = 0; bit && i < cg->n_leaves; i++)
                if (cg->leaves[i].ctrls & bit)
                        return cg->leaves[i].path;
        return NULL;
}

int wh_cgroup_attach(struct wh_cgroup *cg, pid_t pid, struct wh_err *err)
{
        for (size_t i = 0; i < cg->n_leaves; i++)
                if (cg_write_u64(cg->leaves[i].fd, "cgroup.procs", (uint64_t)pid) < 0)
                        return wh_err_set(err, errno, "cgroup", "cannot move process %d into %s",
                                          (int)pid, cg->leaves[i].path);
        return 0;
}

int wh_cgroup_read_stats(struct wh_cgroup *cg, struct wh_cgroup_stats *out)
{
        memset(out, 0, sizeof(*out));
        switch (cg->kind) {
        case WH_CGROUP_V1:
                return cg_v1_read_stats(cg, out);
        case WH_CGROUP_V2:
                return cg_v2_read_stats(cg, out);
        case WH_CGROUP_NONE:
                break;
        }
        return 0;
}

int wh_cgroup_cpu_ns(struct wh_cgroup *cg, uint64_t *out)
{
        if (cg->kind == WH_CGROUP_V1 && cg->cpu_fd >= 0)
                return cg_read_u64(cg->cpu_fd, "cpuacct.usage", out);
        if (cg->kind == WH_CGROUP_V2) {
                uint64_t usec;
                if (cg_read_key(cg->cpu_fd, "cpu.stat", "usage_usec", &usec) < 0)
                        return -1;
                *out = usec * 1000;
                return 0;
        }
        errno = ENOTSUP;
        return -1;
}

static int kill_leaf(const struct wh_cgroup *cg, const struct cg_leaf *leaf)
{
        if (cg->has_kill_file && cg_write(leaf->fd, "cgroup.kill", "1") == 0)
                return 0;
        return cg_kill_procs(leaf->path);
}

int wh_cgroup_kill(struct wh_cgroup *cg)
{
        if (cg->n_leaves == 0) {
                errno = ENOTSUP;
                return -1;
        }
        /* The cgroups beneath first: the loop over cgroup.procs does not see
         * their processes (v2's cgroup.kill would). Otherwise on v1 every
         * process is in every leaf: one list is all of them. */
        if (cg->home)
                kill_leaf(cg->home, &cg->home->leaves[0]);
        if (cg->sub)
                kill_leaf(cg->sub, &cg->sub->leaves[0]);
        return kill_leaf(cg, &cg->leaves[0]);
}

void wh_cgroup_destroy(struct wh_cgroup *cg)
{
        if (!cg)
                return;
        /* A cgroup with children cannot be removed before them. */
        wh_cgroup_destroy(cg->sub);
        wh_cgroup_destroy(cg->home);
        const struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
        bool done[CG_MAX_LEAVES] = {false};
        for (int round = 0; round < DESTROY_ROUNDS; round++) {
                bool busy = false;
                for (size_t i = 0; i < cg->n_leaves; i++) {
                        if (done[i])
                                continue;
                        /* Anything but EBUSY will not get better by waiting. */
                        if (cg_leaf_rmdir(&cg->leaves[i]) == 0 || errno != EBUSY) {
                                done[i] = true;
                                continue;
                        }
                        busy = true;
                        if (round == 0)
                                kill_leaf(cg, &cg->leaves[i]);
                }
                if (!busy)
                        break;
                nanosleep(&pause, NULL);
        }
        for (size_t i = 0; i < cg->n_leaves; i++)
                cg_leaf_release(&cg->leaves[i]);
        if (cg->oom_efd >= 0)
                close(cg->oom_efd);
        if (cg->peak_fd >= 0)
                close(cg->peak_fd);
        free(cg);
}
