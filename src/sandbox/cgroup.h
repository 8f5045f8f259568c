/* cgroups: one interface, two drivers (v1 and v2), plus "none".
 *
 * A sandbox cgroup is created *beneath* the cgroup this process is in (per
 * controller hierarchy on v1), or beneath an operator-given delegated parent,
 * never elsewhere; wh_cgroup_destroy() removes it. The only file outside our
 * own directories that is ever written is the parent's
 * cgroup.subtree_control on v2, and only to enable a controller that a
 * requested limit needs. docs/cgroups.md explains drivers and delegation.
 *
 * One run: wh_cgroup_create() -> clone() -> wh_cgroup_attach(child) ->
 * polls of wh_cgroup_cpu_ns() -> [wh_cgroup_kill()] -> wh_cgroup_read_stats()
 * -> wh_cgroup_destroy(). Every call is a handful of syscalls on small files.
 *
 * OOM is read from the cgroup's counters (v2 memory.events, v1
 * memory.oom_control), never guessed from an exit status. */
#ifndef WH_SANDBOX_CGROUP_H
#define WH_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <whiskers/error.h>

enum wh_cgroup_driver_kind { WH_CGROUP_NONE = 0, WH_CGROUP_V1, WH_CGROUP_V2 };

struct wh_cgroup_opts {
        const char *driver;      /* NULL/"auto", "v1", "v2", "none" */
        const char *fs_root;     /* NULL: "/sys/fs/cgroup"; only cgroup mounts at or
                                    beneath it are used (tests: a fake tree) */
        const char *self_cgroup; /* NULL: "/proc/self/cgroup" (tests: a fake file) */
        const char *mountinfo;   /* NULL: "/proc/self/mountinfo" (tests: a fake file) */
        const char *parent;      /* NULL: our own cgroup; else a delegated cgroup
                                    path as /proc/self/cgroup writes them, e.g.
                                    "/whiskers", used in every hierarchy */
        const char *name_hint;   /* leaf name prefix; NULL: "whiskers" */
};

struct wh_cgroup_limits {
        uint64_t memory_bytes; /* 0: none; swap is disabled when set */
        uint64_t pids;         /* 0: none */
        double cpus;           /* 0: none; at least 0.01 */
};

struct wh_cgroup_stats {
        uint64_t cpu_ns;         /* total CPU time of every process in it */
        uint64_t mem_peak;       /* peak memory, bytes; 0 if unknown */
        uint64_t oom_kills;      /* processes the kernel OOM-killed in it */
        uint64_t mem_limit_hits; /* times usage hit the memory limit (v1
                                    failcnt, v2 memory.events max); for
                                    information only: v1 kernels may not
                                    count it, and reclaim may have coped */
        uint64_t pids_rejected;  /* forks refused by pids.max */
        bool have_cpu, have_mem_peak, have_oom;
};

struct wh_cgroup;

/* Create the sandbox cgroup and apply limits. Fails (stage "cgroup") when a
 * requested limit cannot be enforced by the chosen driver, naming the limit,
 * the drivers tried and what the operator can do. "auto" picks, among the
 * drivers that enforce every requested limit, the one with the most
 * accounting (CPU and memory before CPU only), v2 before v1. With no limits
 * requested and no usable cgroupfs, "auto" returns a "none" cgroup. */
int wh_cgroup_create(const struct wh_cgroup_opts *opts, const struct wh_cgroup_limits *limits,
                     struct wh_cgroup **out, struct wh_err *err);
enum wh_cgroup_driver_kind wh_cgroup_driver(const struct wh_cgroup *cg);
const char *wh_cgroup_driver_name(const struct wh_cgroup *cg); /* "v1", "v2", "none" */
/* The leaf directory that holds `controller` ("memory", "pids", "cpu",
 * "cpuacct"; ignored on v2, which has one directory); NULL if none. For
 * logs and tests. */
const char *wh_cgroup_dir(const struct wh_cgroup *cg, const char *controller);
/* Move a process into the cgroup (every hierarchy on v1). No-op on "none". */
int wh_cgroup_attach(struct wh_cgroup *cg, pid_t pid, struct wh_err *err);

/* Joining at birth, the fast way for a new sandbox. Moving a process by
 * writing its pid to cgroup.procs takes the kernel's global threadgroup lock,
 * whose write side waits for an RCU grace period: 7-15 ms per move measured on
 * this machine class, more than the whole rest of a sandboxed start. Two
 * moves skip that lock: clone3(CLONE_INTO_CGROUP) on v2, which places the
 * child at birth, and on v1 a single-threaded process moving *itself* by
 * writing "0" to a hierarchy's `tasks` file (0.03 ms measured). So the
 * supervisor prepares a join (the fds), the child joins itself. */
#define WH_CGROUP_MAX_HIERARCHIES 4
struct wh_cgroup_join {
        int clone_into_fd; /* v2: the leaf for clone3(CLONE_INTO_CGROUP), else -1 */
        int task_fds[WH_CGROUP_MAX_HIERARCHIES]; /* v1: `tasks` files to write "0" to */
        size_t n_task_fds;
};
int wh_cgroup_join_prepare(struct wh_cgroup *cg, struct wh_cgroup_join *join, struct wh_err *err);
/* In the new, single-threaded child: move itself into every v1 hierarchy.
 * Async-signal-safe. Returns 0, or -1 with errno. */
int wh_cgroup_join_self(const struct wh_cgroup_join *join);
/* Close the prepared fds (in the supervisor once the child has started). */
void wh_cgroup_join_release(struct wh_cgroup_join *join);
/* Counters; 0 or -1 with errno. Fields without a source stay 0 / false. */
int wh_cgroup_read_stats(struct wh_cgroup *cg, struct wh_cgroup_stats *out);
/* Just the CPU time, for polling a CPU-time limit: one file read. -1 with
 * errno ENOTSUP when the cgroup has no CPU accounting. */
int wh_cgroup_cpu_ns(struct wh_cgroup *cg, uint64_t *out);
/* SIGKILL everything in it: cgroup.kill on v2 (kernel >= 5.14), else a loop
 * over cgroup.procs that signals through pidfds so a recycled pid is never
 * hit. Returns 0 once every process was signalled (v1: the cgroup was seen
 * empty); -1 with errno ENOTSUP on "none" (kill by pid instead) or EBUSY if
 * processes survived ~1 s of rounds. */
int wh_cgroup_kill(struct wh_cgroup *cg);
/* Remove what killed supervisors left (cgroup_leaf.c: empty leaves of a
 * dead pid, older than a minute) directly beneath the parent the options
 * name (default: our own cgroup) in every mounted hierarchy, v2 and each v1
 * one whiskers uses, whichever driver a run would pick; nothing else. The
 * driver "none" sweeps nothing. Returns how many were removed. */
unsigned wh_cgroup_sweep_stale(const struct wh_cgroup_opts *opts);
/* A cgroup for one process at a time beneath a sandbox's: a warm input's
 * child (docs/warm.md "Per-input memory"). Made once, on the first call, and
 * owned by cg (wh_cgroup_destroy removes it first). Memory only:
 *   v1  a leaf "input" in the memory hierarchy; pids, cpu and cpuacct stay
 *       the sandbox's, whose cgroup.procs there keep listing every process
 *   v2  a leaf "input" beside the leaf of the sandbox's own processes
 *       (wh_cgroup_nest: a v2 cgroup with processes of its own cannot
 *       enable a controller for a child), memory enabled for both
 * -1 with ENOTSUP on "none", on v1 without a memory leaf and on v2 without
 * wh_cgroup_nest's leaf. The result is *out, borrowed. */
int wh_cgroup_sub(struct wh_cgroup *cg, struct wh_cgroup **out, struct wh_err *err);
/* v2, before any process is in cg: make the leaf "zygote" for cg's own
 * processes (wh_cgroup_join_prepare then places a new process there) and
 * enable memory for cg's children, so that wh_cgroup_sub can follow. Does
 * nothing on v1, "none", or when memory is not available in cg (its
 * cgroup.controllers). cg's limits, counters (v2's are hierarchical),
 * kill and removal keep covering both leaves. */
int wh_cgroup_nest(struct wh_cgroup *cg, struct wh_err *err);
/* The memory limit (0: none): v1 swap included, raised or lowered in the
 * order the kernel accepts (memsw >= memory at all times); v2 memory.max. */
int wh_cgroup_set_memory(struct wh_cgroup *cg, uint64_t bytes, struct wh_err *err);
/* Its memory in use now (v1 memory.usage_in_bytes, v2 memory.current); -1
 * with errno. */
int wh_cgroup_memory_usage(struct wh_cgroup *cg, uint64_t *out);
/* Start its peak and limit-hit counters again (v1: memory.max_usage_in_bytes
 * and the failcnt files, written 0; a v2 sub: its memory.peak, for the reads
 * of wh_cgroup_read_stats, on kernels >= 6.12; before, a v2 sub reports no
 * peak at all and this does nothing). -1 with errno. */
int wh_cgroup_reset_peak(struct wh_cgroup *cg);
/* How many times cg ran into its own memory limit and went OOM, counted from
 * the first call; a parent's count does not move when only a child's limit
 * was reached. v1: an eventfd registered on memory.oom_control (the kernel
 * signals the cgroup at its limit and every cgroup beneath it, so a limit
 * above cg counts too); v2: "oom" of memory.events.local (cg's own limit
 * only). -1 with errno (ENOTSUP: no memory cgroup). v1's failcnt would say
 * it too, but this kernel family does not count it. */
int wh_cgroup_oom_events(struct wh_cgroup *cg, uint64_t *out);
/* OOM kills of cg's processes outside its sub (a warm sandbox's init and
 * zygote), since cg was made: v1 counts a kill in the victim's cgroup only;
 * v2 counts it in every cgroup above the victim's too, so the home leaf's
 * memory.events.local is read. -1 with errno. */
int wh_cgroup_own_oom_kills(struct wh_cgroup *cg, uint64_t *out);
/* Is pid in every leaf of cg, as the kernel says (/proc/PID/cgroup)? */
bool wh_cgroup_holds(struct wh_cgroup *cg, pid_t pid);
/* Every process in cg and the cgroups beneath it (host pids, one per line,
 * as cgroup.procs lists them) into buf, NUL-terminated; returns the length
 * (cap - 1: the list may be cut), or -1 with errno (ENOTSUP on "none"). */
ssize_t wh_cgroup_procs(struct wh_cgroup *cg, char *buf, size_t cap);
/* Remove the cgroup directories and free cg. Processes still inside are
 * killed first (a cgroup cannot be removed while populated); removal is
 * retried for up to ~1 s while they exit. */
void wh_cgroup_destroy(struct wh_cgroup *cg);

#endif
