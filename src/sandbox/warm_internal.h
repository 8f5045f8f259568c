/* Internals of warm execution (whiskers/warm.h, docs/warm.md), shared by
 *   warm.c        the zygote's life: start, wait for "ready", stop
 *   warm_input.c  one input: the child's hello, fds, limits, status
 *   warm_frame.c  the protocol's frames and the kernel's word on who sent them
 *   warm_clean.c  between inputs: leftover processes killed, /tmp emptied
 *   warm_isolate.c  the child's own namespaces: the zygote's policy, the check
 *   warm_leaf.c   per-input memory: the child's own memory cgroup
 *   warm_ahead.c  the checks before "go", and a thread doing them ahead */
#ifndef WH_SANDBOX_WARM_INTERNAL_H
#define WH_SANDBOX_WARM_INTERNAL_H

#include "sandbox/internal.h"
#include <limits.h>
#include <pthread.h>
#include <whiskers/warm.h>

#define WARM_FRAME_MAX 256 /* a longer frame is a protocol error */
#define WARM_MAX_FDS   3
#define WARM_GIVE_UP   3 /* failed starts in a row */

/* The child that serves several inputs under persistent isolation. */
struct warm_process {
        uint32_t max_inputs; /* 0: fork isolation */
        int chan;            /* our end of its channel, -1: none alive */
        int pidfd;
        pid_t pid;
        uint64_t first;  /* the zygote's ordinal of its first input: its "exit" names it */
        uint64_t served; /* inputs it was handed */
};

/* The input's memory cgroup (warm_leaf.c). */
struct warm_leaf {
        struct wh_cgroup *cg;  /* owned by the sandbox's cgroup; NULL: none */
        int tasks;             /* its v1 tasks file, write-only, sent with "input N"; open
                                  while cg is set */
        uint64_t limit;        /* its memory limit now; UINT64_MAX: not set yet */
        uint64_t oom_kills;    /* its OOM count when the input started */
        uint64_t sandbox_ooms; /* the sandbox's OOM notifications then */
        uint64_t zygote_kills; /* OOM kills of init and the zygote when it was made */
        bool zygote_oom;       /* warm_down saw the sandbox run out of memory */
};

/* The child forked ahead, admitted by a thread (warm_ahead.c). */
enum { WARM_AHEAD_ADMITTED, WARM_AHEAD_REFUSED, WARM_AHEAD_ENDED };
struct warm_ahead {
        bool running; /* the thread was started and not joined */
        pthread_t thread;
        int done;         /* eventfd: the thread has finished */
        int stop;         /* eventfd: warm_down stops its wait for "hello" */
        int chan;         /* the spare's channel (w->spare until the input takes it) */
        uint64_t ordinal; /* the input it was asked for */
        int rc;           /* WARM_AHEAD_*, once done */
        int pidfd;        /* admitted: the child's */
        pid_t pid;
        char why[WH_MESSAGE_MAX]; /* refused: why, as the input's message */
};

enum warm_oom { WARM_OOM_NONE, WARM_OOM_INPUT, WARM_OOM_SANDBOX };

struct wh_warm {
        struct wh_sandbox *sb;
        struct wh_sandbox zsb;             /* sb with the zygote's seccomp filter */
        struct wh_seccomp_policy *zpolicy; /* the sandbox's policy + warm_isolate.c's rule */
        const struct wh_run_spec *zygote;
        struct wh_run_spec zspec; /* the zygote spec as launched: stdin is the socket */
        uint64_t load_ms;
        struct launched l;
        bool up;
        int zsock;  /* our end of the zygote's fd 0 */
        pid_t zpid; /* the zygote, host view */
        int zpidfd;
        int notif;  /* seccomp listener of the sandbox */
        int tmp_fd; /* the sandbox's /tmp, through /proc/ZPID/root */
        int landlock_abi;
        enum wh_limits_by limits_by; /* who enforces the sandbox's memory, pids, cpus */
        bool procs_listed;           /* its cgroup lists its processes (wh_cgroup_procs) */
        bool cpu_by_cgroup;          /* the cgroup counts CPU time; else RLIMIT_CPU per child */
        uint64_t oom_kills;          /* the cgroup's OOM count after the last input */
        unsigned failures;           /* failed starts and broken zygotes in a row */
        uint64_t ordinal;
        char id[32];
        char error[WH_MESSAGE_MAX];
        char limits[4096];     /* /proc/ZPID/limits when it was ready */
        struct warm_process p; /* persistent isolation (warm_persist.c) */
        int spare;             /* our end of the channel of the next input's child, forked
                                  ahead (warm_input.c), or -1 */
        int zlevels;           /* pid namespaces the zygote is in, seen from ours */
        char zuserns[64];      /* its user namespace, "user:[INODE]" */
        struct warm_leaf leaf;
        struct warm_ahead ahead;    /* the spare's admission, while running */
        struct wh_net_log net_left; /* WH_NET_ALLOW: taken, not yet reported */
};

uint64_t warm_now_ns(void);

/* warm.c */
int warm_start(struct wh_warm *w);
/* Kill the sandbox; the next input starts a new zygote. */
void warm_down(struct wh_warm *w);
/* WH_NET_ALLOW, once the input's processes are gone: its connection log into
 * r (docs/warm.md "Network"). -1: the namespace could not be made clean for
 * the next input (then warm_down). */
int warm_net_take(struct wh_warm *w, struct wh_report *r);

/* warm_frame.c. Receive one frame: its text (NUL-terminated, without the
 * final newline; printable ASCII) and the fds passed with it (the rest are
 * closed). *pid is the
 * sender's pid as the kernel gives it (SO_PASSCRED), host view, or 0.
 * Returns the text length, 0 on EOF, -1 with errno (EPROTO: too long, or more
 * fds than max_fds). */
ssize_t warm_recv(int fd, char *text, size_t cap, pid_t *pid, int *fds, size_t max_fds,
                  size_t *n_fds);
int warm_send(int fd, const char *text, const int *fds, size_t n_fds);
/* The zygote's report "exit N STATUS CPU_US MAXRSS_KB" (docs/warm.md):
 * decimal numbers without sign or leading zeros, one space apart, STATUS
 * at most INT_MAX, MAXRSS_KB small enough to count in bytes. 0, or -1 for
 * any other text. */
struct warm_exit {
        uint64_t ordinal, cpu_us, maxrss_kb;
        int status;
};
int warm_parse_exit(const char *text, struct warm_exit *out);
/* "done CODE" from a persistent child (warm_persist.c), CODE 0..255, canonical. */
int warm_parse_done(const char *text, int *code);
/* Is pid a live child of parent? Opens a pidfd to it first, so that the
 * answer is about the process the pidfd names. Returns the pidfd or -1.
 * _status: also the /proc/PID/status text it read (one read per child). */
int warm_pidfd_of_child(pid_t pid, pid_t parent);
int warm_pidfd_of_child_status(pid_t pid, pid_t parent, char *status, size_t cap);
/* /proc/PID/status, NUL-terminated. */
int warm_read_status(pid_t pid, char *buf, size_t cap);

/* warm_clean.c. Kill every process of the sandbox but init and the zygote,
 * until none is left; without a cgroup, check that none is. -1 if that could
 * not be done (then warm_down). */
int warm_kill_leftovers(struct wh_warm *w);
/* Empty the sandbox's /tmp. -1 if it could not be emptied. */
int warm_empty_tmp(struct wh_warm *w);
int warm_open_tmp(struct wh_warm *w);
/* Note the zygote's resource limits once it is ready; after each input,
 * check they are unchanged and that it is not stopped. -1: do not trust it. */
int warm_note_zygote(struct wh_warm *w);
int warm_check_zygote(struct wh_warm *w);

/* warm_persist.c (docs/warm.md "Persistent"). A live child that may take
 * the next input? A child that ended since is retired first (its "exit"
 * report read); false when none is left. */
bool warm_persist_alive(struct wh_warm *w);
/* The child of `first` said hello: keep it for the inputs after. */
void warm_persist_keep(struct wh_warm *w, int chan, int pidfd, pid_t pid, uint64_t first);
/* After an input: recycle the child once it served max_inputs. -1: the
 * zygote did not report its end (then warm_down). */
int warm_persist_after(struct wh_warm *w);
/* Close what we hold of the child (it is dead or being killed with the sandbox). */
void warm_persist_forget(struct wh_warm *w);
/* Its channel closed during an input: a child that is not exiting hung up
 * (it would hold the input until the wall deadline) and is killed now;
 * true then. Its input's status, when the kill is how it ended: */
bool warm_persist_hung_up(struct wh_warm *w);
void warm_persist_hung_up_status(struct wh_report *r);
/* Its peak RSS (VmHWM, kB) from /proc: the kernel's word, not the child's. */
uint64_t warm_persist_hwm_kb(pid_t pid);
/* CPU time so far, microseconds, from /proc: the process's threads, the
 * children it reaped (cutime, cstime) and its live descendants, each the
 * same. Children reaped by no one (SIGCHLD ignored) are counted only while
 * they live (docs/warm.md "Persistent"). */
uint64_t warm_persist_cpu_us(pid_t pid);

/* warm_isolate.c. The zygote's seccomp policy and w->zsb, once. Note the
 * zygote's namespaces when it is ready; before "go", check that input's child
 * is in its own (-1 with why filled: refuse the input). */
int warm_zygote_policy(struct wh_warm *w, struct wh_err *err);
int warm_note_isolation(struct wh_warm *w);
/* status: the child's /proc/PID/status, read after its pidfd was opened. */
int warm_check_isolated(struct wh_warm *w, pid_t pid, int pidfd, const char *status, char *why,
                        size_t cap);

/* warm_leaf.c. When the zygote is ready: the leaf, the sandbox's limit
 * raised by the input's (-1: refuse the zygote). Before "go": the child
 * in the leaf (enter, its first input: moved there unless it moved itself,
 * alone in its process, through the tasks file), checked there, the
 * leaf's limit and counters set for this input (begin); -1 with why filled:
 * refuse the input. After it: its peak into r, and whose OOM it was (a
 * sandbox's OOM, or init or the zygote found in the leaf, fails the input
 * at stage warm and replaces the zygote).
 * warm_down: note whether the sandbox ran out before its cgroup goes. */
int warm_leaf_start(struct wh_warm *w, struct wh_err *err);
int warm_leaf_enter(struct wh_warm *w, pid_t pid, bool alone, char *why, size_t cap);
int warm_leaf_begin(struct wh_warm *w, uint64_t memory_bytes, char *why, size_t cap);
struct wh_cgroup_stats;
enum warm_oom warm_leaf_end(struct wh_warm *w, const struct wh_cgroup_stats *st, bool broken,
                            bool decided, struct wh_report *r);
void warm_leaf_down(struct wh_warm *w);

/* warm_ahead.c. Admit the child of input `ordinal` that said hello as pid:
 * a pidfd to it (*pidfd, the caller's to close, also when refused), its
 * parent and isolation checked, moved into the input's memory cgroup, its
 * oom_score_adj 1000. -1 with why (the input's message): refuse it. */
int warm_admit(struct wh_warm *w, uint64_t ordinal, pid_t pid, int *pidfd, char *why, size_t cap);
/* After w->spare was asked for: a thread admits its child when it says
 * hello. Not started (no thread): the input admits it itself. */
void warm_ahead_start(struct wh_warm *w);
/* Once w->ahead.done is readable: join the thread. WARM_AHEAD_ADMITTED: the
 * child is still alive and in its memory cgroup; ENDED: it ended, before its
 * hello (*pidfd -1) or after it was admitted (the zygote reports how);
 * REFUSED, with why. *pidfd, when not -1, is the caller's. */
int warm_ahead_take(struct wh_warm *w, int *pidfd, pid_t *pid, char *why, size_t cap);
/* An exiting process leaves its cgroup and closes its sockets before its
 * pidfd says it ended: true if the pidfd says so within a moment (200 ms). */
bool warm_child_ending(int pidfd);
/* Stop and join the thread, if any (warm_down). */
void warm_ahead_stop(struct wh_warm *w);

#endif
