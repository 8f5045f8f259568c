/* A boefje job on a slot (runner_boefje.h, docs/boefjes.md "In the
 * worker"):
 *
 *   the job's input object and network options (jobs.h) -> the boefje
 *   found under the worker's --boefjes and loaded for this job -> its
 *   settings from the worker's own files for (tenant, boefje id), never
 *   from the job -> wh_boefje_run in the sandbox with the job's allowlist
 *   and the job's own limits (each only lowers the worker's) -> an ok run's raw files stored
 * content-addressed and routed to the normalisers consuming their MIME types, as follow-up jobs
 * queued in the completion's transaction
 *
 * Outcomes: ok, or the run's error code (invalid_output, boefje_error,
 * network_refused, raw_too_large, a status name) stored as the result
 * with nothing routed; a sandbox that could not start is retried; a job,
 * boefje or settings that can never run is dead-lettered. */
#define _GNU_SOURCE
#include "worker/runner_boefje.h"
#include "worker/log.h"

#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/boefje.h>
#include <whiskers/jobs.h>

static char *dump(const json_t *v)
{
        return v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
}

/* A job that can never run: dead-letter it with why. */
static int reject(struct wh_runner_result *out, const char *status, const struct wh_err *err)
{
        json_t *st = json_pack("{s:s, s:s?, s:s}", "status", status, "stage", err->stage, "message",
                               err->msg);
        out->action = WH_RUNNER_REJECT;
        out->status_json = dump(st);
        json_decref(st);
        return out->status_json ? 0 : -1;
}

/* A tenant's own settings file, else the one for every tenant: DIR/T/ID.json,
 * DIR/ID.json. Neither: no settings (the schema decides whether that will
 * do). A tenant that cannot name a directory has only the shared file. */
static int settings_for(const struct wh_worker_config *cfg, const char *tenant, const char *id,
                        json_t **out, struct wh_err *err)
{
        *out = NULL;
        if (!cfg->boefje_settings_dir)
                return 0;
        bool own =
            strchr(tenant, '/') == NULL && strcmp(tenant, ".") != 0 && strcmp(tenant, "..") != 0;
        for (int shared = own ? 0 : 1; shared < 2; shared++) {
                cleanup_free char *path = NULL;
                if ((shared ? asprintf(&path, "%s/%s.json", cfg->boefje_settings_dir, id)
                            : asprintf(&path, "%s/%s/%s.json", cfg->boefje_settings_dir, tenant,
                                       id)) < 0)
                        return wh_err_set(err, ENOMEM, "settings", "out of memory");
                if ((*out = wh_boefje_settings_read(path, err)))
                        return 0;
                if (err->kind != WH_ERR_NOT_FOUND)
                        return -1;
        }
        return 0;
}

static int load(const struct wh_worker_config *cfg, const char *ref, struct wh_boefje **b,
                struct wh_err *err)
{
        cleanup_free char *dir = NULL;
        struct wh_sandbox_config sandbox = {.host_uid = (uid_t)-1,
                                            .host_gid = (gid_t)-1,
                                            .cgroup_driver = cfg->cgroup_driver,
                                            .cgroup_parent = cfg->cgroup_parent};
        struct wh_boefje_options opts = {.runtime_root = cfg->boefje_runtime_root,
                                         .work_dir = cfg->work_dir,
                                         .sandbox = &sandbox};
        opts.limits.allow_unenforced = cfg->allow_unenforced_limits;
        if (wh_boefje_find(cfg->boefjes_dir, ref, &dir, err) < 0)
                return -1;
        return wh_boefje_load(dir, &opts, b, err);
}

/* The result of a run that ended (ok or not): stored; an ok run's raw
 * files routed. */
static int complete(struct slot *s, const struct wh_job *job, const struct wh_boefje_result *res,
                    struct wh_runner_result *out, struct wh_err *err)
{
        const struct wh_worker_config *cfg = &s->w->cfg;
        wh_wlog(WH_LOG_INFO, job->id, "boefje ran: %s, %zu raw files",
                res->ok ? "ok" : res->error_code, res->n_raws);
        if (res->ok) {
                struct wh_route route = {cfg->normalisers_dir, &cfg->packages};
                if (wh_slot_queue(s, err) < 0 || wh_route_raw_files(s->q, &route, 1, job->tenant,
                                                                    res, &out->follow_ups, err) < 0)
                        return -1;
        }
        /* The job's record; the provenance is the result's own column. */
        json_t *doc = wh_boefje_result_json(res);
        json_object_del(doc, "provenance");
        if (res->ok) /* as wh_boefje_store keeps it */
                json_object_del(doc, "stderr");
        out->action = WH_RUNNER_COMPLETE;
        out->outcome = strdup(res->ok ? "ok" : res->error_code);
        out->output_json = dump(doc);
        out->provenance_json = dump(res->provenance);
        out->status_json = res->ran ? wh_report_to_json(&res->report) : NULL;
        json_decref(doc);
        if (!out->outcome || !out->output_json || !out->provenance_json)
                return wh_err_set(err, ENOMEM, "worker", "out of memory keeping the result");
        return 0;
}

static int run(struct slot *s, const struct wh_runner_input *in, struct wh_boefje *b,
               const struct wh_boefje_job_args *args, json_t *settings,
               struct wh_runner_result *out, struct wh_err *err)
{
        struct wh_boefje_input bin = {.input_ooi = args->input_ooi,
                                      .settings = settings,
                                      .organization = in->job->tenant,
                                      .net_allow = args->net_allow,
                                      .n_net_allow = args->n_net_allow,
                                      .net_no_input = args->net_no_input,
                                      .limits = args->limits,
                                      .cancel = in->cancel};
        struct wh_boefje_result res = {0};
        int rc = wh_boefje_run(b, &bin, &res, err);
        if (rc < 0) {
                /* Settings the schema refuses stay refused until the
                 * operator changes them: dead-letter, do not retry. */
                rc = err->kind == WH_ERR_INVALID ? reject(out, "bad_settings", err) : -1;
        } else if (res.ran && res.report.status == WH_STATUS_SANDBOX_ERROR) {
                /* The host, not the job, failed; or the run was cancelled. */
                out->cancelled = strcmp(res.report.stage, "cancelled") == 0;
                out->action = WH_RUNNER_RETRY;
                out->status_json = wh_report_to_json(&res.report);
        } else {
                rc = complete(s, in->job, &res, out, err);
        }
        wh_boefje_result_clear(&res);
        return rc;
}

int wh_slot_boefje_run(struct slot *s, const struct wh_runner_input *in,
                       struct wh_runner_result *out, struct wh_err *err)
{
        const struct wh_worker_config *cfg = &s->w->cfg;
        const struct wh_job *job = in->job;
        struct wh_boefje_job_args args;
        if (wh_boefje_job_args(job->meta_json, in->raw, in->raw_len, &args, err) < 0)
                return err->kind == WH_ERR_INVALID ? reject(out, "bad_meta", err) : -1;
        struct wh_boefje *b = NULL;
        json_t *settings = NULL;
        int rc = load(cfg, job->normaliser, &b, err);
        if (rc < 0 && err->kind == WH_ERR_NOT_FOUND)
                rc = reject(out, "boefje_missing", err);
        else if (rc < 0 && err->kind == WH_ERR_INVALID)
                rc = reject(out, "boefje_invalid", err);
        else if (rc == 0 &&
                 settings_for(cfg, job->tenant, wh_boefje_manifest(b)->id, &settings, err) < 0)
                rc = err->kind == WH_ERR_INVALID ? reject(out, "bad_settings", err) : -1;
        else if (rc == 0)
                rc = run(s, in, b, &args, settings, out, err);
        json_decref(settings);
        wh_boefje_free(b);
        wh_boefje_job_args_clear(&args);
        return rc;
}
