/* probe: a small static program that misbehaves on purpose, one behaviour per
 * subcommand, for the end-to-end tests of `whiskers exec` (tests/e2e/).
 *
 * Output contract: a subcommand prints one result line on stdout, "OK ..."
 * when what it tried worked, "ERR <ERRNO_NAME> ..." when a call returned an
 * error; it then exits 0 (OK) or 1 (ERR). A probe the sandbox kills prints
 * nothing further, so a test tells "allowed" from "refused" from "killed" by
 * stdout plus the status record. Exceptions, because their output is the
 * point: `write` (data on the fd, result on stderr), `env` (one variable per
 * line), `cat` (the bytes), `exit`, `segv`, `signal` (the exit status).
 * Usage errors exit 2.
 *
 * The probe must never harm the host, even run where a sandbox layer is
 * missing: privileged calls use arguments that are invalid or change nothing
 * outside the probe (no real mount target, an invalid reboot magic, an
 * invalid time, the current hostname, PTRACE_SEIZE that never stops its
 * target). It is linked statically so that it runs in any root. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/mount.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/vm_sockets.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Every subcommand has the same signature; most use only part of it. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define MIB       (1024L * 1024L)
#define CHUNK     (64 * 1024)
#define FILL_CAP  (256 * MIB) /* fill stops here even if nothing refuses */
#define CHILD_MS  20000       /* forkbomb/bg-sleep children: bounded lifetime */
#define NOT_MOUNT "/probe-nonexistent-mountpoint"

extern char **environ;

static const char *ename(int e)
{
        static char buf[16];
        const char *name = strerrorname_np(e);

        if (name)
                return name;
        snprintf(buf, sizeof(buf), "E%d", e);
        return buf;
}

/* Print the result of a call that returns < 0 with errno on failure. */
static int report(long rc)
{
        if (rc < 0) {
                printf("ERR %s\n", ename(errno));
                return 1;
        }
        printf("OK\n");
        return 0;
}

static int usage_error(const char *what, const char *arg)
{
        fprintf(stderr, "probe: %s: '%s'\n", what, arg);
        return 2;
}

static int parse_long(const char *s, long *out)
{
        char *end;

        errno = 0;
        *out = strtol(s, &end, 0);
        return (errno || end == s || *end) ? -1 : 0;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static long cpu_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- plain behaviours ------------------------------------------------- */

static int cmd_true(long *n, char **args)
{
        printf("OK\n");
        return 0;
}

static int cmd_exit(long *n, char **args)
{
        exit((int)n[0]);
}

static int cmd_segv(long *n, char **args)
{
        volatile uintptr_t address = 8;

        *(volatile int *)address = 1; /* a real fault, not raise() */
        return 0;
}

static int cmd_signal(long *n, char **args)
{
        signal((int)n[0], SIG_DFL);
        raise((int)n[0]);
        printf("OK survived\n");
        return 0;
}

static int cmd_sleep(long *n, char **args)
{
        sleep_ms(n[0]);
        printf("OK\n");
        return 0;
}

static int cmd_spin(long *n, char **args)
{
        volatile unsigned long burn = 0;
        long until = cpu_ms() + n[0];

        while (cpu_ms() < until)
                for (int i = 0; i < 100000; i++)
                        burn++;
        printf("OK\n");
        return 0;
}

static int cmd_memhog(long *n, char **args)
{
        for (long i = 0; i < n[0]; i++) {
                char *p =
                    mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        printf("ERR %s %ld\n", ename(errno), i);
                        return 1;
                }
                memset(p, 0x5a, MIB); /* touch: make it resident */
        }
        printf("OK %ld\n", n[0]);
        return 0;
}

/* Children sleep (bounded) so that the sandbox, not their own exit, has to
 * clean them up; they never fork themselves, so the bomb stays linear. */
static int cmd_forkbomb(long *n, char **args)
{
        long forked = 0;
        int err = 0;

        fflush(stdout);
        while (forked < n[0]) {
                pid_t pid = fork();
                if (pid == 0) {
                        sleep_ms(CHILD_MS);
                        _exit(0);
                }
                if (pid < 0) {
                        err = errno;
                        break;
                }
                forked++;
        }
        printf("OK forked=%ld of %ld errno=%s\n", forked, n[0], err ? ename(err) : "none");
        return 0;
}

static int cmd_bg_sleep(long *n, char **args)
{
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                sleep_ms(n[0]);
                _exit(0);
        }
        if (pid < 0)
                return report(-1);
        printf("OK %d\n", (int)pid);
        return 0;
}

static int cmd_stdin(long *n, char **args)
{
        char buf[CHUNK];
        long total = 0;
        ssize_t got;

        while ((got = read(0, buf, sizeof(buf))) != 0) {
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return report(-1);
                total += got;
        }
        printf("OK %ld\n", total);
        return 0;
}

/* ---- files -------------------------------------------------------------- */

/* Data goes to the fd; the result goes to stderr so stdout carries exactly N. */
static int cmd_write(long *n, char **args)
{
        static char buf[CHUNK];
        int fd = args[1] ? (int)n[1] : 1;
        long done = 0;

        memset(buf, 'x', sizeof(buf));
        while (done < n[0]) {
                size_t want =
                    (size_t)(n[0] - done) < sizeof(buf) ? (size_t)(n[0] - done) : sizeof(buf);
                ssize_t w = write(fd, buf, want);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        fprintf(stderr, "ERR %s %ld\n", ename(errno), done);
                        return 1;
                }
                done += w;
        }
        fprintf(stderr, "OK %ld\n", done);
        return 0;
}

static int cmd_fill(long *n, char **args)
{
        static char buf[CHUNK];
        long done = 0;
        int fd;

        fd = open(args[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                printf("ERR %s 0\n", ename(errno));
                return 1;
        }
        memset(buf, 'f', sizeof(buf));
        while (done < FILL_CAP) {
                ssize_t w = write(fd, buf, sizeof(buf));
                if (w < 0) {
                        printf("ERR %s %ld\n", ename(errno), done);
                        return 1;
                }
                done += w;
        }
        printf("OK %ld\n", done);
        return 0;
}

/* Counts the bytes, never prints them: a test must not echo host secrets. */
static int cmd_read(long *n, char **args)
{
        char buf[CHUNK];
        long total = 0;
        ssize_t got;
        int fd;

        fd = open(args[0], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return report(-1);
        while ((got = read(fd, buf, sizeof(buf))) > 0)
                total += got;
        if (got < 0)
                return report(-1);
        printf("OK %ld\n", total);
        return 0;
}

static int cmd_cat(long *n, char **args)
{
        char buf[CHUNK];
        ssize_t got;
        int fd;

        fd = strcmp(args[0], "-") ? open(args[0], O_RDONLY | O_CLOEXEC) : 0;
        if (fd < 0)
                return report(-1);
        while ((got = read(fd, buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t)got, stdout);
        return got < 0 ? report(-1) : 0;
}

/* No O_TRUNC: for /proc/sys files the test passes the current value, so even
 * a write that wrongly gets through changes nothing. */
static int cmd_write_path(long *n, char **args)
{
        const char *content = args[1] ? args[1] : "probe\n";
        size_t len = strlen(content);
        int fd;

        fd = open(args[0], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return report(-1);
        return report(write(fd, content, len) == (ssize_t)len ? 0 : -1);
}

/* Tries to change the terminal on stdin: its window size, then echo. Run
 * only on a terminal the test created. */
static int cmd_tty(long *n, char **args)
{
        struct winsize ws = {.ws_row = 7, .ws_col = 77};
        struct termios t;

        if (ioctl(0, TIOCSWINSZ, &ws) < 0 || tcgetattr(0, &t) < 0)
                return report(-1);
        t.c_lflag &= ~(tcflag_t)ECHO;
        return report(tcsetattr(0, TCSANOW, &t));
}

static int cmd_symlink(long *n, char **args)
{
        return report(symlink(args[0], args[1]));
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_long(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;

        return (x > y) - (x < y);
}

/* Sorted names of a directory, without . and .. */
static int list_dir(const char *path, char *names[], size_t max, size_t *count)
{
        DIR *dir = opendir(path);
        struct dirent *de;

        *count = 0;
        if (!dir)
                return -1;
        while ((de = readdir(dir)) && *count < max)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        names[(*count)++] = strdup(de->d_name);
        closedir(dir);
        qsort(names, *count, sizeof(names[0]), cmp_str);
        return 0;
}

static int print_dir(const char *path)
{
        char *names[512];
        size_t count;

        if (list_dir(path, names, 512, &count) < 0)
                return report(-1);
        printf("OK");
        for (size_t i = 0; i < count; i++)
                printf(" %s", names[i]);
        printf("\n");
        return 0;
}

static int cmd_ls(long *n, char **args)
{
        return print_dir(args[0]);
}

static int cmd_pids(long *n, char **args)
{
        char *names[512];
        long pids[512];
        size_t count, npids = 0;

        if (list_dir("/proc", names, 512, &count) < 0)
                return report(-1);
        for (size_t i = 0; i < count; i++)
                if (parse_long(names[i], &pids[npids]) == 0)
                        npids++;
        qsort(pids, npids, sizeof(pids[0]), cmp_long);
        printf("OK");
        for (size_t i = 0; i < npids; i++)
                printf(" %ld", pids[i]);
        printf("\n");
        return 0;
}

static int cmd_kill(long *n, char **args)
{
        return report(kill((pid_t)n[0], (int)n[1]));
}

/* ---- identity and privileges ------------------------------------------- */

/* Reads PID's RLIMIT_NOFILE and sets it to the same value: it changes
 * nothing, but needs the right to change PID's limits. A raw call so that a
 * PID wider than 32 bits reaches the kernel as given. */
static int cmd_prlimit(long *n, char **args)
{
        struct rlimit old;

        if (syscall(SYS_prlimit64, n[0], RLIMIT_NOFILE, NULL, &old) < 0)
                return report(-1);
        return report(syscall(SYS_prlimit64, n[0], RLIMIT_NOFILE, &old, NULL));
}

static int cmd_ids(long *n, char **args)
{
        gid_t groups[64];
        int ngroups = getgroups(64, groups);

        printf("OK uid=%d gid=%d euid=%d egid=%d groups=", (int)getuid(), (int)getgid(),
               (int)geteuid(), (int)getegid());
        for (int i = 0; i < ngroups; i++)
                printf("%s%d", i ? "," : "", (int)groups[i]);
        printf("\n");
        return 0;
}

static int cmd_hostname(long *n, char **args)
{
        struct utsname u;

        if (uname(&u) < 0)
                return report(-1);
        printf("OK %s\n", u.nodename);
        return 0;
}

static int cmd_env(long *n, char **args)
{
        for (char **e = environ; *e; e++)
                printf("%s\n", *e);
        return 0;
}

/* Prints "key=value" for the named lines of a /proc/<pid>/status file. */
static int print_status_fields(const char *path, const char *const keys[])
{
        char line[256];
        FILE *f = fopen(path, "re");

        if (!f)
                return report(-1);
        printf("OK");
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                for (int i = 0; keys[i]; i++) {
                        if (strcmp(line, keys[i]))
                                continue;
                        char *value = colon + 1 + strspn(colon + 1, " \t");
                        value[strcspn(value, "\n")] = '\0';
                        for (char *c = value; *c; c++)
                                if (*c == '\t')
                                        *c = ',';
                        printf(" %s=%s", keys[i], value);
                }
        }
        printf("\n");
        fclose(f);
        return 0;
}

static const char *const cap_keys[] = {"Uid",    "Gid",    "CapInh",     "CapPrm",  "CapEff",
                                       "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", NULL};

static int cmd_caps(long *n, char **args)
{
        return print_status_fields("/proc/self/status", cap_keys);
}

/* Try to raise CAP_SYS_ADMIN back into the permitted and effective sets. */
static int cmd_capset(long *n, char **args)
{
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[2];

        if (syscall(SYS_capget, &hdr, data) < 0)
                return report(-1);
        data[0].permitted |= 1u << CAP_SYS_ADMIN;
        data[0].effective |= 1u << CAP_SYS_ADMIN;
        return report(syscall(SYS_capset, &hdr, data));
}

static int proc_comm_is(pid_t pid, const char *want)
{
        char path[64], buf[256];
        ssize_t got;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        got = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (got <= 0)
                return 0;
        buf[got] = '\0';
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        return open_paren && close_paren &&
               (size_t)(close_paren - open_paren - 1) == strlen(want) &&
               strncmp(open_paren + 1, want, strlen(want)) == 0;
}

/* Wait until the child runs the new program, then stop it: the stop lands on
 * the return to user space, after exec committed the new credentials.
 * Returns 1 when stopped, 0 when it exited first (*status set), -1 when it
 * can no longer be signalled: its credentials changed, which is the finding. */
static int stop_after_exec(pid_t pid, const char *comm, int *status)
{
        while (!proc_comm_is(pid, comm))
                if (waitpid(pid, status, WNOHANG) != 0)
                        return 0;
        if (kill(pid, SIGSTOP) < 0)
                return -1;
        if (waitpid(pid, status, WUNTRACED) < 0)
                return 0;
        return WIFSTOPPED(*status) ? 1 : 0;
}

/* A pipe whose buffer is already full: a program writing to it blocks. */
static int full_pipe(int fds[2])
{
        static char buf[CHUNK];

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -1;
        while (write(fds[1], buf, sizeof(buf)) > 0)
                ;
        return fcntl(fds[1], F_SETFL, 0); /* from now on, writers block */
}

/* Run a (setuid) program and report the ids and capabilities it runs with.
 * Its stdout and stderr are a full pipe, so the first message it writes
 * blocks it (leaving time to stop it even on a loaded machine); a program
 * that still exits before it could be stopped is run again. */
static int cmd_setuid_exec(long *n, char **args)
{
        char comm[16], path[64];
        const char *base = strrchr(args[0], '/') ? strrchr(args[0], '/') + 1 : args[0];

        snprintf(comm, sizeof(comm), "%s", base); /* the kernel keeps 15 chars */
        fflush(stdout);
        for (int attempt = 0; attempt < 50; attempt++) {
                int status = 0, stopped, rc, out[2];
                pid_t pid;

                if (full_pipe(out) < 0 || (pid = fork()) < 0)
                        return report(-1);
                if (pid == 0) {
                        int null = open("/dev/null", O_RDONLY);
                        if (null >= 0)
                                dup2(null, 0), dup2(out[1], 1), dup2(out[1], 2);
                        execv(args[0], args);
                        _exit(127);
                }
                stopped = stop_after_exec(pid, comm, &status);
                if (stopped != 0) {
                        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
                        rc = print_status_fields(path, cap_keys);
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                }
                close(out[0]);
                close(out[1]);
                if (stopped != 0)
                        return rc;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                        printf("ERR exec-failed\n");
                        return 1;
                }
        }
        printf("ERR exited-before-stop\n");
        return 1;
}

/* Read another process's memory through /proc/PID/mem at the start of its
 * first mapping (the access check is ptrace's: whoever may read may also
 * write, and so run code in that process). Prints the count, not the bytes. */
static int cmd_mem_read(long *n, char **args)
{
        char path[64], buf[16];
        unsigned long start;
        FILE *maps;
        int fd;

        snprintf(path, sizeof(path), "/proc/%ld/maps", n[0]);
        maps = fopen(path, "re");
        if (!maps)
                return report(-1);
        if (fscanf(maps, "%lx-", &start) != 1) {
                fclose(maps);
                printf("ERR no-mapping\n");
                return 1;
        }
        fclose(maps);
        snprintf(path, sizeof(path), "/proc/%ld/mem", n[0]);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return report(-1);
        ssize_t got = pread(fd, buf, sizeof(buf), (off_t)start);
        close(fd);
        if (got < 0)
                return report(-1);
        printf("OK %zd\n", got);
        return 0;
}

/* Classic escape: chroot into a subdirectory while keeping the cwd outside,
 * walk up, chroot to where we ended. Prints the resulting / listing if every
 * step worked (which must never happen in the sandbox). */
static int cmd_chroot_escape(long *n, char **args)
{
        if (mkdir("/tmp/probe-chroot", 0700) < 0 && errno != EEXIST)
                return report(-1);
        if (chroot("/tmp/probe-chroot") < 0)
                return report(-1);
        for (int i = 0; i < 64; i++)
                if (chdir("..") < 0)
                        return report(-1);
        if (chroot(".") < 0)
                return report(-1);
        return print_dir("/");
}

/* ---- network -------------------------------------------------------------- */

static int cmd_connect(long *n, char **args)
{
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)n[2])};
        struct timeval tv = {2, 0};
        int udp = strcmp(args[0], "udp") == 0;
        int fd;

        if (!udp && strcmp(args[0], "tcp"))
                return usage_error("connect wants tcp or udp", args[0]);
        if (inet_pton(AF_INET, args[1], &addr.sin_addr) != 1)
                return usage_error("not an IPv4 address", args[1]);
        fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return report(-1);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return report(-1);
        if (send(fd, "probe\n", 6, MSG_NOSIGNAL) < 0)
                return report(-1);
        if (udp) {
                /* A closed port answers with ICMP: it shows up on the next recv. */
                char buf[16];
                tv.tv_sec = 0, tv.tv_usec = 200000;
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EAGAIN)
                        return report(-1);
        }
        return report(0);
}

struct name_value {
        const char *name;
        int value;
};

static int lookup(const struct name_value *table, const char *name, int *out)
{
        for (; table->name; table++)
                if (strcmp(table->name, name) == 0)
                        return *out = table->value, 0;
        return -1;
}

static int cmd_socket(long *n, char **args)
{
        static const struct name_value families[] = {{"unix", AF_UNIX},
                                                     {"inet", AF_INET},
                                                     {"inet6", AF_INET6},
                                                     {"netlink", AF_NETLINK},
                                                     {"packet", AF_PACKET},
                                                     {"vsock", AF_VSOCK},
                                                     {NULL, 0}};
        static const struct name_value types[] = {{"stream", SOCK_STREAM},
                                                  {"dgram", SOCK_DGRAM},
                                                  {"raw", SOCK_RAW},
                                                  {"seqpacket", SOCK_SEQPACKET},
                                                  {NULL, 0}};
        int family, type, protocol = 0;

        if (lookup(families, args[0], &family) < 0)
                return usage_error("unknown family", args[0]);
        if (lookup(types, args[1], &type) < 0)
                return usage_error("unknown type", args[1]);
        if (family == AF_PACKET)
                protocol = htons(0x0003); /* ETH_P_ALL */
        else if ((family == AF_INET || family == AF_INET6) && type == SOCK_RAW)
                protocol = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
        return report(socket(family, type | SOCK_CLOEXEC, protocol));
}

/* ---- system calls ---------------------------------------------------------- */

static long sc_mount(void)
{
        return mount("none", NOT_MOUNT, "tmpfs", 0, "size=1M");
}

static long sc_umount(void)
{
        return umount2(NOT_MOUNT, 0);
}

static long sc_pivot_root(void)
{
        return syscall(SYS_pivot_root, NOT_MOUNT, NOT_MOUNT);
}

static long sc_unshare(void)
{
        return unshare(CLONE_NEWUSER);
}

static long sc_clone_newuser(void)
{
        long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);

        if (pid == 0)
                _exit(0);
        if (pid > 0)
                waitpid((pid_t)pid, NULL, 0);
        return pid;
}

static long sc_setns(void)
{
        int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);

        return setns(fd, CLONE_NEWNS);
}

static long sc_chroot(void)
{
        return chroot("/tmp");
}

static long sc_keyctl(void)
{
        return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

static long sc_bpf(void)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static long sc_perf_event_open(void)
{
        struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE,
                                       .size = sizeof(attr),
                                       .config = PERF_COUNT_SW_TASK_CLOCK,
                                       .disabled = 1};

        return syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static long sc_userfaultfd(void)
{
        return syscall(SYS_userfaultfd, O_CLOEXEC);
}

static long sc_io_uring_setup(void)
{
        struct io_uring_params params;

        memset(&params, 0, sizeof(params));
        return syscall(SYS_io_uring_setup, 1, &params);
}

/* SEIZE, unlike ATTACH, never stops the target. */
static long sc_ptrace(void)
{
        long rc = ptrace(PTRACE_SEIZE, 1, NULL, NULL);

        if (rc == 0)
                ptrace(PTRACE_DETACH, 1, NULL, NULL);
        return rc;
}

static long sc_process_vm_readv(void)
{
        static long target;
        long local;
        struct iovec liov = {&local, sizeof(local)}, riov = {&target, sizeof(target)};

        return syscall(SYS_process_vm_readv, 1, &liov, 1, &riov, 1, 0);
}

static long sc_open_by_handle_at(void)
{
        struct {
                struct file_handle fh;
                unsigned char bytes[8];
        } handle = {.fh = {.handle_bytes = 8, .handle_type = 1}};
        int mount_fd = open("/", O_PATH | O_CLOEXEC);

        return syscall(SYS_open_by_handle_at, mount_fd, &handle.fh, O_RDONLY | O_CLOEXEC);
}

static long sc_sethostname(void)
{
        char name[HOST_NAME_MAX + 1];

        if (gethostname(name, sizeof(name)) < 0)
                return -1;
        return sethostname(name, strlen(name)); /* the same name: changes nothing */
}

static long sc_settimeofday(void)
{
        struct timeval invalid = {0, 2000000}; /* tv_usec out of range: never sets */

        return syscall(SYS_settimeofday, &invalid, NULL);
}

static long sc_clock_settime(void)
{
        struct timespec invalid = {0, 2000000000L};

        return syscall(SYS_clock_settime, CLOCK_REALTIME, &invalid);
}

static long sc_init_module(void)
{
        return syscall(SYS_init_module, NULL, 0, "");
}

static long sc_finit_module(void)
{
        return syscall(SYS_finit_module, -1, "", 0);
}

static long sc_kexec_load(void)
{
        return syscall(SYS_kexec_load, 0, 0, NULL, 0);
}

/* An invalid magic: even a call that got through can never reboot. */
static long sc_reboot(void)
{
        return syscall(SYS_reboot, 0xdead, 0xbeef, LINUX_REBOOT_CMD_CAD_OFF, NULL);
}

static long sc_fsopen(void)
{
        return syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
}

static long sc_open_tree(void)
{
        return syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
}

static long sc_iopl(void)
{
        return syscall(SYS_iopl, 3);
}

static const struct {
        const char *name;
        long (*call)(void);
} syscalls[] = {
    {"mount", sc_mount},
    {"umount", sc_umount},
    {"pivot_root", sc_pivot_root},
    {"unshare", sc_unshare},
    {"clone-newuser", sc_clone_newuser},
    {"setns", sc_setns},
    {"chroot", sc_chroot},
    {"keyctl", sc_keyctl},
    {"bpf", sc_bpf},
    {"perf_event_open", sc_perf_event_open},
    {"userfaultfd", sc_userfaultfd},
    {"io_uring_setup", sc_io_uring_setup},
    {"ptrace", sc_ptrace},
    {"process_vm_readv", sc_process_vm_readv},
    {"open_by_handle_at", sc_open_by_handle_at},
    {"sethostname", sc_sethostname},
    {"settimeofday", sc_settimeofday},
    {"clock_settime", sc_clock_settime},
    {"init_module", sc_init_module},
    {"finit_module", sc_finit_module},
    {"kexec_load", sc_kexec_load},
    {"reboot", sc_reboot},
    {"fsopen", sc_fsopen},
    {"open_tree", sc_open_tree},
    {"iopl", sc_iopl},
};

static int cmd_syscall(long *n, char **args)
{
        for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
                if (strcmp(syscalls[i].name, args[0]) == 0) {
                        fflush(stdout);
                        return report(syscalls[i].call());
                }
        return usage_error("unknown syscall probe", args[0]);
}

/* getpid through the 32-bit entry (i386 nr 20) and the x32 entry (bit 30). */
static int cmd_int80(long *n, char **args)
{
        long rc;

        __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
        if (rc < 0)
                return errno = (int)-rc, report(-1);
        printf("OK %ld\n", rc);
        return 0;
}

static int cmd_x32(long *n, char **args)
{
        return report(syscall(0x40000000L | SYS_getpid));
}

/* ---- dispatch --------------------------------------------------------------- */

/* An argument spec per command: one char per argument, 'n' a number, 's' a
 * string; after '|' they are optional; '*' takes any number of strings. */
static const struct command {
        const char *name;
        const char *args;
        const char *help;
        int (*run)(long *n, char **args);
} commands[] = {
    {"true", "", "print OK", cmd_true},
    {"exit", "n", "exit with status N", cmd_exit},
    {"segv", "", "write to address 8 (SIGSEGV)", cmd_segv},
    {"signal", "n", "raise signal N", cmd_signal},
    {"sleep", "n", "sleep MS milliseconds", cmd_sleep},
    {"spin", "n", "burn MS milliseconds of CPU", cmd_spin},
    {"memhog", "n", "allocate and touch MB mebibytes", cmd_memhog},
    {"forkbomb", "n", "fork up to N sleeping children", cmd_forkbomb},
    {"bg-sleep", "n", "leave a child sleeping MS behind, exit", cmd_bg_sleep},
    {"stdin", "", "count the bytes on stdin", cmd_stdin},
    {"tty", "", "set the window size and echo of stdin's terminal", cmd_tty},
    {"write", "n|n", "write N bytes to FD (1)", cmd_write},
    {"fill", "s", "write PATH until an error", cmd_fill},
    {"read", "s", "count the bytes of PATH", cmd_read},
    {"cat", "s", "print PATH (- for stdin)", cmd_cat},
    {"write-path", "s|s", "create/write PATH [CONTENT]", cmd_write_path},
    {"symlink", "ss", "create the symlink LINK -> TARGET (args: TARGET LINK)", cmd_symlink},
    {"ls", "s", "list PATH", cmd_ls},
    {"pids", "", "list the pids in /proc", cmd_pids},
    {"kill", "nn", "kill PID SIG", cmd_kill},
    {"prlimit", "n", "set PID's RLIMIT_NOFILE to its value", cmd_prlimit},
    {"ids", "", "print the ids", cmd_ids},
    {"hostname", "", "print the hostname", cmd_hostname},
    {"env", "", "print the environment", cmd_env},
    {"caps", "", "print ids and capability sets", cmd_caps},
    {"capset", "", "try to regain CAP_SYS_ADMIN", cmd_capset},
    {"mem-read", "n", "read PID's memory via /proc/PID/mem", cmd_mem_read},
    {"setuid-exec", "s*", "run PATH ARGS, report its credentials", cmd_setuid_exec},
    {"chroot-escape", "", "try the chroot/chdir(..) escape", cmd_chroot_escape},
    {"connect", "ssn", "connect tcp|udp HOST PORT and send", cmd_connect},
    {"socket", "ss", "socket FAMILY TYPE", cmd_socket},
    {"syscall", "s", "call NAME with harmless arguments", cmd_syscall},
    {"int80", "", "getpid through int 0x80", cmd_int80},
    {"x32", "", "getpid through the x32 entry", cmd_x32},
};

static void usage(void)
{
        fprintf(stderr, "Usage: probe COMMAND [ARGS]\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(stderr, "  %-14s %-4s %s\n", commands[i].name, commands[i].args,
                        commands[i].help);
        fprintf(stderr, "syscall NAMEs:");
        for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
                fprintf(stderr, " %s", syscalls[i].name);
        fprintf(stderr, "\n");
}

/* Check argv against the spec; parse the numbers into n[] (by position). */
static int parse_args(const struct command *cmd, int argc, char **argv, long *n)
{
        int i = 0, optional = 0;

        for (const char *spec = cmd->args; *spec; spec++) {
                if (*spec == '|') {
                        optional = 1;
                        continue;
                }
                if (*spec == '*')
                        return 0;
                if (i >= argc)
                        return optional ? 0 : usage_error("missing argument for", cmd->name);
                if (*spec == 'n' && parse_long(argv[i], &n[i]) < 0)
                        return usage_error("not a number", argv[i]);
                i++;
        }
        return i < argc ? usage_error("too many arguments for", cmd->name) : 0;
}

int main(int argc, char **argv)
{
        long n[8] = {0};

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2) {
                usage();
                return 2;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(argv[1], commands[i].name))
                        continue;
                if (argc - 2 > 8)
                        return usage_error("too many arguments for", argv[1]);
                int rc = parse_args(&commands[i], argc - 2, argv + 2, n);
                return rc ? rc : commands[i].run(n, argv + 2);
        }
        usage();
        return 2;
}
