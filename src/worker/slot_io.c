/* A slot's resources and store reads (see slot_io.h). */
#define _GNU_SOURCE
#include "worker/slot_io.h"

#include "base/cleanup.h"
#include "worker/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_TRIES 4

int64_t wh_mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *wh_worker_status(const struct wh_worker *w, const char *status, const struct wh_err *err)
{
        json_t *o =
            json_pack("{s:s, s:s?, s:s, s:s}", "status", status, "stage", err ? err->stage : NULL,
                      "message", err ? err->msg : "", "worker", w->id);
        if (!o) /* a message that is not UTF-8 */
                o = json_pack("{s:s, s:s}", "status", status, "worker", w->id);
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        return text ? text : strdup("{\"status\":\"worker_error\"}");
}

int wh_slot_io_init(struct slot *s, struct wh_err *err)
{
        const struct wh_worker_config *c = &s->w->cfg;
        if (!c->sink_url)
                return 0;
        struct wh_sink_config sc = {.url = c->sink_url,
                                    .attempts = c->sink_attempts,
                                    .backoff_ms = c->sink_backoff_ms,
                                    .backoff_max_ms = c->sink_backoff_max_ms,
                                    .timeout_ms = c->sink_timeout_ms};
        return wh_sink_new(&sc, &s->sink, err);
}

void wh_slot_io_clear(struct slot *s)
{
        const struct wh_runner *r = s->w->runner;
        for (size_t i = 0; i < s->nnorms; i++) {
                r->unload(r->ctx, s->norms[i].norm.handle);
                free(s->norms[i].ref);
        }
        s->nnorms = 0;
        free(s->raw);
        s->raw = NULL;
        s->raw_digest[0] = '\0';
        wh_sink_free(s->sink);
        s->sink = NULL;
        wh_queue_close(s->q);
        s->q = NULL;
}

/* After a failed store read: true when it is worth another try (after a
 * pause); a cancelled slot stops trying. */
static bool again(struct slot *s, int attempt, const struct wh_err *err)
{
        if (!wh_queue_err_is_transient(err) || attempt + 1 >= READ_TRIES || s->cancel)
                return false;
        atomic_fetch_add(&s->w->metrics.db_errors, 1);
        struct timespec ts = {0, (100L << attempt) * 1000000L};
        nanosleep(&ts, NULL);
        return !s->cancel;
}

static int slot_queue(struct slot *s, struct wh_err *err)
{
        for (int a = 0; !s->q; a++)
                if (wh_queue_open(s->w->cfg.db_url, &s->q, err) < 0 && !again(s, a, err))
                        return -1;
        return 0;
}

int wh_slot_norm(struct slot *s, const char *ref, const struct wh_runner_norm **out,
                 struct wh_err *err)
{
        for (size_t i = 0; i < s->nnorms; i++) {
                if (strcmp(s->norms[i].ref, ref) == 0) {
                        *out = &s->norms[i].norm;
                        return 0;
                }
        }
        const struct wh_runner *r = s->w->runner;
        struct wh_runner_norm norm = {0};
        if (r->load(r->ctx, ref, &norm, err) < 0)
                return -1;
        char *copy = strdup(ref);
        if (!copy) {
                r->unload(r->ctx, norm.handle);
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        }
        /* Full: forget the oldest (a worker serving more normalisers than
         * this reloads some now and then). */
        if (s->nnorms == WH_SLOT_NORMS) {
                r->unload(r->ctx, s->norms[0].norm.handle);
                free(s->norms[0].ref);
                memmove(&s->norms[0], &s->norms[1], (WH_SLOT_NORMS - 1) * sizeof(s->norms[0]));
                s->nnorms--;
        }
        s->norms[s->nnorms] = (struct slot_norm){.ref = copy, .norm = norm};
        *out = &s->norms[s->nnorms++].norm;
        wh_wlog(WH_LOG_INFO, 0, "loaded normaliser %s (package %s)", ref, norm.package_digest);
        return 0;
}

int wh_slot_raw(struct slot *s, const char *digest, const void **data, size_t *len,
                struct wh_err *err)
{
        if (strcmp(s->raw_digest, digest) != 0) {
                free(s->raw);
                s->raw = NULL;
                s->raw_digest[0] = '\0';
                if (slot_queue(s, err) < 0)
                        return -1;
                for (int a = 0; wh_queue_get_raw(s->q, digest, &s->raw, &s->raw_len, err) < 0; a++)
                        if (!again(s, a, err))
                                return -1;
                snprintf(s->raw_digest, sizeof(s->raw_digest), "%s", digest);
        }
        *data = s->raw;
        *len = s->raw_len;
        return 0;
}

int wh_slot_dedup(struct slot *s, struct task *t, struct wh_err *err)
{
        struct wh_dedup_key key = {t->package_digest, t->job.raw_digest, t->job.meta_digest,
                                   t->policy_hash};
        if (slot_queue(s, err) < 0)
                return -1;
        for (int a = 0; wh_queue_dedup_lookup(s->q, &key, &t->reused_from, err) < 0; a++)
                if (!again(s, a, err))
                        return -1;
        return 0;
}

/* The output of the result a reuse points to: find its job, show it. */
static char *reused_output(struct slot *s, int64_t result_id, struct wh_err *err)
{
        struct wh_result_filter f = {.after_id = result_id - 1, .limit = 1};
        struct wh_result_row *rows = NULL;
        size_t n = 0;
        if (wh_queue_results(s->q, &f, &rows, &n, err) < 0)
                return NULL;
        int64_t job = n == 1 && rows[0].result_id == result_id ? rows[0].job_id : 0;
        wh_result_rows_free(rows, n);
        if (!job) {
                wh_err_set(err, ENOENT, "sink", "result %lld to reuse is gone",
                           (long long)result_id);
                return NULL;
        }
        struct wh_job_info *info = NULL;
        if (wh_queue_show(s->q, job, &info, err) < 0)
                return NULL;
        char *out = steal_pointer(&info->output_json);
        wh_job_info_free(info);
        if (!out)
                wh_err_set(err, ENOENT, "sink", "result %lld has no output", (long long)result_id);
        return out;
}

/* Record the delivery in the provenance record: it is stored with the
 * result, so `whiskers show` tells whether the sink has it. */
static void note_delivery(struct task *t, const char *url, const struct wh_sink_outcome *o)
{
        json_t *prov = t->provenance_json ? json_loads(t->provenance_json, 0, NULL) : NULL;
        if (!json_is_object(prov)) {
                json_decref(prov);
                return;
        }
        json_t *sink = json_pack("{s:s, s:s, s:i, s:i}", "url", url, "state",
                                 o->delivered ? "delivered" : "failed", "attempts",
                                 (int)o->attempts, "http_status", (int)o->http_status);
        if (sink && !o->delivered)
                json_object_set_new(sink, "error", json_string(o->error));
        json_object_set_new(prov, "sink", sink);
        char *text = json_dumps(prov, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(prov);
        if (text) {
                free(t->provenance_json);
                t->provenance_json = text;
        }
}

void wh_slot_deliver(struct slot *s, struct task *t)
{
        if (strcmp(t->outcome, "ok") != 0)
                return; /* an error record is no NormalizerResults */
        struct wh_err err = {0};
        cleanup_free char *reused = NULL;
        const char *body = t->output_json;
        if (t->reused_from) {
                reused = slot_queue(s, &err) == 0 ? reused_output(s, t->reused_from, &err) : NULL;
                body = reused;
        }
        struct wh_sink_outcome o = {0};
        if (body) {
                struct wh_sink_delivery d = {.job_id = t->job.id,
                                             .tenant = t->job.tenant,
                                             .normaliser = t->job.normaliser,
                                             .input_digest = t->job.raw_digest,
                                             .body = body};
                wh_sink_post(s->sink, &d, &s->cancel, &o);
        } else {
                snprintf(o.error, sizeof(o.error), "%.200s", err.msg);
        }
        struct wh_metrics *m = &s->w->metrics;
        atomic_fetch_add(o.delivered ? &m->sink_delivered : &m->sink_failed, 1);
        if (o.delivered)
                wh_wlog(WH_LOG_DEBUG, t->job.id, "delivered to the sink (%u attempts)", o.attempts);
        else
                wh_wlog(WH_LOG_ERROR, t->job.id,
                        "not delivered to the sink after %u attempts: %s; the result stays "
                        "in the store",
                        o.attempts, o.error);
        note_delivery(t, s->w->cfg.sink_url, &o);
}
