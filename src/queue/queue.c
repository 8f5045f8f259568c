/* The public job store API: picks the backend from the URL, checks every
 * argument once (backends trust theirs), canonicalises meta JSON and
 * computes the digests that deduplication compares. */
#define _GNU_SOURCE
#include "queue/backend.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/sha256.h"

#define MAX_BATCH    10000
#define MAX_LEASE_MS (24u * 3600 * 1000)

static bool is_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int open_sqlite(const char *path, bool create, struct wh_queue **q, struct wh_err *err)
{
        /* A data directory holds the store as whiskers.db. */
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                cleanup_free char *file = NULL;
                if (asprintf(&file, "%s/whiskers.db", path) < 0)
                        return wh_qerr(err, ENOMEM, "out of memory");
                return wh_sqlite_open(file, create, q, err);
        }
        return wh_sqlite_open(path, create, q, err);
}

static int open_store(const char *url, bool create, struct wh_queue **q, struct wh_err *err)
{
        *q = NULL;
        if (!url || !*url)
                return wh_qerr(err, EINVAL, "no database given: pass --db URL or a path");
        int ret;
        if (is_prefix(url, "postgres://") || is_prefix(url, "postgresql://"))
                ret = wh_pg_open(url, create, q, err);
        else if (is_prefix(url, "sqlite://"))
                ret = open_sqlite(url + strlen("sqlite://"), create, q, err);
        else if (strstr(url, "://"))
                return wh_qerr(err, EINVAL,
                               "unknown database URL '%s': use sqlite:///path, a path, or "
                               "postgres://...",
                               url);
        else
                ret = open_sqlite(url, create, q, err);
        if (ret < 0)
                return -1;
        (*q)->backoff_base_ms = 1000;
        (*q)->backoff_max_ms = 300000;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        (*q)->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uintptr_t)*q;
        if (!(*q)->rng)
                (*q)->rng = 1;
        return 0;
}

int wh_queue_open(const char *url, struct wh_queue **q, struct wh_err *err)
{
        return open_store(url, true, q, err);
}

int wh_queue_open_existing(const char *url, struct wh_queue **q, struct wh_err *err)
{
        return open_store(url, false, q, err);
}

void wh_queue_close(struct wh_queue *q)
{
        if (q)
                q->ops->close(q);
}

const char *wh_queue_backend(const struct wh_queue *q)
{
        return q->ops->name;
}

void wh_queue_set_backoff(struct wh_queue *q, uint32_t base_ms, uint32_t max_ms)
{
        q->backoff_base_ms = base_ms;
        q->backoff_max_ms = max_ms < base_ms ? base_ms : max_ms;
}

int wh_queue_set_statement_timeout(struct wh_queue *q, uint32_t ms, struct wh_err *err)
{
        return q->ops->set_statement_timeout(q, ms, err);
}

int wh_queue_wait_for_jobs(struct wh_queue *q, int timeout_ms, bool *woken, struct wh_err *err)
{
        *woken = false;
        if (!q->ops->wait_for_jobs)
                return wh_qerr(err, ENOTSUP, "the %s store has no notifications: poll",
                               q->ops->name);
        if (timeout_ms < 0)
                return wh_qerr(err, EINVAL, "a negative timeout");
        return q->ops->wait_for_jobs(q, timeout_ms, woken, err);
}

static int check_digest(const char *what, const char *d, struct wh_err *err)
{
        bool ok = d && strlen(d) == 7 + WH_SHA256_HEX_LEN && is_prefix(d, "sha256:");
        for (size_t i = 7; ok && d[i]; i++)
                ok = (d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f');
        if (!ok)
                return wh_qerr(err, EINVAL, "%s '%s' is not a digest (sha256:<64 hex digits>)",
                               what, d ? d : "(none)");
        return 0;
}

/* Names (tenants, workers, references, outcomes) end up in logs and
 * terminals: printable, bounded, non-empty. */
static int check_name(const char *what, const char *s, size_t max, struct wh_err *err)
{
        if (!s || !*s)
                return wh_qerr(err, EINVAL, "%s is missing", what);
        size_t len = strlen(s);
        if (len > max)
                return wh_qerr(err, EINVAL, "%s is longer than %zu bytes", what, max);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return wh_qerr(err, EINVAL, "%s contains a control character", what);
        return 0;
}

static void digest_of(const void *data, size_t len, char out[WH_DIGEST_BUF])
{
        memcpy(out, "sha256:", 7);
        wh_sha256_hex(data, len, out + 7);
}

int wh_queue_put_raw(struct wh_queue *q, const void *data, size_t len, char digest[WH_DIGEST_BUF],
                     bool *existed, struct wh_err *err)
{
        if (len > WH_QUEUE_RAW_MAX)
                return wh_qerr(err, EFBIG, "the raw file has %zu bytes; the store takes at most %u",
                               len, WH_QUEUE_RAW_MAX);
        digest_of(data, len, digest);
        return wh_ops_put_raw(q, data, len, digest, existed, err);
}

int wh_queue_get_raw(struct wh_queue *q, const char *digest, void **data, size_t *len,
                     struct wh_err *err)
{
        if (check_digest("raw digest", digest, err) < 0)
                return -1;
        return wh_read_raw(q, digest, data, len, err);
}

/* Meta is stored canonical (sorted keys, compact) so equal meta has one
 * digest however the submitter formatted it. */
static int canonical_meta(const char *json, char **out, char digest[WH_DIGEST_BUF],
                          struct wh_err *err)
{
        json_error_t jerr;
        json_t *v = json_loads(json ? json : "{}", JSON_REJECT_DUPLICATES, &jerr);
        if (!v)
                return wh_qerr(err, EINVAL, "meta is not valid JSON: %s (line %d)", jerr.text,
                               jerr.line);
        if (!json_is_object(v)) {
                json_decref(v);
                return wh_qerr(err, EINVAL, "meta must be a JSON object");
        }
        *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(v);
        if (!*out)
                return wh_qerr(err, ENOMEM, "out of memory");
        digest_of(*out, strlen(*out), digest);
        return 0;
}

static int check_spec(const struct wh_job_spec *s, struct wh_err *err)
{
        if (check_name("tenant", s->tenant, 128, err) < 0 ||
            check_name("normaliser", s->normaliser, 512, err) < 0 ||
            (s->package_digest && check_digest("package digest", s->package_digest, err) < 0) ||
            check_digest("raw digest", s->raw_digest, err) < 0 ||
            (s->mime && check_name("mime type", s->mime, 255, err) < 0))
                return -1;
        if (s->kind != WH_JOB_NORMALISER && s->kind != WH_JOB_BOEFJE)
                return wh_qerr(err, EINVAL, "job kind %d is neither normaliser nor boefje",
                               (int)s->kind);
        if (s->priority < -32768 || s->priority > 32767)
                return wh_qerr(err, EINVAL, "priority %d is outside -32768..32767", s->priority);
        if (s->max_attempts > 1000)
                return wh_qerr(err, EINVAL, "max_attempts %u is more than 1000", s->max_attempts);
        if (s->max_lost_leases > 1000)
                return wh_qerr(err, EINVAL, "max_lost_leases %u is more than 1000",
                               s->max_lost_leases);
        return 0;
}

/* Jobs in the form the backends store: defaults filled in, checked, meta
 * canonical with its digest. */
struct stored_specs {
        struct wh_job_spec *specs;
        char **metas;
        char (*digests)[WH_DIGEST_BUF];
        size_t n;
};

static void stored_specs_free(struct stored_specs *s)
{
        for (size_t i = 0; s->metas && i < s->n; i++)
                free(s->metas[i]);
        free(s->specs);
        free(s->metas);
        free(s->digests);
        *s = (struct stored_specs){0};
}

static int stored_specs(const struct wh_job_spec *specs, size_t n, struct stored_specs *out,
                        struct wh_err *err)
{
        *out = (struct stored_specs){.specs = calloc(n, sizeof(*out->specs)),
                                     .metas = calloc(n, sizeof(*out->metas)),
                                     .digests = calloc(n, WH_DIGEST_BUF),
                                     .n = n};
        if (!out->specs || !out->metas || !out->digests) {
                stored_specs_free(out);
                return wh_qerr(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                struct wh_job_spec *s = &out->specs[i];
                *s = specs[i];
                if (!s->max_attempts)
                        s->max_attempts = WH_QUEUE_DEFAULT_MAX_ATTEMPTS;
                if (!s->max_lost_leases)
                        s->max_lost_leases = WH_QUEUE_DEFAULT_MAX_LOST_LEASES;
                if (check_spec(s, err) < 0 ||
                    canonical_meta(s->meta_json, &out->metas[i], out->digests[i], err) < 0) {
                        if (n > 1)
                                wh_err_prefix(err, "job %zu of %zu", i + 1, n);
                        stored_specs_free(out);
                        return -1;
                }
        }
        return 0;
}

int wh_queue_submit(struct wh_queue *q, const struct wh_job_spec *specs, size_t n, int64_t *ids,
                    struct wh_err *err)
{
        if (n == 0 || n > MAX_BATCH)
                return wh_qerr(err, EINVAL, "submit 1..%d jobs at a time, not %zu", MAX_BATCH, n);
        struct stored_specs s;
        if (stored_specs(specs, n, &s, err) < 0)
                return -1;
        int ret = q->ops->submit(q, s.specs, s.metas, s.digests, n, ids, err);
        stored_specs_free(&s);
        return ret;
}

static int check_lease_args(const char *worker_id, uint32_t lease_ms, struct wh_err *err)
{
        if (check_name("worker id", worker_id, 128, err) < 0)
                return -1;
        if (lease_ms == 0 || lease_ms > MAX_LEASE_MS)
                return wh_qerr(err, EINVAL, "a lease of %u ms is outside 1 ms..24 h", lease_ms);
        return 0;
}

int wh_queue_claim(struct wh_queue *q, const char *worker_id, size_t max, uint32_t lease_ms,
                   struct wh_job **jobs, size_t *n, struct wh_err *err)
{
        *jobs = NULL;
        *n = 0;
        if (check_lease_args(worker_id, lease_ms, err) < 0)
                return -1;
        if (max == 0 || max > MAX_BATCH)
                return wh_qerr(err, EINVAL, "claim 1..%d jobs at a time, not %zu", MAX_BATCH, max);
        return wh_ops_claim(q, worker_id, max, lease_ms, jobs, n, err);
}

int wh_queue_heartbeat(struct wh_queue *q, const char *worker_id, const struct wh_job_lease *leases,
                       size_t n, uint32_t lease_ms, bool *held, struct wh_err *err)
{
        if (check_lease_args(worker_id, lease_ms, err) < 0)
                return -1;
        if (n > MAX_BATCH || (n && (!leases || !held)))
                return wh_qerr(err, EINVAL, "heartbeat 0..%d leases, with room for the answers",
                               MAX_BATCH);
        return wh_ops_heartbeat(q, worker_id, leases, n, lease_ms, held, err);
}

static int dedup_key_of(const struct wh_dedup_key *k, char out[WH_DIGEST_BUF], struct wh_err *err)
{
        if (check_digest("package digest", k->package_digest, err) < 0 ||
            check_digest("input digest", k->input_digest, err) < 0 ||
            check_digest("meta digest", k->meta_digest, err) < 0 ||
            check_digest("policy hash", k->policy_hash, err) < 0)
                return -1;
        char joined[4 * WH_DIGEST_BUF];
        int len = snprintf(joined, sizeof(joined), "%s\n%s\n%s\n%s", k->package_digest,
                           k->input_digest, k->meta_digest, k->policy_hash);
        digest_of(joined, (size_t)len, out);
        return 0;
}

int wh_queue_dedup_lookup(struct wh_queue *q, const struct wh_dedup_key *key, const char *tenant,
                          int64_t *result_id, struct wh_err *err)
{
        char k[WH_DIGEST_BUF];
        *result_id = 0;
        if (dedup_key_of(key, k, err) < 0 || (tenant && check_name("tenant", tenant, 128, err) < 0))
                return -1;
        return wh_read_dedup(q, k, tenant, result_id, err);
}

int wh_queue_prefetch(struct wh_queue *q, const char *tenant, struct wh_job_prefetch *jobs,
                      size_t n, size_t raw_max, struct wh_err *err)
{
        if (n == 0 || n > MAX_BATCH)
                return wh_qerr(err, EINVAL, "prefetch 1..%d jobs at a time, not %zu", MAX_BATCH, n);
        if (tenant && check_name("tenant", tenant, 128, err) < 0)
                return -1;
        cleanup_free char(*keys)[WH_DIGEST_BUF] = calloc(n, WH_DIGEST_BUF);
        if (!keys)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                jobs[i].reused_from = 0;
                jobs[i].raw = NULL;
                jobs[i].raw_len = 0;
                if (dedup_key_of(&jobs[i].key, keys[i], err) < 0)
                        return -1;
        }
        return wh_read_prefetch(q, tenant, keys, jobs, n, raw_max, err);
}

static int check_completion(const struct wh_job_completion *c, char key[WH_DIGEST_BUF],
                            struct wh_err *err)
{
        key[0] = '\0';
        if (c->id <= 0 || c->token <= 0)
                return wh_qerr(err, EINVAL, "job id and token must be positive");
        if (check_name("worker id", c->worker_id, 128, err) < 0 ||
            check_name("outcome", c->outcome, 64, err) < 0)
                return -1;
        if (c->reused_from < 0 || (!c->reused_from && (!c->output_json || !c->provenance_json)))
                return wh_qerr(err, EINVAL,
                               "job %lld: a completion needs output and provenance, or a result "
                               "to reuse",
                               (long long)c->id);
        if (c->n_follow_ups > MAX_BATCH || (c->n_follow_ups && !c->follow_ups))
                return wh_qerr(err, EINVAL, "job %lld: 0..%d follow-up jobs, not %zu",
                               (long long)c->id, MAX_BATCH, c->n_follow_ups);
        return c->key ? dedup_key_of(c->key, key, err) : 0;
}

/* The completions' follow-up jobs in stored form; *follow stays NULL when
 * none makes any (the backends' batched path). */
static int follow_ups_of(const struct wh_job_completion *c, size_t n, struct stored_specs **stored,
                         struct wh_follow_ups **follow, struct wh_err *err)
{
        size_t any = 0;
        for (size_t i = 0; i < n; i++)
                any += c[i].n_follow_ups;
        if (!any)
                return 0;
        *stored = calloc(n, sizeof(**stored));
        *follow = calloc(n, sizeof(**follow));
        if (!*stored || !*follow)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                if (!c[i].n_follow_ups)
                        continue;
                if (stored_specs(c[i].follow_ups, c[i].n_follow_ups, &(*stored)[i], err) < 0)
                        return wh_err_prefix(err, "job %lld's follow-up jobs", (long long)c[i].id);
                (*follow)[i] = (struct wh_follow_ups){(*stored)[i].specs, (*stored)[i].metas,
                                                      (*stored)[i].digests, (*stored)[i].n};
        }
        return 0;
}

int wh_queue_complete(struct wh_queue *q, const struct wh_job_completion *c, size_t n,
                      int64_t *result_ids, struct wh_err *err)
{
        if (n == 0 || n > MAX_BATCH)
                return wh_qerr(err, EINVAL, "complete 1..%d jobs at a time, not %zu", MAX_BATCH, n);
        cleanup_free char(*keys)[WH_DIGEST_BUF] = calloc(n, WH_DIGEST_BUF);
        if (!keys)
                return wh_qerr(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
                if (check_completion(&c[i], keys[i], err) < 0)
                        return -1;
        struct stored_specs *stored = NULL;
        struct wh_follow_ups *follow = NULL;
        int rc = follow_ups_of(c, n, &stored, &follow, err);
        if (rc == 0)
                rc = q->ops->complete(q, c, keys, follow, n, result_ids, err);
        for (size_t i = 0; stored && i < n; i++)
                stored_specs_free(&stored[i]);
        free(stored);
        free(follow);
        if (rc < 0)
                return -1;
        size_t fenced = 0, first = 0;
        for (size_t i = 0; i < n; i++) {
                if (result_ids[i])
                        continue;
                /* A retry after a lost reply finds its own earlier success. */
                if (wh_ops_completed_by(q, c[i].id, c[i].token, &result_ids[i], err) < 0)
                        return -1;
                if (!result_ids[i] && fenced++ == 0)
                        first = i;
        }
        if (fenced)
                return wh_qerr(err, ESTALE,
                               "%zu of %zu completions fenced, the first job %lld: the lease with "
                               "token %lld is no longer held (expired, reaped or claimed again)",
                               fenced, n, (long long)c[first].id, (long long)c[first].token);
        return 0;
}

int wh_queue_fail(struct wh_queue *q, int64_t id, int64_t token, const char *status_json,
                  bool retryable, enum wh_job_state *state, struct wh_err *err)
{
        json_error_t jerr;
        json_t *v = status_json ? json_loads(status_json, 0, &jerr) : NULL;
        if (!v)
                return wh_qerr(err, EINVAL, "job %lld: the status record is not JSON",
                               (long long)id);
        json_decref(v);
        enum wh_job_state ignored;
        return wh_ops_fail(q, id, token, status_json, retryable, state ? state : &ignored, err);
}

int wh_queue_release(struct wh_queue *q, const struct wh_job_lease *leases, size_t n,
                     struct wh_err *err)
{
        if (n > MAX_BATCH)
                return wh_qerr(err, EINVAL, "release at most %d leases at a time", MAX_BATCH);
        return wh_ops_release(q, leases, n, err);
}

int wh_queue_reap(struct wh_queue *q, size_t *requeued, size_t *dead, struct wh_err *err)
{
        size_t r = 0, d = 0;
        if (q->ops->reap(q, &r, &d, err) < 0)
                return -1;
        if (requeued)
                *requeued = r;
        if (dead)
                *dead = d;
        return 0;
}

int wh_queue_worker_gone(struct wh_queue *q, const char *worker_id, struct wh_err *err)
{
        if (check_name("worker id", worker_id, 128, err) < 0)
                return -1;
        struct wh_qparam p = qp_text(worker_id);
        return q->ops->exec(q, "DELETE FROM workers WHERE id = $1", &p, 1, NULL, NULL, err);
}

int wh_queue_results(struct wh_queue *q, const struct wh_result_filter *filter,
                     struct wh_result_row **rows, size_t *n, struct wh_err *err)
{
        return wh_read_results(q, filter, rows, n, err);
}

int wh_queue_dead_letters(struct wh_queue *q, const struct wh_result_filter *filter,
                          struct wh_dead_row **rows, size_t *n, struct wh_err *err)
{
        return wh_read_dead(q, filter, rows, n, err);
}

int wh_queue_show(struct wh_queue *q, int64_t job_id, struct wh_job_info **info, struct wh_err *err)
{
        return wh_read_show(q, job_id, info, err);
}

int wh_queue_stats(struct wh_queue *q, uint32_t stale_ms, struct wh_queue_stats *stats,
                   struct wh_err *err)
{
        return wh_read_stats(q, stale_ms, stats, err);
}
