/* The worker's sink outbox and wake-ups with the fake runner, on SQLite and
 * PostgreSQL, against a small HTTP server in this process: a sink that
 * answers 500 a few times per result then 200 gets exactly one successful
 * delivery per result; a sink that is down ends in failed deliveries that
 * an operator re-queues and that then succeed; on PostgreSQL a worker with
 * a 60 s poll interval runs a job submitted while it idles, woken by
 * NOTIFY. Assertions read the sink's log and the store's rows. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "../queue/queue_env.h"
#include "fake_runner.h"
#include "worker/core.h"

#define MAX_JOBS 64

/* The sink: for each job (X-Whiskers-Job) the first `fails` requests get
 * 500, later ones 200. It counts both per job. */
struct sink {
        int fd;
        uint16_t port;
        int fails;
        atomic_bool stop;
        pthread_t thread;
        atomic_int errors[MAX_JOBS], oks[MAX_JOBS];
        atomic_int bad_body;
};

static void serve_one(struct sink *s, int c)
{
        char req[8192];
        size_t len = 0;
        char *end = NULL;
        while (len < sizeof(req) - 1 && !end) {
                ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
                if (n <= 0)
                        return;
                len += (size_t)n;
                req[len] = '\0';
                end = strstr(req, "\r\n\r\n");
        }
        if (!end)
                return;
        char *cl = strcasestr(req, "Content-Length:");
        size_t want = (size_t)(end + 4 - req) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        while (len < want && len < sizeof(req) - 1) {
                ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
                if (n <= 0)
                        return;
                len += (size_t)n;
                req[len] = '\0';
        }
        char *job = strcasestr(req, "X-Whiskers-Job:");
        long id = job ? strtol(job + 15, NULL, 10) : -1;
        if (id < 0 || id >= MAX_JOBS || !strstr(end + 4, "observations"))
                atomic_fetch_add(&s->bad_body, 1);
        int status = 400;
        if (id >= 0 && id < MAX_JOBS) {
                status = atomic_fetch_add(&s->errors[id], 0) < s->fails ? 500 : 200;
                atomic_fetch_add(status == 500 ? &s->errors[id] : &s->oks[id], 1);
        }
        char reply[128];
        int n = snprintf(reply, sizeof(reply),
                         "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
        if (write(c, reply, (size_t)n) != n)
                atomic_fetch_add(&s->bad_body, 1);
}

static void *sink_main(void *arg)
{
        struct sink *s = arg;
        while (!atomic_load(&s->stop)) {
                struct pollfd p = {.fd = s->fd, .events = POLLIN};
                if (poll(&p, 1, 20) <= 0)
                        continue;
                int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                serve_one(s, c);
                close(c);
        }
        return NULL;
}

static void sink_start(struct sink *s, int fails)
{
        memset(s, 0, sizeof(*s));
        s->fails = fails;
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof(a);
        assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->fd, 16), 0);
        assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->thread, NULL, sink_main, s), 0);
}

static void sink_stop(struct sink *s)
{
        atomic_store(&s->stop, true);
        pthread_join(s->thread, NULL);
        close(s->fd);
}

/* A loopback port with nothing listening: connections are refused. */
static uint16_t dead_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof(a);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static volatile sig_atomic_t no_stop;
static char sink_url[128];

static struct wh_worker_config config(uint16_t port)
{
        snprintf(sink_url, sizeof(sink_url), "http://127.0.0.1:%u/{tenant}/results", port);
        return (struct wh_worker_config){
            .db_url = E.url,
            .worker_id = "outbox-worker",
            .concurrency = 2,
            .poll_max_ms = 20,
            .exit_when_idle = true,
            .log_fd = getenv("WH_TEST_LOG") ? 2 : -1,
            .log_level = WH_LOG_DEBUG,
            .sink_url = sink_url,
            .sink_attempts = 3,
            .sink_backoff_ms = 5,
            .sink_backoff_max_ms = 10,
            .sink_timeout_ms = 5000,
        };
}

static struct wh_worker_summary run(const struct wh_worker_config *c)
{
        struct wh_worker_summary sum = {0};
        struct wh_err err;
        if (wh_worker_run_with(c, &fake_runner, &no_stop, &sum, &err) < 0)
                fail_msg("worker: %s", err.msg);
        return sum;
}

static void submit(struct wh_queue *q, size_t n, const char *what)
{
        struct wh_err err;
        char digest[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "raw bytes", 9, digest, NULL, &err));
        for (size_t i = 0; i < n; i++) {
                char meta[96];
                snprintf(meta, sizeof(meta), "{\"do\":\"%s\",\"n\":%zu}", what, i);
                struct wh_job_spec s = {.tenant = "acme",
                                        .normaliser = "fake",
                                        .raw_digest = digest,
                                        .meta_json = meta};
                int64_t id;
                OK(wh_queue_submit(q, &s, 1, &id, &err));
        }
}

static void test_sink_500_twice_then_200(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 6, "ok");
        submit(q, 2, "fail"); /* not ok: nothing to deliver */
        struct sink s;
        sink_start(&s, 2);
        struct wh_worker_config c = config(s.port);
        struct wh_worker_summary sum = run(&c);
        sink_stop(&s);
        assert_int_equal(sum.completed, 8);
        for (int id = 1; id <= 6; id++) {
                assert_int_equal(atomic_load(&s.errors[id]), 2);
                assert_int_equal(atomic_load(&s.oks[id]), 1); /* exactly one success */
        }
        for (int id = 7; id <= 8; id++)
                assert_int_equal(atomic_load(&s.errors[id]) + atomic_load(&s.oks[id]), 0);
        assert_int_equal(atomic_load(&s.bad_body), 0);
        assert_int_equal(count("SELECT count(*) FROM deliveries"), 6);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 2 AND attempts = 3"
                               " AND http_status = 200"),
                         6);
        wh_queue_close(q);
}

static void test_sink_down_then_redelivered(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        submit(q, 4, "ok");
        struct wh_worker_config c = config(dead_port());
        struct wh_worker_summary sum = run(&c);
        assert_int_equal(sum.completed, 4);
        /* Every result stored, every delivery failed after the cap, kept. */
        assert_int_equal(count("SELECT count(*) FROM results"), 4);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 3 AND attempts = 3"
                               " AND http_status IS NULL AND last_error IS NOT NULL"),
                         4);
        struct wh_queue_stats st;
        OK(wh_queue_stats(q, 1000, &st, &err));
        assert_int_equal(st.deliveries_failed, 4);
        assert_int_equal(st.deliveries_pending, 0);

        /* The sink is back; the operator re-queues; a worker delivers. */
        size_t requeued;
        OK(wh_queue_redeliver(q, NULL, 0, &requeued, &err));
        assert_int_equal(requeued, 4);
        struct sink s;
        sink_start(&s, 0);
        c = config(s.port);
        sum = run(&c);
        sink_stop(&s);
        assert_int_equal(sum.claimed, 0); /* no job ran again */
        for (int id = 1; id <= 4; id++)
                assert_int_equal(atomic_load(&s.oks[id]), 1);
        assert_int_equal(count("SELECT count(*) FROM deliveries WHERE state = 2 AND attempts = 1"),
                         4);
        wh_queue_close(q);
}

/* An idle worker polling every 60 s still runs a job submitted meanwhile at
 * once: the submission's NOTIFY wakes it. Without the wake-up the job would
 * wait for the next poll, beyond the 20 s this test waits. */
static void test_notify_wakes_an_idle_worker(void **state)
{
        (void)state;
        if (!E.pg)
                skip();
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        struct bg b = {.c = config(0)};
        b.c.sink_url = NULL;
        b.c.exit_when_idle = false;
        b.c.poll_max_ms = 60000;
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, bg_worker, &b), 0);
        for (int i = 0; i < 2000 && count("SELECT count(*) FROM workers") < 1; i++)
                env_sleep_ms(5);
        env_sleep_ms(300); /* its first claims found nothing: idle now */
        submit(q, 1, "ok");
        for (int i = 0; i < 2000 && count("SELECT count(*) FROM results") < 1; i++)
                env_sleep_ms(10);
        long long results = count("SELECT count(*) FROM results");
        b.stop = 1;
        pthread_join(th, NULL);
        assert_int_equal(b.rc, 0);
        assert_int_equal(results, 1);
        assert_int_equal(b.sum.completed, 1);
        wh_queue_close(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sink_500_twice_then_200),
            cmocka_unit_test(test_sink_down_then_redelivered),
            cmocka_unit_test(test_notify_wakes_an_idle_worker),
        };
        return ENV_RUN_BOTH_BACKENDS("worker outbox", tests);
}
