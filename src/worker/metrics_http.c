/* The metrics listener: one thread, one connection at a time, on
 * 127.0.0.1 only. Scrapes are rare and small, so serving them in turn is
 * enough; a client gets 2 s to send its request, so a stalled one cannot
 * hold the listener for long. Anything but GET /metrics gets a 404. */
#define _GNU_SOURCE
#include "worker/metrics.h"

#include "base/cleanup.h"
#include "base/io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct wh_metrics_server {
        struct wh_metrics *m;
        int listen_fd, stop_fd;
        pthread_t thread;
};

static void respond(int fd, const char *status, const char *type, const char *body)
{
        char head[256];
        size_t len = strlen(body);
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                         status, type, len);
        if (wh_write_all(fd, head, (size_t)n) == 0)
                (void)wh_write_all(fd, body, len);
}

/* Read the request head (up to the blank line, at most 4 KiB). */
static bool read_head(int fd, char *buf, size_t size)
{
        size_t used = 0;
        while (used + 1 < size) {
                ssize_t n = read(fd, buf + used, size - 1 - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                used += (size_t)n;
                buf[used] = '\0';
                if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
                        return true;
        }
        return false;
}

static void serve_one(struct wh_metrics_server *s, int fd)
{
        struct timeval tv = {.tv_sec = 2};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return;
        char req[4096];
        if (!read_head(fd, req, sizeof(req)))
                return;
        if (strncmp(req, "GET /metrics ", 13) != 0 && strncmp(req, "GET /metrics?", 13) != 0) {
                respond(fd, "404 Not Found", "text/plain", "try GET /metrics\n");
                return;
        }
        cleanup_free char *body = wh_metrics_render(s->m);
        if (!body) {
                respond(fd, "500 Internal Server Error", "text/plain", "out of memory\n");
                return;
        }
        respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body);
}

static void *serve(void *arg)
{
        struct wh_metrics_server *s = arg;
        struct pollfd fds[2] = {{.fd = s->listen_fd, .events = POLLIN},
                                {.fd = s->stop_fd, .events = POLLIN}};
        for (;;) {
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return NULL;
                }
                if (fds[1].revents)
                        return NULL;
                cleanup_close int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0)
                        serve_one(s, fd);
        }
}

int wh_metrics_serve(struct wh_metrics *m, uint16_t port, struct wh_metrics_server **out,
                     struct wh_err *err)
{
        cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return wh_err_set(err, errno, "metrics", "cannot create the metrics socket");
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return wh_err_set(err, errno, "metrics", "cannot set SO_REUSEADDR");
        struct sockaddr_in addr = {.sin_family = AF_INET,
                                   .sin_port = htons(port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                /* A port in use is the user's to change: a usage error. */
                return wh_err_setk(
                    err, errno == EADDRINUSE ? WH_ERR_INVALID : WH_ERR_INTERNAL, errno, "metrics",
                    "cannot listen on 127.0.0.1:%u (choose another --metrics-port)", port);
        if (listen(fd, 16) < 0)
                return wh_err_set(err, errno, "metrics", "cannot listen on 127.0.0.1:%u", port);
        cleanup_close int stop_fd = eventfd(0, EFD_CLOEXEC);
        if (stop_fd < 0)
                return wh_err_set(err, errno, "metrics", "cannot create an eventfd");
        struct wh_metrics_server *s = calloc(1, sizeof(*s));
        if (!s)
                return wh_err_set(err, ENOMEM, "metrics", "out of memory");
        *s = (struct wh_metrics_server){.m = m, .listen_fd = fd, .stop_fd = stop_fd};
        int e = pthread_create(&s->thread, NULL, serve, s);
        if (e) {
                free(s);
                return wh_err_set(err, e, "metrics", "cannot start the metrics thread");
        }
        steal_fd(&fd);
        steal_fd(&stop_fd);
        *out = s;
        return 0;
}

void wh_metrics_server_stop(struct wh_metrics_server *s)
{
        if (!s)
                return;
        uint64_t one = 1;
        /* Cannot fail for a counter at 0; if it ever did, the thread still
         * uses s: leave it running rather than free what it reads. */
        if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
                return;
        pthread_join(s->thread, NULL);
        close(s->listen_fd);
        close(s->stop_fd);
        free(s);
}
