/* The sandbox's resolver: the names the supervisor resolved and pinned, and
 * nothing else. /etc/hosts lists them; nsswitch.conf makes "files" the only
 * source of host names for libc, so its lookups never leave for a DNS server.
 * resolv.conf is for programs that speak DNS themselves (dnspython refuses to
 * start without a server): it names the DNS servers the policy lists (single
 * addresses allowed port 53), or the sandbox's own 127.0.0.1, where
 * nothing answers; their queries meet the ruleset like any other traffic.
 * host.conf says "multi on", without which glibc returns only the first
 * address /etc/hosts gives a name (a dual-stack name: one family); it is
 * bound where it can be (host_conf_bindable). The files live in a private
 * directory of the host and are bound read-only over the sandbox's /etc,
 * after the caller's binds. */
#define _GNU_SOURCE
#include "sandbox/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[NET_RESOLVER_FILES] = {"hosts", "resolv.conf", "nsswitch.conf",
                                                      "host.conf"};

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, text, len);
        int saved = errno;
        close(fd);
        errno = saved;
        return n == (ssize_t)len ? 0 : -1;
}

/* glibc and dnspython read at most this many servers. */
#define MAX_NAMESERVERS 3

static char *resolv_text(const struct wh_net_policy *p, size_t *len)
{
        char *text = NULL;
        FILE *f = open_memstream(&text, len);
        if (!f)
                return NULL;
        fputs("# whiskers: the pinned names are in /etc/hosts; the DNS servers the allowlist "
              "lists:\n",
              f);
        int n = 0;
        for (size_t i = 0; i < p->n_rules && n < MAX_NAMESERVERS; i++) {
                const struct wh_net_rule *r = &p->rules[i];
                if (r->prefix != (r->addr.family == AF_INET ? 32 : 128) || r->port_lo > 53 ||
                    r->port_hi < 53)
                        continue;
                char addr[INET6_ADDRSTRLEN];
                inet_ntop(r->addr.family, r->addr.bytes, addr, sizeof(addr));
                fprintf(f, "nameserver %s\n", addr);
                n++;
        }
        if (n == 0)
                fputs("nameserver 127.0.0.1\n", f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static char *hosts_text(const struct wh_net_policy *p, size_t *len)
{
        char *text = NULL;
        FILE *f = open_memstream(&text, len);
        if (!f)
                return NULL;
        fputs("127.0.0.1 localhost whiskers\n::1 localhost\n", f);
        for (size_t i = 0; i < p->n_pins; i++) {
                char addr[INET6_ADDRSTRLEN];
                inet_ntop(p->pins[i].addr.family, p->pins[i].addr.bytes, addr, sizeof(addr));
                fprintf(f, "%s %s\n", addr, p->pins[i].name);
        }
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* host.conf can be bound over the default root's /etc (created there) or a
 * rootfs's own regular file; a rootfs without one keeps glibc's default. */
static bool host_conf_bindable(const char *rootfs)
{
        if (!rootfs)
                return true;
        char path[PATH_MAX];
        struct stat st;
        return snprintf(path, sizeof(path), "%s/etc/host.conf", rootfs) < (int)sizeof(path) &&
               lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int net_resolver_create(const struct wh_net_policy *p, const char *rootfs, struct net_resolver *r,
                        struct wh_err *err)
{
        memset(r, 0, sizeof(*r));
        const char *tmp = getenv("TMPDIR");
        snprintf(r->dir, sizeof(r->dir), "%s/whiskers-net-XXXXXX",
                 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
        if (!mkdtemp(r->dir)) {
                r->dir[0] = '\0';
                return wh_err_set(err, errno, "net", "cannot create the resolver directory");
        }
        if (chmod(r->dir, 0755) < 0) { /* the sandbox's root is another host id */
                wh_err_set(err, errno, "net", "cannot open %s to the sandbox", r->dir);
                net_resolver_remove(r);
                return -1;
        }
        size_t hosts_len = 0, resolv_len = 0;
        char *hosts = hosts_text(p, &hosts_len), *resolv = resolv_text(p, &resolv_len);
        static const char nss[] = "hosts: files\n", multi[] = "multi on\n";
        int rc = !hosts || !resolv || write_file(r->dir, names[0], hosts, hosts_len) < 0 ||
                         write_file(r->dir, names[1], resolv, resolv_len) < 0 ||
                         write_file(r->dir, names[2], nss, sizeof(nss) - 1) < 0 ||
                         write_file(r->dir, names[3], multi, sizeof(multi) - 1) < 0
                     ? -1
                     : 0;
        free(hosts);
        free(resolv);
        if (rc < 0) {
                wh_err_set(err, errno, "net", "cannot write the resolver files in %s", r->dir);
                net_resolver_remove(r);
                return -1;
        }
        static const char *const dsts[NET_RESOLVER_FILES] = {
            "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf"};
        r->n_binds = host_conf_bindable(rootfs) ? NET_RESOLVER_FILES : NET_RESOLVER_FILES - 1;
        for (size_t i = 0; i < r->n_binds; i++) {
                snprintf(r->srcs[i], sizeof(r->srcs[i]), "%s/%s", r->dir, names[i]);
                r->binds[i] = (struct wh_bind){.src = r->srcs[i], .dst = dsts[i]};
        }
        return 0;
}

void net_resolver_remove(struct net_resolver *r)
{
        if (!r->dir[0])
                return;
        for (int i = 0; i < NET_RESOLVER_FILES; i++) {
                char path[128];
                snprintf(path, sizeof(path), "%s/%s", r->dir, names[i]);
                unlink(path);
        }
        rmdir(r->dir);
        r->dir[0] = '\0';
}
