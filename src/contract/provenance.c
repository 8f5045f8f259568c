/* The provenance record of one run (docs/contract.md "Provenance"): what
 * ran (normaliser digest, runtime), on what (raw and meta digests), under
 * which policy (sandbox layers and limits, with a digest), what came out
 * (stdout and results digests), when and how long, and how it ended (the
 * sandbox's status record). Digests are "sha256:<hex>"; a document's
 * digest is that of its canonical form (compact, keys sorted). */
#include "contract/internal.h"
#include "base/cleanup.h"

#include <stdlib.h>
#include <string.h>

#ifndef WH_VERSION
#define WH_VERSION "unknown"
#endif

static json_t *digest_obj(const char *digest, uint64_t bytes)
{
        return json_pack("{s:s, s:I}", "digest", digest, "bytes", (json_int_t)bytes);
}

static json_t *runtime_json(const struct wh_normaliser *n, const struct run_facts *f)
{
        const struct wh_manifest *m = &n->manifest;
        if (!n->interpreter)
                return json_pack("{s:s, s:s}", "name", m->runtime, "entrypoint", m->entrypoint);
        json_t *version = json_object_get(f->runtime, "version");
        json_t *impl = json_object_get(f->runtime, "implementation");
        json_t *clock = f->clock
                            ? json_pack("{s:s, s:s, s:s}", "kind", "pinned", "instant", f->clock,
                                        "source", f->clock_from_scan ? "scan" : "given")
                            : json_pack("{s:s}", "kind", "host");
        return json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:s, s:o}", "name", m->runtime, "entrypoint",
                         m->entrypoint, "interpreter", n->interpreter, "version", version,
                         "implementation", impl, "shim_digest", n->shim_digest, "clock", clock);
}

static json_t *policy_json(const struct wh_normaliser *n, const struct wh_report *r)
{
        json_t *sandbox =
            json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:[{s:s, s:b}, {s:s, s:b}], s:I}", "root",
                      n->rootfs ? "runtime-image" : "host-usr", "namespaces", r->namespaces, "net",
                      n->config.net == WH_NET_ALLOW      ? "allow"
                      : n->config.net == WH_NET_LOOPBACK ? "loopback"
                                                         : "none",
                      "seccomp_policy_hash", r->seccomp_policy_hash, "landlock_abi",
                      r->landlock_abi, "cgroup_driver", r->cgroup_driver, "binds", "dst",
                      WH_SANDBOX_NORMALISER_DIR, "read_only", 1, "dst", WH_SANDBOX_INPUT_DIR,
                      "read_only", 1, "host_uid", (json_int_t)n->stage.uid);
        cleanup_json json_t *policy =
            json_pack("{s:o, s:o}", "sandbox", sandbox, "limits", limits_json(&n->limits));
        json_t *digest = policy ? canonical_digest(policy) : NULL;
        if (!digest || json_object_set_new(policy, "digest", digest) < 0)
                return NULL;
        return steal_pointer(&policy);
}

static json_t *status_json(const struct wh_report *r)
{
        char *text = wh_report_to_json(r);
        json_t *status = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        return status;
}

json_t *provenance_build(const struct wh_normaliser *n, const struct run_facts *f,
                         const json_t *results, const struct wh_report *report)
{
        const struct wh_manifest *m = &n->manifest;
        json_t *normaliser =
            json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:O*}", "id", m->id, "version", m->version,
                      "manifest_form", m->openkat ? "openkat" : "whiskers", "path", n->dir,
                      "digest", n->digest, "digest_kind", n->package ? "oci-manifest" : "tree-v1",
                      "package", n->package);
        if (normaliser && n->schema_dir)
                json_object_set_new(
                    normaliser, "schema_dir",
                    json_pack("{s:s, s:s}", "path", n->schema_dir, "digest", n->schema_digest));
        json_t *input = json_pack("{s:o, s:o, s:s?, s:s?, s:O?}", "raw",
                                  digest_obj(f->raw_digest, f->raw_bytes), "meta",
                                  digest_obj(f->meta_digest, f->meta_bytes), "task_id", f->task_id,
                                  "input_ooi", f->input_pk, "mime_types", f->mime_types);
        json_t *output =
            json_pack("{s:o, s:I, s:I, s:o}", "stdout", digest_obj(f->out_digest, f->out_bytes),
                      "stderr_bytes", (json_int_t)f->err_bytes, "items", (json_int_t)f->items,
                      "results_digest", canonical_digest(results));
        json_t *timings =
            json_pack("{s:s, s:I, s:I, s:I, s:I}", "started_at", f->started_at, "stage_us",
                      (json_int_t)f->stage_us, "sandbox_us", (json_int_t)f->sandbox_us, "check_us",
                      (json_int_t)f->check_us, "total_us", (json_int_t)f->total_us);
        return json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "contract_version",
                         WH_CONTRACT_VERSION, "whiskers_version", WH_VERSION, "normaliser",
                         normaliser, "runtime", runtime_json(n, f), "input", input, "output",
                         output, "policy", policy_json(n, report), "timings", timings, "status",
                         status_json(report));
}
