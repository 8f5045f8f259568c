/* Internals of the cgroup drivers (cgroup.h is the contract).
 *
 *   cgroup.c          public API: driver choice, dispatch, destroy
 *   cgroup_env.c      discovery: /proc/self/cgroup + mountinfo -> hierarchies
 *   cgroup_fs.c       small control-file reads and writes
 *   cgroup_leaf.c     leaf directories: make, remove, empty (the pidfd kill loop)
 *   cgroup_v1.c       v1 driver (memory, pids, cpu, cpuacct hierarchies)
 *   cgroup_v2.c       v2 driver (one unified directory)
 *   cgroup_sub.c      a leaf beneath a sandbox's, for one process at a time
 *   cgroup_sub_v2.c   its v2 side: the sandbox's own processes in a leaf beside it
 *
 * A driver's probe() only reads; its create() makes directories and writes
 * limits, and undoes everything it made when it fails. */
#ifndef WH_SANDBOX_CGROUP_INTERNAL_H
#define WH_SANDBOX_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/cgroup.h"

/* The controllers whiskers uses, as bits. */
enum {
        CG_MEMORY = 1u << 0,
        CG_PIDS = 1u << 1,
        CG_CPU = 1u << 2,
        CG_CPUACCT = 1u << 3,
};
#define CG_N_CTRLS    4
#define CG_MAX_LEAVES CG_N_CTRLS

/* CPU bandwidth: `cpus` CPUs' worth of time per 100 ms period. */
#define CG_CPU_PERIOD_US 100000
static inline uint64_t cg_cpu_quota_us(double cpus)
{
        return (uint64_t)(cpus * CG_CPU_PERIOD_US + 0.5);
}

/* "memory", "pids", "cpu", "cpuacct" for one bit; NULL otherwise. */
const char *cg_ctrl_name(unsigned bit);
/* The bit of a controller name, 0 if whiskers does not use it. */
unsigned cg_ctrl_bit(const char *name, size_t len);
/* Controllers a set of limits needs. */
unsigned cg_ctrls_needed(const struct wh_cgroup_limits *limits);
/* "memory, pids" for a set of bits, into buf. */
const char *cg_ctrls_list(unsigned bits, char *buf, size_t size);

/* One mounted hierarchy: where it is and where we are in it. Strings point
 * into the buffers of the cg_env that found it. */
struct cg_hierarchy {
        const char *mount; /* mount point */
        const char *root;  /* the hierarchy path mounted there ("/" usually) */
        const char *self;  /* our cgroup in it (/proc/self/cgroup), NULL if absent */
        unsigned ctrls;    /* v1: the controllers bound to it */
};

struct cg_env {
        const char *fs_root;
        const char *parent; /* opts->parent or NULL */
        const char *hint;   /* leaf name prefix */
        bool has_v2;
        struct cg_hierarchy v2;
        size_t n_v1;
        struct cg_hierarchy v1[CG_N_CTRLS];
        char *self_buf, *mountinfo_buf;
};

int cg_env_load(const struct wh_cgroup_opts *opts, struct cg_env *env, struct wh_err *err);
void cg_env_free(struct cg_env *env);
/* The v1 hierarchy carrying `ctrl`, or NULL. */
const struct cg_hierarchy *cg_env_v1(const struct cg_env *env, unsigned ctrl);
/* The directory new leaves go in: the mount point plus the parent (or our
 * own cgroup) relative to the mount's root. malloc'd; NULL with err set. */
char *cg_env_parent_dir(const struct cg_env *env, const struct cg_hierarchy *h, struct wh_err *err);

/* A directory we created. */
struct cg_leaf {
        char *path;
        int fd; /* O_PATH directory fd, for openat() on control files */
        unsigned ctrls;
};

struct wh_cgroup {
        enum wh_cgroup_driver_kind kind;
        size_t n_leaves;
        struct cg_leaf leaves[CG_MAX_LEAVES];
        /* Directory fds (borrowed from leaves) for each source of data, -1 if none. */
        int mem_fd, pids_fd, cpu_fd;
        /* v2: files that exist only with newer kernels or enabled controllers. */
        bool has_mem_peak, has_mem_events, has_pids_events, has_kill_file;
        struct wh_cgroup *sub;  /* wh_cgroup_sub's, or NULL */
        struct wh_cgroup *home; /* v2: wh_cgroup_nest's leaf for its own processes, or NULL */
        int oom_efd;            /* v1 OOM notifications (wh_cgroup_oom_events), or -1 */
        int peak_fd;            /* v2 sub: memory.peak opened to reset and read (kernel >= 6.12:
                                   a reset holds for reads through the fd that wrote it), or -1 */
        uint64_t oom_events;
};

/* What a driver could offer, found without writing anything. */
struct cg_probe {
        bool ok;           /* it can try to enforce every requested limit */
        int accounting;    /* 0 none, 1 CPU time, 2 CPU time and memory */
        struct wh_err why; /* when !ok */
};

void cg_v1_probe(const struct cg_env *env, unsigned need, struct cg_probe *out);
int cg_v1_create(const struct cg_env *env, const struct wh_cgroup_limits *limits,
                 struct wh_cgroup *cg, struct wh_err *err);
int cg_v1_read_stats(struct wh_cgroup *cg, struct wh_cgroup_stats *out);

void cg_v2_probe(const struct cg_env *env, unsigned need, struct cg_probe *out);
int cg_v2_create(const struct cg_env *env, const struct wh_cgroup_limits *limits,
                 struct wh_cgroup *cg, struct wh_err *err);
int cg_v2_read_stats(struct wh_cgroup *cg, struct wh_cgroup_stats *out);

/* cgroup_fs.c. Control-file helpers return 0 or -1 with errno. */
int cg_write(int dirfd, const char *file, const char *value);
int cg_write_u64(int dirfd, const char *file, uint64_t value);
/* Read a small file (at most size - 1 bytes) NUL-terminated into buf. */
int cg_read(int dirfd, const char *file, char *buf, size_t size);
int cg_read_u64(int dirfd, const char *file, uint64_t *out);
/* The number in an open control file, read from its start. */
int cg_pread_u64(int fd, uint64_t *out);
/* The value of the "key N" line in text or a file; -1 with errno ENOENT
 * when there is none, EINVAL when it is not a number. */
int cg_key(const char *text, const char *key, uint64_t *out);
int cg_read_key(int dirfd, const char *file, const char *key, uint64_t *out);
bool cg_exists(int dirfd, const char *file);
/* True when the space-separated `list` contains `word`. */
bool cg_word_in(const char *list, const char *word);
/* Fill err for a failed write of value to dir/file; returns -1. */
int cg_write_failed(struct wh_err *err, int errnum, const char *dir, const char *file,
                    const char *value);

/* A leaf to make beneath `parent`; optional ones are skipped when the
 * directory cannot be created (e.g. an accounting-only hierarchy we may not
 * write). */
struct cg_leaf_req {
        char *parent;
        unsigned ctrls;
        bool required;
};
/* Our pid namespace's inode (/proc/self/ns/pid), named in every leaf; 0 when
 * unknown (then the sweep takes no leaf of the new form for ours). */
unsigned long cg_pidns_id(void);
/* Make <parent>/<hint>-<ns>-<pid>-<n> for every request, one name for all,
 * retrying with the next n when a name is taken; fills cg->leaves. Fails
 * when a required leaf or every leaf cannot be made, leaving nothing. */
int cg_make_leaves(struct wh_cgroup *cg, const struct cg_leaf_req *reqs, size_t n, const char *hint,
                   struct wh_err *err);
/* Remove the leftovers of killed supervisors in parent: empty directories
 * named <hint>-<ns>-<pid>-<n> with ns our pid namespace (cg_pidns_id), or
 * the old <hint>-<pid>-<n>, whose pid is gone and that are older than a
 * minute (another pid namespace's fresh leaf of the old form is younger).
 * Returns how many were removed. */
unsigned cg_sweep_stale(const char *parent, const char *hint);
/* rmdir the leaf; returns 0 or -1 with errno (EBUSY while populated). */
int cg_leaf_rmdir(const struct cg_leaf *leaf);
void cg_leaf_release(struct cg_leaf *leaf); /* close and free, no rmdir */
/* SIGKILL every process listed in dir/cgroup.procs until it is empty. */
int cg_kill_procs(const char *dir);

/* The names of a sandbox's per-input leaf and, on v2, of the leaf of its
 * own processes, beneath its own (cgroup_sub.c). */
#define CG_SUB_NAME  "input"
#define CG_HOME_NAME "zygote"

/* A new cgroup of a kind, without leaves (cgroup.c). */
struct wh_cgroup *cg_new(enum wh_cgroup_driver_kind kind);
/* A cgroup of one leaf, dir/name, made now for `ctrls` (cgroup.c: used by
 * cgroup_sub.c and cgroup_sub_v2.c);
 * NULL with err set. */
struct wh_cgroup *cg_child(enum wh_cgroup_driver_kind kind, const char *dir, const char *name,
                           unsigned ctrls, struct wh_err *err);

/* cgroup_sub_v2.c: the v2 side of cgroup_sub.c's API. */
int cg_v2_make_sub(struct wh_cgroup *cg, struct wh_err *err);
int cg_v2_set_memory(struct wh_cgroup *cg, uint64_t bytes, struct wh_err *err);
int cg_v2_reset_peak(struct wh_cgroup *cg);
int cg_v2_oom_events(struct wh_cgroup *cg, uint64_t *out);
int cg_v2_own_oom_kills(struct wh_cgroup *cg, uint64_t *out);

/* Leaf-cleanup on a half-made cgroup: rmdir and release every leaf. */
void cg_undo(struct wh_cgroup *cg);

#endif
