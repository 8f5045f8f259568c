/* Internals shared by the seccomp_*.c files (and their unit tests): the
 * parsed rule representation, the compiler and the BPF cache.
 *
 * A rule is one system call (native number) with an action (allow, or answer
 * with an errno) and up to six argument comparisons, all of which must hold.
 * docs/seccomp-policy.md defines how rules combine. */
#ifndef WH_SANDBOX_SECCOMP_INTERNAL_H
#define WH_SANDBOX_SECCOMP_INTERNAL_H

#include "sandbox/seccomp.h"
#include "base/sha256.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WH_SECCOMP_MAX_ARGS 6
/* Version of the program layout seccomp_compile.c produces; part of the
 * cache key, so bump it whenever that file changes what it emits. */
#define WH_SECCOMP_LAYOUT 1
/* Version of what a policy text means: part of the key of text entries (the
 * text -> policy hash shortcut), so bump it whenever parsing, the symbol or
 * errno tables, or the canonical form change the hash a text gets. */
#define WH_SECCOMP_PARSER 1

enum wh_seccomp_op {
        WH_SECCOMP_EQ,
        WH_SECCOMP_NE,
        WH_SECCOMP_LT,
        WH_SECCOMP_LE,
        WH_SECCOMP_GT,
        WH_SECCOMP_GE,
        WH_SECCOMP_MASKED_EQ, /* (arg & mask) == value */
};

struct wh_seccomp_cond {
        unsigned arg;
        enum wh_seccomp_op op;
        uint64_t mask; /* WH_SECCOMP_MASKED_EQ only */
        uint64_t value;
};

struct wh_seccomp_rule {
        int nr;     /* native system call number */
        int errnum; /* 0: allow; otherwise answer -errnum */
        unsigned n_conds;
        struct wh_seccomp_cond conds[WH_SECCOMP_MAX_ARGS];
        unsigned line; /* line in the policy; 0 for the always-allowed calls */
};

struct wh_seccomp_policy {
        char *name; /* file name (or "built-in default") for messages */
        struct wh_seccomp_rule *rules;
        size_t n_rules, cap_rules;
        char *canonical;
        char hash[65];
        struct sock_filter *insns; /* compiled program, NULL until first use */
        struct sock_fprog prog;
        bool from_cache; /* insns came from the on-disk cache */
};

/* The built-in default policy text (policies/default.policy is a copy). */
extern const char wh_seccomp_default_policy[];

/* Parse policy text into policy->rules (appending). Errors name file:line. */
int wh_seccomp_parse_text(struct wh_seccomp_policy *policy, const char *text, struct wh_err *err);

/* Append one rule to policy->rules. */
int wh_seccomp_policy_add_rule(struct wh_seccomp_policy *policy, const struct wh_seccomp_rule *rule,
                               struct wh_err *err);

/* Value of a symbolic constant usable in conditions (AF_UNIX, CLONE_NEWUSER,
 * TIOCSTI...); -1 when unknown. */
int wh_seccomp_symbol(const char *name, uint64_t *value);
/* errno value of a name such as "EPERM", or 0 when unknown. */
int wh_seccomp_errno_value(const char *name);

/* Compile rules to one BPF program (malloc'd array of *len instructions). */
int wh_seccomp_compile(const struct wh_seccomp_rule *rules, size_t n_rules,
                       struct sock_filter **out, size_t *len, struct wh_err *err);
/* The same in a child process killed after timeout_ms (seccomp_bounded.c):
 * libseccomp can stall on some policies, and a run must not hang on it. */
#define WH_SECCOMP_COMPILE_TIMEOUT_MS 10000
int wh_seccomp_compile_within(const struct wh_seccomp_rule *rules, size_t n_rules,
                              unsigned timeout_ms, struct sock_filter **out, size_t *len,
                              struct wh_err *err);

/* The cache key of a policy hash: it also names the libseccomp version, the
 * native architecture and the layout of the compiled program, since a
 * change in any of them changes the BPF. */
void wh_seccomp_cache_key(const char *policy_hash, char *key, size_t len);
/* The cache directory from the environment (docs/seccomp-policy.md); -1 when
 * none can be determined. */
int wh_seccomp_cache_dir(char *buf, size_t len);
/* 0 and a malloc'd program on a valid entry; -1 on a miss or a bad entry
 * (wrong owner or mode, wrong size, checksum mismatch). */
int wh_seccomp_cache_load(const char *dir, const char *key, struct sock_filter **out, size_t *len);
/* Create dir (0700) if needed, check it, write the entry atomically. */
int wh_seccomp_cache_store(const char *dir, const char *key, const struct sock_filter *insns,
                           size_t len, struct wh_err *err);
/* Text entries: the policy hash (64 hex digits) recorded for a text key.
 * Load: 0, or -1 on a miss or a bad entry (same checks as above). */
int wh_seccomp_cache_load_text(const char *dir, const char *key,
                               char policy_hash[WH_SHA256_HEX_LEN + 1]);
int wh_seccomp_cache_store_text(const char *dir, const char *key, const char *policy_hash,
                                struct wh_err *err);
/* The key of a policy text's entry: its SHA-256 and everything else that
 * decides the hash it parses to (WH_SECCOMP_PARSER, the always-allowed calls,
 * libseccomp's syscall table), in the form of wh_seccomp_cache_key(). */
void wh_seccomp_text_key(const char *text, size_t len, char *key, size_t key_len);
/* Path of the entry for key in dir (for tests and diagnostics). */
int wh_seccomp_cache_path(const char *dir, const char *key, char *buf, size_t len);

#endif
