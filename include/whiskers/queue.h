/* libwhiskers job store: raw inputs, jobs, leases, results, dead letters.
 *
 * One interface, two backends with the same behaviour (the same test suite
 * runs against both):
 *   sqlite:///path/whiskers.db or a plain path   embedded, one file, WAL
 *   postgres://... or postgresql://...             shared by many workers
 *
 * Life of a job:
 *   wh_queue_put_raw()  store the input bytes (content-addressed, deduplicated)
 *   wh_queue_submit()   queue jobs naming that raw blob           -> QUEUED
 *   wh_queue_claim()    lease a batch in one statement            -> RUNNING
 *   wh_queue_heartbeat() keep the leases while the normaliser runs
 *   wh_queue_complete() store the result, fenced by the token     -> DONE
 *   wh_queue_fail()     retry later with backoff, or dead-letter  -> QUEUED/DEAD
 *   wh_queue_release()  hand back on shutdown (no attempt used)   -> QUEUED
 *   wh_queue_reap()     any worker returns expired leases         -> QUEUED/DEAD
 *
 * The sink outbox: a completion may ask for its result to be delivered to
 * an HTTP sink; the delivery row is written in the same transaction as the
 * result. Any worker claims due deliveries (wh_queue_claim_deliveries),
 * POSTs them and reports (wh_queue_delivery_report): delivered, retried
 * after a backoff, or failed after the cap, kept for an operator to
 * re-queue (wh_queue_redeliver).
 *
 * Every call is its own short transaction: nothing is held open while a
 * normaliser runs. A claim hands out a fencing token; completing, failing,
 * heartbeating and releasing only work with the token of the current lease
 * while it is unexpired, so a job rescued from a dead or stalled worker is
 * completed at most once. Times are milliseconds since the epoch taken from
 * the store's clock (the PostgreSQL server's), so workers on hosts with
 * skewed clocks agree about leases.
 *
 * Errors (struct wh_err, stage "queue"): `kind` tells the class, errnum the
 * code each kind is made from (src/queue/qerr.c keeps the table).
 *   ECONNREFUSED, ECONNRESET, EBUSY, EAGAIN  transient: the database is down,
 *       restarting, or busy. Retry the call later; a PostgreSQL handle
 *       reconnects by itself on the next call. See wh_queue_err_is_transient().
 *   ETIMEDOUT  transient too: a PostgreSQL statement ran past the statement
 *       timeout and was cancelled (nothing of it committed).
 *   ESTALE   fenced: the lease is no longer yours (expired, reaped, re-claimed).
 *   ENOENT   not found: no such job, raw blob or result; no store
 *       (wh_queue_open_existing).
 *   ENOSPC   limit: the database's disk is full (EFBIG too: a raw file too large).
 *   EUCLEAN  the SQLite file is corrupt or not a database; it is left untouched.
 *   EINVAL   invalid: bad arguments; EPROTO: the schema is newer than this whiskers.
 *
 * A handle belongs to one thread at a time and must not cross fork(): open
 * one per worker process or thread. */
#ifndef WHISKERS_QUEUE_H
#define WHISKERS_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/digest.h>
#include <whiskers/error.h>

/* Raw inputs larger than this are refused (they live in the database). */
#define WH_QUEUE_RAW_MAX              (64u << 20)
#define WH_QUEUE_DEFAULT_MAX_ATTEMPTS 5
/* A job whose worker is lost (the lease expired: killed, crashed, stalled)
 * this many times is dead-lettered: it may be what kills its workers.
 * Counted apart from the attempts, which count the normaliser's failures. */
#define WH_QUEUE_DEFAULT_MAX_LOST_LEASES 10
/* PostgreSQL statements are cancelled after this long unless changed with
 * wh_queue_set_statement_timeout(): a stuck statement cannot hang a worker. */
#define WH_QUEUE_DEFAULT_STATEMENT_TIMEOUT_MS 30000

struct wh_queue;

enum wh_job_state {
        WH_JOB_QUEUED = 0,  /* waiting, possibly until available_ms (backoff) */
        WH_JOB_RUNNING = 1, /* leased by a worker */
        WH_JOB_DONE = 2,    /* has exactly one result */
        WH_JOB_DEAD = 3,    /* in the dead letter table with its last status */
};
const char *wh_job_state_name(enum wh_job_state state);

/* What a job runs (the job_payload.kind column): a normaliser on a raw
 * file, or a boefje (a scanner) on an input object. The job's reference
 * (`normaliser` in the structs below) is read by its kind: a normaliser
 * id, path or package reference; a boefje id or directory. */
enum wh_job_kind {
        WH_JOB_NORMALISER = 0,
        WH_JOB_BOEFJE = 1,
};
#define WH_JOB_KINDS 2
/* "normaliser" or "boefje", as stored. */
const char *wh_job_kind_name(enum wh_job_kind kind);

/* Opens the store, creating it (file, tables) where there is none yet. */
int wh_queue_open(const char *url, struct wh_queue **q, struct wh_err *err);
/* For commands that only read: never creates anything. ENOENT when there is
 * no store at url (no such SQLite file; a file or PostgreSQL database
 * without the whiskers schema); the message says what to do. An existing
 * store of an older schema version is migrated as by wh_queue_open(). */
int wh_queue_open_existing(const char *url, struct wh_queue **q, struct wh_err *err);
void wh_queue_close(struct wh_queue *q);
/* "sqlite" or "postgres" */
const char *wh_queue_backend(const struct wh_queue *q);
/* Retry delay after the n-th failed attempt: a random value in
 * [d/2, d] with d = min(max_ms, base_ms * 2^(n-1)). Default 1 s and 5 min. */
void wh_queue_set_backoff(struct wh_queue *q, uint32_t base_ms, uint32_t max_ms);

/* PostgreSQL: cancel any statement running longer than ms (0: never), also
 * after a reconnect. SQLite: nothing to do (its busy timeout applies). */
int wh_queue_set_statement_timeout(struct wh_queue *q, uint32_t ms, struct wh_err *err);

/* Wait up to timeout_ms for jobs to become ready now (submitted, released,
 * reaped): PostgreSQL LISTEN/NOTIFY on a handle used for nothing else.
 * *woken is true on a notification, and also the first time and after a
 * reconnect (notifications may have been missed: claim once to see).
 * ENOTSUP on SQLite: poll instead. */
int wh_queue_wait_for_jobs(struct wh_queue *q, int timeout_ms, bool *woken, struct wh_err *err);

bool wh_queue_err_is_transient(const struct wh_err *err);
bool wh_queue_err_is_fenced(const struct wh_err *err);

/* --- raw inputs ------------------------------------------------------- */

/* Store bytes under their SHA-256; storing the same bytes again keeps one
 * copy. `existed` (may be NULL) says whether they were already there. */
int wh_queue_put_raw(struct wh_queue *q, const void *data, size_t len, char digest[WH_DIGEST_BUF],
                     bool *existed, struct wh_err *err);
/* Read a raw blob back (malloc'd; free it). ENOENT when absent. */
int wh_queue_get_raw(struct wh_queue *q, const char *digest, void **data, size_t *len,
                     struct wh_err *err);

/* --- submission ------------------------------------------------------- */

struct wh_job_spec {
        enum wh_job_kind kind;      /* 0: a normaliser job */
        const char *tenant;         /* required */
        const char *normaliser;     /* required: the reference as given (of the kind) */
        const char *package_digest; /* NULL when the worker resolves it */
        const char *raw_digest;     /* required; must already be stored */
        const char *meta_json;      /* a JSON object; NULL means {} */
        const char *mime;           /* NULL if unknown */
        int priority;               /* higher first; -32768..32767 */
        uint32_t max_attempts;      /* 0: WH_QUEUE_DEFAULT_MAX_ATTEMPTS */
        uint32_t max_lost_leases;   /* 0: WH_QUEUE_DEFAULT_MAX_LOST_LEASES */
};

/* Queue n jobs in one transaction (all or none), ids[i] for specs[i]. The
 * meta JSON is stored in canonical form (sorted keys, compact) and its
 * SHA-256 is the job's meta digest. A missing raw blob is ENOENT. */
int wh_queue_submit(struct wh_queue *q, const struct wh_job_spec *specs, size_t n, int64_t *ids,
                    struct wh_err *err);

/* --- leases ----------------------------------------------------------- */

struct wh_job {
        int64_t id;
        int64_t token;    /* fencing token of this lease */
        uint32_t attempt; /* 1 on the first claim; releases and lost leases
                             (wh_queue_reap) do not count */
        uint32_t max_attempts;
        int64_t lease_expires_ms;
        enum wh_job_kind kind;
        char *tenant;
        char *normaliser;     /* the reference, of the kind */
        char *package_digest; /* NULL if not given at submission */
        char *raw_digest;
        char *meta_json;
        char *meta_digest;
        char *mime; /* may be NULL */
};
void wh_jobs_free(struct wh_job *jobs, size_t n);

struct wh_job_lease {
        int64_t id;
        int64_t token;
};

/* Lease up to `max` ready jobs (highest priority, then oldest) for lease_ms,
 * in one statement that concurrent workers never collide on. *n may be 0. */
int wh_queue_claim(struct wh_queue *q, const char *worker_id, size_t max, uint32_t lease_ms,
                   struct wh_job **jobs, size_t *n, struct wh_err *err);

/* Extend the given leases to now + lease_ms and record that the worker is
 * alive (n may be 0 for the latter alone). held[i] says whether leases[i] is
 * still this worker's: false means stop working on that job. */
int wh_queue_heartbeat(struct wh_queue *q, const char *worker_id, const struct wh_job_lease *leases,
                       size_t n, uint32_t lease_ms, bool *held, struct wh_err *err);

/* What deduplication compares: a result for the same key can be reused. */
struct wh_dedup_key {
        const char *package_digest;
        const char *input_digest; /* the raw digest */
        const char *meta_digest;
        const char *policy_hash; /* digest of the sandbox/limits policy */
};

/* The earliest "ok" result with this key of this tenant, or *result_id = 0.
 * tenant NULL looks across all tenants: that tells one tenant about another's
 * work (timing, result ids), so do it only where the operator asked for it. */
int wh_queue_dedup_lookup(struct wh_queue *q, const struct wh_dedup_key *key, const char *tenant,
                          int64_t *result_id, struct wh_err *err);

/* Before running a group of jobs of one tenant: what wh_queue_dedup_lookup
 * and wh_queue_get_raw would say for each, in one statement (on PostgreSQL
 * one round trip for the whole group instead of two per job). raw is
 * fetched only up to raw_max bytes (bounding the memory of one call): NULL
 * when the blob is larger or missing, and the caller then reads it with
 * wh_queue_get_raw, which tells the two apart. 1..10000 jobs at a time. */
struct wh_job_prefetch {
        struct wh_dedup_key key; /* in */
        int64_t reused_from;     /* out: 0, or the earliest "ok" result with the key */
        void *raw;               /* out: malloc'd, or NULL (see above) */
        size_t raw_len;
};
int wh_queue_prefetch(struct wh_queue *q, const char *tenant, struct wh_job_prefetch *jobs,
                      size_t n, size_t raw_max, struct wh_err *err);

struct wh_job_completion {
        int64_t id;
        int64_t token;
        const char *worker_id;
        const char *outcome;            /* "ok" or the status name of the run */
        const char *output_json;        /* the normaliser's output; NULL when reusing */
        const char *provenance_json;    /* NULL when reusing */
        const struct wh_dedup_key *key; /* NULL: this result is never reused */
        int64_t reused_from;            /* 0, or a result id from wh_queue_dedup_lookup() */
        bool deliver;                   /* queue the result for the sink (outbox) */
        /* Jobs this result makes (a boefje job's raw files routed to their
         * normalisers), checked as by wh_queue_submit() and queued in the
         * completion's transaction only when it holds its lease: a fenced
         * completion queues none, a repeated one none twice. Their raw
         * blobs must be stored first. */
        const struct wh_job_spec *follow_ups;
        size_t n_follow_ups;
};

/* Complete n jobs in one transaction, with the jobs each completion makes
 * (follow_ups). result_ids[i] is the new result's id,
 * or 0 when completion i was fenced: its lease was lost and somebody else
 * owns the job now; drop it. Returns 0 when none was fenced, -1 with ESTALE
 * when some were (the others are committed all the same), -1 with another
 * errnum when nothing was committed. Repeating a completion that already
 * succeeded with the same token (say after a transient error) returns the
 * same result id: retrying is safe. */
int wh_queue_complete(struct wh_queue *q, const struct wh_job_completion *c, size_t n,
                      int64_t *result_ids, struct wh_err *err);

/* The attempt failed with `status_json` (the status record). If retryable
 * and attempts remain, the job is queued again after the backoff; otherwise
 * it moves to the dead letter table with this status. *state (may be NULL)
 * says which. Fenced (ESTALE) when the lease is no longer held, which is
 * also what a retry after a transient error sees if the first call did take
 * effect: either way the job is no longer this worker's. */
int wh_queue_fail(struct wh_queue *q, int64_t id, int64_t token, const char *status_json,
                  bool retryable, enum wh_job_state *state, struct wh_err *err);

/* Hand leases back unrun (graceful shutdown): queued again at once, the
 * attempt not counted. Leases no longer held are skipped. */
int wh_queue_release(struct wh_queue *q, const struct wh_job_lease *leases, size_t n,
                     struct wh_err *err);

/* Return every expired lease to the queue. A lost worker is not the
 * normaliser's failure: the attempt is given back, like a release, and the
 * job's lost_leases counts up instead; when it reaches max_lost_leases the job
 * goes to the dead letter table (status "lease_expired"), so a job that kills
 * every worker running it still ends. Any worker may call it. */
int wh_queue_reap(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err);

/* Forget a worker at clean shutdown (it no longer counts as live). */
int wh_queue_worker_gone(struct wh_queue *q, const char *worker_id, struct wh_err *err);

/* --- reading back ----------------------------------------------------- */

struct wh_result_row {
        int64_t result_id;
        int64_t job_id;
        int64_t token;
        int64_t reused_from; /* 0 unless the result was reused */
        int64_t created_ms;
        enum wh_job_kind kind; /* the job's */
        char *tenant;
        char *normaliser;
        char *outcome;
        char *worker;
        char *package_digest; /* the dedup key's parts, NULL if none */
        char *input_digest;
        char *meta_digest;
        char *policy_hash;
};
void wh_result_rows_free(struct wh_result_row *rows, size_t n);

struct wh_result_filter {
        const char *tenant; /* NULL: all */
        int64_t after_id;   /* results with a larger id only (paging) */
        size_t limit;       /* 0: 100 */
};
int wh_queue_results(struct wh_queue *q, const struct wh_result_filter *filter,
                     struct wh_result_row **rows, size_t *n, struct wh_err *err);

enum wh_delivery_state {
        WH_DELIVERY_PENDING = 0,   /* waiting for (or in) an attempt */
        WH_DELIVERY_DELIVERED = 2, /* the sink answered 2xx */
        WH_DELIVERY_FAILED = 3,    /* gave up: kept for wh_queue_redeliver() */
};
const char *wh_delivery_state_name(enum wh_delivery_state state);

struct wh_job_info {
        int64_t id;
        enum wh_job_state state;
        int priority;
        uint32_t attempt, max_attempts;
        uint32_t lost_leases, max_lost_leases; /* workers lost while running it */
        int64_t token;
        int64_t submitted_ms, available_ms, lease_expires_ms; /* lease: 0 if none */
        enum wh_job_kind kind;
        char *tenant, *normaliser, *package_digest, *raw_digest, *meta_json, *meta_digest, *mime;
        char *lease_owner;
        char *last_status_json;              /* status record of the last failure, or NULL */
        struct wh_result_row *result;        /* when DONE */
        char *output_json, *provenance_json; /* the reused result's when reused */
        char *dead_reason;                   /* when DEAD */
        int64_t dead_ms;
        /* The result's delivery to the sink, if one was asked for. */
        bool has_delivery;
        enum wh_delivery_state delivery_state;
        uint32_t delivery_attempts;
        int delivery_http_status; /* of the last answer; 0: none */
        char *delivery_error;     /* why the last attempt failed, or NULL */
};
/* ENOENT when there is no such job. */
int wh_queue_show(struct wh_queue *q, int64_t job_id, struct wh_job_info **info,
                  struct wh_err *err);
void wh_job_info_free(struct wh_job_info *info);
/* The same as one JSON object (output and provenance embedded as JSON). */
int wh_job_info_json(const struct wh_job_info *info, char **json, struct wh_err *err);
int wh_result_rows_json(const struct wh_result_row *rows, size_t n, char **json,
                        struct wh_err *err);
/* Milliseconds since the epoch as "2026-12-06T21:00:00Z" (UTC), as the
 * listings show times. */
void wh_queue_time_text(int64_t ms, char out[32]);

struct wh_dead_row {
        int64_t job_id;
        uint32_t attempts;
        int64_t created_ms;
        enum wh_job_kind kind;
        char *tenant, *normaliser, *reason, *last_status_json;
};
void wh_dead_rows_free(struct wh_dead_row *rows, size_t n);
/* The rows as a JSON array (last_status embedded as JSON). */
int wh_dead_rows_json(const struct wh_dead_row *rows, size_t n, char **json, struct wh_err *err);
int wh_queue_dead_letters(struct wh_queue *q, const struct wh_result_filter *filter,
                          struct wh_dead_row **rows, size_t *n, struct wh_err *err);

struct wh_queue_stats {
        uint64_t ready;   /* queued and available now */
        uint64_t delayed; /* queued, waiting for a retry backoff */
        uint64_t running, done, dead;
        uint64_t running_boefje;     /* of the running ones: boefje jobs (scans) */
        uint64_t live_workers;       /* heartbeat within the last stale_ms */
        uint64_t deliveries_pending; /* results waiting for (or in) delivery */
        uint64_t deliveries_failed;  /* gave up: see wh_queue_redeliver() */
};
/* Job counts come from counters the store maintains (no table scan); the
 * delayed ones, the running boefje jobs and the deliveries from small
 * partial indexes. */
int wh_queue_stats(struct wh_queue *q, uint32_t stale_ms, struct wh_queue_stats *stats,
                   struct wh_err *err);

/* --- the sink outbox --------------------------------------------------- */

struct wh_delivery {
        int64_t result_id, job_id;
        int64_t token;         /* of this claim: report with it */
        uint32_t attempt;      /* 1 on the first claim */
        enum wh_job_kind kind; /* the job's */
        char *tenant, *normaliser, *input_digest;
        char *body; /* the NormalizerResults (a reuse's: the reused result's) */
};
void wh_deliveries_free(struct wh_delivery *d, size_t n);

/* Claim up to `max` due deliveries, oldest due first, for lease_ms: until
 * then nobody else claims them; a worker that dies holding one leaves it
 * due again when the lease ends (at-least-once delivery). SKIP LOCKED on
 * PostgreSQL. *n may be 0. */
int wh_queue_claim_deliveries(struct wh_queue *q, size_t max, uint32_t lease_ms,
                              struct wh_delivery **d, size_t *n, struct wh_err *err);

struct wh_delivery_attempt {
        bool delivered;
        bool retryable;                      /* when not delivered: may another attempt help? */
        int http_status;                     /* 0: no answer */
        const char *error;                   /* when not delivered */
        uint32_t max_attempts;               /* the cap: then the delivery fails */
        uint32_t backoff_ms, backoff_max_ms; /* next try: random in [b/2, b],
                                                b = base * 2^(attempt-1) capped */
};

/* Record how the attempt of claim d went. *state (may be NULL) is the
 * delivery's state now. ESTALE when the claim is no longer current (its
 * lease ended and somebody claimed it again): nothing is recorded. */
int wh_queue_delivery_report(struct wh_queue *q, const struct wh_delivery *d,
                             const struct wh_delivery_attempt *a, enum wh_delivery_state *state,
                             struct wh_err *err);

/* Failed deliveries back to pending, attempts reset, due now: all, one
 * tenant's (tenant != NULL), or one job's (job_id != 0). */
int wh_queue_redeliver(struct wh_queue *q, const char *tenant, int64_t job_id, size_t *requeued,
                       struct wh_err *err);

struct wh_delivery_row {
        int64_t result_id, job_id;
        enum wh_delivery_state state;
        uint32_t attempts;
        int64_t next_attempt_ms, updated_ms;
        int http_status;
        enum wh_job_kind kind; /* the job's */
        char *tenant, *normaliser, *last_error;
};
void wh_delivery_rows_free(struct wh_delivery_row *rows, size_t n);
/* The rows as a JSON array, times as text, next_attempt only when pending. */
int wh_delivery_rows_json(const struct wh_delivery_row *rows, size_t n, char **json,
                          struct wh_err *err);
/* Pending and failed deliveries, by result id (filter as for results). */
int wh_queue_undelivered(struct wh_queue *q, const struct wh_result_filter *filter,
                         struct wh_delivery_row **rows, size_t *n, struct wh_err *err);

#endif
