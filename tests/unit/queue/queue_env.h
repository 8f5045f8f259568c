/* Test environment for the job store suites: the same tests run against
 * SQLite (always) and PostgreSQL (a private server started once per test
 * binary by scripts/pg-start.sh, or WHISKERS_TEST_PG_URL when set).
 *
 * Every test gets a fresh, empty store: a new file for SQLite, a new schema
 * (search_path in the URL) for PostgreSQL. count() reads the tables behind
 * the API's back so tests can assert rows, not just return codes. */
#ifndef WH_TEST_QUEUE_ENV_H
#define WH_TEST_QUEUE_ENV_H

#include <errno.h>
#include <glob.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <whiskers/queue.h>

struct env {
        bool pg;           /* the backend under test */
        bool pg_available; /* a PostgreSQL server is there */
        bool pg_ours;      /* we started it: we may stop and restart it */
        char pg_dir[160];
        char pg_url[512];
        char tmp[128];
        char url[768]; /* the current test's store */
        int serial;
};

static struct env E;

/* main() of a test file: run the group on SQLite, then on PostgreSQL when
 * the test environment could start it. "what" names the group. */
#define ENV_RUN_BOTH_BACKENDS(what, tests)                                                         \
        env_run_both(what, tests, sizeof(tests) / sizeof((tests)[0]))

static inline int env_init(void);
static inline void env_fini(void);

static inline int env_run_both(const char *what, const struct CMUnitTest *tests, size_t n)
{
        char name[128];
        if (env_init() < 0) {
                fprintf(stderr, "could not set up the test environment (PostgreSQL start?)\n");
                return 1;
        }
        E.pg = false;
        snprintf(name, sizeof(name), "%s: sqlite", what);
        int failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
        if (E.pg_available) {
                E.pg = true;
                snprintf(name, sizeof(name), "%s: postgres", what);
                failed += _cmocka_run_group_tests(name, tests, n, NULL, NULL);
        }
        env_fini();
        return failed ? 1 : 0;
}

static inline int64_t env_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void env_sleep_ms(unsigned ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static inline int env_script(const char *args)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s/scripts/%s", WH_SOURCE_DIR, args);
        int st = system(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start PostgreSQL unless the machine has none. */
static inline int env_init(void)
{
        snprintf(E.tmp, sizeof(E.tmp), "/tmp/wh-queue-test.XXXXXX");
        if (!mkdtemp(E.tmp))
                return -1;
        const char *url = getenv("WHISKERS_TEST_PG_URL");
        if (url && *url) {
                snprintf(E.pg_url, sizeof(E.pg_url), "%s", url);
                E.pg_available = true;
                return 0;
        }
        glob_t g;
        bool have = glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0;
        globfree(&g);
        if (!have) {
                printf("SKIP PostgreSQL backend: no initdb under /usr/lib/postgresql; install "
                       "postgresql (scripts/deps/queue.txt) or set WHISKERS_TEST_PG_URL\n");
                return 0;
        }
        /* Its own directory: the server may run as another user (postgres),
         * who must be able to enter it. */
        snprintf(E.pg_dir, sizeof(E.pg_dir), "/tmp/wh-queue-pg.XXXXXX");
        if (!mkdtemp(E.pg_dir))
                return -1;
        char args[512];
        /* fsync=off: the tests crash clients and servers, never the kernel. */
        snprintf(args, sizeof(args), "pg-start.sh '%s' fsync=off >/dev/null", E.pg_dir);
        if (env_script(args) != 0)
                return -1;
        char path[256];
        snprintf(path, sizeof(path), "%s/url", E.pg_dir);
        FILE *f = fopen(path, "re");
        if (!f || !fgets(E.pg_url, sizeof(E.pg_url), f)) {
                if (f)
                        fclose(f);
                return -1;
        }
        fclose(f);
        E.pg_url[strcspn(E.pg_url, "\n")] = '\0';
        E.pg_available = E.pg_ours = true;
        return 0;
}

static inline void env_fini(void)
{
        char args[512];
        if (E.pg_ours) {
                snprintf(args, sizeof(args), "pg-stop.sh '%s'", E.pg_dir);
                env_script(args);
        }
        snprintf(args, sizeof(args), "rm -rf '%s'", E.tmp);
        if (system(args) != 0)
                fprintf(stderr, "could not remove %s\n", E.tmp);
}

/* Stop our server, keeping its data; `crash`: as a crash would (immediate). */
static inline int env_pg_stop(bool crash)
{
        char args[512];
        snprintf(args, sizeof(args), "pg-stop.sh --keep %s '%s'", crash ? "--immediate" : "",
                 E.pg_dir);
        return env_script(args);
}

static inline int env_pg_start(void)
{
        char args[512];
        snprintf(args, sizeof(args), "pg-start.sh '%s' >/dev/null", E.pg_dir);
        return env_script(args);
}

static inline int pg_admin(const char *sql)
{
        PGconn *c = PQconnectdb(E.pg_url);
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (ok < 0)
                fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return ok;
}

/* A fresh empty store for one test; its URL in E.url. */
static inline const char *env_fresh(void)
{
        E.serial++;
        if (!E.pg) {
                snprintf(E.url, sizeof(E.url), "sqlite://%s/t%d.db", E.tmp, E.serial);
                return E.url;
        }
        char sql[128];
        snprintf(sql, sizeof(sql), "CREATE SCHEMA t%d_%d", (int)getpid(), E.serial);
        if (pg_admin(sql) < 0)
                return NULL;
        snprintf(E.url, sizeof(E.url), "%s%soptions=-csearch_path%%3Dt%d_%d", E.pg_url,
                 strchr(E.pg_url, '?') ? "&" : "?", (int)getpid(), E.serial);
        return E.url;
}

/* One integer from SQL run directly on the current test's store. */
static inline long long count(const char *sql)
{
        long long n = -1;
        if (!E.pg) {
                sqlite3 *db;
                sqlite3_stmt *st;
                if (sqlite3_open(E.url + strlen("sqlite://"), &db) == SQLITE_OK &&
                    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
                        if (sqlite3_step(st) == SQLITE_ROW)
                                n = sqlite3_column_int64(st, 0);
                        sqlite3_finalize(st);
                }
                sqlite3_close(db);
                return n;
        }
        PGconn *c = PQconnectdb(E.url);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
                n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        else
                fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return n;
}

/* Run SQL that returns no rows directly on the current test's store. */
static inline int env_exec(const char *sql)
{
        int ret = -1;
        if (!E.pg) {
                sqlite3 *db;
                if (sqlite3_open(E.url + strlen("sqlite://"), &db) == SQLITE_OK)
                        ret = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
                sqlite3_close(db);
                return ret;
        }
        PGconn *c = PQconnectdb(E.url);
        PGresult *r = PQexec(c, sql);
        ret = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        PQclear(r);
        PQfinish(c);
        return ret;
}

/* Store `text` as a raw blob and queue `n` jobs on it; ids into ids. */
static inline int env_submit(struct wh_queue *q, const char *text, size_t n, int64_t *ids,
                             uint32_t max_attempts, struct wh_err *err)
{
        char digest[WH_DIGEST_BUF];
        if (wh_queue_put_raw(q, text, strlen(text), digest, NULL, err) < 0)
                return -1;
        struct wh_job_spec *specs = calloc(n, sizeof(*specs));
        for (size_t i = 0; i < n; i++)
                specs[i] = (struct wh_job_spec){.tenant = "acme",
                                                .normaliser = "kat/nmap-normaliser:1",
                                                .raw_digest = digest,
                                                .meta_json = "{\"boefje\": \"nmap\"}",
                                                .mime = "boefje/nmap",
                                                .max_attempts = max_attempts};
        int ret = wh_queue_submit(q, specs, n, ids, err);
        free(specs);
        return ret;
}

/* The newest schema version (src/queue/sqlite_schema.c, pg_schema.c). */
#define ENV_SCHEMA_VERSION 4

/* Shared by the suites (cmocka is included first by each). */
#define OK(x)                                                                                      \
        do {                                                                                       \
                if ((x) < 0)                                                                       \
                        fail_msg("%s: %s", #x, err.msg);                                           \
        } while (0)

/* The current test's store back to what version 3 was, as whiskers wrote
 * it then: no kind column, a boefje job's reference "boefje:" + its id. */
static inline void env_back_to_v3(void)
{
        assert_int_equal(env_exec("UPDATE job_payload SET normaliser = 'boefje:' || normaliser"
                                  " WHERE kind = 'boefje'"),
                         0);
        assert_int_equal(env_exec("ALTER TABLE job_payload DROP COLUMN kind"), 0);
        assert_int_equal(env_exec("DELETE FROM schema_version WHERE version = 4"), 0);
}

static inline struct wh_queue *open_fresh(struct wh_err *e)
{
        struct wh_queue *q = NULL;
        const char *url = env_fresh();
        assert_non_null(url);
        if (wh_queue_open(url, &q, e) < 0)
                fail_msg("open %s: %s", url, e->msg);
        return q;
}

static const char *const P =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char *const POL =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

static inline int64_t complete_ok(struct wh_queue *q, const struct wh_job *j, const char *worker,
                                  const char *output, struct wh_err *e)
{
        struct wh_dedup_key key = {P, j->raw_digest, j->meta_digest, POL};
        struct wh_job_completion c = {.id = j->id,
                                      .token = j->token,
                                      .worker_id = worker,
                                      .outcome = "ok",
                                      .output_json = output,
                                      .provenance_json = "{\"runtime\":\"test\"}",
                                      .key = &key};
        int64_t rid = 0;
        if (wh_queue_complete(q, &c, 1, &rid, e) < 0)
                return -1;
        return rid;
}

/* Open, retrying while the database is briefly unavailable. */
static inline struct wh_queue *open_retry(const char *url, struct wh_err *err)
{
        struct wh_queue *q = NULL;
        for (int i = 0; i < 300; i++) {
                if (wh_queue_open(url, &q, err) == 0)
                        return q;
                if (!wh_queue_err_is_transient(err))
                        return NULL;
                env_sleep_ms(100);
        }
        return NULL;
}

static inline int wait_child(pid_t pid)
{
        int st;
        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
