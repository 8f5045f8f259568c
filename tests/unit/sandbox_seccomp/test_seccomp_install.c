/* The filter in a real kernel: a forked child sets no_new_privs, installs
 * the program, passes the listener fd to the test (as the sandbox passes it
 * to the supervisor) and makes calls. A refused call must arrive here as a
 * notification whose number and architecture the test checks before killing
 * the child; errno rules must answer; real programs (python3, sh, bash,
 * coreutils) must run to exit 0 under the default policy. Calls tried here
 * are harmless even if the filter failed to stop them. */
#include "seccomp_test.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct outcome {
        bool notified;
        uint32_t arch;
        int nr;
        int status; /* wait status when the child ended by itself */
};

static int send_fd(int sock, int fd)
{
        char data = 'l';
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u = {0};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
        char data;
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
                return -1;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_RIGHTS)
                return -1;
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

/* Run fn(arg) in a filtered child; its return value is the exit status. The
 * first notification is recorded and ends the child, like the supervisor. */
static struct outcome run_filtered(const struct sock_fprog *prog, int (*fn)(void *), void *arg)
{
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int listener;
                close(sv[0]);
                /* A crash ends the child, not cmocka's handler (which would
                 * go on running the tests in the child). Before the filter:
                 * a custom policy may not allow rt_sigaction. */
                signal(SIGSEGV, SIG_DFL);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    wh_seccomp_install(prog, &listener) < 0)
                        _exit(120);
                if (send_fd(sv[1], listener) < 0)
                        _exit(121);
                close(listener);
                close(sv[1]);
                _exit(fn(arg));
        }
        close(sv[1]);
        int listener = recv_fd(sv[0]);
        close(sv[0]);
        struct outcome o = {0};
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        assert_true(pidfd >= 0);
        if (listener < 0) {
                /* The child died before passing the fd on: report its status. */
                assert_int_equal(waitpid(pid, &o.status, 0), pid);
                fail_msg("child could not install the filter (status %#x)", o.status);
        }
        struct pollfd pfd[2] = {{.fd = listener, .events = POLLIN},
                                {.fd = pidfd, .events = POLLIN}};
        int n = poll(pfd, 2, 30000);
        assert_true(n > 0);
        if (pfd[0].revents & POLLIN) {
                struct seccomp_notif notif;
                memset(&notif, 0, sizeof(notif));
                assert_int_equal(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notif), 0);
                o.notified = true;
                o.arch = notif.data.arch;
                o.nr = notif.data.nr;
                kill(pid, SIGKILL);
        }
        assert_int_equal(waitpid(pid, &o.status, 0), pid);
        close(pidfd);
        close(listener);
        return o;
}

static const struct sock_fprog *default_prog(void)
{
        static struct wh_seccomp_policy *policy;
        struct wh_err err;
        if (!policy && wh_seccomp_policy_load(NULL, &policy, &err) < 0)
                fail_msg("%s", err.msg);
        return must_compile(policy);
}

static void expect_notification(struct outcome o, uint32_t arch, int nr, const char *name,
                                const char *arch_name)
{
        if (!o.notified)
                fail_msg("no notification; child status %#x", o.status);
        char buf[64];
        assert_int_equal(o.arch, arch);
        assert_int_equal(o.nr, nr);
        assert_string_equal(wh_syscall_name(o.arch, o.nr, buf, sizeof(buf)), name);
        assert_string_equal(wh_syscall_arch_name(o.arch, o.nr), arch_name);
        assert_true(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGKILL);
}

static void expect_exit0(struct outcome o, const char *what)
{
        if (o.notified) {
                char buf[64];
                fail_msg("%s: refused %s (%s nr %d)", what, wh_syscall_name(o.arch, o.nr, buf, 64),
                         wh_syscall_arch_name(o.arch, o.nr), o.nr);
        }
        if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
                fail_msg("%s: status %#x", what, o.status);
}

static int call_getpid(void *arg)
{
        (void)arg;
        return syscall(SYS_getpid) > 0 ? 0 : 1;
}

static int call_keyctl(void *arg)
{
        (void)arg;
        syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
        return 1;
}

static int call_clone_newuser(void *arg)
{
        (void)arg;
        long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (r == 0)
                _exit(0);
        return 1;
}

static int call_personality(void *arg)
{
        (void)arg;
        if (personality(0xffffffff) < 0)
                return 2;
        personality(PER_LINUX32);
        return 1;
}

/* getpid through the i386 entry; int 0x80 clobbers r8-r11 in 64-bit mode. */
static long int80_getpid(void)
{
        long r;
        __asm__ volatile("int $0x80"
                         : "=a"(r)
                         : "a"(20L /* i386 getpid */)
                         : "memory", "r8", "r9", "r10", "r11");
        return r;
}

static int call_int80_getpid(void *arg)
{
        (void)arg;
        int80_getpid();
        return 1;
}

/* Does this kernel run i386 system calls at all? Without IA32 emulation
 * (ia32_emulation=0, or not built in) int 0x80 is SIGSEGV even unfiltered. */
static bool have_ia32_emulation(void)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                signal(SIGSEGV, SIG_DFL);
                _exit(int80_getpid() == getpid() ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int call_x32_getpid(void *arg)
{
        (void)arg;
        syscall(0x40000000 | SYS_getpid);
        return 1;
}

static void test_allowed_and_refused_calls(void **state)
{
        (void)state;
        const struct sock_fprog *prog = default_prog();
        expect_exit0(run_filtered(prog, call_getpid, NULL), "getpid");
        expect_notification(run_filtered(prog, call_keyctl, NULL), AUDIT_ARCH_X86_64, SYS_keyctl,
                            "keyctl", "x86_64");
        expect_notification(run_filtered(prog, call_clone_newuser, NULL), AUDIT_ARCH_X86_64,
                            SYS_clone, "clone", "x86_64");
        expect_notification(run_filtered(prog, call_personality, NULL), AUDIT_ARCH_X86_64,
                            SYS_personality, "personality", "x86_64");
        expect_notification(run_filtered(prog, call_x32_getpid, NULL), AUDIT_ARCH_X86_64,
                            0x40000000 | SYS_getpid, "getpid", "x32");
}

static void test_i386_entry_refused(void **state)
{
        (void)state;
        if (!have_ia32_emulation()) {
                print_message("SKIP: this kernel has no IA32 emulation (int 0x80 fails outside "
                              "any filter): the i386 entry's refusal was NOT tested\n");
                skip();
        }
        expect_notification(run_filtered(default_prog(), call_int80_getpid, NULL), AUDIT_ARCH_I386,
                            20, "getpid", "i386");
}

/* Each check returns its own exit code so a failure says which one. */
static int errno_answers(void *arg)
{
        (void)arg;
        int code = 10;
        errno = 0;
        if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
                return code;
        code++;
        if (syscall(SYS_io_uring_setup, 1, NULL) != -1 || errno != ENOSYS)
                return code;
        code++;
        if (ioctl(0, TIOCSTI, "x") != -1 || errno != EPERM)
                return code;
        code++;
        if (syscall(SYS_ioctl, 0, (1ul << 32) | TIOCSTI, "x") != -1 || errno != EPERM)
                return code;
        code++;
        if (ioctl(0, TIOCLINUX, "x") != -1 || errno != EPERM)
                return code;
        const int refused[][2] = {{AF_NETLINK, SOCK_RAW},
                                  {AF_PACKET, SOCK_RAW},
                                  {AF_VSOCK, SOCK_STREAM},
                                  {AF_INET, SOCK_RAW},
                                  {AF_INET6, SOCK_RAW}};
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                code++;
                if (socket(refused[i][0], refused[i][1], 0) != -1 || errno != EAFNOSUPPORT)
                        return code;
        }
        code++;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return code;
        close(fd);
        return 0;
}

static void test_errno_rules(void **state)
{
        (void)state;
        expect_exit0(run_filtered(default_prog(), errno_answers, NULL), "errno rules");
}

/* A policy of its own, to see the layered precedence in the kernel. An
 * allowed call only has to succeed: getsid and getpgid answer 0 when the
 * session or group leader lives in an ancestor pid namespace (as in CI). */
static int precedence_calls(void *arg)
{
        (void)arg;
        if (syscall(SYS_getpgid, 0) < 0)
                return 10;
        if (syscall(SYS_getpgid, 1) != -1 || errno != EPERM)
                return 11;
        if (syscall(SYS_getsid, 0) < 0)
                return 12;
        if (syscall(SYS_getsid, 7) != -1 || errno != EACCES)
                return 13;
        syscall(SYS_getuid);
        return 14;
}

static void test_custom_policy_precedence(void **state)
{
        (void)state;
        struct wh_seccomp_policy *p =
            must_parse("precedence.policy", "allow getpgid\n"
                                            "errno EPERM getpgid arg0 == 1\n"
                                            "allow getsid arg0 == 0\n"
                                            "errno EACCES getsid\n");
        expect_notification(run_filtered(must_compile(p), precedence_calls, NULL),
                            AUDIT_ARCH_X86_64, SYS_getuid, "getuid", "x86_64");
        wh_seccomp_policy_free(p);
}

struct program {
        const char *const *argv;
        int out_fd; /* stdout goes here */
};

static int exec_program(void *arg)
{
        const struct program *p = arg;
        static const char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
        if (dup2(p->out_fd, 1) < 0)
                return 126;
        execve(p->argv[0], (char *const *)p->argv, (char *const *)envp);
        return 127;
}

/* Run argv under the default policy; return what it wrote to stdout. */
static void run_program(const char *const *argv, char *out, size_t len)
{
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        struct program p = {.argv = argv, .out_fd = pipefd[1]};
        struct outcome o = run_filtered(default_prog(), exec_program, &p);
        close(pipefd[1]);
        ssize_t n = read(pipefd[0], out, len - 1);
        close(pipefd[0]);
        out[n > 0 ? n : 0] = '\0';
        char what[256];
        snprintf(what, sizeof(what), "%s %s", argv[0], argv[1]);
        expect_exit0(o, what);
}

static void test_real_programs(void **state)
{
        (void)state;
        char out[4096];
        const char *py_isolated[] = {
            "/usr/bin/python3",
            "-I",
            "-S",
            "-c",
            "import json,re,hashlib; print(hashlib.sha256(b'').hexdigest()[:8])",
            NULL};
        run_program(py_isolated, out, sizeof(out));
        assert_string_equal(out, "e3b0c442\n");

        const char *py_site[] = {
            "/usr/bin/python3", "-c",
            "import json,re,hashlib,subprocess,threading,tempfile,os\n"
            "subprocess.run(['/bin/true'], check=True)\n"
            "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
            "with tempfile.TemporaryFile() as f: f.write(b'x')\n"
            "print(json.dumps({'ok': len(os.sched_getaffinity(0)) > 0}))",
            NULL};
        run_program(py_site, out, sizeof(out));
        assert_string_equal(out, "thread\n{\"ok\": true}\n");

        const char *sh[] = {"/bin/sh", "-c", "echo hi | cat", NULL};
        run_program(sh, out, sizeof(out));
        assert_string_equal(out, "hi\n");

        const char *bash[] = {
            "/bin/bash", "-c",
            "x=$(echo hi); read -r y < <(echo there); echo \"$x $y\" | tr a-z A-Z", NULL};
        run_program(bash, out, sizeof(out));
        assert_string_equal(out, "HI THERE\n");

        char script[512];
        snprintf(script, sizeof(script),
                 "set -e; d=%s/coreutils; mkdir -p $d/a; echo data > $d/a/f; cp $d/a/f $d/g; "
                 "mv $d/g $d/h; ln -s h $d/l; ls -la $d > /dev/null; stat $d/l > /dev/null; "
                 "sort $d/h | uniq | wc -l; chmod 600 $d/h; touch $d/h; date > /dev/null; "
                 "sleep 0.01; rm -rf $d",
                 test_cache_root);
        const char *coreutils[] = {"/bin/sh", "-c", script, NULL};
        run_program(coreutils, out, sizeof(out));
        assert_string_equal(out, "1\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_allowed_and_refused_calls),
            cmocka_unit_test(test_i386_entry_refused),
            cmocka_unit_test(test_errno_rules),
            cmocka_unit_test(test_custom_policy_precedence),
            cmocka_unit_test(test_real_programs),
        };
        return cmocka_run_group_tests(tests, cache_dir_setup, cache_dir_teardown);
}
