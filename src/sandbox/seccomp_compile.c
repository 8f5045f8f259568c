/* Rules -> one classic BPF program, compiled by libseccomp in layers.
 *
 * libseccomp cannot express "this conditional rule first, else that
 * unconditional one" for a single call: given `allow ioctl` it silently drops
 * `errno EPERM ioctl arg1 == TIOCSTI`, and it refuses a conditional allow next
 * to an unconditional errno. The policy format promises exactly that order
 * (docs/seccomp-policy.md), so each precedence level is compiled as its own
 * filter whose "no decision" result is a sentinel action, and the sentinel
 * returns are then rewritten into jumps to the start of the next layer:
 *
 *   1 conditional errno rules     native arch   else next layer
 *   2 conditional allow rules     native arch   else next layer
 *   3 unconditional rules         native arch   else notify; other arch: next
 *   4 no rules                    compat arches (i386, x32): notify;
 *                                 any other arch: kill the process
 *
 * Layers 1 and 2 are left out when empty. Every layer starts by loading the
 * architecture and number itself, so it runs correctly after a jump. */
#define _GNU_SOURCE
#include "sandbox/seccomp_internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Never a real action in a policy (the format has no "trace"). */
#define NEXT_LAYER SCMP_ACT_TRACE(0x5eed)

#if defined(__x86_64__)
static const uint32_t compat_arches[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
#elif defined(__aarch64__)
static const uint32_t compat_arches[] = {SCMP_ARCH_ARM};
#else
static const uint32_t compat_arches[] = {};
#endif
#define N_COMPAT (sizeof(compat_arches) / sizeof(compat_arches[0]))

enum layer { ERRNO_CONDITIONAL, ALLOW_CONDITIONAL, UNCONDITIONAL, COMPAT };

struct program {
        struct sock_filter *insns;
        size_t len;
};

static bool in_layer(const struct wh_seccomp_rule *r, enum layer layer)
{
        switch (layer) {
        case ERRNO_CONDITIONAL:
                return r->n_conds > 0 && r->errnum != 0;
        case ALLOW_CONDITIONAL:
                return r->n_conds > 0 && r->errnum == 0;
        case UNCONDITIONAL:
                return r->n_conds == 0;
        case COMPAT:
                break;
        }
        return false;
}

static void release_ctx(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static int add_rule(scmp_filter_ctx ctx, const struct wh_seccomp_rule *r, struct wh_err *err)
{
        static const enum scmp_compare ops[] = {[WH_SECCOMP_EQ] = SCMP_CMP_EQ,
                                                [WH_SECCOMP_NE] = SCMP_CMP_NE,
                                                [WH_SECCOMP_LT] = SCMP_CMP_LT,
                                                [WH_SECCOMP_LE] = SCMP_CMP_LE,
                                                [WH_SECCOMP_GT] = SCMP_CMP_GT,
                                                [WH_SECCOMP_GE] = SCMP_CMP_GE,
                                                [WH_SECCOMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ};
        struct scmp_arg_cmp cmps[WH_SECCOMP_MAX_ARGS];
        for (unsigned i = 0; i < r->n_conds; i++) {
                const struct wh_seccomp_cond *c = &r->conds[i];
                bool masked = c->op == WH_SECCOMP_MASKED_EQ;
                cmps[i] = (struct scmp_arg_cmp){.arg = c->arg,
                                                .op = ops[c->op],
                                                .datum_a = masked ? c->mask : c->value,
                                                .datum_b = masked ? c->value : 0};
        }
        uint32_t action = r->errnum ? SCMP_ACT_ERRNO((uint32_t)r->errnum) : SCMP_ACT_ALLOW;
        int rc = seccomp_rule_add_exact_array(ctx, action, r->nr, r->n_conds, cmps);
        if (rc < 0) {
                char name[64];
                return wh_err_set(
                    err, -rc, "seccomp", "libseccomp refused the rule for %s (line %u)",
                    wh_syscall_name(seccomp_arch_native(), r->nr, name, sizeof(name)), r->line);
        }
        return 0;
}

/* Append the layer's program, exported through a memfd (libseccomp 2.5 can
 * only export to an fd). */
static int export_ctx(scmp_filter_ctx ctx, struct program *prog, struct wh_err *err)
{
        cleanup_close int fd = memfd_create("whiskers-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return wh_err_set(err, errno, "seccomp", "memfd_create");
        int rc = seccomp_export_bpf(ctx, fd);
        if (rc < 0)
                return wh_err_set(err, -rc, "seccomp", "libseccomp could not export the filter");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return wh_err_set(err, errno, "seccomp", "fstat of the exported filter");
        if (st.st_size <= 0 || (size_t)st.st_size % sizeof(struct sock_filter))
                return wh_err_set(err, EIO, "seccomp", "libseccomp exported %lld bytes",
                                  (long long)st.st_size);
        size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
        if (prog->len + n > BPF_MAXINSNS)
                return wh_err_set(err, E2BIG, "seccomp",
                                  "the filter has %zu instructions, the kernel takes at most %d",
                                  prog->len + n, BPF_MAXINSNS);
        struct sock_filter *grown = realloc(prog->insns, (prog->len + n) * sizeof(*grown));
        if (!grown)
                return wh_err_set(err, ENOMEM, "seccomp", "exporting the filter");
        prog->insns = grown;
        ssize_t got = lseek(fd, 0, SEEK_SET) < 0
                          ? -1
                          : wh_read_full(fd, prog->insns + prog->len, (size_t)st.st_size);
        if (got != st.st_size)
                return wh_err_set(err, got < 0 ? errno : EIO, "seccomp",
                                  "reading back the exported filter");
        prog->len += n;
        return 0;
}

static int build_layer(const struct wh_seccomp_rule *rules, size_t n_rules, enum layer layer,
                       bool last, struct program *prog, struct wh_err *err)
{
        uint32_t no_match = layer >= UNCONDITIONAL ? SCMP_ACT_NOTIFY : NEXT_LAYER;
        __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(no_match);
        if (!ctx)
                return wh_err_set(err, ENOMEM, "seccomp", "libseccomp could not start a filter");
        if (layer == COMPAT) {
                for (size_t i = 0; i < N_COMPAT; i++)
                        if (seccomp_arch_add(ctx, compat_arches[i]) < 0)
                                return wh_err_set(err, EINVAL, "seccomp", "adding arch %#x",
                                                  compat_arches[i]);
                if (seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) < 0)
                        return wh_err_set(err, EINVAL, "seccomp", "removing the native arch");
        }
        uint32_t bad_arch = last ? SCMP_ACT_KILL_PROCESS : NEXT_LAYER;
        if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, bad_arch) < 0 ||
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
                return wh_err_set(err, EINVAL, "seccomp", "setting filter attributes");
        for (size_t i = 0; i < n_rules; i++)
                if (in_layer(&rules[i], layer) && add_rule(ctx, &rules[i], err) < 0)
                        return -1;
        return export_ctx(ctx, prog, err);
}

/* Turn each layer's NEXT_LAYER returns into jumps to the following layer. */
static int link_layers(struct program *prog, const size_t *ends, size_t n_layers,
                       struct wh_err *err)
{
        size_t start = 0;
        for (size_t l = 0; l < n_layers; l++) {
                for (size_t i = start; i < ends[l]; i++) {
                        struct sock_filter *f = &prog->insns[i];
                        if (BPF_CLASS(f->code) != BPF_RET)
                                continue;
                        /* Only constant returns can be recognised as sentinels. */
                        if (BPF_RVAL(f->code) != BPF_K || (f->k == NEXT_LAYER && l + 1 == n_layers))
                                return wh_err_set(err, EINVAL, "seccomp",
                                                  "unexpected return at instruction %zu", i);
                        if (f->k == NEXT_LAYER)
                                *f = (struct sock_filter)BPF_JUMP(
                                    BPF_JMP | BPF_JA, (uint32_t)(ends[l] - i - 1), 0, 0);
                }
                start = ends[l];
        }
        return 0;
}

int wh_seccomp_compile(const struct wh_seccomp_rule *rules, size_t n_rules,
                       struct sock_filter **out, size_t *len, struct wh_err *err)
{
        enum layer layers[4];
        size_t n_layers = 0;
        for (enum layer l = ERRNO_CONDITIONAL; l <= COMPAT; l++) {
                bool used = l == UNCONDITIONAL || (l == COMPAT && N_COMPAT > 0);
                for (size_t i = 0; i < n_rules && !used; i++)
                        used = in_layer(&rules[i], l);
                if (used)
                        layers[n_layers++] = l;
        }
        struct program prog = {0};
        size_t ends[4];
        for (size_t i = 0; i < n_layers; i++) {
                if (build_layer(rules, n_rules, layers[i], i + 1 == n_layers, &prog, err) < 0) {
                        free(prog.insns);
                        return -1;
                }
                ends[i] = prog.len;
        }
        if (link_layers(&prog, ends, n_layers, err) < 0) {
                free(prog.insns);
                return -1;
        }
        *out = prog.insns;
        *len = prog.len;
        return 0;
}
