/* The policy text format (docs/seccomp-policy.md), parsed into rules:
 *
 *   # comment
 *   allow NAME...                       allow these calls
 *   errno ERRNO NAME...                 answer them with -ERRNO
 *   ACTION NAME... COND...              only when every condition holds
 *   COND := argN OP VALUE | argN & MASK == VALUE     (N 0..5)
 *   OP   := == != < <= > >=
 *   VALUE, MASK := TERM('|'TERM)*, TERM a number (123, 0x7b, -100) or a
 *                  constant such as AF_UNIX or CLONE_NEWUSER
 *
 * This file only turns text into rules; how rules combine and which
 * combinations are refused is decided in seccomp_policy.c. */
#include "sandbox/seccomp_internal.h"
#include "base/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEPARATORS " \t\r\f\v"

struct parser {
        struct wh_seccomp_policy *policy;
        unsigned line;
        char *save; /* strtok_r state for the current line */
        struct wh_err *err;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
        char what[WH_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return wh_err_set(p->err, 0, "seccomp-policy", "%s:%u: %s", p->policy->name, p->line, what);
}

static char *next_token(struct parser *p)
{
        return strtok_r(NULL, SEPARATORS, &p->save);
}

static int parse_number(const char *text, uint64_t *out)
{
        bool negative = text[0] == '-';
        const char *digits = negative ? text + 1 : text;
        int base = 10;
        if (!negative && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
                digits += 2;
                base = 16;
        }
        /* strtoull would also take spaces and signs; a policy number may not. */
        bool ok =
            base == 16 ? isxdigit((unsigned char)digits[0]) : isdigit((unsigned char)digits[0]);
        if (!ok)
                return -1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(digits, &end, base);
        if (errno || *end != '\0')
                return -1;
        if (negative) {
                /* Negative ints (AT_FDCWD is -100) reach the filter sign-extended. */
                if (v > (1ull << 63))
                        return -1;
                v = -v;
        }
        *out = v;
        return 0;
}

/* TERM('|'TERM)*: the terms are ORed, so flag sets read like C. */
static int parse_value(struct parser *p, const char *text, uint64_t *out)
{
        uint64_t value = 0;
        const char *term = text;
        for (;;) {
                const char *bar = strchr(term, '|');
                size_t n = bar ? (size_t)(bar - term) : strlen(term);
                char buf[64];
                if (n == 0 || n >= sizeof(buf))
                        return fail(
                            p, "bad value \"%s\": expected numbers or constants joined by |", text);
                memcpy(buf, term, n);
                buf[n] = '\0';
                uint64_t v;
                if (parse_number(buf, &v) < 0 && wh_seccomp_symbol(buf, &v) < 0)
                        return fail(p,
                                    "bad value \"%s\": \"%s\" is not a number or a known constant",
                                    text, buf);
                value |= v;
                if (!bar)
                        break;
                term = bar + 1;
        }
        *out = value;
        return 0;
}

static bool is_arg_token(const char *tok)
{
        return strncmp(tok, "arg", 3) == 0 && tok[3] >= '0' && tok[3] <= '9';
}

static int parse_operator(const char *tok, enum wh_seccomp_op *op)
{
        static const struct {
                const char *text;
                enum wh_seccomp_op op;
        } ops[] = {{"==", WH_SECCOMP_EQ}, {"!=", WH_SECCOMP_NE}, {"<", WH_SECCOMP_LT},
                   {"<=", WH_SECCOMP_LE}, {">", WH_SECCOMP_GT},  {">=", WH_SECCOMP_GE}};
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
                if (strcmp(tok, ops[i].text) == 0) {
                        *op = ops[i].op;
                        return 0;
                }
        }
        return -1;
}

/* One condition, its "argN" token already read. */
static int parse_condition(struct parser *p, const char *argtok, struct wh_seccomp_cond *cond)
{
        char *end;
        unsigned long arg = strtoul(argtok + 3, &end, 10);
        if (*end != '\0' || arg >= WH_SECCOMP_MAX_ARGS)
                return fail(p, "bad condition \"%s\": arguments are arg0 to arg5", argtok);
        cond->arg = (unsigned)arg;
        const char *optok = next_token(p);
        if (optok && strcmp(optok, "&") == 0) {
                const char *mask = next_token(p);
                if (!mask)
                        return fail(p,
                                    "incomplete condition on %s: expected \"%s & MASK == VALUE\"",
                                    argtok, argtok);
                if (parse_value(p, mask, &cond->mask) < 0)
                        return -1;
                optok = next_token(p);
                if (!optok || strcmp(optok, "==") != 0)
                        return fail(p, "masked condition on %s must read \"%s & MASK == VALUE\"",
                                    argtok, argtok);
                cond->op = WH_SECCOMP_MASKED_EQ;
        } else if (!optok) {
                return fail(p, "incomplete condition on %s: expected \"%s OP VALUE\"", argtok,
                            argtok);
        } else if (parse_operator(optok, &cond->op) < 0) {
                return fail(p, "unknown operator \"%s\" in condition on %s (use == != < <= > >=)",
                            optok, argtok);
        }
        const char *value = next_token(p);
        if (!value)
                return fail(p, "incomplete condition on %s: the value is missing", argtok);
        if (parse_value(p, value, &cond->value) < 0)
                return -1;
        if (cond->op == WH_SECCOMP_MASKED_EQ && (cond->value & ~cond->mask))
                return fail(p, "condition on %s can never hold: VALUE has bits outside MASK",
                            argtok);
        return 0;
}

int wh_seccomp_policy_add_rule(struct wh_seccomp_policy *pol, const struct wh_seccomp_rule *rule,
                               struct wh_err *err)
{
        if (pol->n_rules == pol->cap_rules) {
                size_t cap = pol->cap_rules ? pol->cap_rules * 2 : 256;
                struct wh_seccomp_rule *grown = realloc(pol->rules, cap * sizeof(*grown));
                if (!grown)
                        return wh_err_set(err, ENOMEM, "seccomp-policy", "loading %s", pol->name);
                pol->rules = grown;
                pol->cap_rules = cap;
        }
        pol->rules[pol->n_rules++] = *rule;
        return 0;
}

static int parse_errno(struct parser *p, const char *tok, int *errnum)
{
        if (!tok)
                return fail(p, "\"errno\" needs an errno name or number before the system calls");
        uint64_t v;
        if (parse_number(tok, &v) == 0)
                *errnum = v >= 1 && v <= 4095 ? (int)v : 0;
        else
                *errnum = wh_seccomp_errno_value(tok);
        if (*errnum == 0)
                return fail(p, "unknown errno \"%s\" (a name such as EPERM, or 1 to 4095)", tok);
        return 0;
}

static int parse_line(struct parser *p, char *line)
{
        char *hash = strchr(line, '#');
        if (hash)
                *hash = '\0';
        const char *action = strtok_r(line, SEPARATORS, &p->save);
        if (!action)
                return 0;
        int errnum = 0;
        if (strcmp(action, "errno") == 0) {
                if (parse_errno(p, next_token(p), &errnum) < 0)
                        return -1;
        } else if (strcmp(action, "allow") != 0) {
                return fail(p, "unknown action \"%s\" (use \"allow\" or \"errno ERRNO\")", action);
        }
        size_t first = p->policy->n_rules;
        const char *tok = next_token(p);
        for (; tok && !is_arg_token(tok); tok = next_token(p)) {
                int nr = seccomp_syscall_resolve_name_arch(seccomp_arch_native(), tok);
                if (nr < 0)
                        return fail(p, "unknown system call \"%s\"", tok);
                struct wh_seccomp_rule rule = {.nr = nr, .errnum = errnum, .line = p->line};
                if (wh_seccomp_policy_add_rule(p->policy, &rule, p->err) < 0)
                        return -1;
        }
        if (p->policy->n_rules == first)
                return fail(p, "\"%s\" names no system call", action);
        struct wh_seccomp_cond conds[WH_SECCOMP_MAX_ARGS];
        unsigned n = 0, seen = 0;
        for (; tok; tok = next_token(p)) {
                if (!is_arg_token(tok))
                        return fail(p, "expected a condition (argN ...) but found \"%s\"", tok);
                struct wh_seccomp_cond cond = {0};
                if (parse_condition(p, tok, &cond) < 0)
                        return -1;
                if (seen & (1u << cond.arg))
                        return fail(
                            p, "%s is compared twice: a rule may compare each argument once", tok);
                seen |= 1u << cond.arg;
                conds[n++] = cond;
        }
        for (size_t i = first; i < p->policy->n_rules; i++) {
                p->policy->rules[i].n_conds = n;
                memcpy(p->policy->rules[i].conds, conds, n * sizeof(conds[0]));
        }
        return 0;
}

int wh_seccomp_parse_text(struct wh_seccomp_policy *policy, const char *text, struct wh_err *err)
{
        cleanup_free char *copy = strdup(text);
        if (!copy)
                return wh_err_set(err, ENOMEM, "seccomp-policy", "loading %s", policy->name);
        struct parser p = {.policy = policy, .err = err};
        char *line = copy;
        while (line) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                p.line++;
                if (parse_line(&p, line) < 0)
                        return -1;
                line = nl ? nl + 1 : NULL;
        }
        return 0;
}
