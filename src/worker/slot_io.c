/* A slot's resources and store reads (see slot_io.h). */
#define _GNU_SOURCE
#include "worker/slot_io.h"

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

int wh_worker_open_store(const struct wh_worker *w, struct wh_queue **q, struct wh_err *err)
{
        if (wh_queue_open(w->cfg.db_url, q, err) < 0)
                return -1;
        if (w->cfg.statement_timeout_ms &&
            wh_queue_set_statement_timeout(*q, w->cfg.statement_timeout_ms, err) < 0) {
                wh_queue_close(*q);
                *q = NULL;
                return -1;
        }
        return 0;
}

void wh_slot_io_clear(struct slot *s)
{
        free(s->raw);
        s->raw = NULL;
        s->raw_digest[0] = '\0';
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

int wh_slot_queue(struct slot *s, struct wh_err *err)
{
        for (int a = 0; !s->q; a++)
                if (wh_worker_open_store(s->w, &s->q, err) < 0 && !again(s, a, err))
                        return -1;
        return 0;
}

int wh_slot_raw(struct slot *s, const char *digest, const void **data, size_t *len,
                struct wh_err *err)
{
        if (strcmp(s->raw_digest, digest) != 0) {
                free(s->raw);
                s->raw = NULL;
                s->raw_digest[0] = '\0';
                if (wh_slot_queue(s, err) < 0)
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

int wh_slot_prefetch(struct slot *s, const char *tenant, struct wh_job_prefetch *jobs, size_t n,
                     struct wh_err *err)
{
        if (wh_slot_queue(s, err) < 0)
                return -1;
        const char *scope = s->w->cfg.reuse_across_tenants ? NULL : tenant;
        for (int a = 0; wh_queue_prefetch(s->q, scope, jobs, n, WH_PREFETCH_RAW_MAX, err) < 0; a++)
                if (!again(s, a, err))
                        return -1;
        return 0;
}
