/* The connection log of a WH_NET_ALLOW run, from two netlink sockets the
 * helper opened in the sandbox's network namespace (net_helper.c):
 *
 *   NFLOG group NET_NFLOG_GROUP: the ruleset logs the first packet of every
 *     new connection it allows and every packet it refuses. A thread reads
 *     them while the run goes (the kernel sends each at once: qthresh 1), so
 *     the time is when the attempt was made; repeats of a 5-tuple with the
 *     same verdict (SYN retries) are one entry.
 *   conntrack, asked after the run: the bytes each allowed connection moved
 *     (nf_conntrack_acct is on in that namespace). The sockets keep the
 *     namespace, and so its conntrack table, alive until they are closed. */
#define _GNU_SOURCE
#include "sandbox/net.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
/* After netinet/in.h: it includes linux/in.h, which then defers to glibc's. */
#include <linux/netfilter.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NLA_OK_LEN(nla, rem)                                                                       \
        ((rem) >= (int)sizeof(struct nlattr) && (nla)->nla_len >= sizeof(struct nlattr) &&         \
         (nla)->nla_len <= (rem))
#define NLA_NEXT_ATTR(nla, rem)                                                                    \
        ((rem) -= NLA_ALIGN((nla)->nla_len),                                                       \
         (struct nlattr *)((char *)(nla) + NLA_ALIGN((nla)->nla_len)))
#define NLA_PAYLOAD(nla) ((void *)((char *)(nla) + NLA_HDRLEN))

/* Index attributes of type <= max found in [start, start+len). */
static void parse_attrs(const void *start, int len, const struct nlattr **tb, int max)
{
        memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
        const struct nlattr *a = start;
        while (NLA_OK_LEN(a, len)) {
                int type = a->nla_type & NLA_TYPE_MASK;
                if (type <= max)
                        tb[type] = a;
                a = NLA_NEXT_ATTR(a, len);
        }
}

static int nested(const struct nlattr *a, const struct nlattr **tb, int max)
{
        if (!a)
                return -1;
        parse_attrs(NLA_PAYLOAD(a), a->nla_len - NLA_HDRLEN, tb, max);
        return 0;
}

struct nlreq {
        struct nlmsghdr h;
        struct nfgenmsg g;
        char attrs[128]; /* room for an IPv6 conntrack tuple */
};

static void add_attr(struct nlreq *r, int type, const void *data, size_t len)
{
        struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
        a->nla_type = (uint16_t)type;
        a->nla_len = (uint16_t)(NLA_HDRLEN + len);
        memcpy(NLA_PAYLOAD(a), data, len);
        r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* Send one request and read the one datagram that answers it into buf: its
 * length, or -1 with errno (the kernel's error, or no answer). */
static ssize_t nl_ask(int fd, struct nlreq *r, char *buf, size_t cap)
{
        if (send(fd, r, r->h.nlmsg_len, 0) < 0)
                return -1;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n < (ssize_t)sizeof(struct nlmsghdr))
                return -1;
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (h->nlmsg_type == NLMSG_ERROR) {
                int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
                errno = e;
                return e ? -1 : n;
        }
        return n;
}

/* Send one request and wait for its ack: 0, or -1 with errno. */
static int nl_call(int fd, struct nlreq *r)
{
        char buf[4096];
        return nl_ask(fd, r, buf, sizeof(buf)) < 0 ? -1 : 0;
}

static struct nlattr *nest_start(struct nlreq *r, int type)
{
        struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
        a->nla_type = (uint16_t)(type | NLA_F_NESTED);
        r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + NLA_HDRLEN;
        return a;
}

static void nest_end(struct nlreq *r, struct nlattr *a)
{
        a->nla_len = (uint16_t)((char *)r + r->h.nlmsg_len - (char *)a);
}

/* A request of nfnetlink subsystem subsys, without attributes yet. */
static void nfnl_req(struct nlreq *r, int subsys, int type, int flags, int family)
{
        memset(r, 0, sizeof(*r));
        r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
        r->h.nlmsg_type = (uint16_t)(subsys << 8 | type);
        r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
        r->g = (struct nfgenmsg){.nfgen_family = (uint8_t)family, .version = NFNETLINK_V0};
}

static void config_req(struct nlreq *r, uint16_t group)
{
        nfnl_req(r, NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG, NLM_F_ACK, AF_UNSPEC);
        r->g.res_id = htons(group);
}

int net_nflog_open(void)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                goto fail;
        int rcvbuf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        struct nlreq r;
        config_req(&r, NET_NFLOG_GROUP);
        struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
        add_attr(&r, NFULA_CFG_CMD, &cmd, sizeof(cmd));
        if (nl_call(fd, &r) < 0)
                goto fail;
        config_req(&r, NET_NFLOG_GROUP);
        struct nfulnl_msg_config_mode mode = {.copy_range = htonl(128),
                                              .copy_mode = NFULNL_COPY_PACKET};
        add_attr(&r, NFULA_CFG_MODE, &mode, sizeof(mode));
        uint32_t one = htonl(1);
        add_attr(&r, NFULA_CFG_QTHRESH, &one, sizeof(one));
        if (nl_call(fd, &r) < 0)
                goto fail;
        return fd;
fail:
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool same_tuple(const struct wh_net_conn *a, const struct wh_net_conn *b)
{
        return a->proto == b->proto && !strcmp(a->limit, b->limit) && a->sport == b->sport &&
               a->dport == b->dport && a->src.family == b->src.family &&
               !memcmp(a->src.bytes, b->src.bytes, 16) && !memcmp(a->dst.bytes, b->dst.bytes, 16);
}

/* The IP packet of one log message into c; -1 if it is not IP. */
static int parse_packet(const uint8_t *p, size_t len, struct wh_net_conn *c, size_t *ip_len)
{
        size_t hl;
        if (len >= sizeof(struct ip) && p[0] >> 4 == 4) {
                const struct ip *ip = (const struct ip *)p;
                hl = (size_t)ip->ip_hl * 4;
                c->proto = ip->ip_p;
                c->src.family = c->dst.family = AF_INET;
                memcpy(c->src.bytes, &ip->ip_src, 4);
                memcpy(c->dst.bytes, &ip->ip_dst, 4);
                *ip_len = ntohs(ip->ip_len);
        } else if (len >= sizeof(struct ip6_hdr) && p[0] >> 4 == 6) {
                const struct ip6_hdr *ip6 = (const struct ip6_hdr *)p;
                hl = sizeof(*ip6); /* extension headers: ports left 0 */
                c->proto = ip6->ip6_nxt;
                c->src.family = c->dst.family = AF_INET6;
                memcpy(c->src.bytes, &ip6->ip6_src, 16);
                memcpy(c->dst.bytes, &ip6->ip6_dst, 16);
                *ip_len = sizeof(*ip6) + ntohs(ip6->ip6_plen);
        } else
                return -1;
        if ((c->proto == IPPROTO_TCP || c->proto == IPPROTO_UDP) && len >= hl + 4) {
                c->sport = (uint16_t)(p[hl] << 8 | p[hl + 1]);
                c->dport = (uint16_t)(p[hl + 2] << 8 | p[hl + 3]);
        }
        return 0;
}

static void log_packet(struct wh_net_log *log, const struct nlmsghdr *h)
{
        const struct nlattr *tb[NFULA_MAX + 1];
        parse_attrs((char *)NLMSG_DATA(h) + sizeof(struct nfgenmsg),
                    (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg)), tb, NFULA_MAX);
        if (!tb[NFULA_PAYLOAD] || !tb[NFULA_PREFIX])
                return;
        struct wh_net_conn c = {.time_ms = now_ms()};
        size_t ip_len = 0;
        const uint8_t *payload = NLA_PAYLOAD(tb[NFULA_PAYLOAD]);
        size_t len = tb[NFULA_PAYLOAD]->nla_len - NLA_HDRLEN;
        /* "allowed", or "refused[-link][-LIMIT]" (net_nft.c) */
        const char *prefix = NLA_PAYLOAD(tb[NFULA_PREFIX]);
        c.allowed = strcmp(prefix, "allowed") == 0;
        bool link = strncmp(prefix, NET_LOG_LINK, strlen(NET_LOG_LINK)) == 0;
        const char *limit = prefix + strlen(link ? NET_LOG_LINK : "refused");
        if (!c.allowed && strncmp(prefix, "refused", strlen("refused")) == 0 && *limit == '-')
                snprintf(c.limit, sizeof(c.limit), "%s", limit + 1);
        /* A frame refused at the interface: its Ethernet header first. */
        if (link) {
                if (len < ETH_HLEN)
                        return;
                payload += ETH_HLEN, len -= ETH_HLEN;
        }
        if (parse_packet(payload, len, &c, &ip_len) < 0)
                return;
        /* A retried SYN or datagram is the same attempt. */
        for (size_t i = 0; i < log->n; i++)
                if (c.allowed == log->conns[i].allowed && same_tuple(&log->conns[i], &c)) {
                        log->conns[i].bytes_out += c.allowed ? 0 : ip_len;
                        return;
                }
        if (!c.allowed)
                c.bytes_out = ip_len;
        if (log->n == WH_NET_LOG_MAX) {
                log->dropped++;
                return;
        }
        log->conns[log->n++] = c;
}

/* NLMSG_OK for a length that may go negative (NLMSG_NEXT subtracts the
 * aligned length), without comparing signed and unsigned. */
static bool nl_ok(const struct nlmsghdr *h, int rem)
{
        return rem >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
               h->nlmsg_len <= (unsigned)rem;
}

/* Read what is there; false on a read error other than "nothing more". */
static bool drain(struct net_run *n, int flags)
{
        char buf[65536];
        for (;;) {
                ssize_t len = recv(n->nflog_fd, buf, sizeof(buf), flags);
                if (len < 0) {
                        if (errno == ENOBUFS) { /* the kernel dropped some */
                                n->log.dropped++;
                                continue;
                        }
                        return errno == EAGAIN || errno == EINTR;
                }
                int rem = (int)len;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nl_ok(h, rem);
                     h = NLMSG_NEXT(h, rem))
                        if ((h->nlmsg_type & 0xff) == NFULNL_MSG_PACKET)
                                log_packet(&n->log, h);
                if (!(flags & MSG_DONTWAIT))
                        return true;
        }
}

void *net_log_reader(void *arg)
{
        struct net_run *n = arg;
        struct pollfd fds[2] = {{.fd = n->nflog_fd, .events = POLLIN},
                                {.fd = n->stop_r, .events = POLLIN}};
        for (;;) {
                if (poll(fds, 2, -1) < 0 && errno != EINTR)
                        break;
                if (fds[0].revents & POLLIN) {
                        pthread_mutex_lock(&n->lock);
                        bool ok = drain(n, MSG_DONTWAIT);
                        pthread_mutex_unlock(&n->lock);
                        if (!ok)
                                break;
                }
                if (fds[1].revents)
                        break;
        }
        net_log_drain(n);
        return NULL;
}

void net_log_drain(struct net_run *n)
{
        drain(n, MSG_DONTWAIT);
}

static void ct_tuple(const struct nlattr *a, struct wh_net_conn *c)
{
        const struct nlattr *t[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];
        if (nested(a, t, CTA_TUPLE_MAX) < 0 || nested(t[CTA_TUPLE_IP], ip, CTA_IP_MAX) < 0 ||
            nested(t[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX) < 0)
                return;
        if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST]) {
                c->src.family = c->dst.family = AF_INET;
                memcpy(c->src.bytes, NLA_PAYLOAD(ip[CTA_IP_V4_SRC]), 4);
                memcpy(c->dst.bytes, NLA_PAYLOAD(ip[CTA_IP_V4_DST]), 4);
        } else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST]) {
                c->src.family = c->dst.family = AF_INET6;
                memcpy(c->src.bytes, NLA_PAYLOAD(ip[CTA_IP_V6_SRC]), 16);
                memcpy(c->dst.bytes, NLA_PAYLOAD(ip[CTA_IP_V6_DST]), 16);
        }
        if (pr[CTA_PROTO_NUM])
                c->proto = *(uint8_t *)NLA_PAYLOAD(pr[CTA_PROTO_NUM]);
        if (pr[CTA_PROTO_SRC_PORT])
                c->sport = ntohs(*(uint16_t *)NLA_PAYLOAD(pr[CTA_PROTO_SRC_PORT]));
        if (pr[CTA_PROTO_DST_PORT])
                c->dport = ntohs(*(uint16_t *)NLA_PAYLOAD(pr[CTA_PROTO_DST_PORT]));
}

static uint64_t ct_bytes(const struct nlattr *a)
{
        const struct nlattr *t[CTA_COUNTERS_MAX + 1];
        if (nested(a, t, CTA_COUNTERS_MAX) < 0 || !t[CTA_COUNTERS_BYTES])
                return 0;
        uint64_t v;
        memcpy(&v, NLA_PAYLOAD(t[CTA_COUNTERS_BYTES]), sizeof(v));
        return be64toh(v);
}

static void ct_entry(struct wh_net_log *log, const struct nlmsghdr *h)
{
        const struct nlattr *tb[CTA_MAX + 1];
        parse_attrs((char *)NLMSG_DATA(h) + sizeof(struct nfgenmsg),
                    (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg)), tb, CTA_MAX);
        struct wh_net_conn c = {0};
        ct_tuple(tb[CTA_TUPLE_ORIG], &c);
        for (size_t i = 0; i < log->n; i++)
                if (log->conns[i].allowed && same_tuple(&log->conns[i], &c)) {
                        log->conns[i].bytes_out = ct_bytes(tb[CTA_COUNTERS_ORIG]);
                        log->conns[i].bytes_in = ct_bytes(tb[CTA_COUNTERS_REPLY]);
                }
}

/* A conntrack request about the entry whose original tuple is c's: false
 * for a protocol whose entries have no ports (not asked about one by one). */
static bool ct_req(struct nlreq *r, int type, int flags, const struct wh_net_conn *c)
{
        if (c->proto != IPPROTO_TCP && c->proto != IPPROTO_UDP)
                return false;
        bool v4 = c->dst.family == AF_INET;
        size_t alen = v4 ? 4 : 16;
        nfnl_req(r, NFNL_SUBSYS_CTNETLINK, type, flags, c->dst.family);
        struct nlattr *tuple = nest_start(r, CTA_TUPLE_ORIG), *ip = nest_start(r, CTA_TUPLE_IP);
        add_attr(r, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, c->src.bytes, alen);
        add_attr(r, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, c->dst.bytes, alen);
        nest_end(r, ip);
        struct nlattr *proto = nest_start(r, CTA_TUPLE_PROTO);
        uint8_t num = c->proto;
        uint16_t sport = htons(c->sport), dport = htons(c->dport);
        add_attr(r, CTA_PROTO_NUM, &num, 1);
        add_attr(r, CTA_PROTO_SRC_PORT, &sport, 2);
        add_attr(r, CTA_PROTO_DST_PORT, &dport, 2);
        nest_end(r, proto);
        nest_end(r, tuple);
        return true;
}

/* The entries of the allowed connections in the log, deleted one by one
 * (a lookup each: a flush, like a dump, walks the kernel's whole conntrack
 * hash, shared by every namespace: ~10 ms here). Every entry the ruleset let
 * be made is an allowed connection it logged (a packet it drops leaves none;
 * the sandbox's own loopback aside), so these are all of the input's - unless
 * the log lost some (past WH_NET_LOG_MAX, or the kernel's ENOBUFS): then the
 * whole table is flushed. */
int net_ct_forget(struct net_run *n)
{
        if (n->log.dropped)
                return net_ct_flush(n);
        for (size_t i = 0; i < n->log.n; i++) {
                const struct wh_net_conn *c = &n->log.conns[i];
                struct nlreq r;
                if (!c->allowed)
                        continue;
                if (!ct_req(&r, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, c))
                        return net_ct_flush(n);
                if (nl_call(n->ct_fd, &r) < 0 && errno != ENOENT)
                        return -1;
        }
        return 0;
}

int net_ct_flush(struct net_run *n)
{
        struct nlreq r;
        /* No tuple: every entry; AF_UNSPEC: of every family. */
        nfnl_req(&r, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, AF_UNSPEC);
        return nl_call(n->ct_fd, &r);
}

/* The kernel answers a reset with the object (its counters before the
 * reset) or an error: one message, so no NLM_F_ACK, whose second message
 * would be left for the next conntrack dump to stop at. */
int net_quota_reset(struct net_run *n)
{
        struct nlreq r;
        nfnl_req(&r, NFNL_SUBSYS_NFTABLES, NFT_MSG_GETOBJ_RESET, 0, NFPROTO_INET);
        add_attr(&r, NFTA_OBJ_TABLE, NET_NFT_TABLE, sizeof(NET_NFT_TABLE));
        add_attr(&r, NFTA_OBJ_NAME, NET_NFT_QUOTA, sizeof(NET_NFT_QUOTA));
        uint32_t type = htonl(NFT_OBJECT_QUOTA);
        add_attr(&r, NFTA_OBJ_TYPE, &type, sizeof(type));
        return nl_call(n->ct_fd, &r);
}

/* Each allowed connection's entry, looked up by its tuple (not a dump: see
 * net_ct_forget); one that conntrack has forgotten keeps 0 bytes. */
void net_log_add_bytes(struct net_run *n)
{
        for (size_t i = 0; i < n->log.n; i++) {
                struct nlreq r;
                char buf[4096];
                if (!n->log.conns[i].allowed ||
                    !ct_req(&r, IPCTNL_MSG_CT_GET, 0, &n->log.conns[i]) ||
                    nl_ask(n->ct_fd, &r, buf, sizeof(buf)) < 0)
                        continue;
                const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
                if ((h->nlmsg_type & 0xff) == IPCTNL_MSG_CT_NEW)
                        ct_entry(&n->log, h);
        }
}
