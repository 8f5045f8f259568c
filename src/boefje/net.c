/* The network a boefje job gets (docs/boefjes.md "Network"): an egress
 * allowlist (whiskers/net.h) made of
 *
 *   the input object   IPAddressV4/V6: that address, every port, TCP and UDP;
 *                      Hostname: the name, resolved and pinned by the
 *                      supervisor, every port; IPPort: that address and port,
 *                      its protocol
 *   the manifest       "x-whiskers-network": the items it needs, in --net-allow
 *                      syntax, "input" for the above; absent: "input" only
 *                      (OpenKAT's boefjes scan their input), [] : nothing
 *   the caller         wh_boefje_input.net_allow, the same syntax; net_no_input
 *                      drops "input"
 *
 * where "${NAME}" as an item's whole target is the setting NAME (kat_dns's
 * resolver is its setting REMOTE_NS: "${REMOTE_NS}:53/both"). Each item is
 * recorded with where it came from in the provenance: a setting named in the
 * allowlist is visible there, the others never are. No item at all: no
 * network. */
#define _GNU_SOURCE
#include "boefje/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One address of the family (AF_UNSPEC: either), not a network: the input
 * object's address becomes an allowlist item, where "10.0.0.0/8" would
 * open a whole network to a scan of one address. */
static bool one_address(const char *a, int family)
{
        unsigned char bytes[16];
        return a && ((family != AF_INET6 && inet_pton(AF_INET, a, bytes) == 1) ||
                     (family != AF_INET && inet_pton(AF_INET6, a, bytes) == 1));
}

/* A DNS name (letters, digits, '-', '_', '.'; an IDN in its xn-- form):
 * nothing an allowlist item reads as an address, a network or ports. */
static bool host_name(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
                        return false;
        return true;
}

/* item with its ${NAME} replaced by the setting NAME, which may only be
 * the whole target ("${REMOTE_NS}:53/both") and hold one address (an IPv6
 * one gets its brackets) or host name. Inside a longer name
 * ("${API_KEY}.example.net:443") the supervisor's resolver would send the
 * setting to that domain's name servers before anything runs; a network or
 * ports in the value would widen the item. NULL with err set. */
static char *expand(const char *item, json_t *env, struct wh_err *err)
{
        const char *open = strstr(item, "${"), *close = open ? strchr(open, '}') : NULL;
        char *out = NULL;
        if (!open) {
                if (!(out = strdup(item)))
                        wh_err_set(err, ENOMEM, "net", "out of memory");
                return out;
        }
        if (open != item || !close || close[1] != ':' || strstr(close, "${"))
                return wh_err_set(err, 0, "net",
                                  "the network item '%s': a setting can only be its whole "
                                  "target, '${NAME}:PORTS'",
                                  item),
                       NULL;
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(close - open - 2), open + 2);
        const char *value = json_string_value(json_object_get(env, name));
        if (!value)
                return wh_err_set(err, 0, "net",
                                  "the network item '%s' names the setting %s, which is not set",
                                  item, name),
                       NULL;
        bool v6 = one_address(value, AF_INET6);
        if (!v6 && !one_address(value, AF_INET) && !host_name(value))
                return wh_err_set(err, 0, "net",
                                  "the setting %s of the network item '%s' is not one address or "
                                  "host name; the value is not shown",
                                  name, item),
                       NULL;
        if (asprintf(&out, v6 ? "[%s]%s" : "%s%s", value, close + 1) < 0)
                return wh_err_set(err, ENOMEM, "net", "out of memory"), NULL;
        return out;
}

static int add_item(struct wh_net_policy *p, json_t *record, const char *item, const char *from,
                    struct wh_err *err)
{
        if (wh_net_policy_add(p, item, err) < 0)
                return wh_err_prefix(err, "network item from the %s", from);
        json_array_append_new(record, json_pack("{s:s, s:s}", "allow", item, "from", from));
        return 0;
}

static int not_target(const char *type, const char *what, const char *value, struct wh_err *err)
{
        return wh_err_set(err, 0, "net",
                          "the input object (%s) has %.200s%s%s, not %s: it cannot be the "
                          "scan's target",
                          type, value ? "'" : "no address", value ? value : "", value ? "'" : "",
                          what);
}

/* The input object's own address: what a scan of it may reach. */
static int from_input(struct wh_net_policy *p, json_t *record, json_t *ooi, struct wh_err *err)
{
        const char *type = json_string_value(json_object_get(ooi, "object_type"));
        char item[WH_NET_HOST_MAX + 64];
        if (!type)
                return 0;
        if (strcmp(type, "IPAddressV4") == 0 || strcmp(type, "IPAddressV6") == 0) {
                const char *a = json_string_value(json_object_get(ooi, "address"));
                bool v6 = strcmp(type, "IPAddressV6") == 0;
                if (!one_address(a, v6 ? AF_INET6 : AF_INET))
                        return not_target(type, v6 ? "one IPv6 address" : "one IPv4 address", a,
                                          err);
                snprintf(item, sizeof(item), v6 ? "[%s]:*/both" : "%s:*/both", a);
        } else if (strcmp(type, "Hostname") == 0) {
                const char *name = json_string_value(json_object_get(ooi, "name"));
                if (!host_name(name))
                        return not_target(type,
                                          "a host name (letters, digits, '-', '_', '.'; an "
                                          "IDN in its xn-- form)",
                                          name, err);
                snprintf(item, sizeof(item), "%s:*/both", name);
        } else if (strcmp(type, "IPPort") == 0) {
                const char *a =
                    json_string_value(json_object_get(json_object_get(ooi, "address"), "address"));
                const char *proto = json_string_value(json_object_get(ooi, "protocol"));
                if (!one_address(a, AF_UNSPEC))
                        return not_target(type, "one IP address", a, err);
                bool v6 = strchr(a, ':');
                snprintf(item, sizeof(item), v6 ? "[%s]:%lld/%s" : "%s:%lld/%s", a,
                         (long long)json_integer_value(json_object_get(ooi, "port")),
                         proto && strcmp(proto, "udp") == 0 ? "udp" : "tcp");
        } else {
                return 0; /* a Network, a finding...: nothing to reach */
        }
        return add_item(p, record, item, "input_ooi", err);
}

int boefje_net_policy(const struct wh_boefje *b, const struct wh_boefje_input *in, json_t *env,
                      struct wh_net_policy **out, json_t **record, struct wh_err *err)
{
        struct wh_net_policy *p = NULL;
        json_t *rec = json_array(),
               *declared = json_object_get(b->manifest.json, "x-whiskers-network");
        if (!rec || wh_net_policy_new(&p, err) < 0)
                goto fail;
        if (declared && !json_is_array(declared)) {
                wh_err_set(err, EINVAL, "manifest",
                           "\"x-whiskers-network\" must be an array of --net-allow items");
                goto fail;
        }
        bool input = !declared;
        for (size_t i = 0; i < json_array_size(declared); i++) {
                const char *item = json_string_value(json_array_get(declared, i));
                input |= item && strcmp(item, "input") == 0;
        }
        if (input && !in->net_no_input && from_input(p, rec, in->input_ooi, err) < 0)
                goto fail;
        for (size_t i = 0; i < json_array_size(declared) + in->n_net_allow; i++) {
                bool manifest = i < json_array_size(declared);
                const char *raw = manifest ? json_string_value(json_array_get(declared, i))
                                           : in->net_allow[i - json_array_size(declared)];
                if (manifest && raw && strcmp(raw, "input") == 0)
                        continue;
                char *item = raw ? expand(raw, env, err) : NULL;
                if (!raw)
                        wh_err_set(err, EINVAL, "manifest",
                                   "\"x-whiskers-network\"[%zu] is not a string", i);
                int rc = item ? add_item(p, rec, item, manifest ? "manifest" : "caller", err) : -1;
                free(item);
                if (rc < 0)
                        goto fail;
        }
        if (p->n_rules == 0) { /* nothing to reach: no network at all */
                wh_net_policy_free(p);
                p = NULL;
        }
        *out = p;
        *record = rec;
        return 0;
fail:
        wh_net_policy_free(p);
        json_decref(rec);
        return -1;
}
