/* A loaded policy: rules from the text plus the always-allowed calls, checked
 * for rules that cannot combine, reduced to a canonical form whose SHA-256
 * names the policy, and compiled (or read from the cache) on first use.
 *
 * How rules combine (docs/seccomp-policy.md): conditional errno rules are
 * checked first, then conditional allow rules, then the one unconditional
 * rule a call may have; anything else notifies the supervisor. So refused
 * here: two unconditional rules with different actions for one call, two
 * conditional errno rules with different errnos for one call, and any rule
 * that would stop the sandbox's own calls before execve.
 *
 * The sandbox loads its policy with wh_seccomp_policy_load_compiled(): a text
 * the cache has seen (same bytes, same parser) is not parsed again, its hash
 * and program come from the cache. */
#include "sandbox/seccomp_internal.h"
#include "base/cleanup.h"
#include "base/io.h"
#include "base/sha256.h"

#include <errno.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_BYTES (1u << 20)
#define TEXT_KEY_MAX     512
/* Bumped when the meaning of a canonical line changes. */
#define CANONICAL_HEADER "whiskers-seccomp-policy 1\n"

/* What the sandbox itself calls after wh_seccomp_install() and before the
 * payload's execve: pass the listener fd on, close fds, exec, or give up. */
static const char *const always_allowed[] = {"execve", "sendmsg", "close", "close_range",
                                             "exit_group"};
#define N_ALWAYS_ALLOWED (sizeof(always_allowed) / sizeof(always_allowed[0]))

static const char *syscall_name(int nr, char *buf, size_t len)
{
        return wh_syscall_name(seccomp_arch_native(), nr, buf, len);
}

static int check_pair(const struct wh_seccomp_policy *pol, const struct wh_seccomp_rule *a,
                      const struct wh_seccomp_rule *b, struct wh_err *err)
{
        char name[64];
        if (a->n_conds == 0 && b->n_conds == 0 && a->errnum != b->errnum)
                return wh_err_set(err, 0, "seccomp-policy",
                                  "%s:%u: %s already has an unconditional rule (line %u) with a "
                                  "different action; a call has at most one",
                                  pol->name, b->line, syscall_name(b->nr, name, sizeof(name)),
                                  a->line);
        if (a->n_conds && b->n_conds && a->errnum && b->errnum && a->errnum != b->errnum)
                return wh_err_set(err, 0, "seccomp-policy",
                                  "%s:%u: conditional errno rules for %s must all use one errno "
                                  "(line %u uses %d, this one %d)",
                                  pol->name, b->line, syscall_name(b->nr, name, sizeof(name)),
                                  a->line, a->errnum, b->errnum);
        return 0;
}

/* The earlier rules for one call that a new rule can conflict with. Rules
 * that passed the checks agree with each other (one action for every
 * unconditional rule, one errno for every conditional errno rule), so the
 * first of each kind stands for all of its kind. */
struct earlier {
        const struct wh_seccomp_rule *always, *uncond, *cond_errno;
};

static const struct wh_seccomp_rule *first_of(const struct wh_seccomp_rule *a,
                                              const struct wh_seccomp_rule *b)
{
        return !a || (b && b < a) ? b : a;
}

/* The first rule before b for its call (in file order, always-allowed calls
 * first) that b conflicts with, or NULL. */
static const struct wh_seccomp_rule *conflict(const struct earlier *e,
                                              const struct wh_seccomp_rule *b)
{
        const struct wh_seccomp_rule *a = b->errnum ? e->always : NULL;
        if (!b->n_conds && e->uncond && e->uncond->errnum != b->errnum)
                a = first_of(a, e->uncond);
        if (b->n_conds && b->errnum && e->cond_errno && e->cond_errno->errnum != b->errnum)
                a = first_of(a, e->cond_errno);
        return a;
}

static void remember(struct earlier *e, const struct wh_seccomp_rule *b)
{
        if (b->line == 0 && !e->always)
                e->always = b;
        if (!b->n_conds && !e->uncond)
                e->uncond = b;
        if (b->n_conds && b->errnum && !e->cond_errno)
                e->cond_errno = b;
}

static int report(const struct wh_seccomp_policy *pol, const struct wh_seccomp_rule *a,
                  const struct wh_seccomp_rule *b, struct wh_err *err)
{
        char name[64];
        if (a->line == 0 && b->errnum)
                return wh_err_set(err, 0, "seccomp-policy",
                                  "%s:%u: %s is always allowed (the sandbox calls it before "
                                  "execve); remove this rule",
                                  pol->name, b->line, syscall_name(b->nr, name, sizeof(name)));
        return check_pair(pol, a, b, err);
}

/* By call, then in file order (the rules are one array). */
static int compare_rules(const void *x, const void *y)
{
        const struct wh_seccomp_rule *a = *(const struct wh_seccomp_rule *const *)x;
        const struct wh_seccomp_rule *b = *(const struct wh_seccomp_rule *const *)y;
        if (a->nr != b->nr)
                return a->nr < b->nr ? -1 : 1;
        return a < b ? -1 : a > b;
}

/* Reports the first rule in the file that conflicts with an earlier one.
 * Sorting the rules by call makes this n log n: a policy of 20 000 rules
 * took seconds when every rule was compared with every other. */
static int check_rules(const struct wh_seccomp_policy *pol, struct wh_err *err)
{
        cleanup_free const struct wh_seccomp_rule **by_call =
            malloc((pol->n_rules ? pol->n_rules : 1) * sizeof(*by_call));
        if (!by_call)
                return wh_err_set(err, ENOMEM, "seccomp-policy", "loading %s", pol->name);
        for (size_t i = 0; i < pol->n_rules; i++)
                by_call[i] = &pol->rules[i];
        qsort(by_call, pol->n_rules, sizeof(*by_call), compare_rules);
        struct earlier e = {0};
        const struct wh_seccomp_rule *bad_a = NULL, *bad_b = NULL;
        for (size_t i = 0; i < pol->n_rules; i++) {
                const struct wh_seccomp_rule *b = by_call[i], *a;
                if (i > 0 && b->nr != by_call[i - 1]->nr)
                        e = (struct earlier){0};
                if ((a = conflict(&e, b)) && (!bad_b || b < bad_b)) {
                        bad_a = a;
                        bad_b = b;
                }
                remember(&e, b);
        }
        return bad_b ? report(pol, bad_a, bad_b, err) : 0;
}

static int format_rule(const struct wh_seccomp_rule *r, char *buf, size_t len)
{
        static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
        char name[64];
        int n = r->errnum ? snprintf(buf, len, "errno %d %s", r->errnum,
                                     syscall_name(r->nr, name, sizeof(name)))
                          : snprintf(buf, len, "allow %s", syscall_name(r->nr, name, sizeof(name)));
        /* Conditions by argument index, so their order in the file is irrelevant. */
        for (unsigned arg = 0; arg < WH_SECCOMP_MAX_ARGS; arg++) {
                for (unsigned i = 0; i < r->n_conds; i++) {
                        const struct wh_seccomp_cond *c = &r->conds[i];
                        if (c->arg != arg || n < 0 || (size_t)n >= len)
                                continue;
                        if (c->op == WH_SECCOMP_MASKED_EQ)
                                n += snprintf(buf + n, len - (size_t)n, " arg%u & 0x%llx == 0x%llx",
                                              arg, (unsigned long long)c->mask,
                                              (unsigned long long)c->value);
                        else
                                n += snprintf(buf + n, len - (size_t)n, " arg%u %s 0x%llx", arg,
                                              ops[c->op], (unsigned long long)c->value);
                }
        }
        return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int compare_lines(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per rule, sorted and de-duplicated: comments, spacing, order,
 * aliases (AF_LOCAL/AF_UNIX) and number spelling do not change the hash. */
static int canonicalise(struct wh_seccomp_policy *pol, struct wh_err *err)
{
        /* Six masked 64-bit conditions take under 300 characters. */
        enum { LINE_MAX_LEN = 512 };
        cleanup_free char *lines = malloc(pol->n_rules * LINE_MAX_LEN);
        cleanup_free char **sorted = malloc(pol->n_rules * sizeof(char *));
        cleanup_free char *text = malloc(sizeof(CANONICAL_HEADER) + pol->n_rules * LINE_MAX_LEN);
        if (!lines || !sorted || !text)
                return wh_err_set(err, ENOMEM, "seccomp-policy", "loading %s", pol->name);
        for (size_t i = 0; i < pol->n_rules; i++) {
                sorted[i] = lines + i * LINE_MAX_LEN;
                if (format_rule(&pol->rules[i], sorted[i], LINE_MAX_LEN) < 0)
                        return wh_err_set(err, EOVERFLOW, "seccomp-policy", "%s:%u: rule too long",
                                          pol->name, pol->rules[i].line);
        }
        qsort(sorted, pol->n_rules, sizeof(char *), compare_lines);
        size_t used = strlen(CANONICAL_HEADER);
        memcpy(text, CANONICAL_HEADER, used);
        for (size_t i = 0; i < pol->n_rules; i++) {
                if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
                        continue;
                size_t n = strlen(sorted[i]);
                memcpy(text + used, sorted[i], n);
                text[used + n] = '\n';
                used += n + 1;
        }
        text[used] = '\0';
        wh_sha256_hex(text, used, pol->hash);
        pol->canonical = steal_pointer(&text);
        return 0;
}

static int add_always_allowed(struct wh_seccomp_policy *pol, struct wh_err *err)
{
        for (size_t i = 0; i < N_ALWAYS_ALLOWED; i++) {
                /* line 0 marks them for check_rules(). */
                struct wh_seccomp_rule rule = {.nr = seccomp_syscall_resolve_name_arch(
                                                   seccomp_arch_native(), always_allowed[i])};
                if (rule.nr < 0)
                        return wh_err_set(err, ENOSYS, "seccomp-policy",
                                          "libseccomp does not know %s", always_allowed[i]);
                if (wh_seccomp_policy_add_rule(pol, &rule, err) < 0)
                        return -1;
        }
        return 0;
}

int wh_seccomp_policy_parse(const char *name, const char *text, struct wh_seccomp_policy **out,
                            struct wh_err *err)
{
        struct wh_seccomp_policy *pol = calloc(1, sizeof(*pol));
        if (!pol || !(pol->name = strdup(name))) {
                free(pol);
                return wh_err_set(err, ENOMEM, "seccomp-policy", "loading %s", name);
        }
        if (add_always_allowed(pol, err) < 0 || wh_seccomp_parse_text(pol, text, err) < 0 ||
            check_rules(pol, err) < 0 || canonicalise(pol, err) < 0) {
                wh_seccomp_policy_free(pol);
                return -1;
        }
        *out = pol;
        return 0;
}

static int read_policy_file(const char *path, char **text, struct wh_err *err)
{
        size_t len;
        if (wh_read_file(path, POLICY_MAX_BYTES, text, &len, err) < 0) {
                err->stage = "seccomp-policy";
                return wh_err_prefix(err, "loading seccomp policy");
        }
        if (memchr(*text, '\0', len)) {
                free(*text);
                *text = NULL;
                return wh_err_set(err, 0, "seccomp-policy",
                                  "%s contains a NUL byte: not a policy text file", path);
        }
        return 0;
}

int wh_seccomp_policy_load(const char *path, struct wh_seccomp_policy **out, struct wh_err *err)
{
        if (!path)
                return wh_seccomp_policy_parse("built-in default policy", wh_seccomp_default_policy,
                                               out, err);
        cleanup_free char *text = NULL;
        if (read_policy_file(path, &text, err) < 0)
                return -1;
        return wh_seccomp_policy_parse(path, text, out, err);
}

void wh_seccomp_text_key(const char *text, size_t len, char *key, size_t key_len)
{
        struct wh_sha256 h;
        uint8_t d[WH_SHA256_LEN];
        char hex[WH_SHA256_HEX_LEN + 1];
        wh_sha256_init(&h);
        wh_sha256_update(&h, CANONICAL_HEADER, sizeof(CANONICAL_HEADER));
        wh_sha256_update(&h, text, len);
        wh_sha256_final(&h, d);
        wh_hex_encode(d, sizeof(d), hex);
        char what[256];
        int n = snprintf(what, sizeof(what), "text-%s parser-%d always", hex, WH_SECCOMP_PARSER);
        for (size_t i = 0; i < N_ALWAYS_ALLOWED && n > 0 && (size_t)n < sizeof(what); i++)
                n += snprintf(what + n, sizeof(what) - (size_t)n, "%c%s", i ? ',' : '-',
                              always_allowed[i]);
        wh_seccomp_cache_key(what, key, key_len);
}

/* A policy from a text entry and the program entry it names; -1 on a miss. */
static int from_text_entry(const char *name, const char *dir, const char *text_key,
                           struct wh_seccomp_policy **out)
{
        char hash[WH_SHA256_HEX_LEN + 1], key[TEXT_KEY_MAX];
        struct sock_filter *insns = NULL;
        size_t len = 0;
        if (wh_seccomp_cache_load_text(dir, text_key, hash) < 0)
                return -1;
        wh_seccomp_cache_key(hash, key, sizeof(key));
        if (wh_seccomp_cache_load(dir, key, &insns, &len) < 0)
                return -1;
        struct wh_seccomp_policy *pol = calloc(1, sizeof(*pol));
        if (!pol || !(pol->name = strdup(name))) {
                free(pol);
                free(insns);
                return -1;
        }
        memcpy(pol->hash, hash, sizeof(pol->hash));
        pol->insns = insns;
        pol->prog.filter = insns;
        pol->prog.len = (unsigned short)len;
        pol->from_cache = true;
        *out = pol;
        return 0;
}

int wh_seccomp_policy_parse_compiled(const char *name, const char *text,
                                     struct wh_seccomp_policy **out, struct wh_err *err)
{
        char dir[PATH_MAX], text_key[TEXT_KEY_MAX];
        bool have_dir = wh_seccomp_cache_dir(dir, sizeof(dir)) == 0;
        if (have_dir) {
                wh_seccomp_text_key(text, strlen(text), text_key, sizeof(text_key));
                if (from_text_entry(name, dir, text_key, out) == 0)
                        return 0;
        }
        struct wh_seccomp_policy *pol;
        const struct sock_fprog *prog;
        if (wh_seccomp_policy_parse(name, text, &pol, err) < 0)
                return -1;
        if (wh_seccomp_policy_bpf(pol, &prog, err) < 0) {
                wh_seccomp_policy_free(pol);
                return -1;
        }
        struct wh_err ignored;
        if (have_dir)
                wh_seccomp_cache_store_text(dir, text_key, pol->hash, &ignored);
        *out = pol;
        return 0;
}

int wh_seccomp_policy_load_compiled(const char *path, struct wh_seccomp_policy **out,
                                    struct wh_err *err)
{
        if (!path)
                return wh_seccomp_policy_parse_compiled("built-in default policy",
                                                        wh_seccomp_default_policy, out, err);
        cleanup_free char *text = NULL;
        if (read_policy_file(path, &text, err) < 0)
                return -1;
        return wh_seccomp_policy_parse_compiled(path, text, out, err);
}

void wh_seccomp_policy_free(struct wh_seccomp_policy *policy)
{
        if (!policy)
                return;
        free(policy->name);
        free(policy->rules);
        free(policy->canonical);
        free(policy->insns);
        free(policy);
}

const char *wh_seccomp_policy_hash(const struct wh_seccomp_policy *policy)
{
        return policy->hash;
}

const char *wh_seccomp_policy_canonical(const struct wh_seccomp_policy *policy)
{
        return policy->canonical;
}

/* The cache is only a shortcut: when it cannot be used the program is
 * compiled, and when it cannot be written the next run compiles again. */
int wh_seccomp_policy_bpf(struct wh_seccomp_policy *policy, const struct sock_fprog **out,
                          struct wh_err *err)
{
        if (!policy->insns) {
                char dir[PATH_MAX], key[256];
                bool have_dir = wh_seccomp_cache_dir(dir, sizeof(dir)) == 0;
                size_t len = 0;
                wh_seccomp_cache_key(policy->hash, key, sizeof(key));
                policy->from_cache =
                    have_dir && wh_seccomp_cache_load(dir, key, &policy->insns, &len) == 0;
                if (!policy->from_cache) {
                        if (wh_seccomp_compile_within(policy->rules, policy->n_rules,
                                                      WH_SECCOMP_COMPILE_TIMEOUT_MS, &policy->insns,
                                                      &len, err) < 0)
                                return wh_err_prefix(err, "compiling %s", policy->name);
                        struct wh_err ignored;
                        if (have_dir)
                                wh_seccomp_cache_store(dir, key, policy->insns, len, &ignored);
                }
                policy->prog.filter = policy->insns;
                policy->prog.len = (unsigned short)len;
        }
        *out = &policy->prog;
        return 0;
}
