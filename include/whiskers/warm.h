/* Warm execution: one sandbox kept alive, a zygote inside it that loaded the
 * program once, one fork of the zygote per input (docs/warm.md).
 *
 *   wh_warm_new(sb, zygote_spec)   nothing starts yet
 *   wh_warm_run(w, input_spec, report)   starts the zygote if it is not up
 *                                  (again after a failure), feeds one input
 *   wh_warm_free(w)                kills the sandbox
 *
 * The zygote speaks the protocol of docs/warm.md on fd 0; its environment
 * is the zygote spec's. Everything that matters for security is decided
 * here, outside the sandbox: the input's wall and CPU time (the cgroup's
 * counter, or RLIMIT_CPU on the child without a cgroup), its output limit,
 * seccomp kills, OOM (the cgroup's counter), which process is the input's
 * child and that it is isolated from the zygote (the kernel's
 * SCM_CREDENTIALS, checked against /proc/PID/status: its own user and pid
 * namespaces and process group), and after every input: every process but
 * init and the zygote killed, /tmp emptied. The report of an input uses the statuses of
 * a cold run, with warm = true, the zygote's id and the input's ordinal. */
#ifndef WHISKERS_WARM_H
#define WHISKERS_WARM_H

#include <stdbool.h>
#include <whiskers/sandbox.h>

struct wh_warm;

/* zygote: argv, envp, cwd and the sandbox-wide limits (memory, pids, cpus,
 * nofile, fsize, stack); its stdio fields are ignored. Kept by pointer: it
 * must outlive w. load_ms bounds how long loading may take (0: 60 s). */
int wh_warm_new(struct wh_sandbox *sb, const struct wh_run_spec *zygote, uint64_t load_ms,
                struct wh_warm **out, struct wh_err *err);

/* Isolation levels (docs/warm.md "Persistent"): fork (the default) gives
 * every input a fresh fork of the zygote; persistent lets one forked child
 * serve up to max_inputs inputs in a row (the program must declare it can:
 * "warm": "persistent"), then it is recycled. Set before the first input.
 * A child's crash, timeout or kill fails only the input in flight. */
enum wh_isolation { WH_ISOLATION_FORK, WH_ISOLATION_PERSISTENT };
void wh_warm_persistent(struct wh_warm *w, uint32_t max_inputs);
const char *wh_isolation_name(enum wh_isolation iso);
/* "fork" or "persistent"; -1 for anything else. */
int wh_isolation_parse(const char *text, enum wh_isolation *out);

/* One input: stdin_fd (a regular file, or -1), stdout_fd / on_stdout, stderr_fd, cancel and the
 * per-input limits wall_ms, cpu_ms and output_bytes of `input` are used
 * (argv, envp and the cgroup limits are the zygote's). Returns 0 with the
 * report filled (status sandbox_error, stage "warm" when the zygote could not
 * serve it), < 0 only for bad arguments. */
int wh_warm_run(struct wh_warm *w, const struct wh_run_spec *input, struct wh_report *report,
                struct wh_err *err);

/* Three zygotes in a row failed to start or broke during an input: no
 * zygote is started again, and wh_warm_run reports that at once. Callers
 * fall back to cold runs. */
bool wh_warm_given_up(const struct wh_warm *w);

/* Why the last start failed ("" if none): for messages. */
const char *wh_warm_last_error(const struct wh_warm *w);

/* Resident memory kept between inputs, in bytes: init's and the zygote's
 * (VmRSS; shared pages count in each). 0 while no zygote is up. */
uint64_t wh_warm_rss(const struct wh_warm *w);

void wh_warm_free(struct wh_warm *w);

#endif
