/* Rows into the public structs, and the structs' destructors. */
#include "queue/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *wh_job_state_name(enum wh_job_state state)
{
        switch (state) {
        case WH_JOB_QUEUED:
                return "queued";
        case WH_JOB_RUNNING:
                return "running";
        case WH_JOB_DONE:
                return "done";
        case WH_JOB_DEAD:
                return "dead";
        }
        return "unknown";
}

const char *wh_job_kind_name(enum wh_job_kind kind)
{
        switch (kind) {
        case WH_JOB_NORMALISER:
                return "normaliser";
        case WH_JOB_BOEFJE:
                return "boefje";
        }
        return "unknown";
}

/* A kind column into the enum. The store's CHECK admits only these two;
 * anything else (a newer whiskers' kind) is refused rather than run as
 * the wrong thing. */
static int kind_col(const struct wh_qrow *row, int col, enum wh_job_kind *kind, struct wh_err *err)
{
        const char *s = row->text(row, col);
        for (enum wh_job_kind k = WH_JOB_NORMALISER; k <= WH_JOB_BOEFJE; k++)
                if (s && strcmp(s, wh_job_kind_name(k)) == 0) {
                        *kind = k;
                        return 0;
                }
        return wh_qerr(err, EPROTO,
                       "the store holds a job of the kind '%s', which this whiskers does not "
                       "know: upgrade whiskers",
                       s ? s : "(none)");
}

int wh_row_take_id(void *ctx, size_t set, const struct wh_qrow *row, struct wh_err *err)
{
        (void)set;
        (void)err;
        *(int64_t *)ctx = row->int64(row, 0);
        return 0;
}

/* Copy a text column; SQL NULL stays NULL. Sets *failed on ENOMEM so a row
 * is filled with one check at the end. */
static char *dup_col(const struct wh_qrow *row, int col, bool *failed)
{
        const char *s = row->text(row, col);
        if (!s)
                return NULL;
        char *copy = strdup(s);
        if (!copy)
                *failed = true;
        return copy;
}

int wh_fill_job(struct wh_job *job, const struct wh_qrow *row, struct wh_err *err)
{
        bool failed = false;
        job->id = row->int64(row, 0);
        job->token = row->int64(row, 1);
        job->attempt = (uint32_t)row->int64(row, 2);
        job->max_attempts = (uint32_t)row->int64(row, 3);
        job->lease_expires_ms = row->int64(row, 4);
        job->tenant = dup_col(row, 5, &failed);
        job->normaliser = dup_col(row, 6, &failed);
        job->package_digest = dup_col(row, 7, &failed);
        job->raw_digest = dup_col(row, 8, &failed);
        job->meta_json = dup_col(row, 9, &failed);
        job->meta_digest = dup_col(row, 10, &failed);
        job->mime = dup_col(row, 11, &failed);
        if (failed)
                return wh_qerr(err, ENOMEM, "out of memory reading a job");
        return kind_col(row, 12, &job->kind, err);
}

void wh_jobs_free(struct wh_job *jobs, size_t n)
{
        if (!jobs)
                return;
        for (size_t i = 0; i < n; i++) {
                struct wh_job *j = &jobs[i];
                free(j->tenant);
                free(j->normaliser);
                free(j->package_digest);
                free(j->raw_digest);
                free(j->meta_json);
                free(j->meta_digest);
                free(j->mime);
        }
        free(jobs);
}

int wh_fill_result_row(struct wh_result_row *r, const struct wh_qrow *row, int first,
                       struct wh_err *err)
{
        bool failed = false;
        r->result_id = row->int64(row, first);
        r->job_id = row->int64(row, first + 1);
        r->token = row->int64(row, first + 2);
        r->reused_from = row->int64(row, first + 3);
        r->created_ms = row->int64(row, first + 4);
        r->tenant = dup_col(row, first + 5, &failed);
        r->normaliser = dup_col(row, first + 6, &failed);
        r->outcome = dup_col(row, first + 7, &failed);
        r->worker = dup_col(row, first + 8, &failed);
        r->package_digest = dup_col(row, first + 9, &failed);
        r->input_digest = dup_col(row, first + 10, &failed);
        r->meta_digest = dup_col(row, first + 11, &failed);
        r->policy_hash = dup_col(row, first + 12, &failed);
        if (failed)
                return wh_qerr(err, ENOMEM, "out of memory reading a result");
        return kind_col(row, first + 13, &r->kind, err);
}

void wh_result_row_clear(struct wh_result_row *r)
{
        free(r->tenant);
        free(r->normaliser);
        free(r->outcome);
        free(r->worker);
        free(r->package_digest);
        free(r->input_digest);
        free(r->meta_digest);
        free(r->policy_hash);
}

void wh_result_rows_free(struct wh_result_row *rows, size_t n)
{
        if (!rows)
                return;
        for (size_t i = 0; i < n; i++)
                wh_result_row_clear(&rows[i]);
        free(rows);
}

int wh_fill_dead_row(struct wh_dead_row *d, const struct wh_qrow *row, struct wh_err *err)
{
        bool failed = false;
        d->job_id = row->int64(row, 0);
        d->attempts = (uint32_t)row->int64(row, 1);
        d->created_ms = row->int64(row, 2);
        d->tenant = dup_col(row, 3, &failed);
        d->normaliser = dup_col(row, 4, &failed);
        d->reason = dup_col(row, 5, &failed);
        d->last_status_json = dup_col(row, 6, &failed);
        if (failed)
                return wh_qerr(err, ENOMEM, "out of memory reading a dead letter");
        return kind_col(row, 7, &d->kind, err);
}

void wh_dead_rows_free(struct wh_dead_row *rows, size_t n)
{
        if (!rows)
                return;
        for (size_t i = 0; i < n; i++) {
                free(rows[i].tenant);
                free(rows[i].normaliser);
                free(rows[i].reason);
                free(rows[i].last_status_json);
        }
        free(rows);
}

int wh_fill_delivery(struct wh_delivery *d, const struct wh_qrow *row, struct wh_err *err)
{
        bool failed = false;
        d->result_id = row->int64(row, 0);
        d->job_id = row->int64(row, 1);
        d->token = row->int64(row, 2);
        d->attempt = (uint32_t)row->int64(row, 3);
        d->tenant = dup_col(row, 4, &failed);
        d->normaliser = dup_col(row, 5, &failed);
        d->input_digest = dup_col(row, 6, &failed);
        d->body = dup_col(row, 7, &failed);
        if (failed)
                return wh_qerr(err, ENOMEM, "out of memory reading a delivery");
        if (kind_col(row, 8, &d->kind, err) < 0)
                return -1;
        if (!d->body)
                return wh_qerr(err, ENOENT, "result %lld has no output to deliver",
                               (long long)d->result_id);
        return 0;
}

int wh_fill_delivery_row(struct wh_delivery_row *r, const struct wh_qrow *row, struct wh_err *err)
{
        bool failed = false;
        r->result_id = row->int64(row, 0);
        r->job_id = row->int64(row, 1);
        r->state = (enum wh_delivery_state)row->int64(row, 2);
        r->attempts = (uint32_t)row->int64(row, 3);
        r->next_attempt_ms = row->int64(row, 4);
        r->updated_ms = row->int64(row, 5);
        r->http_status = (int)row->int64(row, 6);
        r->tenant = dup_col(row, 7, &failed);
        r->normaliser = dup_col(row, 8, &failed);
        r->last_error = dup_col(row, 9, &failed);
        if (failed)
                return wh_qerr(err, ENOMEM, "out of memory reading a delivery");
        return kind_col(row, 10, &r->kind, err);
}

/* Columns: see the SELECT in read.c's show_sql. */
int wh_fill_job_info(struct wh_job_info *info, const struct wh_qrow *row, struct wh_err *err)
{
        bool failed = false;
        info->id = row->int64(row, 0);
        info->state = (enum wh_job_state)row->int64(row, 1);
        info->priority = (int)row->int64(row, 2);
        info->attempt = (uint32_t)row->int64(row, 3);
        info->max_attempts = (uint32_t)row->int64(row, 4);
        info->token = row->int64(row, 5);
        info->submitted_ms = row->int64(row, 6);
        info->available_ms = row->int64(row, 7);
        info->lease_expires_ms = row->int64(row, 8);
        info->tenant = dup_col(row, 9, &failed);
        info->normaliser = dup_col(row, 10, &failed);
        info->package_digest = dup_col(row, 11, &failed);
        info->raw_digest = dup_col(row, 12, &failed);
        info->meta_json = dup_col(row, 13, &failed);
        info->meta_digest = dup_col(row, 14, &failed);
        info->mime = dup_col(row, 15, &failed);
        info->lease_owner = dup_col(row, 16, &failed);
        info->last_status_json = dup_col(row, 17, &failed);
        info->dead_reason = dup_col(row, 18, &failed);
        info->dead_ms = row->int64(row, 19);
        info->output_json = dup_col(row, 20, &failed);
        info->provenance_json = dup_col(row, 21, &failed);
        info->has_delivery = row->text(row, 36) != NULL;
        info->delivery_state = (enum wh_delivery_state)row->int64(row, 36);
        info->delivery_attempts = (uint32_t)row->int64(row, 37);
        info->delivery_http_status = (int)row->int64(row, 38);
        info->delivery_error = dup_col(row, 39, &failed);
        info->lost_leases = (uint32_t)row->int64(row, 40);
        info->max_lost_leases = (uint32_t)row->int64(row, 41);
        if (failed)
                return wh_qerr(err, ENOMEM, "out of memory reading a job");
        /* The result columns' kind is the job's own (p.kind, never NULL). */
        if (kind_col(row, 22 + 13, &info->kind, err) < 0)
                return -1;
        if (!row->text(row, 22))
                return 0; /* no result */
        info->result = calloc(1, sizeof(*info->result));
        if (!info->result)
                return wh_qerr(err, ENOMEM, "out of memory reading a job");
        return wh_fill_result_row(info->result, row, 22, err);
}

void wh_job_info_free(struct wh_job_info *info)
{
        if (!info)
                return;
        free(info->tenant);
        free(info->normaliser);
        free(info->package_digest);
        free(info->raw_digest);
        free(info->meta_json);
        free(info->meta_digest);
        free(info->mime);
        free(info->lease_owner);
        free(info->last_status_json);
        free(info->dead_reason);
        free(info->output_json);
        free(info->provenance_json);
        free(info->delivery_error);
        if (info->result) {
                wh_result_row_clear(info->result);
                free(info->result);
        }
        free(info);
}
