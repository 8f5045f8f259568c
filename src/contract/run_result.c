/* The run report as one JSON document (docs/contract.md "Run report"), and
 * freeing a result. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *report_json(const struct wh_report *r)
{
        char *text = wh_report_to_json(r);
        json_t *status = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        return status;
}

json_t *wh_run_result_json(const struct wh_run_result *res)
{
        json_t *stderr_text =
            res->stderr_text ? json_stringn(res->stderr_text, res->stderr_len) : json_string("");
        if (!stderr_text) {
                /* Not UTF-8: the same bytes, invalid sequences replaced. */
                char *clean = utf8_excerpt(res->stderr_text, res->stderr_len, res->stderr_len);
                stderr_text = clean ? json_string(clean) : NULL;
                free(clean);
        }
        return json_pack("{s:b, s:O, s:o, s:I, s:o, s:{s:o, s:I, s:b}, s:o, s:O}", "ok", res->ok,
                         "results", res->results, "errors", wh_contract_errors_json(&res->errors),
                         "errors_not_listed", (json_int_t)res->errors.dropped, "warnings",
                         wh_contract_errors_json(&res->warnings), "stderr", "text", stderr_text,
                         "bytes", (json_int_t)res->stderr_bytes, "truncated",
                         res->stderr_bytes > res->stderr_len, "status", report_json(&res->report),
                         "provenance", res->provenance);
}

void wh_run_result_clear(struct wh_run_result *res)
{
        json_decref(res->results);
        json_decref(res->provenance);
        cerrs_clear(&res->errors);
        cerrs_clear(&res->warnings);
        free(res->stderr_text);
        res->results = res->provenance = NULL;
        res->stderr_text = NULL;
        res->stderr_len = 0;
}

bool wh_run_stopped_early(const struct wh_run_result *res)
{
        return res->report.status == WH_STATUS_SANDBOX_ERROR &&
               strcmp(res->report.stage, "output") == 0;
}
