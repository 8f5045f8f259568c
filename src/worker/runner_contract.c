/* The real runner: the normaliser contract in the sandbox.
 *
 * load: resolve the reference (a package of the configured store, else
 * wh_normaliser_find), load it once per slot (the contract allows one run
 * at a time per handle). The package digest is the chosen variant's
 * manifest digest, or a directory's tree digest; the policy hash is the
 * digest of everything the worker decides about how it runs: the effective
 * limits and the sandbox options, in canonical JSON. Two runs with equal
 * (package, input, meta, policy) are the same computation, which is what
 * deduplication needs.
 *
 * run: the outcome is what the sandbox and the contract say:
 *   res.ok                        -> result "ok", output = NormalizerResults
 *   the program failed / a limit  -> result named after the status
 *   clean exit, invalid output, or the output check stopped the run
 *                                 -> result "invalid_output"
 *   (those store the run report: errors, stderr, what was valid)
 *   sandbox_error                 -> retried: the host, not the job, failed
 *   a meta document the contract refuses -> dead letter: it never will run */
#define _GNU_SOURCE
#include "worker/runner_contract.h"
#include "worker/log.h"

#include "base/cleanup.h"
#include "base/sha256.h"
#include "sandbox/cgroup.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/contract.h>
#include <whiskers/worker.h>

struct contract_ctx {
        const struct wh_worker_config *cfg;
        struct wh_sandbox_config sandbox;
};

static json_t *policy_json(const struct wh_normaliser_limits *l, const struct contract_ctx *c)
{
        const struct wh_limits *r = &l->run;
        return json_pack("{s:i, s:{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I, "
                         "s:I, s:I}, s:s, s:s}",
                         "contract_version", WH_CONTRACT_VERSION, "limits", "memory_bytes",
                         (json_int_t)r->memory_bytes, "pids", (json_int_t)r->pids, "cpus", r->cpus,
                         "wall_ms", (json_int_t)r->wall_ms, "cpu_ms", (json_int_t)r->cpu_ms,
                         "output_bytes", (json_int_t)r->output_bytes, "nofile",
                         (json_int_t)r->nofile, "fsize_bytes", (json_int_t)r->fsize_bytes,
                         "stack_bytes", (json_int_t)r->stack_bytes, "allow_unenforced",
                         r->allow_unenforced, "tmp_bytes", (json_int_t)l->tmp_bytes, "max_items",
                         (json_int_t)l->max_items, "max_item_bytes", (json_int_t)l->max_item_bytes,
                         "max_depth", (json_int_t)l->max_depth, "cgroup_driver",
                         c->sandbox.cgroup_driver ? c->sandbox.cgroup_driver : "auto",
                         "seccomp_policy", "default");
}

static int policy_hash(const struct wh_normaliser *n, const struct contract_ctx *c,
                       enum wh_isolation iso, char out[WH_DIGEST_BUF], struct wh_err *err)
{
        json_t *policy = policy_json(wh_normaliser_limits(n), c);
        /* Persistent runs may see state an earlier input left: not the same
         * computation as a fork's (deduplication). Fork keeps its old hash. */
        if (policy && iso == WH_ISOLATION_PERSISTENT)
                json_object_set_new(policy, "isolation", json_string("persistent"));
        cleanup_free char *text = policy ? json_dumps(policy, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(policy);
        if (!text)
                return wh_err_set(err, ENOMEM, "worker", "out of memory hashing the policy");
        char hex[WH_SHA256_HEX_LEN + 1];
        wh_sha256_hex(text, strlen(text), hex);
        snprintf(out, WH_DIGEST_BUF, "sha256:%s", hex);
        return 0;
}

/* Persistent isolation where the operator chose it and the normaliser
 * declares it; fork otherwise (the stricter level, docs/warm.md). */
static enum wh_isolation isolation_of(const struct contract_ctx *c, const struct wh_normaliser *n,
                                      const char *ref, const char *tenant)
{
        enum wh_isolation iso;
        if (wh_worker_isolation(c->cfg, ref, tenant, &iso) < 0 || !wh_normaliser_can_persist(n))
                return WH_ISOLATION_FORK;
        return iso;
}

static int contract_load(void *ctx, const char *ref, const char *tenant, struct wh_runner_norm *out,
                         struct wh_err *err)
{
        struct contract_ctx *c = ctx;
        cleanup_free char *dir = NULL;
        struct wh_normaliser_options opts = {.sandbox = &c->sandbox, .work_dir = c->cfg->work_dir};
        opts.overrides.run.allow_unenforced = c->cfg->allow_unenforced_limits;
        struct wh_normaliser *n;
        bool package;
        if (wh_package_ref_load(&c->cfg->packages, ref, &opts, &n, &package, err) < 0)
                return -1;
        if (!package && (wh_normaliser_find(c->cfg->normalisers_dir, ref, &dir, err) < 0 ||
                         wh_normaliser_load(dir, &opts, &n, err) < 0))
                return -1;
        enum wh_isolation iso = c->cfg->cold ? WH_ISOLATION_FORK : isolation_of(c, n, ref, tenant);
        if (policy_hash(n, c, iso, out->policy_hash, err) < 0) {
                wh_normaliser_free(n);
                return -1;
        }
        snprintf(out->package_digest, sizeof(out->package_digest), "%s", wh_normaliser_digest(n));
        /* Warm where the normaliser can (docs/warm.md); a zygote that
         * cannot start makes its runs cold, each with a warning. */
        if (!c->cfg->cold && wh_normaliser_can_warm(n) && wh_normaliser_warm(n, iso, err) < 0) {
                wh_normaliser_free(n);
                return -1;
        }
        out->handle = n;
        return 0;
}

static void contract_unload(void *ctx, void *handle)
{
        (void)ctx;
        wh_normaliser_free(handle);
}

/* Leftovers of killed workers: a loaded sandbox rarely makes a new cgroup
 * or input directory (which sweep their parents too), so a warm worker
 * looks now and then. */
static void contract_sweep(void *ctx)
{
        struct contract_ctx *c = ctx;
        struct wh_cgroup_opts co = {.driver = c->sandbox.cgroup_driver,
                                    .parent = c->sandbox.cgroup_parent};
        unsigned n = wh_cgroup_sweep_stale(&co);
        if (n)
                wh_wlog(WH_LOG_INFO, 0, "removed %u cgroups that killed workers left", n);
        wh_normaliser_sweep_inputs(c->cfg->work_dir, &c->sandbox);
}

static uint64_t contract_rss(void *ctx, void *handle)
{
        (void)ctx;
        return wh_normaliser_warm_rss(handle);
}

static char *dump(const json_t *v)
{
        return v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
}

static const char *outcome_of(const struct wh_run_result *res)
{
        if (res->ok)
                return "ok";
        if (res->report.status == WH_STATUS_OK || wh_run_stopped_early(res))
                return "invalid_output";
        return wh_status_name(res->report.status);
}

static int fill(const struct wh_run_result *res, struct wh_runner_result *out, struct wh_err *err)
{
        out->status_json = wh_report_to_json(&res->report);
        out->warm = res->report.warm;
        if (res->report.status == WH_STATUS_SANDBOX_ERROR && !wh_run_stopped_early(res)) {
                out->cancelled = strcmp(res->report.stage, "cancelled") == 0;
                out->action = WH_RUNNER_RETRY;
                return out->status_json ? 0 : wh_err_set(err, ENOMEM, "worker", "out of memory");
        }
        out->action = WH_RUNNER_COMPLETE;
        out->outcome = strdup(outcome_of(res));
        out->provenance_json = dump(res->provenance);
        if (res->ok) {
                out->output_json = dump(res->results);
        } else {
                json_t *report = wh_run_result_json(res);
                out->output_json = dump(report);
                json_decref(report);
        }
        if (!out->status_json || !out->outcome || !out->provenance_json || !out->output_json)
                return wh_err_set(err, ENOMEM, "worker", "out of memory keeping the result");
        return 0;
}

static int contract_run(void *ctx, void *handle, const struct wh_runner_input *in,
                        struct wh_runner_result *out, struct wh_err *err)
{
        (void)ctx;
        const char *meta = in->job->meta_json ? in->job->meta_json : "{}";
        struct wh_run_input input = {
            .raw = in->raw, .raw_len = in->raw_len, .meta = meta, .meta_len = strlen(meta)};
        struct wh_run_options opts = {.cancel = in->cancel};
        struct wh_run_result res = {0};
        if (wh_normaliser_run(handle, &input, &opts, &res, err) < 0) {
                wh_run_result_clear(&res);
                if (err->kind != WH_ERR_INVALID || !err->stage || strcmp(err->stage, "meta") != 0)
                        return -1;
                /* The meta can never pass: no retry will change that. */
                out->action = WH_RUNNER_REJECT;
                json_t *st = json_pack("{s:s, s:s, s:s}", "status", "bad_meta", "stage", "meta",
                                       "message", err->msg);
                out->status_json = dump(st);
                json_decref(st);
                return out->status_json ? 0 : -1;
        }
        int rc = fill(&res, out, err);
        wh_run_result_clear(&res);
        return rc;
}

int wh_runner_contract_init(struct wh_runner *r, const struct wh_worker_config *cfg,
                            struct wh_err *err)
{
        struct contract_ctx *c = calloc(1, sizeof(*c));
        if (!c)
                return wh_err_set(err, ENOMEM, "worker", "out of memory");
        c->cfg = cfg;
        c->sandbox = (struct wh_sandbox_config){.host_uid = (uid_t)-1,
                                                .host_gid = (gid_t)-1,
                                                .cgroup_driver = cfg->cgroup_driver,
                                                .cgroup_parent = cfg->cgroup_parent};
        *r = (struct wh_runner){.ctx = c,
                                .load = contract_load,
                                .run = contract_run,
                                .unload = contract_unload,
                                .rss = contract_rss,
                                .sweep = contract_sweep};
        return 0;
}

void wh_runner_contract_clear(struct wh_runner *r)
{
        free(r->ctx);
        r->ctx = NULL;
}
