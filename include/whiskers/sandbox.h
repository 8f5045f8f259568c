/* libwhiskers sandbox API: a spec in, a report out, errors as values.
 *
 * Two objects, so that a warm mode can keep one prepared sandbox and start many
 * runs in it:
 *   struct wh_sandbox_config  what the sandbox *is*: filesystem, network,
 *                             seccomp policy, uid mapping. Fixed for its life.
 *   struct wh_run_spec        what one run *does*: argv, env, stdio, limits.
 *
 *   wh_sandbox_new(config)  -> struct wh_sandbox *   (validates, loads policy)
 *   wh_sandbox_run(sb, run, report)                    (one run, one report)
 *   wh_sandbox_free(sb)
 *
 * Today every wh_sandbox_run() builds fresh namespaces; the split is the seam
 * where a warm implementation keeps them. A run never fails silently: when
 * wh_sandbox_run() returns 0 the report says how the run ended, including
 * WH_STATUS_SANDBOX_ERROR with the stage; it returns < 0 only when not even a
 * report could be produced (bad arguments). */
#ifndef WHISKERS_SANDBOX_H
#define WHISKERS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <whiskers/error.h>
#include <whiskers/net.h>

enum wh_status {
        WH_STATUS_OK = 0,
        WH_STATUS_EXIT_NONZERO,
        WH_STATUS_SIGNAL,
        WH_STATUS_TIMEOUT_WALL,
        WH_STATUS_TIMEOUT_CPU,
        WH_STATUS_OOM,
        WH_STATUS_OUTPUT_LIMIT,
        WH_STATUS_SECCOMP_KILL,
        WH_STATUS_SANDBOX_ERROR,
};
const char *wh_status_name(enum wh_status status);

enum wh_net_mode {
        WH_NET_NONE = 0, /* new net namespace, no interface up */
        WH_NET_LOOPBACK, /* new net namespace with lo up */
        WH_NET_ALLOW,    /* lo, and a way out limited to net_policy (whiskers/net.h) */
};

struct wh_bind {
        const char *src; /* host path */
        const char *dst; /* path inside the sandbox */
        bool writable;
};

/* The host uid and gid a root caller maps the sandbox's root to: an id no
 * account or file on a normal host has. Not 65534: "nobody" owns files on
 * many hosts (NFS, containers), and the sandbox's root would own them too. */
#define WH_DEFAULT_HOST_ID 2000000000u

struct wh_sandbox_config {
        const char *rootfs;          /* NULL: empty tmpfs root with host /usr */
        const struct wh_bind *binds; /* extra binds, applied in order */
        size_t n_binds;
        enum wh_net_mode net;
        const struct wh_net_policy *net_policy; /* WH_NET_ALLOW only; outlives the sandbox */
        const char *hostname;                   /* NULL: "whiskers" */
        const char *seccomp_policy;             /* path; NULL: the built-in default */
        uid_t host_uid;                         /* host id the sandbox's root maps to; */
        gid_t host_gid;                         /* (uid_t)-1: caller's own id, or 65534 as root */
        uint64_t tmp_bytes;                     /* size of /tmp; 0: 64 MiB */
        const char *cgroup_driver;              /* NULL or "auto", "v1", "v2", "none" */
        const char *cgroup_parent;              /* NULL: the cgroup this process is in */
};

struct wh_limits {
        uint64_t memory_bytes; /* 0: unlimited. cgroup; swap off */
        uint64_t pids;         /* 0: unlimited. cgroup */
        double cpus;           /* 0: unlimited. cgroup CPU bandwidth, e.g. 0.5 */
        uint64_t wall_ms;      /* 0: unlimited */
        uint64_t cpu_ms;       /* 0: unlimited; whole process tree */
        uint64_t output_bytes; /* 0: unlimited; stdout + stderr, each */
        uint64_t nofile;       /* 0: 256 */
        uint64_t fsize_bytes;  /* 0: 64 MiB */
        uint64_t stack_bytes;  /* 0: 8 MiB */
        bool allow_unenforced; /* run even if a cgroup limit cannot be enforced */
        /* When no cgroup can enforce memory_bytes and pids, enforce them with
         * rlimits instead of failing: RLIMIT_AS per process, RLIMIT_NPROC for
         * the sandbox (counted in its user namespace). Weaker than the cgroup
         * (memory is per process), so for defaults, not for limits asked for. */
        bool rlimit_fallback;
};

/* Who enforced memory, pids and cpus of a run (wh_report.limits_by). */
enum wh_limits_by {
        WH_LIMITS_BY_NONE = 0,   /* none was asked for */
        WH_LIMITS_BY_CGROUP,     /* the run's cgroup */
        WH_LIMITS_BY_RLIMIT,     /* rlimit_fallback: RLIMIT_AS and RLIMIT_NPROC */
        WH_LIMITS_BY_UNENFORCED, /* allow_unenforced, and no cgroup could */
};

struct wh_run_spec {
        const char *const *argv; /* argv[0] is resolved inside the sandbox */
        const char *const *envp; /* the complete environment; NULL: empty */
        const char *cwd;         /* NULL: "/" */
        int stdin_fd;            /* -1: /dev/null */
        int stdout_fd;           /* where the payload's stdout goes; -1: nowhere (or on_stdout) */
        int stderr_fd;
        struct wh_limits limits;
        /* When *cancel becomes non-zero (a signal handler's flag), the run is
         * stopped and reported as sandbox_error at stage "cancelled". NULL: never. */
        const volatile int *cancel;
        /* Optional: the payload's stdout while it runs. Each chunk the
         * supervisor drains from the stdout pipe is passed here in order (after
         * the copy to stdout_fd, if any), from the thread that called
         * wh_sandbox_run: no other thread. Bytes past limits.output_bytes are
         * never passed (status output_limit, as without a sink). A non-zero
         * return stops the run now: it is killed, reported as sandbox_error at
         * stage "output", and the sink is not called again. A slow sink slows
         * the payload down (the pipe fills); nothing is buffered beyond it. */
        int (*on_stdout)(void *ctx, const char *data, size_t len);
        void *stdout_ctx;
};

#define WH_STAGE_MAX   32
#define WH_MESSAGE_MAX 512
#define WH_NAME_MAX    64

struct wh_report {
        enum wh_status status;
        int exit_code;  /* valid for OK / EXIT_NONZERO, else -1 */
        int signal;     /* terminating signal or 0 */
        int syscall_nr; /* seccomp kill: offending syscall, else -1 */
        char syscall_name[WH_NAME_MAX];
        char syscall_arch[16];
        uint64_t wall_ms;
        uint64_t cpu_ms;
        uint64_t mem_peak_bytes;
        uint64_t stdout_bytes; /* bytes the payload wrote (up to the cap) */
        uint64_t stderr_bytes;
        char stage[WH_STAGE_MAX];     /* sandbox_error only */
        char message[WH_MESSAGE_MAX]; /* sandbox_error only */
        int error_errno;              /* sandbox_error: errno of the failed step, or 0 */
        /* What was applied. */
        struct wh_limits limits; /* the run's limits */
        enum wh_limits_by limits_by;
        char namespaces[96];          /* "user,pid,mount,net,ipc,uts,cgroup" */
        char cgroup_driver[8];        /* "v1", "v2" or "none" */
        int landlock_abi;             /* 0 when unavailable */
        char seccomp_policy_hash[65]; /* SHA-256 of the canonical policy */
        /* Warm mode (whiskers/warm.h): the input ran in a child of the zygote
         * `zygote`, as its `ordinal`-th input (from 1). Cold: false, "", 0. */
        bool warm;
        char zygote[32];
        uint64_t ordinal;
        /* Persistent isolation: the input ran in the process that the
         * zygote forked for its `process`-th input, as that process's
         * `process_ordinal`-th input (from 1). Fork: false, 0, 0. */
        bool persistent;
        uint64_t process, process_ordinal;
        /* WH_NET_ALLOW: every connection attempt ("network" in the record). */
        bool net_allow;
        struct wh_net_log net;
};

struct wh_sandbox;

int wh_sandbox_new(const struct wh_sandbox_config *config, struct wh_sandbox **out,
                   struct wh_err *err);
int wh_sandbox_run(struct wh_sandbox *sb, const struct wh_run_spec *run, struct wh_report *report,
                   struct wh_err *err);
void wh_sandbox_free(struct wh_sandbox *sb);

/* The status record as one line of JSON (no trailing newline), malloc'd. */
char *wh_report_to_json(const struct wh_report *report);

#endif
