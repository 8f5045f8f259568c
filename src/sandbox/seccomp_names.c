/* Names for what a seccomp notification carries: the architecture
 * (AUDIT_ARCH_*) and the system call number in that architecture's table. */
#include "sandbox/seccomp.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

static bool is_x32_call(uint32_t audit_arch, int nr)
{
        return audit_arch == AUDIT_ARCH_X86_64 && ((unsigned)nr & __X32_SYSCALL_BIT);
}

const char *wh_syscall_name(uint32_t audit_arch, int nr, char *buf, size_t len)
{
        /* libseccomp's architecture tokens are the AUDIT_ARCH_* values, except
         * x32 which shares AUDIT_ARCH_X86_64 and has a token of its own. */
        uint32_t token = is_x32_call(audit_arch, nr) ? SCMP_ARCH_X32 : audit_arch;
        char *name = seccomp_syscall_resolve_num_arch(token, nr);
        snprintf(buf, len, "%s", name ? name : "unknown");
        free(name);
        return buf;
}

const char *wh_audit_arch_name(uint32_t audit_arch)
{
        switch (audit_arch) {
        case AUDIT_ARCH_X86_64:
                return "x86_64";
        case AUDIT_ARCH_I386:
                return "i386";
        case SCMP_ARCH_X32:
                return "x32";
        case AUDIT_ARCH_AARCH64:
                return "aarch64";
        case AUDIT_ARCH_ARM:
                return "arm";
        }
        return "unknown";
}

const char *wh_syscall_arch_name(uint32_t audit_arch, int nr)
{
        return is_x32_call(audit_arch, nr) ? "x32" : wh_audit_arch_name(audit_arch);
}
