/* The nftables ruleset of a WH_NET_ALLOW sandbox, installed in its own
 * network namespace before the payload exists. Output: the sandbox's own
 * loopback, replies, and new connections whose (destination, protocol, port)
 * is in the allow sets, each logged to NFLOG as "allowed"; everything else
 * logged as "refused" and rejected. Input: loopback and replies only. The
 * limits: connections open at once (ct count), bytes both ways (quota) and
 * bytes per second both ways (a limit over which packets are dropped: TCP
 * backs off to the rate). */
#define _GNU_SOURCE
#include "sandbox/net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* Neighbour discovery the sandbox sends: only on its own link (link-local,
 * link-scope multicast, the user-mode network), so it leads nowhere else. */
#define NDP_OUT                                                                                    \
        "ip6 daddr { fe80::/10, ff02::/16, " NET_SLIRP_CIDR6 "} icmpv6 type { "                    \
        "nd-neighbor-solicit, nd-router-solicit, nd-neighbor-advert }"

static void elements(FILE *f, const struct wh_net_policy *p, int family)
{
        const char *sep = "";
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct wh_net_rule *r = &p->rules[i];
                if (r->addr.family != family)
                        continue;
                char addr[INET6_ADDRSTRLEN];
                inet_ntop(family, r->addr.bytes, addr, sizeof(addr));
                static const char *const protos[] = {"tcp", "udp"};
                for (unsigned k = 0; k < 2; k++) {
                        if (!(r->protos & (1u << k)))
                                continue;
                        fprintf(f, "%s%s/%u . %s . %u-%u", sep, addr, r->prefix, protos[k],
                                r->port_lo, r->port_hi);
                        sep = ", ";
                }
        }
}

/* The allow set of family. */
static void allow_set(FILE *f, const struct wh_net_policy *p, int family)
{
        bool any = false;
        for (size_t i = 0; i < p->n_rules; i++)
                any |= p->rules[i].addr.family == family;
        fprintf(f, "  set allow%c { type %s . inet_proto . inet_service; flags interval;\n",
                family == AF_INET ? '4' : '6', family == AF_INET ? "ipv4_addr" : "ipv6_addr");
        if (any) {
                fputs("    elements = { ", f);
                elements(f, p, family);
                fputs(" }\n", f);
        }
        fputs("  }\n", f);
}

/* With raw sockets (net_raw.c): a packet socket's frames skip the output
 * chain, so the interface's egress hook checks every frame against the allow
 * set again. ARP and neighbour discovery (to the user-mode stack's gateway)
 * pass; ICMP errors the kernel sends about allowed connections are dropped
 * unlogged, as are the kernel's MLD reports; the rest is logged and dropped.
 * The limits are not repeated here: a program writing its own frames to a
 * listed destination is not counted by them. */
static void link_table(FILE *f, const struct wh_net_policy *p)
{
        fputs("table netdev whiskers_link {\n", f);
        allow_set(f, p, AF_INET);
        allow_set(f, p, AF_INET6);
        fprintf(f,
                "  chain egress {\n"
                "    type filter hook egress device \"" NET_IFNAME "\" priority 0; policy drop;\n"
                "    meta protocol arp accept\n"
                "    meta protocol ip ip daddr . meta l4proto . th dport @allow4 accept\n"
                "    meta protocol ip6 ip6 daddr . meta l4proto . th dport @allow6 accept\n"
                "    icmp type { destination-unreachable, time-exceeded, parameter-problem } drop\n"
                "    icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
                "parameter-problem } drop\n"
                "    " NDP_OUT " accept\n"
                "    icmpv6 type { mld-listener-report, mld2-listener-report } drop\n"
                "    log group %d prefix \"" NET_LOG_LINK "\" drop\n"
                "  }\n}\n",
                NET_NFLOG_GROUP);
}

char *net_nft_ruleset(const struct wh_net_policy *p)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        const struct wh_net_limits *l = &p->limits;
        fputs("table inet whiskers {\n", f);
        allow_set(f, p, AF_INET);
        allow_set(f, p, AF_INET6);
        if (l->max_connections)
                fputs("  set conns { typeof ct zone; size 1; flags dynamic; }\n", f);
        if (l->max_bytes)
                fprintf(f, "  quota total { over %llu bytes }\n", (unsigned long long)l->max_bytes);
        if (l->max_rate) /* a second's worth of burst: a slow start is not cut */
                fprintf(f, "  limit rate_total { rate over %llu bytes/second burst %llu bytes }\n",
                        (unsigned long long)l->max_rate, (unsigned long long)l->max_rate);
        fputs("  chain output {\n"
              "    type filter hook output priority 0; policy drop;\n"
              "    oif lo accept\n",
              f);
        if (l->max_rate)
                fputs("    limit name \"rate_total\" drop\n", f);
        if (l->max_bytes)
                fprintf(f, "    quota name \"total\" log group %d prefix \"refused-bytes\" drop\n",
                        NET_NFLOG_GROUP);
        fputs("    ct state established,related accept\n", f);
        /* A TCP packet new to conntrack that is no SYN opens nothing: in a
         * warm sandbox, a socket of an earlier input that outlived it, after
         * conntrack forgot it (net_run.c: net_run_take). Dropped unlogged,
         * so it is not taken for the next input's connection. */
        fputs("    ct state new tcp flags & (fin|syn|rst|ack) != syn drop\n", f);
        for (int i = 0; i < 2; i++) {
                const char *match = i == 0 ? "ip daddr . meta l4proto . th dport @allow4"
                                           : "ip6 daddr . meta l4proto . th dport @allow6";
                if (l->max_connections)
                        fprintf(f,
                                "    ct state new %s add @conns { ct zone ct count over %u } "
                                "log group %d prefix \"refused-conns\" drop\n",
                                match, l->max_connections, NET_NFLOG_GROUP);
                fprintf(f, "    ct state new %s log group %d prefix \"allowed\" accept\n", match,
                        NET_NFLOG_GROUP);
        }
        /* Neighbour discovery, without which no IPv6 packet leaves. */
        fputs("    " NDP_OUT " accept\n", f);
        /* The kernel's own multicast listener reports, not the payload's. */
        fputs("    icmpv6 type { mld-listener-report, mld2-listener-report } drop\n", f);
        /* Rejected, not dropped: the program's connect() or send() fails at
         * once ("administratively prohibited": EHOSTUNREACH, EACCES for IPv6)
         * instead of waiting for a SYN that will never be answered. */
        fprintf(f,
                "    log group %d prefix \"refused\" reject with icmpx type admin-prohibited\n"
                "  }\n",
                NET_NFLOG_GROUP);
        fputs("  chain input {\n"
              "    type filter hook input priority 0; policy drop;\n"
              "    iif lo accept\n",
              f);
        if (l->max_rate)
                fputs("    limit name \"rate_total\" drop\n", f);
        if (l->max_bytes)
                fputs("    quota name \"total\" drop\n", f);
        fputs("    ct state established,related accept\n"
              "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } "
              "accept\n"
              "  }\n}\n",
              f);
        if (p->raw_sockets)
                link_table(f, p);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
