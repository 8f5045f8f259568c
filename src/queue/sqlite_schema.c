/* SQLite schema and its versioned migrations.
 *
 * Opening applies every migration the file lacks, inside one BEGIN IMMEDIATE
 * transaction, so concurrent openers serialise and each version is applied
 * exactly once. A file that is not SQLite, or is SQLite but holds somebody
 * else's tables, is refused and left byte-for-byte untouched.
 *
 * The tables mirror the PostgreSQL ones (pg_schema.c); times are
 * milliseconds since the epoch. */
#include "queue/sqlite_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct migration {
        int version;
        const char *description;
        const char *sql;
};

static const struct migration migrations[] = {
    {1, "jobs, payloads, raw inputs, results, dead letters, workers",
     /* The hot row: everything claiming, leasing and reaping touch, nothing
      * else. token only grows (fencing); attempt drops back on release. */
     "CREATE TABLE jobs ("
     " id INTEGER PRIMARY KEY,"
     " state INTEGER NOT NULL,"
     " priority INTEGER NOT NULL,"
     " attempt INTEGER NOT NULL,"
     " max_attempts INTEGER NOT NULL,"
     " token INTEGER NOT NULL,"
     " available_at INTEGER NOT NULL,"
     " lease_expires_at INTEGER,"
     " lease_owner TEXT,"
     " tenant TEXT NOT NULL);"
     "CREATE INDEX jobs_ready ON jobs (priority DESC, available_at, id) WHERE state = 0;"
     "CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 1;"
     "CREATE TABLE raw ("
     " digest TEXT PRIMARY KEY,"
     " size INTEGER NOT NULL,"
     " data BLOB NOT NULL,"
     " created_at INTEGER NOT NULL);"
     "CREATE TABLE job_payload ("
     " job_id INTEGER PRIMARY KEY REFERENCES jobs (id),"
     " normaliser TEXT NOT NULL,"
     " package_digest TEXT,"
     " raw_digest TEXT NOT NULL REFERENCES raw (digest),"
     " meta TEXT NOT NULL,"
     " meta_digest TEXT NOT NULL,"
     " mime TEXT,"
     " submitted_at INTEGER NOT NULL,"
     " last_status TEXT);"
     "CREATE TABLE results ("
     " id INTEGER PRIMARY KEY,"
     " job_id INTEGER NOT NULL UNIQUE REFERENCES jobs (id),"
     " token INTEGER NOT NULL,"
     " tenant TEXT NOT NULL,"
     " outcome TEXT NOT NULL,"
     " worker TEXT,"
     " dedup_key TEXT,"
     " package_digest TEXT,"
     " input_digest TEXT,"
     " meta_digest TEXT,"
     " policy_hash TEXT,"
     " reused_from INTEGER REFERENCES results (id),"
     " created_at INTEGER NOT NULL);"
     "CREATE INDEX results_dedup ON results (dedup_key)"
     " WHERE outcome = 'ok' AND reused_from IS NULL;"
     "CREATE INDEX results_tenant ON results (tenant, id);"
     "CREATE TABLE result_body ("
     " result_id INTEGER PRIMARY KEY REFERENCES results (id),"
     " output TEXT NOT NULL,"
     " provenance TEXT NOT NULL);"
     "CREATE TABLE dead_letter ("
     " job_id INTEGER PRIMARY KEY REFERENCES jobs (id),"
     " tenant TEXT NOT NULL,"
     " attempts INTEGER NOT NULL,"
     " reason TEXT NOT NULL,"
     " last_status TEXT NOT NULL,"
     " created_at INTEGER NOT NULL);"
     "CREATE INDEX dead_letter_tenant ON dead_letter (tenant, job_id);"
     "CREATE TABLE workers ("
     " id TEXT PRIMARY KEY,"
     " host TEXT NOT NULL,"
     " pid INTEGER NOT NULL,"
     " started_at INTEGER NOT NULL,"
     " heartbeat_at INTEGER NOT NULL);"},
    {2, "job counts by state, retry index, the sink outbox",
     /* Counters instead of count(*) over jobs: wh_queue_stats stays cheap at
      * any size. One writer at a time, so one shard; the column keeps the
      * table the same as on PostgreSQL. */
     "CREATE TABLE job_counts ("
     " shard INTEGER NOT NULL,"
     " state INTEGER NOT NULL,"
     " n INTEGER NOT NULL,"
     " PRIMARY KEY (shard, state));"
     "INSERT INTO job_counts SELECT 0, s.state, (SELECT count(*) FROM jobs WHERE state = s.state)"
     " FROM (SELECT 0 AS state UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) s;"
     "CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs BEGIN"
     " UPDATE job_counts SET n = n + 1 WHERE shard = 0 AND state = NEW.state; END;"
     "CREATE TRIGGER jobs_updated AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state BEGIN"
     " UPDATE job_counts SET n = n - 1 WHERE shard = 0 AND state = OLD.state;"
     " UPDATE job_counts SET n = n + 1 WHERE shard = 0 AND state = NEW.state; END;"
     "CREATE TRIGGER jobs_deleted AFTER DELETE ON jobs BEGIN"
     " UPDATE job_counts SET n = n - 1 WHERE shard = 0 AND state = OLD.state; END;"
     "CREATE INDEX jobs_retry ON jobs (available_at) WHERE state = 0 AND attempt > 0;"
     /* The outbox (see pg_schema.c): state 0 pending, 2 delivered, 3 failed. */
     "CREATE TABLE deliveries ("
     " result_id INTEGER PRIMARY KEY REFERENCES results (id),"
     " job_id INTEGER NOT NULL,"
     " tenant TEXT NOT NULL,"
     " state INTEGER NOT NULL,"
     " attempts INTEGER NOT NULL,"
     " token INTEGER NOT NULL,"
     " next_attempt_at INTEGER NOT NULL,"
     " http_status INTEGER,"
     " last_error TEXT,"
     " created_at INTEGER NOT NULL,"
     " updated_at INTEGER NOT NULL);"
     "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 0;"
     "CREATE INDEX deliveries_failed ON deliveries (result_id) WHERE state = 3;"},
    {3, "lost workers counted apart from attempts, reuse looked up per tenant",
     /* Jobs already in the store get the default bound; their attempts
      * may include lost leases of before (nothing tells them apart). */
     "ALTER TABLE jobs ADD COLUMN lost_leases INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE jobs ADD COLUMN max_lost_leases INTEGER NOT NULL " WH_SQL_MAX_LOST_DEFAULT ";"
     "CREATE INDEX results_dedup_tenant ON results (tenant, dedup_key)"
     " WHERE outcome = 'ok' AND reused_from IS NULL;"},
    {4, "the kind of a job is a column: normaliser or boefje",
     /* Before, a boefje job was one whose reference began with "boefje:"
      * (what the worker read, case-sensitively): those rows become boefje
      * jobs with the prefix dropped, so a reference means what its kind
      * says and a normaliser reference may begin with anything. */
     "ALTER TABLE job_payload ADD COLUMN kind TEXT NOT NULL DEFAULT 'normaliser'"
     " CHECK (kind IN ('normaliser', 'boefje'));"
     "UPDATE job_payload SET kind = 'boefje', normaliser = substr(normaliser, 8)"
     " WHERE substr(normaliser, 1, 7) = 'boefje:' AND length(normaliser) > 7;"},
};

static int exec_sql(struct wh_sqlite *s, const char *sql, const char *what, struct wh_err *err)
{
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : wh_sqlite_err(s, rc, what, err);
}

static int one_int(struct wh_sqlite *s, const char *sql, int64_t *out, struct wh_err *err)
{
        sqlite3_stmt *stmt;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
        if (rc != SQLITE_OK)
                return wh_sqlite_err(s, rc, "reading the schema", err);
        rc = sqlite3_step(stmt);
        *out = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return wh_sqlite_err(s, rc, "reading the schema", err);
        return 0;
}

/* WAL lets readers (results, show) run beside a writer. Switching a new file
 * to WAL needs a moment of exclusive access, which a concurrent opener may
 * hold: retry briefly rather than fail the open. */
static int set_wal(struct wh_sqlite *s, struct wh_err *err)
{
        int rc = SQLITE_OK;
        for (int i = 0; i < 100; i++) {
                rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
                if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
                        break;
                usleep(20000);
        }
        return rc == SQLITE_OK ? 0 : wh_sqlite_err(s, rc, "switching to WAL", err);
}

static int apply(struct wh_sqlite *s, struct wh_err *err)
{
        int64_t have_version_table, other_tables, version;
        if (one_int(s,
                    "SELECT count(*) FROM sqlite_master"
                    " WHERE type = 'table' AND name = 'schema_version'",
                    &have_version_table, err) < 0 ||
            one_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &other_tables,
                    err) < 0)
                return -1;
        if (!have_version_table && other_tables)
                return wh_qerr(err, EINVAL,
                               "%s is an SQLite database of something else (it has tables but "
                               "no whiskers schema); whiskers will not touch it: pass another "
                               "--db",
                               s->path);
        if (exec_sql(s,
                     "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                     " description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                     "creating schema_version", err) < 0 ||
            one_int(s, "SELECT coalesce(max(version), 0) FROM schema_version", &version, err) < 0)
                return -1;
        int newest = migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version;
        if (version > newest)
                return wh_qerr(err, EPROTO,
                               "%s has schema version %lld but this whiskers knows up to %d: "
                               "upgrade whiskers",
                               s->path, (long long)version, newest);
        for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
                const struct migration *m = &migrations[i];
                if (m->version <= version)
                        continue;
                if (exec_sql(s, m->sql, "applying a schema migration", err) < 0)
                        return -1;
                char sql[256];
                snprintf(sql, sizeof(sql),
                         "INSERT INTO schema_version VALUES (%d, '%s', wh_now_ms())", m->version,
                         m->description);
                if (exec_sql(s, sql, "recording a schema migration", err) < 0)
                        return -1;
        }
        return 0;
}

int wh_sqlite_migrate(struct wh_sqlite *s, bool create, struct wh_err *err)
{
        /* Before anything that writes (WAL switches the file's header). */
        if (!create) {
                int64_t have = 0;
                if (one_int(s,
                            "SELECT count(*) FROM sqlite_master"
                            " WHERE type = 'table' AND name = 'schema_version'",
                            &have, err) < 0)
                        return -1;
                if (!have)
                        return wh_qerr(err, ENOENT,
                                       "%s holds no job store (no whiskers tables): check --db or "
                                       "$WHISKERS_DB; 'whiskers submit' or 'whiskers worker' "
                                       "creates one",
                                       s->path);
        }
        /* synchronous=FULL: a submission or completion that returned survives
         * a power cut, not just a crash of the process. */
        if (set_wal(s, err) < 0 ||
            exec_sql(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", "setting pragmas", err) <
                0 ||
            exec_sql(s, "BEGIN IMMEDIATE", "locking the schema", err) < 0)
                return -1;
        if (apply(s, err) < 0) {
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return wh_err_prefix(err, "migrating the job store");
        }
        return exec_sql(s, "COMMIT", "committing the schema", err);
}
