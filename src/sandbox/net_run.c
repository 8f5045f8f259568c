/* One WH_NET_ALLOW run from the supervisor's side: slirp4netns, the helper
 * that installs the ruleset, the log reader; then the log into the report,
 * and everything stopped. See sandbox/net.h for the order and why. */
#define _GNU_SOURCE
#include "sandbox/net.h"
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLIRP_READY_MS 5000

static const char *const slirp_paths[] = {"/usr/bin/slirp4netns", "/bin/slirp4netns", NULL};

static const char *slirp_path(void)
{
        for (const char *const *p = slirp_paths; *p; p++)
                if (access(*p, X_OK) == 0)
                        return *p;
        return NULL;
}

/* slirp4netns on the sandbox's namespace, ready (the interface configured)
 * when this returns 0. It runs until n->slirp_exit_w is closed. Root's copy
 * drops its capabilities and confines itself (--enable-sandbox,
 * --enable-seccomp); no connection to the host's loopback
 * (--disable-host-loopback) or its resolver (--disable-dns). An unprivileged
 * caller's copy runs without --enable-sandbox: that mode mounts and calls
 * setegid(0) in slirp4netns's own namespaces, which an unprivileged process in
 * the initial user namespace cannot ("setegid(0) / parent failed", tried), so
 * it stays the caller's uid, without capabilities, under its seccomp filter.
 * IPv6 (--enable-ipv6) only when the policy lists an IPv6 destination: the
 * option is experimental, and without it nothing of a v4-only run changes. */
static int start_slirp(struct net_run *n, pid_t init_pid, bool caller_is_root, bool ipv6,
                       struct wh_err *err)
{
        const char *path = slirp_path();
        if (!path)
                return wh_err_set(err, ENOENT, "net",
                                  "slirp4netns is not installed (Debian package slirp4netns)");
        if (access("/dev/net/tun", R_OK | W_OK) < 0)
                return wh_err_set(err, errno, "net",
                                  "slirp4netns needs /dev/net/tun, which this user cannot open");
        int ready[2], ex[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return wh_err_set(err, errno, "net", "cannot create a pipe");
        if (pipe2(ex, O_CLOEXEC) < 0) {
                close(ready[0]), close(ready[1]);
                return wh_err_set(err, errno, "net", "cannot create a pipe");
        }
        char netns[64], userns[64], userns_opt[80];
        snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)init_pid);
        snprintf(userns, sizeof(userns), "/proc/%d/ns/user", (int)init_pid);
        snprintf(userns_opt, sizeof(userns_opt), "--userns-path=%s", userns);
        /* Unprivileged, it must join the user namespace to reach the net one;
         * the option takes --enable-sandbox's place (above). */
        char *argv[16] = {"slirp4netns",
                          "--configure",
                          "--disable-host-loopback",
                          "--disable-dns",
                          caller_is_root ? "--enable-sandbox" : userns_opt,
                          "--enable-seccomp",
                          "--cidr=" NET_SLIRP_CIDR,
                          "--mtu=65520",
                          "--ready-fd=3",
                          "--exit-fd=4",
                          "--netns-type=path"};
        size_t k = 11;
        if (ipv6)
                argv[k++] = "--enable-ipv6";
        argv[k++] = netns;
        argv[k++] = NET_IFNAME;
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                if (dup2(ready[1], 3) < 0 || dup2(ex[0], 4) < 0 || dup2(null, 0) < 0 ||
                    dup2(null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(127);
                char *const envp[] = {NULL};
                execve(path, argv, envp);
                _exit(127);
        }
        close(ready[1]), close(ex[0]);
        if (pid < 0) {
                close(ready[0]), close(ex[1]);
                return wh_err_set(err, errno, "net", "cannot start slirp4netns");
        }
        n->slirp = pid;
        n->slirp_exit_w = ex[1];
        struct pollfd p = {.fd = ready[0], .events = POLLIN};
        char c = 0;
        int rc = poll(&p, 1, SLIRP_READY_MS);
        bool ok = rc == 1 && read(ready[0], &c, 1) == 1 && c == '1';
        close(ready[0]);
        if (!ok)
                return wh_err_set(err, 0, "net",
                                  "slirp4netns did not connect the sandbox's network namespace "
                                  "within %d ms",
                                  SLIRP_READY_MS);
        return 0;
}

bool net_policy_has_ipv6(const struct wh_net_policy *p)
{
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].addr.family == AF_INET6)
                        return true;
        return false;
}

static int rules_memfd(const struct wh_net_policy *p)
{
        char *rules = net_nft_ruleset(p);
        int fd = rules ? memfd_create("whiskers-nft", MFD_CLOEXEC) : -1;
        size_t len = rules ? strlen(rules) : 0;
        if (fd >= 0 && (write(fd, rules, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0)) {
                close(fd);
                fd = -1;
        }
        free(rules);
        return fd;
}

/* The helper (net_helper.c): its two fds into n, or its message into err. */
static int run_helper(struct net_run *n, pid_t init_pid, const struct wh_sandbox *sb,
                      struct wh_err *err)
{
        int sp[2];
        int rules = rules_memfd(sb->config.net_policy);
        if (rules < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0) {
                if (rules >= 0)
                        close(rules);
                return wh_err_set(err, errno, "net", "cannot prepare the network ruleset");
        }
        pid_t pid = fork();
        if (pid == 0)
                _exit(net_helper_main(init_pid, !sb->caller_is_root,
                                      net_policy_has_ipv6(sb->config.net_policy), rules, sp[1]));
        close(sp[1]);
        close(rules);
        char text[257] = "";
        int fds[2] = {-1, -1};
        char control[CMSG_SPACE(sizeof(fds))];
        struct iovec iov = {.iov_base = text, .iov_len = sizeof(text) - 1};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control,
                            .msg_controllen = sizeof(control)};
        ssize_t len = pid > 0 ? recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC) : -1;
        close(sp[0]);
        if (pid > 0)
                waitpid(pid, NULL, 0);
        struct cmsghdr *c = len > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
        if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(fds))) {
                memcpy(fds, CMSG_DATA(c), sizeof(fds));
                n->nflog_fd = fds[0], n->ct_fd = fds[1];
                return 0;
        }
        if (len > 0)
                text[len] = '\0';
        return wh_err_set(err, 0, "net", "%s", len > 0 ? text : "the network helper failed");
}

int net_run_start(struct net_run *n, pid_t init_pid, const struct wh_sandbox *sb,
                  struct wh_err *err)
{
        *n = (struct net_run){.slirp = -1,
                              .slirp_exit_w = -1,
                              .nflog_fd = -1,
                              .ct_fd = -1,
                              .stop_r = -1,
                              .stop_w = -1};
        pthread_mutex_init(&n->lock, NULL);
        n->policy = sb->config.net_policy;
        if (start_slirp(n, init_pid, sb->caller_is_root, net_policy_has_ipv6(n->policy), err) < 0 ||
            run_helper(n, init_pid, sb, err) < 0)
                return -1;
        int stop[2];
        if (pipe2(stop, O_CLOEXEC) < 0)
                return wh_err_set(err, errno, "net", "cannot create a pipe");
        n->stop_r = stop[0], n->stop_w = stop[1];
        if ((errno = pthread_create(&n->reader, NULL, net_log_reader, n)) != 0)
                return wh_err_set(err, errno, "net", "cannot start the connection log reader");
        n->reader_started = true;
        return 0;
}

static void stop_reader(struct net_run *n)
{
        if (!n->reader_started)
                return;
        if (write(n->stop_w, "x", 1) < 0) {
                /* the reader also stops at a read error: nothing else to do */
        }
        pthread_join(n->reader, NULL);
        n->reader_started = false;
}

void net_run_finish(struct net_run *n, struct wh_report *r)
{
        stop_reader(n);
        if (n->ct_fd >= 0)
                net_log_add_bytes(n);
        r->net_allow = true;
        r->net = n->log;
}

/* The entries of one warm input, and a clean table for the next. Entries are
 * in the NFLOG socket's queue as soon as their packet passed the ruleset
 * (qthresh 1), so once the input's processes are gone the drain here gets
 * the last of them: none can reach the next take. What is logged after this
 * (the zygote's own traffic, the next child forked ahead) is the next
 * input's. Deleting the input's conntrack entries (net_ct_forget): its connections
 * stop counting against --net-max-conns, and a later packet of one of its
 * sockets that outlived it (a FIN retransmitted by the kernel) is no longer
 * "established" - the ruleset drops a TCP packet that is new to conntrack
 * and not a SYN, unlogged (net_nft.c) - nor can the next input reuse a UDP
 * flow's 5-tuple to pass unlogged. */
int net_run_take(struct net_run *n, struct wh_net_log *out)
{
        pthread_mutex_lock(&n->lock);
        net_log_drain(n);
        if (n->ct_fd >= 0)
                net_log_add_bytes(n);
        int rc = n->ct_fd >= 0 ? net_ct_forget(n) : (errno = EBADF, -1);
        if (rc == 0 && n->policy->limits.max_bytes)
                rc = net_quota_reset(n);
        for (size_t i = 0; i < n->log.n; i++)
                if (out->n < WH_NET_LOG_MAX)
                        out->conns[out->n++] = n->log.conns[i];
                else
                        out->dropped++;
        out->dropped += n->log.dropped;
        n->log.n = n->log.dropped = 0;
        pthread_mutex_unlock(&n->lock);
        return rc;
}

void net_run_stop(struct net_run *n)
{
        stop_reader(n);
        pthread_mutex_destroy(&n->lock);
        int fds[] = {n->slirp_exit_w, n->nflog_fd, n->ct_fd, n->stop_r, n->stop_w};
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        if (n->slirp > 0) {
                /* It exits when its exit fd closes; a stuck one is killed. */
                bool reaped = false;
                for (int i = 0; i < 200 && !reaped; i++)
                        /* ECHILD: a caller reaping every child got it first. */
                        if (!(reaped = waitpid(n->slirp, NULL, WNOHANG) != 0))
                                usleep(5000);
                if (!reaped) {
                        kill(n->slirp, SIGKILL);
                        waitpid(n->slirp, NULL, 0);
                }
        }
        *n = (struct net_run){.slirp = -1,
                              .slirp_exit_w = -1,
                              .nflog_fd = -1,
                              .ct_fd = -1,
                              .stop_r = -1,
                              .stop_w = -1};
}
