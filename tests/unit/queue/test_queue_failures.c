/* Bad input and broken surroundings: invalid submissions, a corrupt or
 * foreign SQLite file, a schema from the future, PostgreSQL unreachable at
 * start or gone mid-run and back, a full disk. Each must give a clear
 * error, keep what was stored, and let the caller retry or stop. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

#include "queue_env.h"

static int write_proc(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Become our own uid and gid again inside a new user namespace, so files
 * on the tmpfs have an owner. */
static int enter_userns(void)
{
        uid_t uid = getuid();
        gid_t gid = getgid();
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return -1;
        snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
        if (write_proc("/proc/self/uid_map", map) < 0 ||
            write_proc("/proc/self/setgroups", "deny") < 0)
                return -1;
        snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
        return write_proc("/proc/self/gid_map", map);
}

static int disk_full_child(const char *dir)
{
        if (getuid() == 0 ? unshare(CLONE_NEWNS) : enter_userns())
                return 77;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", dir, "tmpfs", 0, "size=512k") < 0)
                return 77;
        char url[300];
        snprintf(url, sizeof(url), "sqlite://%s/full.db", dir);
        struct wh_err err;
        struct wh_queue *q;
        if (wh_queue_open(url, &q, &err) < 0)
                return 1;
        char first[WH_DIGEST_BUF], digest[WH_DIGEST_BUF];
        static char blob[64 * 1024];
        int stored = 0, ret = 2;
        for (int i = 0; i < 64; i++) {
                memset(blob, 'a' + i % 26, sizeof(blob));
                blob[0] = (char)i;
                if (wh_queue_put_raw(q, blob, sizeof(blob), i ? digest : first, NULL, &err) < 0) {
                        ret = err.errnum == ENOSPC && strstr(err.msg, "full") ? 0 : 3;
                        if (ret)
                                fprintf(stderr, "unexpected: %s\n", err.msg);
                        break;
                }
                stored++;
        }
        if (ret != 0 || stored == 0)
                return ret ? ret : 4;
        /* Nothing that was stored is lost, and the store still works. */
        wh_queue_close(q);
        if (wh_queue_open(url, &q, &err) < 0) {
                fprintf(stderr, "reopen: %s\n", err.msg);
                return 5;
        }
        void *data;
        size_t len;
        if (wh_queue_get_raw(q, first, &data, &len, &err) < 0 || len != sizeof(blob))
                return 6;
        free(data);
        wh_queue_close(q);
        return 0;
}

static void test_bad_input(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        char good[WH_DIGEST_BUF];
        OK(wh_queue_put_raw(q, "x", 1, good, NULL, &err));
        const char *missing =
            "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        struct wh_job_spec specs[2] = {
            {.tenant = "acme", .normaliser = "n", .raw_digest = good},
            {.tenant = "acme", .normaliser = "n", .raw_digest = missing},
        };
        int64_t ids[2];
        /* All or none: the good job must not stay behind. */
        assert_int_equal(wh_queue_submit(q, specs, 2, ids, &err), -1);
        assert_int_equal(err.errnum, ENOENT);
        assert_non_null(strstr(err.msg, missing));
        assert_int_equal(count("SELECT count(*) FROM jobs"), 0);

        struct wh_job_spec bad = specs[0];
        bad.meta_json = "{\"a\": ";
        assert_int_equal(wh_queue_submit(q, &bad, 1, ids, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        assert_non_null(strstr(err.msg, "meta is not valid JSON"));
        bad.meta_json = "[1]";
        assert_int_equal(wh_queue_submit(q, &bad, 1, ids, &err), -1);
        assert_non_null(strstr(err.msg, "must be a JSON object"));
        bad = specs[0];
        bad.raw_digest = "sha256:XYZ";
        assert_int_equal(wh_queue_submit(q, &bad, 1, ids, &err), -1);
        assert_non_null(strstr(err.msg, "is not a digest"));
        bad = specs[0];
        bad.tenant = "";
        assert_int_equal(wh_queue_submit(q, &bad, 1, ids, &err), -1);
        assert_non_null(strstr(err.msg, "tenant is missing"));
        bad = specs[0];
        bad.tenant = "a\nb";
        assert_int_equal(wh_queue_submit(q, &bad, 1, ids, &err), -1);
        assert_int_equal(count("SELECT count(*) FROM jobs"), 0);

        struct wh_job_info *info;
        assert_int_equal(wh_queue_show(q, 999, &info, &err), -1);
        assert_int_equal(err.errnum, ENOENT);
        void *data;
        size_t len;
        assert_int_equal(wh_queue_get_raw(q, missing, &data, &len, &err), -1);
        assert_int_equal(err.errnum, ENOENT);
        assert_int_equal(wh_queue_fail(q, 1, 1, "not json", true, NULL, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        wh_queue_close(q);
}

static void test_schema_too_new(void **state)
{
        (void)state;
        struct wh_err err;
        struct wh_queue *q = open_fresh(&err);
        wh_queue_close(q);
        assert_int_equal(env_exec(E.pg ? "INSERT INTO schema_version VALUES (99, 'future')"
                                       : "INSERT INTO schema_version VALUES (99, 'future', 0)"),
                         0);
        assert_int_equal(count("SELECT max(version) FROM schema_version"), 99);
        assert_int_equal(wh_queue_open(E.url, &q, &err), -1);
        assert_int_equal(err.errnum, EPROTO);
        assert_non_null(strstr(err.msg, "upgrade whiskers"));
}

static void test_sqlite_corrupt_file(void **state)
{
        (void)state;
        if (E.pg)
                skip();
        char path[256];
        snprintf(path, sizeof(path), "%s/corrupt.db", E.tmp);
        unsigned char garbage[8192];
        for (size_t i = 0; i < sizeof(garbage); i++)
                garbage[i] = (unsigned char)(i * 37 + 11);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, garbage, sizeof(garbage)), sizeof(garbage));
        close(fd);
        struct wh_err err;
        struct wh_queue *q = NULL;
        assert_int_equal(wh_queue_open(path, &q, &err), -1);
        assert_null(q);
        assert_int_equal(err.errnum, EUCLEAN);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "not a whiskers database or is corrupt"));
        unsigned char after[sizeof(garbage) + 1];
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(read(fd, after, sizeof(after)), sizeof(garbage));
        close(fd);
        assert_memory_equal(after, garbage, sizeof(garbage));

        /* Somebody else's SQLite database is refused, not migrated. */
        snprintf(path, sizeof(path), "%s/foreign.db", E.tmp);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(wh_queue_open(path, &q, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        assert_non_null(strstr(err.msg, "something else"));

        snprintf(path, sizeof(path), "%s/no/such/dir/x.db", E.tmp);
        assert_int_equal(wh_queue_open(path, &q, &err), -1);
        assert_non_null(strstr(err.msg, "does its directory exist"));
        /* A data directory holds whiskers.db. */
        assert_int_equal(wh_queue_open(E.tmp, &q, &err), 0);
        wh_queue_close(q);
        snprintf(path, sizeof(path), "%s/whiskers.db", E.tmp);
        assert_int_equal(access(path, F_OK), 0);
}

static void test_pg_unreachable(void **state)
{
        (void)state;
        if (!E.pg)
                skip();
        struct wh_err err;
        struct wh_queue *q = NULL;
        /* Nothing listens on port 1: refused at once, a transient error. */
        assert_int_equal(wh_queue_open("postgres://u:secret@127.0.0.1:1/db", &q, &err), -1);
        assert_int_equal(err.errnum, ECONNREFUSED);
        assert_true(wh_queue_err_is_transient(&err));
        assert_non_null(strstr(err.msg, "cannot reach PostgreSQL at 127.0.0.1:1"));
        assert_non_null(strstr(err.msg, "is the server running?"));
        assert_null(strstr(err.msg, "secret"));
        assert_int_equal(wh_queue_open("postgres://u@127.0.0.1:1/db?bogus=1", &q, &err), -1);
        assert_int_equal(err.errnum, EINVAL);
        /* A wrong password is not transient, and the password is not shown. */
        char url[600];
        const char *at = strchr(E.pg_url + strlen("postgres://"), '@');
        snprintf(url, sizeof(url), "postgres://whiskers:wrongpass%s", at);
        assert_int_equal(wh_queue_open(url, &q, &err), -1);
        assert_int_equal(err.errnum, EACCES);
        assert_false(wh_queue_err_is_transient(&err));
        assert_null(strstr(err.msg, "wrongpass"));
}

static void test_pg_down_and_back(void **state)
{
        (void)state;
        if (!E.pg || !E.pg_ours)
                skip();
        struct wh_err err;
        struct wh_queue *q;
        OK(wh_queue_open(env_fresh(), &q, &err));
        int64_t id;
        OK(env_submit(q, "survives", 1, &id, 0, &err));
        struct wh_job *j;
        size_t n;
        OK(wh_queue_claim(q, "w", 1, 600000, &j, &n, &err));
        assert_int_equal(n, 1);
        assert_int_equal(env_pg_stop(false), 0);

        struct wh_queue_stats st;
        assert_int_equal(wh_queue_stats(q, 1000, &st, &err), -1);
        assert_true(wh_queue_err_is_transient(&err));
        assert_non_null(strstr(err.msg, "PostgreSQL"));
        /* Still down: the next call's reconnect fails, clearly. */
        assert_int_equal(wh_queue_stats(q, 1000, &st, &err), -1);
        assert_int_equal(err.errnum, ECONNREFUSED);
        assert_non_null(strstr(err.msg, "is the server running?"));
        struct wh_queue *q2 = NULL;
        assert_int_equal(wh_queue_open(E.url, &q2, &err), -1);
        assert_true(wh_queue_err_is_transient(&err));

        assert_int_equal(env_pg_start(), 0);
        /* Back: the same handle reconnects, the lease survived, and the
         * completion goes through. */
        OK(wh_queue_stats(q, 1000, &st, &err));
        assert_int_equal(st.running, 1);
        struct wh_job_completion c = {.id = j[0].id,
                                      .token = j[0].token,
                                      .worker_id = "w",
                                      .outcome = "ok",
                                      .output_json = "[1]",
                                      .provenance_json = "{}"};
        int64_t rid;
        OK(wh_queue_complete(q, &c, 1, &rid, &err));
        assert_int_equal(count("SELECT count(*) FROM results"), 1);
        wh_jobs_free(j, n);
        wh_queue_close(q);
}

static void test_sqlite_disk_full(void **state)
{
        (void)state;
        if (E.pg)
                skip();
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/full", E.tmp);
        assert_int_equal(mkdir(dir, 0700), 0);
        pid_t pid = fork();
        if (pid == 0)
                _exit(disk_full_child(dir));
        int rc = wait_child(pid);
        if (rc == 77) {
                printf("SKIP disk full: cannot mount a small tmpfs here (no namespaces)\n");
                skip();
        }
        if (rc != 0)
                fail_msg("the disk-full child failed at step %d", rc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bad_input),           cmocka_unit_test(test_schema_too_new),
            cmocka_unit_test(test_sqlite_corrupt_file), cmocka_unit_test(test_pg_unreachable),
            cmocka_unit_test(test_pg_down_and_back),    cmocka_unit_test(test_sqlite_disk_full),
        };
        return ENV_RUN_BOTH_BACKENDS("queue failures", tests);
}
