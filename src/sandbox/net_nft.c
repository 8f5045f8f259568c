/* The nftables ruleset of a WH_NET_ALLOW sandbox, installed in its own
 * network namespace before the payload exists. Output: the sandbox's own
 * loopback, replies, and new connections whose (destination, protocol, port)
 * is in the allow sets, each logged to NFLOG as "allowed"; everything else
 * logged as "refused" and rejected. Input: loopback and replies only. The
 * limits: connections open at once (ct count), bytes both ways (quota) and
 * bytes per second both ways (a limit over which packets are dropped: TCP
 * backs off to the rate). With raw sockets the byte and rate budget moves to
 * the interface, where frames written below the IP stack are seen too
 * (link_table). */
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

/* The byte and rate budget: named objects, which nftables keeps per table,
 * so the budget lives in one table: the inet one, or with raw sockets the
 * interface's (every frame in or out, from the IP stack or not). Packets
 * over it are dropped; outgoing ones are logged as refused with the limit's
 * name (at most NET_LOG_LIMIT_PER_S a second: a flood past a limit must not
 * cost the supervisor a log message per packet). */
static void budget_objects(FILE *f, const struct wh_net_limits *l, const char *refused)
{
        if (l->max_bytes)
                fprintf(f, "  quota total { over %llu bytes }\n", (unsigned long long)l->max_bytes);
        if (l->max_rate) /* a second's worth of burst: a slow start is not cut */
                fprintf(f, "  limit rate_total { rate over %llu bytes/second burst %llu bytes }\n",
                        (unsigned long long)l->max_rate, (unsigned long long)l->max_rate);
        static const char *const names[] = {"bytes", "rate", "conns"};
        const bool set[] = {l->max_bytes, l->max_rate, l->max_connections};
        for (int i = 0; i < 3; i++)
                if (set[i])
                        fprintf(f,
                                "  chain over_%s {\n"
                                "    limit rate %d/second burst %d packets log group %d prefix "
                                "\"%s-%s\"\n"
                                "    drop\n  }\n",
                                names[i], NET_LOG_LIMIT_PER_S, NET_LOG_LIMIT_PER_S, NET_NFLOG_GROUP,
                                refused, names[i]);
}

static void budget_rules(FILE *f, const struct wh_net_limits *l, bool outgoing)
{
        if (l->max_rate)
                fprintf(f, "    limit name \"rate_total\" %s\n",
                        outgoing ? "jump over_rate" : "drop");
        if (l->max_bytes)
                fprintf(f, "    quota name \"total\" %s\n", outgoing ? "jump over_bytes" : "drop");
}

/* With raw sockets (net_raw.c): a packet socket's frames skip the output
 * chain (and conntrack), so the interface's egress hook checks every frame
 * against the allow sets again, and keeps the whole byte and rate budget
 * (budget_objects). Connections: a frame written below the IP stack makes no
 * conntrack entry for ct count to see, so every flow — (destination,
 * protocol, port) — a frame goes out to holds one of max_connections places
 * (per address family) until about two seconds after an answer comes back
 * from it (a second's timeout, then the set's next collection) or,
 * unanswered, NET_RAW_FLOW_TIMEOUT after the last frame to it: a SYN scan may
 * have that many probes waiting at once. An ICMP error is not taken for an
 * answer. A frame to a new flow with the places taken is logged as refused
 * ("conns") and dropped. ARP and neighbour discovery (to the user-mode
 * stack's gateway) pass, within the budget; ICMP errors the kernel sends
 * about allowed connections are dropped unlogged, as are the kernel's MLD
 * reports; the rest is logged and dropped. */
static void link_table(FILE *f, const struct wh_net_policy *p)
{
        const struct wh_net_limits *l = &p->limits;
        static const char *const family[] = {"ip", "ip6"};
        fputs("table netdev whiskers_link {\n", f);
        allow_set(f, p, AF_INET);
        allow_set(f, p, AF_INET6);
        for (int i = 0; i < 2 && l->max_connections; i++)
                fprintf(f,
                        "  set flows%c { type %s . inet_proto . inet_service; size %u;\n"
                        "    flags dynamic,timeout; timeout %ds; gc-interval 1s; }\n",
                        i ? '6' : '4', i ? "ipv6_addr" : "ipv4_addr", l->max_connections,
                        NET_RAW_FLOW_TIMEOUT);
        budget_objects(f, l, NET_LOG_LINK);
        fputs("  chain egress {\n"
              "    type filter hook egress device \"" NET_IFNAME "\" priority 0; policy drop;\n",
              f);
        budget_rules(f, l, true);
        fputs("    meta protocol arp accept\n", f);
        for (int i = 0; i < 2; i++) {
                char v = i ? '6' : '4';
                fprintf(f, "    meta protocol %s %s daddr . meta l4proto . th dport @allow%c ",
                        family[i], family[i], v);
                if (!l->max_connections) {
                        fputs("accept\n", f);
                        continue;
                }
                fprintf(f,
                        "update @flows%c { %s daddr . meta l4proto . th dport } accept\n"
                        "    meta protocol %s %s daddr . meta l4proto . th dport @allow%c "
                        "jump over_conns\n",
                        v, family[i], family[i], family[i], v);
        }
        fprintf(f,
                "    icmp type { destination-unreachable, time-exceeded, parameter-problem } drop\n"
                "    icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
                "parameter-problem } drop\n"
                "    " NDP_OUT " accept\n"
                "    icmpv6 type { mld-listener-report, mld2-listener-report } drop\n"
                "    log group %d prefix \"" NET_LOG_LINK "\" drop\n"
                "  }\n",
                NET_NFLOG_GROUP);
        fputs("  chain ingress {\n"
              "    type filter hook ingress device \"" NET_IFNAME "\" priority 0; policy accept;\n",
              f);
        budget_rules(f, l, false);
        /* An answer from a flow that is held: its place is free a second
         * later (unless the program writes to it again). Looked up first: an
         * update would add what is not there, such as an ICMP error. */
        for (int i = 0; i < 2 && l->max_connections; i++)
                fprintf(f,
                        "    meta protocol %s %s saddr . meta l4proto . th sport @flows%c "
                        "update @flows%c { %s saddr . meta l4proto . th sport timeout 1s }\n",
                        family[i], family[i], i ? '6' : '4', i ? '6' : '4', family[i]);
        fputs("  }\n}\n", f);
}

char *net_nft_ruleset(const struct wh_net_policy *p)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        const struct wh_net_limits *l = &p->limits;
        /* With raw sockets the byte and rate budget is the interface's (link_table). */
        struct wh_net_limits budget = *l;
        if (p->raw_sockets)
                budget.max_bytes = budget.max_rate = 0;
        fputs("table inet whiskers {\n", f);
        allow_set(f, p, AF_INET);
        allow_set(f, p, AF_INET6);
        if (l->max_connections)
                fputs("  set conns { typeof ct zone; size 1; flags dynamic; }\n", f);
        budget_objects(f, &budget, "refused");
        fputs("  chain output {\n"
              "    type filter hook output priority 0; policy drop;\n"
              "    oif lo accept\n",
              f);
        budget_rules(f, &budget, true);
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
                                "jump over_conns\n",
                                match, l->max_connections);
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
        budget_rules(f, &budget, false);
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
