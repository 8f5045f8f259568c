/* The part of WH_NET_ALLOW setup that runs inside the sandbox's namespaces:
 * a child of the supervisor, forked after slirp4netns has made the
 * interface and before init is told to go. It joins the sandbox's user
 * namespace (unless the caller is root, whose capabilities reach it already)
 * and network namespace, then:
 *   - nft -f the ruleset (net_nft.c), so nothing the payload sends passes
 *     unlogged or unchecked;
 *   - IPv6: an address and a route through slirp4netns when the policy lists
 *     an IPv6 destination, else a route to nowhere, so an IPv6 attempt
 *     reaches the ruleset (and the log) instead of failing with ENETUNREACH
 *     before any packet exists;
 *   - nf_conntrack_acct=1, so conntrack counts bytes;
 *   - opens the NFLOG and conntrack sockets and passes them to the supervisor.
 * A failure is sent back as text; the supervisor ends the run. */
#define _GNU_SOURCE
#include "sandbox/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

/* The first of paths that exists, or NULL. */
static const char *find_tool(const char *const paths[])
{
        for (; *paths; paths++)
                if (access(*paths, X_OK) == 0)
                        return *paths;
        return NULL;
}

static const char *const nft_paths[] = {"/usr/sbin/nft", "/sbin/nft", NULL};

const char *net_tool_missing(void)
{
        return find_tool(nft_paths) ? NULL : "nft (Debian package nftables)";
}

/* One rtnetlink request: its header, body and attributes. */
struct nl_req {
        struct nlmsghdr h;
        union {
                struct rtmsg r;
                struct ifaddrmsg a;
        } body;
        char attrs[64];
};

static void nl_attr(struct nl_req *q, unsigned short type, const void *data, size_t len)
{
        struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));
        a->rta_type = type;
        a->rta_len = (unsigned short)RTA_LENGTH(len);
        memcpy(RTA_DATA(a), data, len);
        q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send q and read its ack: 0, or -1 with errno. */
static int nl_call(struct nl_req *q)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -1;
        char buf[512];
        ssize_t n = send(fd, q, q->h.nlmsg_len, 0) < 0 ? -1 : recv(fd, buf, sizeof(buf), 0);
        close(fd);
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR)
                return errno = EPROTO, -1;
        int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
        return e ? (errno = e, -1) : 0;
}

static struct nl_req nl_new(unsigned short type, size_t body)
{
        return (struct nl_req){
            .h = {.nlmsg_len = (unsigned)NLMSG_LENGTH(body),
                  .nlmsg_type = type,
                  .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL}};
}

/* "ip -6 route add default [via gw] dev wh0": 0, or -1 with errno. */
static int add_ipv6_default_route(int oif, const struct in6_addr *gw)
{
        struct nl_req q = nl_new(RTM_NEWROUTE, sizeof(struct rtmsg));
        q.body.r = (struct rtmsg){.rtm_family = AF_INET6,
                                  .rtm_table = RT_TABLE_MAIN,
                                  .rtm_protocol = RTPROT_BOOT,
                                  .rtm_scope = RT_SCOPE_UNIVERSE,
                                  .rtm_type = RTN_UNICAST};
        nl_attr(&q, RTA_OIF, &oif, sizeof(oif));
        if (gw)
                nl_attr(&q, RTA_GATEWAY, gw, sizeof(*gw));
        return nl_call(&q);
}

/* "ip addr add addr/64 dev wh0 nodad": usable at once, no duplicate address
 * detection to wait for (nothing else is on the link). */
static int add_ipv6_address(int oif, const struct in6_addr *addr)
{
        struct nl_req q = nl_new(RTM_NEWADDR, sizeof(struct ifaddrmsg));
        q.body.a = (struct ifaddrmsg){.ifa_family = AF_INET6,
                                      .ifa_prefixlen = 64,
                                      .ifa_flags = IFA_F_NODAD,
                                      .ifa_scope = RT_SCOPE_UNIVERSE,
                                      .ifa_index = (unsigned)oif};
        nl_attr(&q, IFA_LOCAL, addr, sizeof(*addr));
        nl_attr(&q, IFA_ADDRESS, addr, sizeof(*addr));
        return nl_call(&q);
}

static int write_sysctl(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : write(fd, value, strlen(value));
        if (fd >= 0)
                close(fd);
        return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* IPv6 on wh0. Carried (ipv6): slirp4netns's network (net.h), configured
 * here rather than by router advertisements, which come a second or more
 * later (duplicate address detection first); none are accepted, so the
 * sandbox's address stays the one the log shows. Not carried: a route to no
 * gateway, so an IPv6 attempt still leaves a packet for the ruleset to log
 * and reject, instead of failing with ENETUNREACH unseen. */
static const char *setup_ipv6(bool ipv6)
{
        int oif = (int)if_nametoindex(NET_IFNAME);
        if (!oif)
                return "cannot find the sandbox's interface";
        if (!ipv6)
                return add_ipv6_default_route(oif, NULL) < 0 ? "cannot add the sandbox's IPv6 route"
                                                             : NULL;
        struct in6_addr addr, gw;
        inet_pton(AF_INET6, NET_SLIRP_ADDR6, &addr);
        inet_pton(AF_INET6, NET_SLIRP_GW6, &gw);
        if (write_sysctl("/proc/sys/net/ipv6/conf/" NET_IFNAME "/accept_ra", "0") < 0)
                return "cannot turn off router advertisements in the sandbox";
        if (add_ipv6_address(oif, &addr) < 0)
                return "cannot give the sandbox its IPv6 address";
        if (add_ipv6_default_route(oif, &gw) < 0)
                return "cannot add the sandbox's IPv6 route";
        return NULL;
}

__attribute__((format(printf, 2, 3))) static int fail(int reply_fd, const char *fmt, ...)
{
        char text[256];
        int saved = errno;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (saved && n > 0 && (size_t)n < sizeof(text))
                snprintf(text + n, sizeof(text) - (size_t)n, ": %s", strerror(saved));
        send(reply_fd, text, strlen(text), 0);
        return 1;
}

/* Run a tool to its end, stdin from fd in, empty environment. */
static int run_tool(const char *path, char *const argv[], int in)
{
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(in, 0);
                dup2(null, 1);
                char *const envp[] = {NULL};
                execve(path, argv, envp);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -1;
        errno = 0;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int net_helper_main(pid_t init_pid, bool join_userns, bool ipv6, int rules_fd, int reply_fd)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)init_pid);
        int user = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init_pid);
        int net = open(path, O_RDONLY | O_CLOEXEC);
        if (user < 0 || net < 0)
                return fail(reply_fd, "cannot open the sandbox's namespaces");
        if (join_userns && setns(user, CLONE_NEWUSER) < 0)
                return fail(reply_fd, "cannot join the sandbox's user namespace");
        if (setns(net, CLONE_NEWNET) < 0)
                return fail(reply_fd, "cannot join the sandbox's network namespace");

        char *nft_argv[] = {"nft", "-f", "-", NULL};
        if (run_tool(find_tool(nft_paths), nft_argv, rules_fd) < 0)
                return fail(reply_fd, "nft could not install the ruleset in the sandbox");
        const char *failed = setup_ipv6(ipv6);
        if (failed)
                return fail(reply_fd, "%s", failed);
        if (write_sysctl("/proc/sys/net/netfilter/nf_conntrack_acct", "1") < 0)
                return fail(reply_fd, "cannot turn on conntrack accounting in the sandbox");

        int nflog = net_nflog_open();
        if (nflog < 0)
                return fail(reply_fd, "cannot read the sandbox's NFLOG group %d", NET_NFLOG_GROUP);
        int ct = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
        if (ct < 0 || bind(ct, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return fail(reply_fd, "cannot open a conntrack socket in the sandbox");

        int fds[2] = {nflog, ct};
        char ok[] = "ok";
        char control[CMSG_SPACE(sizeof(fds))] = {0};
        struct iovec iov = {.iov_base = ok, .iov_len = 2};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control,
                            .msg_controllen = sizeof(control)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(fds));
        memcpy(CMSG_DATA(c), fds, sizeof(fds));
        return sendmsg(reply_fd, &mh, 0) < 0 ? 1 : 0;
}
