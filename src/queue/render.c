/* The reading side as JSON, for `whiskers show --json` and `results --json`
 * (results, dead letters, undelivered results), in one place.
 * Stored JSON (meta, output, provenance, status records) is embedded as
 * JSON, not as strings, so `jq .output` works. */
#include "queue/backend.h"

#include <errno.h>
#include <jansson.h>
#include <time.h>

/* json_object_set_new() copes with a NULL value by failing; count those
 * failures instead of checking every call. */
struct builder {
        json_t *obj;
        bool failed;
};

static void put(struct builder *b, const char *key, json_t *v)
{
        if (!v || json_object_set_new(b->obj, key, v) < 0)
                b->failed = true;
}

static void put_str(struct builder *b, const char *key, const char *s)
{
        put(b, key, s ? json_string(s) : json_null());
}

static void put_int(struct builder *b, const char *key, int64_t v)
{
        put(b, key, json_integer(v));
}

/* Stored JSON embedded as it is; were it ever not JSON, as a string. */
static void put_json(struct builder *b, const char *key, const char *text)
{
        if (!text) {
                put(b, key, json_null());
                return;
        }
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        put(b, key, v ? v : json_string(text));
}

static json_t *result_json(const struct wh_result_row *r)
{
        struct builder b = {.obj = json_object()};
        put_int(&b, "result_id", r->result_id);
        put_int(&b, "job_id", r->job_id);
        put_int(&b, "token", r->token);
        put(&b, "reused_from", r->reused_from ? json_integer(r->reused_from) : json_null());
        put_int(&b, "created_ms", r->created_ms);
        put_str(&b, "tenant", r->tenant);
        put_str(&b, "kind", wh_job_kind_name(r->kind));
        put_str(&b, "normaliser", r->normaliser);
        put_str(&b, "outcome", r->outcome);
        put_str(&b, "worker", r->worker);
        put_str(&b, "package_digest", r->package_digest);
        put_str(&b, "input_digest", r->input_digest);
        put_str(&b, "meta_digest", r->meta_digest);
        put_str(&b, "policy_hash", r->policy_hash);
        if (b.failed) {
                json_decref(b.obj);
                return NULL;
        }
        return b.obj;
}

static json_t *delivery_json(const struct wh_job_info *info)
{
        struct builder b = {.obj = json_object()};
        put_str(&b, "state", wh_delivery_state_name(info->delivery_state));
        put_int(&b, "attempts", info->delivery_attempts);
        put(&b, "http_status",
            info->delivery_http_status ? json_integer(info->delivery_http_status) : json_null());
        put_str(&b, "last_error", info->delivery_error);
        if (b.failed) {
                json_decref(b.obj);
                return NULL;
        }
        return b.obj;
}

static int dump(json_t *v, char **out, struct wh_err *err)
{
        *out = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(v);
        return *out ? 0 : wh_qerr(err, ENOMEM, "out of memory rendering JSON");
}

/* rows[0..n) (each `size` bytes) as a JSON array of one(row), dumped. */
static int rows_json(const void *rows, size_t n, size_t size, json_t *(*one)(const void *row),
                     char **json, struct wh_err *err)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
                if (json_array_append_new(arr, one((const char *)rows + i * size)) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        }
        return dump(arr, json, err);
}

static json_t *result_row_json(const void *row)
{
        return result_json(row);
}

int wh_result_rows_json(const struct wh_result_row *rows, size_t n, char **json, struct wh_err *err)
{
        return rows_json(rows, n, sizeof(*rows), result_row_json, json, err);
}

int wh_job_info_json(const struct wh_job_info *info, char **json, struct wh_err *err)
{
        struct builder b = {.obj = json_object()};
        if (!b.obj)
                return wh_qerr(err, ENOMEM, "out of memory rendering JSON");
        put_int(&b, "id", info->id);
        put_str(&b, "state", wh_job_state_name(info->state));
        put_str(&b, "tenant", info->tenant);
        put_str(&b, "kind", wh_job_kind_name(info->kind));
        put_str(&b, "normaliser", info->normaliser);
        put_str(&b, "package_digest", info->package_digest);
        put_str(&b, "raw_digest", info->raw_digest);
        put_str(&b, "mime", info->mime);
        put_json(&b, "meta", info->meta_json);
        put_str(&b, "meta_digest", info->meta_digest);
        put_int(&b, "priority", info->priority);
        put_int(&b, "attempt", info->attempt);
        put_int(&b, "max_attempts", info->max_attempts);
        put_int(&b, "lost_leases", info->lost_leases);
        put_int(&b, "max_lost_leases", info->max_lost_leases);
        put_int(&b, "token", info->token);
        put_int(&b, "submitted_ms", info->submitted_ms);
        put_int(&b, "available_ms", info->available_ms);
        put_str(&b, "lease_owner", info->lease_owner);
        put(&b, "lease_expires_ms",
            info->lease_expires_ms ? json_integer(info->lease_expires_ms) : json_null());
        put_json(&b, "last_status", info->last_status_json);
        put(&b, "result", info->result ? result_json(info->result) : json_null());
        put_json(&b, "output", info->output_json);
        put_json(&b, "provenance", info->provenance_json);
        put_str(&b, "dead_reason", info->dead_reason);
        put(&b, "dead_ms", info->dead_reason ? json_integer(info->dead_ms) : json_null());
        put(&b, "delivery", info->has_delivery ? delivery_json(info) : json_null());
        if (b.failed) {
                json_decref(b.obj);
                return wh_qerr(err, ENOMEM, "out of memory rendering JSON");
        }
        return dump(b.obj, json, err);
}

void wh_queue_time_text(int64_t ms, char out[32])
{
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *dead_json(const void *row)
{
        const struct wh_dead_row *r = row;
        char t[32];
        wh_queue_time_text(r->created_ms, t);
        json_t *st = json_loads(r->last_status_json, 0, NULL);
        return json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:o}", "job_id",
                         (json_int_t)r->job_id, "tenant", r->tenant, "kind",
                         wh_job_kind_name(r->kind), "normaliser", r->normaliser, "attempts",
                         (int)r->attempts, "reason", r->reason, "created", t, "last_status",
                         st ? st : json_string(r->last_status_json));
}

static json_t *undelivered_json(const void *row)
{
        const struct wh_delivery_row *r = row;
        char t[32], next[32];
        wh_queue_time_text(r->updated_ms, t);
        wh_queue_time_text(r->next_attempt_ms, next);
        return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:o, s:s?}", "result_id",
                         (json_int_t)r->result_id, "job_id", (json_int_t)r->job_id, "tenant",
                         r->tenant, "kind", wh_job_kind_name(r->kind), "normaliser", r->normaliser,
                         "state", wh_delivery_state_name(r->state), "attempts", (int)r->attempts,
                         "updated", t, "next_attempt",
                         r->state == WH_DELIVERY_PENDING ? next : NULL, "http_status",
                         r->http_status ? json_integer(r->http_status) : json_null(), "last_error",
                         r->last_error);
}

int wh_dead_rows_json(const struct wh_dead_row *rows, size_t n, char **json, struct wh_err *err)
{
        return rows_json(rows, n, sizeof(*rows), dead_json, json, err);
}

int wh_delivery_rows_json(const struct wh_delivery_row *rows, size_t n, char **json,
                          struct wh_err *err)
{
        return rows_json(rows, n, sizeof(*rows), undelivered_json, json, err);
}
