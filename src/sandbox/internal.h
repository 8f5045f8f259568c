/* Internals shared by the sandbox's files. One run goes:
 *
 *   supervisor (sandbox.c, supervise.c)        outside; owns cgroup, timers, pipes
 *     └─ init (child.c: init_main)             pid 1; builds the root (rootfs.c),
 *          │                                   drops privileges (privs.c, landlock.c)
 *          └─ payload (child.c: payload_exec)  rlimits, seccomp, execve
 *
 * The supervisor and init talk over a SOCK_SEQPACKET pair with fixed-size
 * messages (msg.c). Everything the children need is prepared before clone so
 * they never allocate. */
#ifndef WH_SANDBOX_INTERNAL_H
#define WH_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <whiskers/sandbox.h>

#include "sandbox/cgroup.h"
#include "sandbox/net.h"
#include "sandbox/seccomp.h"

/* Where the caller's argv and environ strings live (caller_areas.c). */
struct caller_areas {
        uintptr_t arg_start, arg_end, env_start, env_end;
};

/* The program's argv, envp and cwd, copied out of the caller's memory. */
struct run_strings {
        char **argv, **envp;
        char *cwd;
};

struct wh_sandbox {
        struct wh_sandbox_config config;
        struct caller_areas caller;
        struct wh_seccomp_policy *policy;
        const struct sock_fprog *bpf;
        uid_t host_uid;
        gid_t host_gid;
        bool caller_is_root;
        /* WH_NET_ALLOW: the resolver files, bound after the caller's binds;
         * config.binds points at all_binds then. */
        struct net_resolver resolver;
        struct wh_bind *all_binds;
};

/* What the children get: pointers into the caller's memory, valid in the
 * child's copy of the address space after clone. */
struct child_ctx {
        const struct wh_sandbox *sb;
        const struct wh_run_spec *run;
        const struct run_strings *strings; /* run's argv, envp, cwd: init wipes the originals */
        int ctl_fd;                        /* init's end of the control socket */
        int stdin_fd;                      /* opened by the supervisor */
        int stdout_w, stderr_w;            /* write ends of the output pipes */
        bool cpu_via_rlimit;               /* no cgroup CPU accounting: fall back to RLIMIT_CPU */
        bool mem_pids_via_rlimit;          /* rlimit_fallback: RLIMIT_AS and RLIMIT_NPROC */
        const struct wh_cgroup_join *join; /* init moves itself into the cgroup */
};

enum msg_type {
        MSG_GO = 1,       /* supervisor -> init: ids mapped */
        MSG_APPLIED,      /* init -> supervisor: layers applied (landlock ABI) */
        MSG_LISTENER,     /* payload -> supervisor: seccomp listener fd attached */
        MSG_SETUP_FAILED, /* init/payload -> supervisor: stage, errno, text */
        MSG_EXIT,         /* init -> supervisor: payload's wait status, rusage */
};

struct msg {
        uint32_t type;
        int32_t errnum;
        int32_t wait_status;
        int32_t landlock_abi;
        uint64_t cpu_ns;
        uint64_t maxrss_bytes;
        char stage[WH_STAGE_MAX];
        char text[256];
};

int msg_send(int fd, const struct msg *m, int pass_fd);
/* Returns 1 with a message, 0 on EOF, -1 on error; *recv_fd gets a passed fd or -1. */
int msg_recv(int fd, struct msg *m, int *recv_fd);
/* Report a failed setup step from a child and exit; never returns. */
void child_fail(int ctl_fd, const char *stage, int errnum, const char *what)
    __attribute__((noreturn));

/* caller_areas.c: the supervisor finds its argument and environment areas
 * and copies the run's strings; init wipes the areas (no allocation) once
 * the sandbox is built, so /proc/1/cmdline shows a title, not the caller's
 * command line. Nothing of the configuration may be used after the wipe. */
int caller_areas_find(struct caller_areas *areas, struct wh_err *err);
void caller_areas_wipe(const struct caller_areas *areas);
int run_strings_copy(const struct wh_run_spec *run, struct run_strings *out, struct wh_err *err);
void run_strings_free(struct run_strings *s);

/* child.c */
int init_main(void *arg);

/* rootfs.c: build the new root and pivot into it (runs in init). */
int rootfs_setup(const struct child_ctx *ctx, const char **failed_stage, char *what, size_t len);

/* privs.c */
int privs_drop_all(bool keep_net_raw);
int privs_set_rlimits(const struct child_ctx *ctx);
int net_loopback_up(void);

/* landlock.c: returns the ABI applied (>= 1), 0 when the kernel has no
 * Landlock, or -1 with errno when it could not be applied. */
int landlock_apply(const struct wh_sandbox_config *config);

/* userns.c */
int userns_write_maps(pid_t pid, const struct wh_sandbox *sb, struct wh_err *err);
/* Explain why user namespaces are unavailable, or NULL if they look fine. */
const char *userns_unavailable_reason(int clone_errno);

/* supervise.c: the poll loop of one run. */
struct supervise_io {
        int pidfd, ctl_fd, stdout_r, stderr_r;
        int stdout_dst, stderr_dst;
        /* The caller's stdin when it is copied into the program's pipe (a
         * terminal, a socket...), and that pipe's non-blocking write end; the
         * loop closes stdin_w (and sets it to -1) at the end of stdin. Both -1
         * when the program reads the caller's file itself. */
        int stdin_src, stdin_w;
        struct wh_cgroup *cgroup;
        const struct wh_limits *limits;
        const volatile int *cancel;
        /* wh_run_spec's stdout sink: NULL when stdout is only copied */
        int (*on_stdout)(void *ctx, const char *data, size_t len);
        void *stdout_ctx;
};
void supervise(struct supervise_io *io, struct wh_report *report);
/* Shared with warm_input.c. One chunk of output passed on up to the output
 * limit (0: none): copied to dst (if >= 0), counted; returns the bytes
 * passed on, fewer than n when the chunk crossed the limit. */
size_t output_pass(const char *buf, size_t n, uint64_t limit, uint64_t *count, int dst);
/* One notification from a seccomp listener: 0, or -1 with errno (EMSGSIZE:
 * the kernel's notification does not fit; ENOENT: its caller died). */
union seccomp_notif_buf {
        struct seccomp_notif notif;
        char room[512];
};
int seccomp_notif_recv(int fd, union seccomp_notif_buf *u);
/* How a program's own end (wait status ws; r's signal and cpu_ms filled)
 * reads as a status, when nothing else decided it. */
enum wh_status status_of_end(int ws, const struct wh_report *r, const struct wh_limits *l);
/* The notified call, as the status record names it. */
void report_syscall(struct wh_report *r, const struct seccomp_notif *n);

/* sandbox.c: a sandbox up to "go" (cgroup, namespaces, ids mapped), for
 * wh_sandbox_run and the warm zygote (warm.c), which supervise it their own
 * way. control_fd >= 0 becomes the payload's stdin as it is (the zygote's
 * control socket); else run->stdin_fd as open_stdin() decides (stdin_w: the
 * pipe's write end when the caller's stdin is copied). On failure the report
 * says why and nothing is left running. */
struct launched {
        pid_t pid; /* init, host view */
        int pidfd, ctl, out_r, err_r, stdin_w;
        struct wh_cgroup *cgroup;
        struct run_strings strings;
        struct net_run *net; /* WH_NET_ALLOW only */
};
void report_init(struct wh_report *r, const struct wh_sandbox *sb);
int sandbox_launch(struct wh_sandbox *sb, const struct wh_run_spec *run, int control_fd,
                   struct wh_report *r, struct launched *l);
/* Kill init if still set (l->pid > 0): the sandbox's pid namespace with it. */
void sandbox_launch_kill(struct launched *l);
/* sandbox_launch_kill, then close every fd, remove the cgroup. */
void sandbox_launch_end(struct launched *l);

#endif
