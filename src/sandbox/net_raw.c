/* Raw sockets for a WH_NET_ALLOW run whose policy has the item "raw"
 * (nmap's SYN scan sends through a raw IP socket and reads the answers with
 * libpcap, an AF_PACKET socket). Three parts make them:
 *   - CAP_NET_RAW kept in the sandbox's own user namespace (privs.c);
 *   - the seccomp policy below: the built-in default plus raw IP and packet
 *     sockets and route netlink sockets (a caller's own policy file is used as it is: it says
 * itself what it allows);
 *   - the ruleset (net_nft.c): raw IP sockets pass the same output chain as
 *     every other packet; a packet socket's frames skip it, so a second
 *     chain on the interface's egress hook checks every frame against the
 *     allow set again. */
#define _GNU_SOURCE
#include "sandbox/net.h"
#include "sandbox/seccomp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char raw_rules[] = "\n# --net-allow raw: raw IP and packet sockets (net_raw.c)\n"
                                "allow socket arg0 == AF_INET arg1 & 0xf == SOCK_RAW\n"
                                "allow socket arg0 == AF_INET6 arg1 & 0xf == SOCK_RAW\n"
                                "allow socket arg0 == AF_PACKET\n"
                                "# nmap asks the kernel for its route (NETLINK_ROUTE, read-only\n"
                                "# without CAP_NET_ADMIN)\n"
                                "allow socket arg0 == AF_NETLINK arg2 == 0\n";

int net_seccomp_load(const struct wh_sandbox_config *c, struct wh_seccomp_policy **out,
                     struct wh_err *err)
{
        bool raw = c->net == WH_NET_ALLOW && c->net_policy->raw_sockets;
        if (!raw || c->seccomp_policy)
                return wh_seccomp_policy_load_compiled(c->seccomp_policy, out, err);
        char *text = NULL;
        if (asprintf(&text, "%s%s", wh_seccomp_default_policy, raw_rules) < 0)
                return wh_err_set(err, ENOMEM, "seccomp-policy", "allocating the policy");
        int rc = wh_seccomp_policy_parse_compiled("built-in default policy with raw sockets", text,
                                                  out, err);
        free(text);
        return rc;
}
