/* --net-allow parsing: the syntax, and the addresses no policy may hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <whiskers/net.h>

static struct wh_net_policy *parse_ok(const char *spec)
{
        struct wh_net_policy *p = NULL;
        struct wh_err err = {0};
        if (wh_net_policy_parse(spec, &p, &err) < 0)
                fail_msg("'%s' refused: %s", spec, err.msg);
        return p;
}

static void parse_fails(const char *spec, const char *msg_part)
{
        struct wh_net_policy *p = NULL;
        struct wh_err err = {0};
        if (wh_net_policy_parse(spec, &p, &err) == 0)
                fail_msg("'%s' was accepted", spec);
        if (!strstr(err.msg, msg_part))
                fail_msg("'%s': message '%s' lacks '%s'", spec, err.msg, msg_part);
        assert_null(p);
}

static void test_syntax(void **state)
{
        (void)state;
        struct wh_net_policy *p =
            parse_ok("203.0.113.7:443,198.51.100.0/24:53/udp,[2001:db8::1]:1-1024/both,"
                     "198.18.0.0/28:*");
        assert_int_equal(p->n_rules, 4);
        assert_int_equal(p->n_pins, 0);
        assert_int_equal(p->rules[0].addr.family, AF_INET);
        assert_int_equal(p->rules[0].prefix, 32);
        assert_int_equal(p->rules[0].port_lo, 443);
        assert_int_equal(p->rules[0].port_hi, 443);
        assert_int_equal(p->rules[0].protos, WH_NET_TCP);
        assert_int_equal(p->rules[1].prefix, 24);
        assert_int_equal(p->rules[1].protos, WH_NET_UDP);
        assert_int_equal(p->rules[2].addr.family, AF_INET6);
        assert_int_equal(p->rules[2].protos, WH_NET_TCP | WH_NET_UDP);
        assert_int_equal(p->rules[2].port_hi, 1024);
        assert_int_equal(p->rules[3].port_lo, 1);
        assert_int_equal(p->rules[3].port_hi, 65535);
        assert_int_equal(p->limits.max_connections, WH_NET_DEFAULT_MAX_CONNECTIONS);
        assert_false(p->raw_sockets);
        wh_net_policy_free(p);
        /* IPv6 next to the ranges refused below: ULA, documentation, global */
        p = parse_ok("[fd77:1::2]:80,[fd01::/16]:80,[2001:db8::/32]:80,[2003::/16]:443");
        assert_int_equal(p->n_rules, 4);
        wh_net_policy_free(p);
        p = parse_ok("");
        assert_int_equal(p->n_rules, 0);
        wh_net_policy_free(p);
        p = parse_ok("203.0.113.7:*,raw"); /* raw sockets: not a destination */
        assert_int_equal(p->n_rules, 1);
        assert_true(p->raw_sockets);
        wh_net_policy_free(p);
}

static void test_bad_syntax(void **state)
{
        (void)state;
        parse_fails("203.0.113.7", "TARGET:PORTS");
        parse_fails("203.0.113.7:0", "1-65535");
        parse_fails("203.0.113.7:70000", "1-65535");
        parse_fails("203.0.113.7:80-20", "empty port range");
        parse_fails("203.0.113.7:80/sctp", "tcp, udp or both");
        parse_fails("203.0.113.7/33:80", "prefix length");
        parse_fails("203.0.113.7/24:80", "host bits");
        parse_fails("2001:db8::1:80", "TARGET:PORTS");
        parse_fails("203.0.113.7:80,,203.0.113.8:80", "empty item");
}

/* Never reachable, even when listed: refused before any run. */
static void test_forbidden(void **state)
{
        (void)state;
        parse_fails("127.0.0.1:80", "loopback");
        parse_fails("203.0.113.0/24:80,127.0.0.0/8:1", "loopback");
        parse_fails("169.254.169.254:80", "metadata");
        parse_fails("[::1]:80", "loopback");
        parse_fails("[::ffff:10.0.0.1]:80", "IPv4-mapped");
        parse_fails("[fe80::1]:80", "link-local");
        parse_fails("[febf:ffff::1]:80", "link-local"); /* the top of fe80::/10 */
        parse_fails("[fe80::/10]:80", "link-local");
        parse_fails("[fd00:ec2::254]:80", "metadata");
        /* IPv4 addresses written as IPv6: mapped, compatible, NAT64 */
        parse_fails("[::ffff:127.0.0.1]:80", "IPv4-mapped");
        parse_fails("[::ffff:169.254.169.254]:80", "IPv4-mapped");
        parse_fails("[::127.0.0.1]:80", "IPv4-compatible");
        parse_fails("[64:ff9b::a9fe:a9fe]:80", "NAT64");
        parse_fails("[64:ff9b:1::a9fe:a9fe]:80", "local NAT64");
        parse_fails("[2002:7f00:1::]:80", "6to4");       /* 127.0.0.1 */
        parse_fails("[2002:a9fe:a9fe::/48]:80", "6to4"); /* 169.254.169.254 */
        parse_fails("[2001:0:a9fe:a9fe::1]:80", "Teredo");
        /* slirp4netns's IPv6 network: its gateway fd00::2 is the host */
        parse_fails("[fd00::2]:80", "user-mode network");
        parse_fails("[fd00::/64]:80", "user-mode network");
        parse_fails("[fd00::/8]:80", "holds");
        parse_fails("[2000::/3]:80", "6to4"); /* holds 2002::/16 */
        parse_fails("[2001:db8::/32]:80,[::/0]:80", "holds");
        parse_fails("0.0.0.0/0:443", "holds");
        parse_fails("224.0.0.251:5353/udp", "multicast");
        parse_fails("localhost:80", "loopback");
        parse_fails("no-such-host.invalid:80", "does not resolve");
}

/* The host's own interface addresses, whatever they are here. */
static void test_host_addresses(void **state)
{
        (void)state;
        struct ifaddrs *ifs = NULL;
        assert_int_equal(getifaddrs(&ifs), 0);
        int tried = 0;
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                char text[INET_ADDRSTRLEN + 8];
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, text,
                          INET_ADDRSTRLEN);
                strcat(text, ":22");
                parse_fails(text,
                            strncmp(text, "127.", 4) ? "an address of this host" : "loopback");
                tried++;
        }
        freeifaddrs(ifs);
        assert_true(tried > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_syntax),
            cmocka_unit_test(test_bad_syntax),
            cmocka_unit_test(test_forbidden),
            cmocka_unit_test(test_host_addresses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
