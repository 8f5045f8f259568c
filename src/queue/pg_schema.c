/* PostgreSQL schema and its versioned migrations.
 *
 * Opening applies every missing migration in one transaction that first
 * takes a transaction-scoped advisory lock: concurrent openers (many workers
 * starting at once) queue behind it and then find the work done. DDL is
 * transactional in PostgreSQL, so a failed migration leaves nothing behind.
 *
 * The tables mirror the SQLite ones (sqlite_schema.c); times are bigint
 * milliseconds since the epoch from the server's clock (wh_now_ms()). */
#include "queue/pg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* "whks": an arbitrary key that no other application is likely to use. */
#define MIGRATION_LOCK_KEY 0x77686b73

struct migration {
        int version;
        const char *description;
        const char *sql;
};

static const struct migration migrations[] = {
    {1, "jobs, payloads, raw inputs, results, dead letters, workers",
     /* The statement's start, not the transaction's: transactions here are
      * one statement or a few short ones. STABLE lets the planner use it in
      * index conditions (jobs_leased, jobs_ready). */
     "CREATE FUNCTION wh_now_ms() RETURNS bigint LANGUAGE sql STABLE"
     " AS $$ SELECT (extract(epoch FROM statement_timestamp()) * 1000)::bigint $$;"
     /* The hot row: everything claiming, leasing and reaping touch, nothing
      * else. token only grows (fencing); attempt drops back on release. */
     "CREATE TABLE jobs ("
     " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     " state smallint NOT NULL,"
     " priority smallint NOT NULL,"
     " attempt integer NOT NULL,"
     " max_attempts integer NOT NULL,"
     " token bigint NOT NULL,"
     " available_at bigint NOT NULL,"
     " lease_expires_at bigint,"
     " lease_owner text,"
     " tenant text NOT NULL);"
     "CREATE INDEX jobs_ready ON jobs (priority DESC, available_at, id) WHERE state = 0;"
     "CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 1;"
     "CREATE TABLE raw ("
     " digest text PRIMARY KEY,"
     " size bigint NOT NULL,"
     " data bytea NOT NULL,"
     " created_at bigint NOT NULL);"
     "CREATE TABLE job_payload ("
     " job_id bigint PRIMARY KEY REFERENCES jobs (id),"
     " normaliser text NOT NULL,"
     " package_digest text,"
     " raw_digest text NOT NULL REFERENCES raw (digest),"
     " meta text NOT NULL,"
     " meta_digest text NOT NULL,"
     " mime text,"
     " submitted_at bigint NOT NULL,"
     " last_status text);"
     "CREATE TABLE results ("
     " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     " job_id bigint NOT NULL UNIQUE REFERENCES jobs (id),"
     " token bigint NOT NULL,"
     " tenant text NOT NULL,"
     " outcome text NOT NULL,"
     " worker text,"
     " dedup_key text,"
     " package_digest text,"
     " input_digest text,"
     " meta_digest text,"
     " policy_hash text,"
     " reused_from bigint REFERENCES results (id),"
     " created_at bigint NOT NULL);"
     "CREATE INDEX results_dedup ON results (dedup_key)"
     " WHERE outcome = 'ok' AND reused_from IS NULL;"
     "CREATE INDEX results_tenant ON results (tenant, id);"
     "CREATE TABLE result_body ("
     " result_id bigint PRIMARY KEY REFERENCES results (id),"
     " output text NOT NULL,"
     " provenance text NOT NULL);"
     "CREATE TABLE dead_letter ("
     " job_id bigint PRIMARY KEY REFERENCES jobs (id),"
     " tenant text NOT NULL,"
     " attempts integer NOT NULL,"
     " reason text NOT NULL,"
     " last_status text NOT NULL,"
     " created_at bigint NOT NULL);"
     "CREATE INDEX dead_letter_tenant ON dead_letter (tenant, job_id);"
     "CREATE TABLE workers ("
     " id text PRIMARY KEY,"
     " host text NOT NULL,"
     " pid integer NOT NULL,"
     " started_at bigint NOT NULL,"
     " heartbeat_at bigint NOT NULL);"},
    {2, "job counts by state, retry index, wake-ups, the sink outbox",
     /* Counters instead of count(*) over jobs: wh_queue_stats stays cheap at
      * any size. Statement triggers with transition tables add one upsert
      * per statement; the shard (the backend's pid) keeps workers on
      * different connections off each other's counter rows. Taking the lock
      * first makes the initial count exact. */
     "LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;"
     "CREATE TABLE job_counts ("
     " shard smallint NOT NULL,"
     " state smallint NOT NULL,"
     " n bigint NOT NULL,"
     " PRIMARY KEY (shard, state));"
     "INSERT INTO job_counts SELECT 0, state, count(*) FROM jobs GROUP BY state;"
     /* Also the wake-up: NOTIFY when jobs become ready now (submitted,
      * released, reaped), so idle workers LISTENing claim at once. */
     "CREATE FUNCTION wh_jobs_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
     " DECLARE wake boolean := false;"
     " BEGIN"
     "  IF TG_OP = 'INSERT' THEN"
     "   INSERT INTO job_counts (shard, state, n)"
     "    SELECT pg_backend_pid() % 16, state, count(*) FROM new_rows GROUP BY state"
     "    ORDER BY state ON CONFLICT (shard, state) DO UPDATE SET n = job_counts.n + excluded.n;"
     "   wake := true;"
     "  ELSIF TG_OP = 'UPDATE' THEN"
     "   INSERT INTO job_counts (shard, state, n)"
     "    SELECT pg_backend_pid() % 16, state, sum(d) FROM"
     "    (SELECT state, 1 AS d FROM new_rows UNION ALL SELECT state, -1 FROM old_rows) c"
     "    GROUP BY state HAVING sum(d) <> 0 ORDER BY state"
     "    ON CONFLICT (shard, state) DO UPDATE SET n = job_counts.n + excluded.n;"
     "   wake := EXISTS (SELECT 1 FROM new_rows nw JOIN old_rows od ON od.id = nw.id"
     "    WHERE nw.state = 0 AND od.state <> 0 AND nw.available_at <= wh_now_ms());"
     "  ELSE"
     "   INSERT INTO job_counts (shard, state, n)"
     "    SELECT pg_backend_pid() % 16, state, -count(*) FROM old_rows GROUP BY state"
     "    ORDER BY state ON CONFLICT (shard, state) DO UPDATE SET n = job_counts.n + excluded.n;"
     "  END IF;"
     "  IF wake THEN PERFORM pg_notify('whiskers_jobs', ''); END IF;"
     "  RETURN NULL;"
     " END $$;"
     "CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows"
     " FOR EACH STATEMENT EXECUTE FUNCTION wh_jobs_changed();"
     "CREATE TRIGGER jobs_updated AFTER UPDATE ON jobs"
     " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
     " FOR EACH STATEMENT EXECUTE FUNCTION wh_jobs_changed();"
     "CREATE TRIGGER jobs_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows"
     " FOR EACH STATEMENT EXECUTE FUNCTION wh_jobs_changed();"
     /* Jobs waiting for a retry: only retried jobs are in it, so counting
      * the delayed ones reads a small index, not the queue. */
     "CREATE INDEX jobs_retry ON jobs (available_at) WHERE state = 0 AND attempt > 0;"
     /* The outbox: a row per result to deliver, written in the transaction
      * that stores the result. state 0 pending, 2 delivered, 3 failed. A
      * claim bumps token and pushes next_attempt_at one lease ahead, so a
      * delivery whose worker died is due again then. */
     "CREATE TABLE deliveries ("
     " result_id bigint PRIMARY KEY REFERENCES results (id),"
     " job_id bigint NOT NULL,"
     " tenant text NOT NULL,"
     " state smallint NOT NULL,"
     " attempts integer NOT NULL,"
     " token bigint NOT NULL,"
     " next_attempt_at bigint NOT NULL,"
     " http_status integer,"
     " last_error text,"
     " created_at bigint NOT NULL,"
     " updated_at bigint NOT NULL);"
     "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 0;"
     "CREATE INDEX deliveries_failed ON deliveries (result_id) WHERE state = 3;"},
    {3, "lost workers counted apart from attempts, reuse looked up per tenant",
     /* A constant default: no table rewrite. Jobs already in the store get
      * the default bound; their attempts may include lost leases of before
      * (nothing tells them apart). */
     "ALTER TABLE jobs ADD COLUMN lost_leases integer NOT NULL DEFAULT 0,"
     " ADD COLUMN max_lost_leases integer NOT NULL " WH_SQL_MAX_LOST_DEFAULT ";"
     "CREATE INDEX results_dedup_tenant ON results (tenant, dedup_key)"
     " WHERE outcome = 'ok' AND reused_from IS NULL;"},
    {4, "the kind of a job is a column: normaliser or boefje",
     /* See sqlite_schema.c: jobs whose reference began with "boefje:"
      * become boefje jobs, the prefix dropped. A constant default adds the
      * column without a rewrite; the CHECK and the UPDATE read the table
      * once. */
     "ALTER TABLE job_payload ADD COLUMN kind text NOT NULL DEFAULT 'normaliser'"
     " CONSTRAINT job_payload_kind CHECK (kind IN ('normaliser', 'boefje'));"
     "UPDATE job_payload SET kind = 'boefje', normaliser = substr(normaliser, 8)"
     " WHERE left(normaliser, 7) = 'boefje:' AND length(normaliser) > 7;"},
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static int run(struct wh_pg *p, const char *sql, ExecStatusType want, int64_t *out,
               struct wh_err *err)
{
        PGresult *res = PQexec(p->conn, sql);
        int ret = 0;
        if (PQresultStatus(res) != want)
                ret = wh_pg_err(p, res, "migrating the job store", err);
        else if (out)
                *out = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        PQclear(res);
        return ret;
}

static int apply(struct wh_pg *p, bool create, struct wh_err *err)
{
        char sql[256];
        int64_t version = 0, have = 0;
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", MIGRATION_LOCK_KEY);
        if (run(p, sql, PGRES_TUPLES_OK, NULL, err) < 0 ||
            run(p,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_version'"
                " AND schemaname = current_schema()",
                PGRES_TUPLES_OK, &have, err) < 0)
                return -1;
        if (!have && !create)
                return wh_qerr(err, ENOENT,
                               "the database at %s holds no job store (no whiskers tables): "
                               "check --db or $WHISKERS_DB; 'whiskers submit' or 'whiskers "
                               "worker' creates one",
                               p->where);
        if (run(p,
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
                " description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                PGRES_COMMAND_OK, NULL, err) < 0 ||
            run(p, "SELECT coalesce(max(version), 0) FROM schema_version", PGRES_TUPLES_OK,
                &version, err) < 0)
                return -1;
        int newest = migrations[NMIGRATIONS - 1].version;
        if (version > newest)
                return wh_qerr(err, EPROTO,
                               "the database at %s has schema version %lld but this whiskers "
                               "knows up to %d: upgrade whiskers",
                               p->where, (long long)version, newest);
        for (size_t i = 0; i < NMIGRATIONS; i++) {
                const struct migration *m = &migrations[i];
                if (m->version <= version)
                        continue;
                snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s')",
                         m->version, m->description);
                if (run(p, m->sql, PGRES_COMMAND_OK, NULL, err) < 0 ||
                    run(p, sql, PGRES_COMMAND_OK, NULL, err) < 0)
                        return -1;
        }
        return 0;
}

int wh_pg_migrate(struct wh_pg *p, bool create, struct wh_err *err)
{
        if (run(p, "BEGIN", PGRES_COMMAND_OK, NULL, err) < 0)
                return -1;
        if (apply(p, create, err) < 0) {
                PQclear(PQexec(p->conn, "ROLLBACK"));
                return -1;
        }
        return run(p, "COMMIT", PGRES_COMMAND_OK, NULL, err);
}
