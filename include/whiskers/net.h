/* Egress policy of one sandbox (WH_NET_ALLOW): what it may reach, and the
 * connection log it leaves in the status record.
 *
 * A policy is a list of rules (an address or CIDR, a port range, TCP and/or
 * UDP) plus host names the supervisor resolved *outside* the sandbox and
 * pinned: the sandbox resolves those names, only to those addresses, and no
 * other. Everything else is refused. Addresses that are never reachable,
 * listed or not - loopback, link-local (169.254.0.0/16: cloud metadata),
 * unspecified, multicast, broadcast, IPv4-mapped IPv6, and every address of the
 * host's own interfaces - are refused when added, with an error naming them:
 * a policy that holds one is never built (docs/sandbox.md, "Network").
 *
 *   struct wh_net_policy *p;
 *   wh_net_policy_parse("203.0.113.7:443,198.51.100.0/24:53/udp,example.org:80", &p, &err);
 *   config.net = WH_NET_ALLOW; config.net_policy = p;
 *   ... wh_sandbox_new / run ...; wh_net_policy_free(p);
 *
 * The policy must outlive every sandbox built with it. */
#ifndef WHISKERS_NET_H
#define WHISKERS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/error.h>

#define WH_NET_TCP 1u
#define WH_NET_UDP 2u

#define WH_NET_HOST_MAX 254 /* a DNS name: 253 characters and the NUL */

struct wh_net_addr {
        int family;        /* AF_INET or AF_INET6 */
        uint8_t bytes[16]; /* network order; IPv4 in the first 4 */
};

struct wh_net_rule {
        struct wh_net_addr addr; /* host bits zero */
        unsigned prefix;         /* 32 / 128 for one address */
        uint16_t port_lo, port_hi;
        unsigned protos;            /* WH_NET_TCP | WH_NET_UDP */
        char host[WH_NET_HOST_MAX]; /* the name it was resolved from, or "" */
};

/* A name the sandbox's resolver answers, and with what. */
struct wh_net_pin {
        char name[WH_NET_HOST_MAX];
        struct wh_net_addr addr;
};

struct wh_net_limits {
        uint32_t max_connections; /* open at once (conntrack count); 0: unlimited */
        uint64_t max_bytes;       /* both directions, whole run; 0: unlimited */
        uint64_t max_rate;        /* bytes per second, both directions; 0: unlimited */
};

#define WH_NET_DEFAULT_MAX_CONNECTIONS 64

struct wh_net_policy {
        struct wh_net_rule *rules;
        size_t n_rules;
        struct wh_net_pin *pins;
        size_t n_pins;
        struct wh_net_limits limits;
        /* Raw and packet sockets (the item "raw"): the program keeps
         * CAP_NET_RAW in the sandbox's own user namespace, for scanners such
         * as nmap -sS; the ruleset still filters every packet it sends
         * (docs/sandbox.md, "Raw sockets"). */
        bool raw_sockets;
};

/* One connection attempt the sandbox made, allowed or refused: a line of
 * network.connections in the status record. */
struct wh_net_conn {
        uint64_t time_ms; /* Unix time, ms, when the supervisor saw the first packet */
        uint8_t proto;    /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP... */
        bool allowed;
        struct wh_net_addr src, dst;
        uint16_t sport, dport;        /* 0 for protocols without ports */
        uint64_t bytes_out, bytes_in; /* IP bytes (conntrack); refused: bytes_out of the attempt */
        char limit[6]; /* refused by --net-max-LIMIT: "conns", "bytes", "rate"; else "" */
};

#define WH_NET_LOG_MAX 256

struct wh_net_log {
        size_t n;
        uint64_t dropped; /* attempts past WH_NET_LOG_MAX, or lost by the kernel */
        struct wh_net_conn conns[WH_NET_LOG_MAX];
};

/* An empty policy (reaches nothing) with the default limits. */
int wh_net_policy_new(struct wh_net_policy **out, struct wh_err *err);
/* The --net-allow syntax: comma-separated TARGET:PORTS[/PROTO], where TARGET
 * is an IPv4 address or CIDR, [IPv6] or [IPv6/len], or a host name (resolved
 * now, every address pinned); PORTS is N, N-M or * (1-65535); PROTO is tcp
 * (the default), udp or both. The item "raw" allows raw and packet sockets
 * (raw_sockets). Refuses forbidden addresses (above). */
int wh_net_policy_parse(const char *spec, struct wh_net_policy **out, struct wh_err *err);
/* One TARGET:PORTS[/PROTO] item into an existing policy. */
int wh_net_policy_add(struct wh_net_policy *p, const char *item, struct wh_err *err);
/* An address or CIDR (text, IPv6 without brackets) to ports [lo, hi]. */
int wh_net_policy_add_cidr(struct wh_net_policy *p, const char *cidr, uint16_t port_lo,
                           uint16_t port_hi, unsigned protos, struct wh_err *err);
/* A host name: resolved now with the supervisor's resolver; every address
 * becomes a rule to ports [lo, hi] and a pin. A name that does not resolve,
 * or resolves to a forbidden address, is an error. */
int wh_net_policy_add_host(struct wh_net_policy *p, const char *host, uint16_t port_lo,
                           uint16_t port_hi, unsigned protos, struct wh_err *err);
void wh_net_policy_free(struct wh_net_policy *p);

/* Why addr may never be reached ("loopback", "link-local", "an address of
 * this host (eth0)"...), or NULL when it may be listed. */
const char *wh_net_addr_forbidden(const struct wh_net_addr *addr, char *why, size_t why_len);

#endif
