/* WH_NET_ALLOW inside the sandbox library: how one run gets its way out.
 *
 *   wh_sandbox_new:  net_resolver_create   /etc/hosts with the pinned names,
 *                                          resolv.conf, nsswitch.conf: bound
 *                                          read-only over the sandbox's /etc
 *   sandbox_launch:  net_run_start         (init waits for MSG_GO meanwhile)
 *     a helper joins the sandbox's user and net namespaces, installs the
 *     nftables ruleset (net_nft.c), turns on conntrack accounting and opens the
 *     NFLOG and conntrack sockets for the supervisor; then slirp4netns
 *     connects the namespace outward and a thread starts reading NFLOG
 *   wh_sandbox_run:  net_run_finish        the connection log into the report
 *   wh_warm_run:     net_run_take          after each input (warm: the
 *                                          namespace lives on): its entries,
 *                                          its conntrack entries deleted,
 *                                          the quota reset
 *   sandbox_launch_end: net_run_stop       slirp4netns and the thread stopped
 *
 * The payload never holds a capability in the user namespace that owns its
 * network namespace, so it cannot change the ruleset (docs/sandbox.md,
 * "Network"). */
#ifndef WH_SANDBOX_NET_H
#define WH_SANDBOX_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <whiskers/net.h>
#include <whiskers/sandbox.h>

/* slirp4netns's network inside the sandbox: never listed (net_policy.c).
 * Its IPv6 network is libslirp's fixed one (slirp4netns 1.2 has no option
 * for it): the gateway fd00::2, the sandbox fd00::100 (net_helper.c). */
#define NET_SLIRP_CIDR  "100.127.255.0/24"
#define NET_SLIRP_CIDR6 "fd00::/64"
#define NET_SLIRP_ADDR6 "fd00::100"
#define NET_SLIRP_GW6   "fd00::2"
#define NET_IFNAME      "wh0"
#define NET_NFLOG_GROUP 7
/* The ruleset's table (inet) and its byte quota (net_nft.c), reset between
 * the inputs of a warm sandbox (net_log.c). */
#define NET_NFT_TABLE "whiskers"
#define NET_NFT_QUOTA "total"
/* The log prefix of frames refused at the interface (raw sockets only,
 * net_nft.c): their payload starts with the link-layer header. */
#define NET_LOG_LINK "refused-link"
/* Frames dropped over a limit are logged at most this often (net_nft.c);
 * their prefix is "refused[-link]-" and the limit's name (net_log.c). */
#define NET_LOG_LIMIT_PER_S 100
/* With raw sockets, how long a flow the program sent a frame to and got no
 * answer from holds a place of --net-max-conns (net_nft.c). */
#define NET_RAW_FLOW_TIMEOUT 30

/* The resolver files of a sandbox, in a private directory of the host:
 * hosts, resolv.conf, nsswitch.conf, and host.conf where it can be bound (the
 * default root, or a rootfs that has one). */
#define NET_RESOLVER_FILES 4
struct net_resolver {
        char dir[64]; /* "" when none */
        char srcs[NET_RESOLVER_FILES][96];
        struct wh_bind binds[NET_RESOLVER_FILES];
        size_t n_binds;
};
int net_resolver_create(const struct wh_net_policy *p, const char *rootfs, struct net_resolver *r,
                        struct wh_err *err);
void net_resolver_remove(struct net_resolver *r);

/* The ruleset for nft -f, malloc'd. */
char *net_nft_ruleset(const struct wh_net_policy *p);

struct net_run {
        pid_t slirp;
        int slirp_exit_w; /* closing it stops slirp4netns */
        int nflog_fd, ct_fd, stop_r, stop_w;
        pthread_t reader;
        bool reader_started;
        pthread_mutex_t lock; /* the reader holds it while it adds to log */
        const struct wh_net_policy *policy;
        struct wh_net_log log; /* written by the reader until it is joined */
};
int net_run_start(struct net_run *n, pid_t init_pid, const struct wh_sandbox *sb,
                  struct wh_err *err);
void net_run_finish(struct net_run *n, struct wh_report *r);
/* Warm (docs/warm.md "Network"): once every process of the input is gone,
 * append the entries logged since the last take to out, with their bytes;
 * then delete their conntrack entries (the input's connections no longer
 * count, nor can the next input's packets pass as theirs) and reset the
 * byte quota, so the next input starts as a cold run does. 0, or -1
 * with errno when the table or the quota could not be reset (then the
 * sandbox must not serve another input). */
int net_run_take(struct net_run *n, struct wh_net_log *out);
void net_run_stop(struct net_run *n);

/* net_log.c: the NFLOG reader thread and the conntrack byte counts. */
void *net_log_reader(void *arg);
void net_log_add_bytes(struct net_run *n);
/* What is queued on the NFLOG socket now into n->log (caller holds n->lock). */
void net_log_drain(struct net_run *n);
/* Delete the conntrack entries of the allowed connections in n->log (all
 * entries of the namespace when the log lost some: net_ct_flush); reset the
 * quota "total" of table inet whiskers (net_nft.c). 0, or -1 with errno. */
int net_ct_forget(struct net_run *n);
int net_ct_flush(struct net_run *n);
int net_quota_reset(struct net_run *n);

/* net_log.c: an NFLOG socket bound to NET_NFLOG_GROUP, or -1 with errno. */
int net_nflog_open(void);

/* net_helper.c: the helper's part (after fork, in the sandbox's namespaces):
 * its exit status, after sending "ok" and two fds (NFLOG, conntrack) or a
 * message on reply_fd. ipv6: slirp4netns carries IPv6 (net_policy_has_ipv6). */
int net_helper_main(pid_t init_pid, bool join_userns, bool ipv6, int rules_fd, int reply_fd);
/* net_run.c: does the policy list an IPv6 destination? Only then does
 * slirp4netns carry IPv6 (--enable-ipv6, experimental in slirp4netns 1.2). */
bool net_policy_has_ipv6(const struct wh_net_policy *p);
/* net_raw.c: the seccomp policy of a run (config->seccomp_policy, or the
 * default plus raw and packet sockets when the allowlist has "raw"). */
struct wh_seccomp_policy;
int net_seccomp_load(const struct wh_sandbox_config *c, struct wh_seccomp_policy **out,
                     struct wh_err *err);
/* The tool WH_NET_ALLOW needs and this host lacks, or NULL. */
const char *net_tool_missing(void);

#endif
