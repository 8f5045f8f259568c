/* netprobe: a hostile payload for WH_NET_ALLOW tests (tests/e2e/test_exec_net_allow.sh).
 * Static, like probe. Each subcommand prints one line, "OK ..." or "ERR ENAME",
 * and exits 0 or 1:
 *   tcp ADDR PORT          connect (IPv4 or IPv6), send an HTTP GET, print the status line
 *   udp ADDR PORT          send a datagram, wait 300 ms for an answer
 *   dns SERVER NAME        ask SERVER:53 for NAME's A record; print the address
 *   fetch ADDR PORT PATH   HTTP GET PATH; print how many bytes came back
 *   hold ADDR PORT N       open N TCP connections at once; print how many opened
 *   raw                    open a raw IPv4 socket and send a TCP SYN to 10.0.0.1
 *   rawudp ADDR PORT       send the UDP datagram "probe" through a raw IPv4 socket
 *                          (IP header and all: IPPROTO_RAW)
 *   packet ADDR PORT       the same as an Ethernet frame through a packet socket on
 *                          wh0 (the sandbox's interface), which skips the IP stack
 *   packet-bypass ADDR PORT  the same with PACKET_QDISC_BYPASS (no qdisc either)
 *   packet6 ADDR PORT      the same as packet over IPv6, from fd00::100 (the
 *                          sandbox's address when slirp4netns carries IPv6)
 *   burst MODE ADDR PORT N SIZE  N such datagrams of SIZE bytes, MODE one of the three
 *                          above; print how many the kernel took
 *   sweep MODE ADDR PORT N SIZE  the same to PORT, PORT+1, ... PORT+N-1 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define PKT_MAX 1500

static const char *ename(int e)
{
        switch (e) {
        case EPERM:
                return "EPERM";
        case EACCES:
                return "EACCES";
        case ECONNREFUSED:
                return "ECONNREFUSED";
        case ENETUNREACH:
                return "ENETUNREACH";
        case EHOSTUNREACH:
                return "EHOSTUNREACH";
        case ETIMEDOUT:
                return "ETIMEDOUT";
        case EAGAIN:
                return "ETIMEDOUT"; /* a receive timeout */
        case EINPROGRESS:
                return "ETIMEDOUT"; /* a connect timeout (SO_SNDTIMEO) */
        case EAFNOSUPPORT:
                return "EAFNOSUPPORT";
        case EINVAL:
                return "EINVAL";
        default:
                return strerror(e);
        }
}

static int err(void)
{
        printf("ERR %s\n", ename(errno));
        return 1;
}

/* A socket connected (TCP) or aimed (UDP) at addr:port, 2 s timeouts. */
static int open_to(const char *addr, const char *port, int type)
{
        struct sockaddr_storage ss = {0};
        socklen_t len;
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t)atoi(port));
                len = sizeof(*in4);
        } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)atoi(port));
                len = sizeof(*in6);
        } else {
                errno = EINVAL;
                return -1;
        }
        int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
        struct timeval tv = {2, 0};
        if (fd < 0)
                return -1;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

/* GET path over a new connection: the first bytes of the answer into head,
 * the count of all of them returned; -1 when the connection failed. */
static long http_get(const char *addr, const char *port, const char *path, char *head,
                     size_t head_len)
{
        int fd = open_to(addr, port, SOCK_STREAM);
        char req[512], buf[16384];
        int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
        if (fd < 0 || send(fd, req, (size_t)len, MSG_NOSIGNAL) < 0)
                return -1;
        ssize_t n;
        long total = 0;
        head[0] = '\0';
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
                if (total == 0)
                        snprintf(head, head_len, "%.*s", (int)n, buf);
                total += n;
        }
        return total;
}

static int cmd_tcp(char **a)
{
        char head[256];
        if (http_get(a[0], a[1], "/", head, sizeof(head)) < 0)
                return err();
        head[strcspn(head, "\r\n")] = '\0';
        printf("OK %s\n", head);
        return 0;
}

static int cmd_fetch(char **a)
{
        char head[16];
        long n = http_get(a[0], a[1], a[2], head, sizeof(head));
        if (n < 0)
                return err();
        printf("OK %ld\n", n);
        return 0;
}

static int cmd_udp(char **a)
{
        int fd = open_to(a[0], a[1], SOCK_DGRAM);
        char buf[512];
        if (fd < 0 || send(fd, "probe\n", 6, 0) < 0)
                return err();
        struct timeval tv = {0, 300000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EAGAIN)
                return err();
        printf("OK\n");
        return 0;
}

static int cmd_dns(char **a)
{
        unsigned char q[512] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        size_t len = 12;
        for (const char *label = a[1]; *label;) {
                size_t l = strcspn(label, ".");
                if (l == 0 || l > 63 || len + l + 6 > sizeof(q)) {
                        errno = EINVAL;
                        return err();
                }
                q[len++] = (unsigned char)l;
                memcpy(q + len, label, l);
                len += l;
                label += l + (label[l] == '.');
        }
        q[len++] = 0;
        q[len++] = 0, q[len++] = 1; /* A */
        q[len++] = 0, q[len++] = 1; /* IN */
        int fd = open_to(a[0], "53", SOCK_DGRAM);
        unsigned char r[512];
        if (fd < 0 || send(fd, q, len, 0) < 0)
                return err();
        ssize_t n = recv(fd, r, sizeof(r), 0);
        if (n < (ssize_t)len + 16)
                return n < 0 ? err() : (printf("ERR no answer\n"), 1);
        /* The first answer follows the question; its address is the last 4 bytes
         * of a compressed A record (name pointer, type, class, ttl, rdlength). */
        const unsigned char *ans = r + len + 12;
        printf("OK %u.%u.%u.%u\n", ans[0], ans[1], ans[2], ans[3]);
        return 0;
}

static int cmd_hold(char **a)
{
        int want = atoi(a[2]), opened = 0;
        for (int i = 0; i < want; i++)
                if (open_to(a[0], a[1], SOCK_STREAM) >= 0)
                        opened++;
        printf("OK %d\n", opened);
        return 0;
}

static int cmd_raw(char **a)
{
        (void)a;
        int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0)
                return err();
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000001)};
        unsigned char syn[20] = {0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20};
        if (sendto(fd, syn, sizeof(syn), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
                return err();
        printf("OK\n");
        return 0;
}

static uint16_t ip_checksum(const unsigned char *p, size_t len)
{
        uint32_t sum = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

/* The IPv4 packet of a UDP datagram from the sandbox's address
 * (slirp4netns's 100.127.255.100) to addr:dport: "probe\n" padded with '.'
 * to size bytes (at least 6); its length, 0 if addr or size is bad. */
static size_t udp_packet(unsigned char pkt[PKT_MAX], const char *addr, uint16_t dport, size_t size)
{
        static const unsigned char head[] = {0x45, 0,           0, 0, 0x12, 0x34, 0,   0,
                                             64,   IPPROTO_UDP, 0, 0, 100,  127,  255, 100};
        size_t len = 28 + size;
        if (size < 6 || len > PKT_MAX)
                return 0;
        memcpy(pkt, head, sizeof(head));
        pkt[2] = (unsigned char)(len >> 8), pkt[3] = len & 0xff;
        if (inet_pton(AF_INET, addr, pkt + 16) != 1)
                return 0;
        unsigned char udp[8] = {
            0x30, 0x39, dport >> 8, dport & 0xff, (8 + size) >> 8, (8 + size) & 0xff};
        memcpy(pkt + 20, udp, sizeof(udp));
        memset(pkt + 28, '.', size);
        memcpy(pkt + 28, "probe\n", 6);
        uint16_t sum = ip_checksum(pkt, 20);
        pkt[10] = sum >> 8, pkt[11] = sum & 0xff;
        return len;
}

/* The IPv6 packet of the same datagram from fd00::100 to addr:dport, its UDP
 * checksum (mandatory in IPv6) over the pseudo-header; its length, 0 if addr
 * or size is bad. */
static size_t udp6_packet(unsigned char pkt[PKT_MAX], const char *addr, uint16_t dport, size_t size)
{
        size_t len = 48 + size;
        if (size < 6 || len > PKT_MAX)
                return 0;
        memset(pkt, 0, 48);
        pkt[0] = 0x60, pkt[4] = (unsigned char)((8 + size) >> 8), pkt[5] = (8 + size) & 0xff;
        pkt[6] = IPPROTO_UDP, pkt[7] = 64;
        pkt[8] = 0xfd, pkt[22] = 1; /* fd00::100 */
        if (inet_pton(AF_INET6, addr, pkt + 24) != 1)
                return 0;
        unsigned char *udp = pkt + 40;
        udp[0] = 0x30, udp[1] = 0x39, udp[2] = dport >> 8, udp[3] = dport & 0xff;
        udp[4] = pkt[4], udp[5] = pkt[5];
        memset(udp + 8, '.', size);
        memcpy(udp + 8, "probe\n", 6);
        /* source and destination, length, next header; then the datagram */
        unsigned char pseudo[40 + PKT_MAX] = {0};
        memcpy(pseudo, pkt + 8, 32);
        pseudo[34] = pkt[4], pseudo[35] = pkt[5], pseudo[39] = IPPROTO_UDP;
        memcpy(pseudo + 40, udp, 8 + size);
        uint16_t sum = ip_checksum(pseudo, 40 + 8 + size);
        udp[6] = sum >> 8, udp[7] = sum & 0xff;
        return len;
}

/* The packet a sender of mode writes (IPv6 for "packet6"). */
static size_t mode_packet(const char *mode, unsigned char pkt[PKT_MAX], const char *addr,
                          uint16_t dport, size_t size)
{
        return strcmp(mode, "packet6") == 0 ? udp6_packet(pkt, addr, dport, size)
                                            : udp_packet(pkt, addr, dport, size);
}

/* A socket writing whole IP packets: "rawudp", a raw IP socket
 * (IPPROTO_RAW: IP header and all); "packet" or "packet-bypass", a packet
 * socket on wh0 (the sandbox's interface), which skips the IP stack, the
 * second with PACKET_QDISC_BYPASS (no qdisc either); "packet6", a packet
 * socket for IPv6 packets. -1 with errno. */
static int sender(const char *mode)
{
        if (strcmp(mode, "rawudp") == 0)
                return socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
        if (strcmp(mode, "packet6") == 0)
                return socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IPV6));
        int bypass = strcmp(mode, "packet-bypass") == 0;
        if (!bypass && strcmp(mode, "packet") != 0)
                return errno = EINVAL, -1;
        int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
        if (fd >= 0 && bypass &&
            setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &bypass, sizeof(bypass)) < 0) {
                int e = errno;
                close(fd);
                return errno = e, -1;
        }
        return fd;
}

/* One packet through a sender. A packet socket's goes to the broadcast
 * address of wh0: the user-mode stack takes every frame. */
static ssize_t send_packet(int fd, const char *mode, const unsigned char *pkt, size_t len)
{
        if (strcmp(mode, "rawudp") == 0) {
                struct sockaddr_in to = {.sin_family = AF_INET};
                memcpy(&to.sin_addr, pkt + 16, 4);
                return sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
        }
        uint16_t proto = strcmp(mode, "packet6") == 0 ? ETH_P_IPV6 : ETH_P_IP;
        struct sockaddr_ll to = {.sll_family = AF_PACKET,
                                 .sll_protocol = htons(proto),
                                 .sll_ifindex = (int)if_nametoindex("wh0"),
                                 .sll_halen = 6,
                                 .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
        return sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
}

/* ADDR PORT: one datagram "probe" through a sender of mode. */
static int frame(const char *mode, char **a)
{
        unsigned char pkt[PKT_MAX];
        size_t len = mode_packet(mode, pkt, a[0], (uint16_t)atoi(a[1]), 6);
        if (!len)
                return errno = EINVAL, err();
        int fd = sender(mode);
        if (fd < 0 || send_packet(fd, mode, pkt, len) < 0)
                return err();
        printf("OK sent\n");
        return 0;
}

static int cmd_rawudp(char **a)
{
        return frame("rawudp", a);
}

static int cmd_packet(char **a)
{
        return frame("packet", a);
}

static int cmd_packet_bypass(char **a)
{
        return frame("packet-bypass", a);
}

static int cmd_packet6(char **a)
{
        return frame("packet6", a);
}

/* MODE ADDR PORT N SIZE: N datagrams of SIZE bytes, to PORT, or
 * spread over PORT..PORT+N-1; prints how many the kernel took (a frame an
 * egress hook drops is ENOBUFS; a raw IP socket's, EPERM). */
static int burst(char **a, bool spread)
{
        unsigned char pkt[PKT_MAX];
        int n = atoi(a[3]), sent = 0, fd = sender(a[0]);
        if (fd < 0)
                return err();
        for (int i = 0; i < n; i++) {
                uint16_t port = (uint16_t)(atoi(a[2]) + (spread ? i : 0));
                size_t len = mode_packet(a[0], pkt, a[1], port, (size_t)atoi(a[4]));
                if (!len)
                        return errno = EINVAL, err();
                if (send_packet(fd, a[0], pkt, len) >= 0)
                        sent++;
        }
        printf("OK sent %d\n", sent);
        return 0;
}

static int cmd_burst(char **a)
{
        return burst(a, false);
}

static int cmd_sweep(char **a)
{
        return burst(a, true);
}

int main(int argc, char **argv)
{
        static const struct {
                const char *name;
                int args;
                int (*fn)(char **);
        } cmds[] = {{"tcp", 2, cmd_tcp},
                    {"udp", 2, cmd_udp},
                    {"dns", 2, cmd_dns},
                    {"fetch", 3, cmd_fetch},
                    {"hold", 3, cmd_hold},
                    {"raw", 0, cmd_raw},
                    {"rawudp", 2, cmd_rawudp},
                    {"packet", 2, cmd_packet},
                    {"packet-bypass", 2, cmd_packet_bypass},
                    {"packet6", 2, cmd_packet6},
                    {"burst", 5, cmd_burst},
                    {"sweep", 5, cmd_sweep}};
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
                if (strcmp(argv[1], cmds[i].name) == 0 && argc == cmds[i].args + 2)
                        return cmds[i].fn(argv + 2);
        fprintf(stderr, "usage: netprobe tcp|udp ADDR PORT | dns SERVER NAME | hold ADDR PORT N | "
                        "raw | rawudp|packet|packet-bypass|packet6 ADDR PORT | burst|sweep MODE "
                        "ADDR PORT N SIZE\n");
        return 2;
}
