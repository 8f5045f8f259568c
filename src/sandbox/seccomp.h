/* Seccomp: the policy (an allowlist), its compiled BPF (cached by policy
 * hash) and its installation. docs/seccomp-policy.md describes the policy
 * format and the built-in default.
 *
 * Disallowed system calls hit SECCOMP_RET_USER_NOTIF: the supervisor holds the
 * listener fd, reads the offending syscall (number and architecture) from the
 * notification, records it, then kills the whole sandbox. That is kill-process
 * semantics with the syscall reported as data. Calls through the 32-bit
 * (int 0x80) and x32 entries are filtered the same way (no allowed calls); any
 * other architecture kills the process outright. */
#ifndef WH_SANDBOX_SECCOMP_H
#define WH_SANDBOX_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/error.h>

struct wh_seccomp_policy;

/* Load a policy file, or the built-in default when path is NULL. The syscalls
 * the sandbox itself needs between installing the filter and execve (execve,
 * sendmsg, close, close_range, exit_group) are always allowed. Errors name
 * file:line and what is wrong (stage "seccomp-policy"). */
int wh_seccomp_policy_load(const char *path, struct wh_seccomp_policy **out, struct wh_err *err);
/* The same from text in memory; name is used in error messages. */
int wh_seccomp_policy_parse(const char *name, const char *text, struct wh_seccomp_policy **out,
                            struct wh_err *err);
void wh_seccomp_policy_free(struct wh_seccomp_policy *policy);
/* SHA-256 (hex) of the canonical form of the policy: what the status record
 * reports and what the BPF cache is keyed by. */
const char *wh_seccomp_policy_hash(const struct wh_seccomp_policy *policy);
/* The canonical form itself: one rule per line, sorted, numbers in hex; NULL
 * for a policy wh_seccomp_policy_load_compiled() took from the cache. */
const char *wh_seccomp_policy_canonical(const struct wh_seccomp_policy *policy);

/* What the sandbox uses: load (path, or NULL for the default) or parse, then
 * wh_seccomp_policy_bpf(), in one step; except that when the cache has a
 * text entry for these exact bytes (docs/seccomp-policy.md, "Cache") and the
 * program entry it names, the text is not parsed at all: the hash and the
 * program come from the cache, and wh_seccomp_policy_canonical() returns NULL.
 * A text that does not parse never gets an entry. */
int wh_seccomp_policy_load_compiled(const char *path, struct wh_seccomp_policy **out,
                                    struct wh_err *err);
int wh_seccomp_policy_parse_compiled(const char *name, const char *text,
                                     struct wh_seccomp_policy **out, struct wh_err *err);

/* The compiled filter; owned by the policy, built on first use, from the
 * on-disk cache when a valid entry exists (docs/seccomp-policy.md, "Cache").
 * A cache that cannot be read or written is skipped, never an error. */
int wh_seccomp_policy_bpf(struct wh_seccomp_policy *policy, const struct sock_fprog **out,
                          struct wh_err *err);

/* Install the filter in the calling thread, below it the fixed guard that
 * keeps prlimit64 off init (pid 1) whatever the policy says, and return the
 * user-notification listener fd (close-on-exec). The caller must have set no_new_privs. Returns
 * 0, or -1 with errno set. Async-signal-safe: raw seccomp(2) calls only, so it
 * is safe between fork and execve. */
int wh_seccomp_install(const struct sock_fprog *prog, int *listener_fd);

/* Name of a syscall number for an audit architecture (AUDIT_ARCH_*, as in
 * struct seccomp_data). An x32 call arrives as AUDIT_ARCH_X86_64 with
 * __X32_SYSCALL_BIT set in nr and is resolved in the x32 table. Unknown
 * numbers give "unknown". Not async-signal-safe (libseccomp allocates). */
const char *wh_syscall_name(uint32_t audit_arch, int nr, char *buf, size_t len);
/* Short name of an architecture: "x86_64", "i386", "x32" (libseccomp's
 * SCMP_ARCH_X32 token), "aarch64", "arm", else "unknown". */
const char *wh_audit_arch_name(uint32_t audit_arch);
/* The architecture name for a notification: like wh_audit_arch_name, but
 * "x32" for an AUDIT_ARCH_X86_64 call whose nr carries __X32_SYSCALL_BIT. */
const char *wh_syscall_arch_name(uint32_t audit_arch, int nr);

#endif
