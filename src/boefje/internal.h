/* Internals of the boefje module, shared between its files.
 *
 * manifest.c reads boefje.json and schema.json; ooi.c serialises the input
 * object and builds the BoefjeMeta; settings.c checks the settings against
 * schema.json; output.c checks the shim's lines into raw files; run.c
 * stages the input and runs the sandbox; store.c keeps the raw files. */
#ifndef WH_BOEFJE_INTERNAL_H
#define WH_BOEFJE_INTERNAL_H

#include "contract/internal.h"

#include <whiskers/boefje.h>
#include <whiskers/net.h>

extern const char wh_boefje_shim[];
extern const size_t wh_boefje_shim_len;

struct wh_boefje {
        char *dir, *rootfs, *program;
        struct wh_boefje_manifest manifest;
        struct wh_schema_registry *reg;
        struct wh_schema *settings_schema; /* NULL: no schema.json */
        char digest[WH_DIGEST_BUF];
        char shim_digest[WH_DIGEST_BUF];
        uint64_t raw_max;
        struct wh_limits limits;
        struct wh_sandbox_config config;
        struct wh_bind binds[2];
        struct stage stage;
        const char *argv[8];
};

/* settings.c: the settings as the environment sees them (an object of
 * strings), checked against schema.json with numbers and booleans given
 * as strings read as such. NULL with err set when they do not match. */
json_t *settings_check(const struct wh_boefje *b, json_t *settings, struct wh_err *err);

/* net.c: the job's egress allowlist (*out NULL: no network at all) and
 * its provenance record, [{"allow": item, "from": "input_ooi" | "manifest"
 * | "caller"}]. */
int boefje_net_policy(const struct wh_boefje *b, const struct wh_boefje_input *in, json_t *env,
                      struct wh_net_policy **out, json_t **record, struct wh_err *err);

/* ooi.c: OpenKAT's BoefjeMeta for one job. */
json_t *boefje_meta_build(const struct wh_boefje *b, json_t *input_ooi, const char *task_id,
                          const char *organization, struct wh_err *err);

/* output.c: the shim's stdout (runtime line, raw lines or one error line)
 * into res->raws, or res->error_code set. Nothing is kept on an error. */
void output_parse(const struct wh_boefje *b, const char *out, size_t len,
                  struct wh_boefje_result *res, json_t **runtime);
void output_drop(struct wh_boefje_result *res);
/* Record the run's one error (message formatted; detail may be NULL). */
void result_fail(struct wh_boefje_result *res, const char *code, const char *detail,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
