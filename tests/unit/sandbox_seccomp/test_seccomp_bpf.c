/* The compiled program, run in a small classic-BPF interpreter (so that
 * dangerous calls such as reboot are checked without making them): the
 * default policy's refusals, conditions, architecture handling and the
 * precedence of layered rules; and the on-disk cache (write, read back, reject
 * tampered or unsafe entries). */
#include "seccomp_test.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "base/io.h"

#define NOTIFY       SECCOMP_RET_USER_NOTIF
#define ALLOW        SECCOMP_RET_ALLOW
#define KILL         SECCOMP_RET_KILL_PROCESS
#define ERRNO(e)     (SECCOMP_RET_ERRNO | (e))
#define X32_BIT      0x40000000u
#define ARCH_X86_64  AUDIT_ARCH_X86_64
#define ARCH_I386    AUDIT_ARCH_I386
#define ARCH_AARCH64 AUDIT_ARCH_AARCH64

static uint32_t run_bpf(const struct sock_fprog *prog, const struct seccomp_data *d)
{
        uint32_t a = 0;
        for (size_t pc = 0; pc < prog->len; pc++) {
                const struct sock_filter *f = &prog->filter[pc];
                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        assert_true(f->k % 4 == 0 && f->k + 4 <= sizeof(*d));
                        memcpy(&a, (const char *)d + f->k, 4);
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= f->k;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += f->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += a > f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += a >= f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        pc += (a & f->k) ? f->jt : f->jf;
                        break;
                case BPF_RET | BPF_K:
                        return f->k;
                default:
                        fail_msg("instruction %zu: unexpected code %#x", pc, f->code);
                }
        }
        fail_msg("the program ran off its end");
        return 0;
}

static uint32_t verdict(const struct sock_fprog *prog, uint32_t arch, uint32_t nr, uint64_t a0,
                        uint64_t a1)
{
        struct seccomp_data d = {.nr = (int)nr, .arch = arch, .args = {a0, a1}};
        return run_bpf(prog, &d);
}

static int nr_of(const char *name)
{
        int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
        if (nr < 0)
                fail_msg("libseccomp does not know %s", name);
        return nr;
}

/* Every call the default policy must refuse (docs/seccomp-policy.md). */
static const char *const refused[] = {
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_enter",
    "io_uring_register",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "open_by_handle_at",
    "name_to_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "sethostname",
    "setdomainname",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "acct",
    "quotactl",
    "lookup_dcookie",
    "fanotify_init",
    "iopl",
    "ioperm",
    "syslog",
    "vhangup",
    "pidfd_getfd",
    "mount_setattr",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsmount",
    "fspick",
    "kcmp",
    "uselib",
    "nfsservctl",
    "modify_ldt",
    "seccomp",
    "sync",
    "syncfs",
    "vmsplice",
    "set_mempolicy",
    "mbind",
};

static void test_default_refusals(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p = NULL;
        struct wh_err err;
        assert_int_equal(wh_seccomp_policy_load(NULL, &p, &err), 0);
        const struct sock_fprog *prog = must_compile(p);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                uint32_t v = verdict(prog, ARCH_X86_64, (uint32_t)nr_of(refused[i]), 0, 0);
                if (v != NOTIFY)
                        fail_msg("%s: verdict %#x, expected notify", refused[i], v);
        }
        /* Errno answers. */
        assert_int_equal(verdict(prog, ARCH_X86_64, nr_of("io_uring_setup"), 0, 0), ERRNO(ENOSYS));
        assert_int_equal(verdict(prog, ARCH_X86_64, nr_of("clone3"), 0, 0), ERRNO(ENOSYS));
        /* personality: only the default persona and the query. */
        int pers = nr_of("personality");
        assert_int_equal(verdict(prog, ARCH_X86_64, pers, 0, 0), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, pers, 0xffffffff, 0), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, pers, 8 /* PER_LINUX32 */, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_X86_64, pers, 0x0040000 /* ADDR_NO_RANDOMIZE */, 0),
                         NOTIFY);
        /* Ordinary calls. */
        const char *allowed[] = {"read",      "write",         "openat",     "mmap",
                                 "futex",     "execve",        "exit_group", "rseq",
                                 "getrandom", "clock_gettime", "wait4",      "pipe2"};
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
                if (verdict(prog, ARCH_X86_64, nr_of(allowed[i]), 0, 0) != ALLOW)
                        fail_msg("%s is not allowed", allowed[i]);
        wh_seccomp_policy_free(p);
}

static void test_default_conditions(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p = NULL;
        struct wh_err err;
        assert_int_equal(wh_seccomp_policy_load(NULL, &p, &err), 0);
        const struct sock_fprog *prog = must_compile(p);
        int sock = nr_of("socket"), ioc = nr_of("ioctl"), clone = nr_of("clone");

        assert_int_equal(verdict(prog, ARCH_X86_64, sock, AF_UNIX, SOCK_DGRAM), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, sock, AF_INET, SOCK_STREAM | SOCK_CLOEXEC),
                         ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, sock, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK),
                         ALLOW);
        const uint64_t refused_sockets[][2] = {
            {AF_NETLINK, SOCK_RAW},  {AF_PACKET, SOCK_RAW},
            {AF_VSOCK, SOCK_STREAM}, {AF_INET, SOCK_RAW},
            {AF_INET6, SOCK_RAW},    {AF_ALG, SOCK_SEQPACKET},
            {AF_INET, SOCK_PACKET},  {(1ull << 32) | AF_UNIX, SOCK_STREAM}};
        for (size_t i = 0; i < sizeof(refused_sockets) / sizeof(refused_sockets[0]); i++)
                assert_int_equal(
                    verdict(prog, ARCH_X86_64, sock, refused_sockets[i][0], refused_sockets[i][1]),
                    ERRNO(EAFNOSUPPORT));

        assert_int_equal(verdict(prog, ARCH_X86_64, ioc, 1, TCGETS), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, ioc, 1, FIONREAD), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, ioc, 1, TIOCSTI), ERRNO(EPERM));
        assert_int_equal(verdict(prog, ARCH_X86_64, ioc, 1, TIOCLINUX), ERRNO(EPERM));
        assert_int_equal(verdict(prog, ARCH_X86_64, ioc, 1, TIOCSETD), ERRNO(EPERM));
        /* The kernel ignores the upper half of the request number. */
        assert_int_equal(verdict(prog, ARCH_X86_64, ioc, 1, (1ull << 32) | TIOCSTI), ERRNO(EPERM));

        uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                          CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
        assert_int_equal(verdict(prog, ARCH_X86_64, clone, thread, 0), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, clone, SIGCHLD, 0), ALLOW);
        const uint64_t ns[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,   CLONE_NEWNET,
                               CLONE_NEWUTS,  CLONE_NEWIPC, CLONE_NEWCGROUP};
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
                assert_int_equal(verdict(prog, ARCH_X86_64, clone, ns[i] | SIGCHLD, 0), NOTIFY);
        wh_seccomp_policy_free(p);
}

static void test_other_architectures(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p = NULL;
        struct wh_err err;
        assert_int_equal(wh_seccomp_policy_load(NULL, &p, &err), 0);
        const struct sock_fprog *prog = must_compile(p);
        /* i386: nothing allowed, not even what x86_64 allows (20 is getpid,
         * 3 is read there). */
        assert_int_equal(verdict(prog, ARCH_I386, 20, 0, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_I386, 3, 0, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_I386, 0, 0, 0), NOTIFY);
        /* x32: the same numbers as x86_64 plus the x32 bit. */
        assert_int_equal(verdict(prog, ARCH_X86_64, X32_BIT | (uint32_t)nr_of("getpid"), 0, 0),
                         NOTIFY);
        assert_int_equal(verdict(prog, ARCH_X86_64, X32_BIT | 0, 0, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_X86_64, X32_BIT | 512, 0, 0), NOTIFY);
        /* Anything else is killed outright. */
        assert_int_equal(verdict(prog, ARCH_AARCH64, 0, 0, 0), KILL);
        assert_int_equal(verdict(prog, 0, 0, 0, 0), KILL);
        wh_seccomp_policy_free(p);
}

static void test_precedence(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p =
            must_parse("precedence.policy", "allow getpgid\n"
                                            "errno EPERM getpgid arg0 == 1\n"
                                            "allow getsid arg0 == 0\n"
                                            "errno EACCES getsid\n"
                                            "errno EPERM kill arg1 == 9\n"
                                            "allow kill arg0 == 0\n"
                                            "allow getpriority arg0 == 1\n"
                                            "allow getpriority arg1 == 2\n");
        const struct sock_fprog *prog = must_compile(p);
        int pgid = nr_of("getpgid"), sid = nr_of("getsid"), kill = nr_of("kill");
        assert_int_equal(verdict(prog, ARCH_X86_64, pgid, 0, 0), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, pgid, 1, 0), ERRNO(EPERM));
        assert_int_equal(verdict(prog, ARCH_X86_64, sid, 0, 0), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, sid, 7, 0), ERRNO(EACCES));
        /* Conditional errno before conditional allow; neither: notify. */
        assert_int_equal(verdict(prog, ARCH_X86_64, kill, 0, 9), ERRNO(EPERM));
        assert_int_equal(verdict(prog, ARCH_X86_64, kill, 0, 15), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, kill, 5, 15), NOTIFY);
        /* Rules for one call are alternatives, even on different arguments. */
        int prio = nr_of("getpriority");
        assert_int_equal(verdict(prog, ARCH_X86_64, prio, 1, 0), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, prio, 0, 2), ALLOW);
        assert_int_equal(verdict(prog, ARCH_X86_64, prio, 0, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_X86_64, prio, (1ull << 32) | 1, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_X86_64, nr_of("getuid"), 0, 0), NOTIFY);
        assert_int_equal(verdict(prog, ARCH_X86_64, nr_of("execve"), 0, 0), ALLOW);
        wh_seccomp_policy_free(p);
}

/* --- cache --- */

static void entry_path(const struct wh_seccomp_policy *p, char *path, size_t len)
{
        char dir[256], key[256];
        assert_int_equal(wh_seccomp_cache_dir(dir, sizeof(dir)), 0);
        wh_seccomp_cache_key(wh_seccomp_policy_hash(p), key, sizeof(key));
        assert_int_equal(wh_seccomp_cache_path(dir, key, path, len), 0);
}

/* Compile a fresh policy object; return whether the BPF came from the cache
 * and check it equals the reference program. */
static bool load_fresh(const char *text, const struct sock_fprog *reference)
{
        struct wh_seccomp_policy *p = must_parse("cache.policy", text);
        const struct sock_fprog *prog = must_compile(p);
        assert_int_equal(prog->len, reference->len);
        assert_memory_equal(prog->filter, reference->filter, prog->len * sizeof(*prog->filter));
        bool cached = p->from_cache;
        wh_seccomp_policy_free(p);
        return cached;
}

static char *read_entry(const char *path, size_t *len)
{
        char *data;
        struct wh_err err;
        if (wh_read_file(path, 1 << 20, &data, len, &err) < 0)
                fail_msg("%s", err.msg);
        return data;
}

static void test_cache_write_read_reject(void **state)
{
        (void)state;
        const char *text = "allow read write\nallow socket arg0 == AF_UNIX\n";
        struct wh_seccomp_policy *first = must_parse("cache.policy", text);
        const struct sock_fprog *ref = must_compile(first);
        assert_false(first->from_cache);
        char path[512], dir[256];
        entry_path(first, path, sizeof(path));
        assert_int_equal(wh_seccomp_cache_dir(dir, sizeof(dir)), 0);
        struct stat st;
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        size_t good_len;
        char *good = read_entry(path, &good_len);
        assert_int_equal(good_len, 48 + ref->len * 8);

        assert_true(load_fresh(text, ref));

        /* A flipped bit in an instruction: ignored, compiled, rewritten. */
        struct wh_err err;
        good[48 + 8 * 3 + 4] ^= 1;
        assert_int_equal(wh_write_file_atomic(path, good, good_len, &err), 0);
        good[48 + 8 * 3 + 4] ^= 1;
        assert_false(load_fresh(text, ref));
        size_t len;
        char *now = read_entry(path, &len);
        assert_int_equal(len, good_len);
        assert_memory_equal(now, good, len);
        free(now);
        assert_true(load_fresh(text, ref));

        /* Truncated. */
        assert_int_equal(truncate(path, (off_t)good_len - 8), 0);
        assert_false(load_fresh(text, ref));
        assert_true(load_fresh(text, ref));

        /* Writable by others: not trusted, and replaced by a private file. */
        assert_int_equal(chmod(path, 0666), 0);
        assert_false(load_fresh(text, ref));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 022, 0);
        assert_true(load_fresh(text, ref));

        /* Group-writable directory: not used at all (read or write). */
        assert_int_equal(chmod(dir, 0770), 0);
        assert_false(load_fresh(text, ref));
        assert_false(load_fresh(text, ref));
        assert_int_equal(chmod(dir, 0700), 0);
        assert_true(load_fresh(text, ref));

        free(good);
        wh_seccomp_policy_free(first);
}

static void test_cache_entry_is_bound_to_its_key(void **state)
{
        (void)state;
        struct wh_seccomp_policy *a = must_parse("a.policy", "allow read\n");
        struct wh_seccomp_policy *b = must_parse("b.policy", "allow read write\n");
        const struct sock_fprog *prog_a = must_compile(a);
        const struct sock_fprog *prog_b = must_compile(b);
        char path_a[512], path_b[512];
        entry_path(a, path_a, sizeof(path_a));
        entry_path(b, path_b, sizeof(path_b));

        /* B's valid entry copied over A's name: its digest names B's key. */
        size_t len;
        char *data = read_entry(path_b, &len);
        struct wh_err err;
        assert_int_equal(wh_write_file_atomic(path_a, data, len, &err), 0);
        free(data);
        assert_false(load_fresh("allow read\n", prog_a));

        /* What a correctly keyed entry says is what gets installed: the cache
         * is read, which is why its ownership and mode are checked. */
        char dir[256], key_a[256];
        assert_int_equal(wh_seccomp_cache_dir(dir, sizeof(dir)), 0);
        wh_seccomp_cache_key(wh_seccomp_policy_hash(a), key_a, sizeof(key_a));
        assert_int_equal(wh_seccomp_cache_store(dir, key_a, prog_b->filter, prog_b->len, &err), 0);
        struct wh_seccomp_policy *again = must_parse("a.policy", "allow read\n");
        const struct sock_fprog *got = must_compile(again);
        assert_true(again->from_cache);
        assert_int_equal(got->len, prog_b->len);
        assert_memory_equal(got->filter, prog_b->filter, got->len * sizeof(*got->filter));
        wh_seccomp_policy_free(again);
        unlink(path_a);

        /* A symlinked cache directory is not followed. */
        char moved[300], link_dir[256];
        assert_int_equal(wh_seccomp_cache_dir(link_dir, sizeof(link_dir)), 0);
        snprintf(moved, sizeof(moved), "%s.real", link_dir);
        assert_int_equal(rename(link_dir, moved), 0);
        assert_int_equal(symlink(moved, link_dir), 0);
        assert_false(load_fresh("allow read write\n", prog_b));
        assert_int_equal(unlink(link_dir), 0);
        assert_int_equal(rename(moved, link_dir), 0);
        assert_true(load_fresh("allow read write\n", prog_b));

        wh_seccomp_policy_free(a);
        wh_seccomp_policy_free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_default_refusals),
            cmocka_unit_test(test_default_conditions),
            cmocka_unit_test(test_other_architectures),
            cmocka_unit_test(test_precedence),
            cmocka_unit_test(test_cache_write_read_reject),
            cmocka_unit_test(test_cache_entry_is_bound_to_its_key),
        };
        return cmocka_run_group_tests(tests, cache_dir_setup, cache_dir_teardown);
}
