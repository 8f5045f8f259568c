/* The egress policy (whiskers/net.h): parsing --net-allow, resolving and
 * pinning host names outside the sandbox, and refusing addresses no run may
 * ever reach, before anything runs. */
#define _GNU_SOURCE
#include <whiskers/net.h>
#include "sandbox/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Never reachable, whatever the policy says. */
static const struct {
        const char *cidr, *why;
} forbidden[] = {
    {"0.0.0.0/8", "the unspecified network (0.0.0.0/8: this host)"},
    {"127.0.0.0/8", "loopback (127.0.0.0/8: this host)"},
    {"169.254.0.0/16", "link-local (169.254.0.0/16: cloud metadata at 169.254.169.254)"},
    {"224.0.0.0/4", "multicast (224.0.0.0/4)"},
    {"240.0.0.0/4", "reserved or broadcast (240.0.0.0/4)"},
    {"::/128", "the unspecified address (::)"},
    {"::1/128", "loopback (::1: this host)"},
    {"::ffff:0:0/96", "IPv4-mapped IPv6 (::ffff:0:0/96): list the IPv4 address"},
    {"::/96", "IPv4-compatible IPv6 (::/96, deprecated): list the IPv4 address"},
    {"64:ff9b::/96", "IPv4 through NAT64 (64:ff9b::/96): list the IPv4 address"},
    {"64:ff9b:1::/48", "IPv4 through a local NAT64 (64:ff9b:1::/48): list the IPv4 address"},
    {"2002::/16", "IPv4 through 6to4 (2002::/16): list the IPv4 address"},
    {"2001::/32", "IPv4 through Teredo (2001::/32): list the IPv4 address"},
    {"fe80::/10", "link-local (fe80::/10)"},
    {"fd00:ec2::254/128", "cloud metadata (fd00:ec2::254)"},
    {"ff00::/8", "multicast (ff00::/8)"},
    {NET_SLIRP_CIDR, "whiskers' user-mode network (100.127.255.0/24: its gateway is the host)"},
    {NET_SLIRP_CIDR6, "whiskers' user-mode network (fd00::/64: its gateway is the host)"},
};

static int parse_addr(const char *text, struct wh_net_addr *a)
{
        memset(a, 0, sizeof(*a));
        if (inet_pton(AF_INET, text, a->bytes) == 1)
                a->family = AF_INET;
        else if (inet_pton(AF_INET6, text, a->bytes) == 1)
                a->family = AF_INET6;
        else
                return -1;
        return 0;
}

static unsigned max_prefix(int family)
{
        return family == AF_INET ? 32 : 128;
}

/* Do a/pa and b/pb share an address? One contains the other's network. */
static bool overlaps(const struct wh_net_addr *a, unsigned pa, const struct wh_net_addr *b,
                     unsigned pb)
{
        if (a->family != b->family)
                return false;
        unsigned bits = pa < pb ? pa : pb;
        for (unsigned i = 0; i < bits; i++) {
                unsigned byte = i / 8, mask = 0x80u >> (i % 8);
                if ((a->bytes[byte] & mask) != (b->bytes[byte] & mask))
                        return false;
        }
        return true;
}

/* The reason a/prefix may not be listed, in why; NULL when it may. */
static const char *range_forbidden(const struct wh_net_addr *a, unsigned prefix, char *why,
                                   size_t why_len)
{
        for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
                char net[64];
                snprintf(net, sizeof(net), "%s", forbidden[i].cidr);
                char *slash = strchr(net, '/');
                *slash = '\0';
                struct wh_net_addr f;
                parse_addr(net, &f);
                if (overlaps(a, prefix, &f, (unsigned)atoi(slash + 1))) {
                        snprintf(why, why_len, "%s", forbidden[i].why);
                        return why;
                }
        }
        struct ifaddrs *ifs = NULL;
        if (getifaddrs(&ifs) < 0) {
                snprintf(why, why_len, "this host's addresses cannot be listed to rule them out");
                return why;
        }
        const char *found = NULL;
        for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
                if (!i->ifa_addr ||
                    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
                        continue;
                struct wh_net_addr h = {.family = i->ifa_addr->sa_family};
                if (h.family == AF_INET)
                        memcpy(h.bytes, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
                else
                        memcpy(h.bytes, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
                if (overlaps(a, prefix, &h, max_prefix(h.family))) {
                        char text[INET6_ADDRSTRLEN];
                        inet_ntop(h.family, h.bytes, text, sizeof(text));
                        snprintf(why, why_len, "an address of this host (%s on %s)", text,
                                 i->ifa_name);
                        found = why;
                }
        }
        freeifaddrs(ifs);
        return found;
}

const char *wh_net_addr_forbidden(const struct wh_net_addr *addr, char *why, size_t why_len)
{
        return range_forbidden(addr, max_prefix(addr->family), why, why_len);
}

int wh_net_policy_new(struct wh_net_policy **out, struct wh_err *err)
{
        *out = calloc(1, sizeof(**out));
        if (!*out)
                return wh_err_set(err, ENOMEM, "net-policy", "allocating the network policy");
        (*out)->limits.max_connections = WH_NET_DEFAULT_MAX_CONNECTIONS;
        return 0;
}

void wh_net_policy_free(struct wh_net_policy *p)
{
        if (!p)
                return;
        free(p->rules);
        free(p->pins);
        free(p);
}

static int add_rule(struct wh_net_policy *p, const struct wh_net_rule *r, struct wh_err *err)
{
        char why[160], text[INET6_ADDRSTRLEN];
        inet_ntop(r->addr.family, r->addr.bytes, text, sizeof(text));
        if (range_forbidden(&r->addr, r->prefix, why, sizeof(why)))
                return wh_err_set(err, 0, "net-policy",
                                  "%s%s%s/%u may never be reached: it is or holds %s; remove it "
                                  "from the allowlist",
                                  r->host, r->host[0] ? " -> " : "", text, r->prefix, why);
        struct wh_net_rule *rules = reallocarray(p->rules, p->n_rules + 1, sizeof(*rules));
        if (!rules)
                return wh_err_set(err, ENOMEM, "net-policy", "allocating a rule");
        p->rules = rules;
        p->rules[p->n_rules++] = *r;
        return 0;
}

int wh_net_policy_add_cidr(struct wh_net_policy *p, const char *cidr, uint16_t port_lo,
                           uint16_t port_hi, unsigned protos, struct wh_err *err)
{
        char text[64];
        if (snprintf(text, sizeof(text), "%s", cidr) >= (int)sizeof(text))
                return wh_err_set(err, EINVAL, "net-policy", "'%.64s...' is not an address", cidr);
        struct wh_net_rule r = {.port_lo = port_lo, .port_hi = port_hi, .protos = protos};
        char *slash = strchr(text, '/');
        if (slash)
                *slash = '\0';
        if (parse_addr(text, &r.addr) < 0)
                return wh_err_set(err, EINVAL, "net-policy", "'%s' is not an IP address", cidr);
        r.prefix = max_prefix(r.addr.family);
        if (slash) {
                char *end;
                unsigned long n = strtoul(slash + 1, &end, 10);
                if (!slash[1] || *end || n > r.prefix)
                        return wh_err_set(err, EINVAL, "net-policy",
                                          "'%s': the prefix length must be 0-%u", cidr, r.prefix);
                r.prefix = (unsigned)n;
        }
        for (unsigned i = r.prefix; i < max_prefix(r.addr.family); i++)
                if (r.addr.bytes[i / 8] & (0x80u >> (i % 8)))
                        return wh_err_set(err, EINVAL, "net-policy",
                                          "'%s' has host bits set: write the network address",
                                          cidr);
        if (!port_lo || port_lo > port_hi || !protos || protos & ~(WH_NET_TCP | WH_NET_UDP))
                return wh_err_set(err, EINVAL, "net-policy", "'%s': bad ports or protocol", cidr);
        return add_rule(p, &r, err);
}

int wh_net_policy_add_host(struct wh_net_policy *p, const char *host, uint16_t port_lo,
                           uint16_t port_hi, unsigned protos, struct wh_err *err)
{
        if (strlen(host) >= WH_NET_HOST_MAX)
                return wh_err_set(err, ENAMETOOLONG, "net-policy", "host name of %zu bytes",
                                  strlen(host));
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc != 0)
                return wh_err_set(err, rc == EAI_SYSTEM ? errno : ENOENT, "net-policy",
                                  "host '%s' does not resolve: %s", host, gai_strerror(rc));
        size_t first = p->n_rules;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                struct wh_net_rule r = {
                    .port_lo = port_lo, .port_hi = port_hi, .protos = protos, .prefix = 32};
                r.addr.family = ai->ai_family;
                if (ai->ai_family == AF_INET)
                        memcpy(r.addr.bytes, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
                else if (ai->ai_family == AF_INET6) {
                        memcpy(r.addr.bytes, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
                        r.prefix = 128;
                } else
                        continue;
                snprintf(r.host, sizeof(r.host), "%s", host);
                struct wh_net_pin *pins = reallocarray(p->pins, p->n_pins + 1, sizeof(*pins));
                if (!pins || add_rule(p, &r, err) < 0) {
                        if (pins)
                                p->pins = pins;
                        else
                                wh_err_set(err, ENOMEM, "net-policy", "allocating a pin");
                        freeaddrinfo(res);
                        return -1;
                }
                p->pins = pins;
                p->pins[p->n_pins] = (struct wh_net_pin){.addr = r.addr};
                snprintf(p->pins[p->n_pins++].name, WH_NET_HOST_MAX, "%s", host);
        }
        freeaddrinfo(res);
        if (p->n_rules == first)
                return wh_err_set(err, ENOENT, "net-policy", "host '%s' has no IP address", host);
        return 0;
}

static int parse_port(const char *text, const char *item, uint16_t *out, struct wh_err *err)
{
        char *end;
        unsigned long n = strtoul(text, &end, 10);
        if (!*text || *end || n < 1 || n > 65535)
                return wh_err_set(err, EINVAL, "net-policy",
                                  "'%s': ports are 1-65535 (N, N-M or *)", item);
        *out = (uint16_t)n;
        return 0;
}

/* "PORTS[/PROTO]" of one item. */
static int parse_ports(char *text, const char *item, uint16_t *lo, uint16_t *hi, unsigned *protos,
                       struct wh_err *err)
{
        *protos = WH_NET_TCP;
        char *slash = strchr(text, '/');
        if (slash) {
                *slash++ = '\0';
                if (strcmp(slash, "tcp") == 0)
                        *protos = WH_NET_TCP;
                else if (strcmp(slash, "udp") == 0)
                        *protos = WH_NET_UDP;
                else if (strcmp(slash, "both") == 0)
                        *protos = WH_NET_TCP | WH_NET_UDP;
                else
                        return wh_err_set(err, EINVAL, "net-policy",
                                          "'%s': the protocol is tcp, udp or both", item);
        }
        if (strcmp(text, "*") == 0) {
                *lo = 1, *hi = 65535;
                return 0;
        }
        char *dash = strchr(text, '-');
        if (dash)
                *dash = '\0';
        if (parse_port(text, item, lo, err) < 0 ||
            parse_port(dash ? dash + 1 : text, item, hi, err) < 0)
                return -1;
        if (*lo > *hi)
                return wh_err_set(err, EINVAL, "net-policy", "'%s': an empty port range", item);
        return 0;
}

int wh_net_policy_add(struct wh_net_policy *p, const char *item, struct wh_err *err)
{
        if (strcmp(item, "raw") == 0) {
                p->raw_sockets = true;
                return 0;
        }
        char buf[WH_NET_HOST_MAX + 32];
        if (snprintf(buf, sizeof(buf), "%s", item) >= (int)sizeof(buf))
                return wh_err_set(err, ENAMETOOLONG, "net-policy", "'%.40s...' is too long", item);
        char *target = buf, *ports;
        if (buf[0] == '[') { /* [IPv6] or [IPv6/len] */
                char *close = strchr(buf, ']');
                if (!close || close[1] != ':')
                        return wh_err_set(err, EINVAL, "net-policy",
                                          "'%s': write an IPv6 target as [ADDR]:PORTS", item);
                *close = '\0';
                target = buf + 1, ports = close + 2;
        } else {
                char *colon = strrchr(buf, ':');
                if (!colon || colon == buf || strchr(buf, ':') != colon)
                        return wh_err_set(err, EINVAL, "net-policy",
                                          "'%s' must be TARGET:PORTS[/tcp|udp|both]", item);
                *colon = '\0';
                ports = colon + 1;
        }
        uint16_t lo, hi;
        unsigned protos;
        if (parse_ports(ports, item, &lo, &hi, &protos, err) < 0)
                return -1;
        struct wh_net_addr a;
        if (buf[0] == '[' || strchr(target, '/') || parse_addr(target, &a) == 0)
                return wh_net_policy_add_cidr(p, target, lo, hi, protos, err);
        return wh_net_policy_add_host(p, target, lo, hi, protos, err);
}

int wh_net_policy_parse(const char *spec, struct wh_net_policy **out, struct wh_err *err)
{
        struct wh_net_policy *p;
        if (wh_net_policy_new(&p, err) < 0)
                return -1;
        const char *s = spec;
        while (*s) {
                size_t len = strcspn(s, ",");
                char item[WH_NET_HOST_MAX + 32];
                if (len == 0 || len >= sizeof(item)) {
                        wh_net_policy_free(p);
                        return wh_err_set(err, EINVAL, "net-policy",
                                          len ? "an item of --net-allow is too long"
                                              : "an empty item in --net-allow");
                }
                memcpy(item, s, len);
                item[len] = '\0';
                if (wh_net_policy_add(p, item, err) < 0) {
                        wh_net_policy_free(p);
                        return -1;
                }
                s += len + (s[len] == ',');
        }
        *out = p;
        return 0;
}
