/* A boefje job's raw files, kept: each file once by content, and the job's
 * record last, by rename, so that a record names only files already there
 * (docs/boefjes.md "The raw store").
 *
 *   STORE/sha256/<hex>          the bytes, read-only
 *   STORE/jobs/<task id>.json   {"ok", "raw_files": [{digest, size, mime_types}],
 *                                "boefje_meta", "status", "provenance"} */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

json_t *wh_boefje_result_json(const struct wh_boefje_result *res)
{
        json_t *files = json_array();
        for (size_t i = 0; i < res->n_raws; i++)
                json_array_append_new(files,
                                      json_pack("{s:s, s:I, s:O}", "digest", res->raws[i].digest,
                                                "size", (json_int_t)res->raws[i].len, "mime_types",
                                                res->raws[i].mime_types));
        cleanup_free char *status = res->ran ? wh_report_to_json(&res->report) : NULL;
        json_t *error = res->ok ? json_null()
                                : json_pack("{s:s, s:s?, s:s?}", "code", res->error_code, "message",
                                            res->error_message, "detail", res->error_detail);
        return json_pack(
            "{s:b, s:o, s:o, s:O?, s:s?, s:o, s:O?}", "ok", res->ok, "error", error, "raw_files",
            files, "boefje_meta", res->boefje_meta, "stderr", res->stderr_text, "status",
            status ? json_loads(status, 0, NULL) : json_null(), "provenance", res->provenance);
}

static int make_dir(const char *path, struct wh_err *err)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "store", "cannot create %s", path);
        return 0;
}

/* A task id becomes a file name: only what a UUID (or a simple id) holds. */
static bool name_safe(const char *s)
{
        if (!*s || *s == '.' || strlen(s) > 128)
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
                            *s))
                        return false;
        return true;
}

int wh_boefje_store(const char *dir, const struct wh_boefje_result *res, struct wh_err *err)
{
        if (!res->ok)
                return wh_err_set(err, EINVAL, "store", "a failed boefje run is not stored (%s)",
                                  res->error_code);
        const char *task = json_string_value(json_object_get(res->boefje_meta, "id"));
        if (!task || !name_safe(task))
                return wh_err_set(err, EINVAL, "store",
                                  "the task id is not a file name (letters, digits, '-', '_')");
        cleanup_free char *blobs = NULL, *jobs = NULL, *record = NULL;
        if (asprintf(&blobs, "%s/sha256", dir) < 0 || asprintf(&jobs, "%s/jobs", dir) < 0 ||
            asprintf(&record, "%s/%s.json", jobs, task) < 0)
                return wh_err_set(err, ENOMEM, "store", "out of memory");
        if (make_dir(dir, err) < 0 || make_dir(blobs, err) < 0 || make_dir(jobs, err) < 0)
                return -1;
        for (size_t i = 0; i < res->n_raws; i++) {
                const struct wh_boefje_raw *r = &res->raws[i];
                cleanup_free char *path = NULL;
                struct stat st;
                if (asprintf(&path, "%s/%s", blobs, r->digest + 7) < 0)
                        return wh_err_set(err, ENOMEM, "store", "out of memory");
                if (stat(path, &st) == 0 && (size_t)st.st_size == r->len)
                        continue; /* the same bytes, kept by an earlier job */
                if (wh_write_file_atomic(path, r->data, r->len, err) < 0)
                        return -1;
                if (chmod(path, 0444) < 0)
                        return wh_err_set(err, errno, "store", "cannot make %s read-only", path);
        }
        json_t *doc = wh_boefje_result_json(res);
        if (!doc)
                return wh_err_set(err, ENOMEM, "store", "out of memory");
        json_object_del(doc, "stderr"); /* the boefje's chatter stays with the run */
        cleanup_free char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(doc);
        if (!text)
                return wh_err_set(err, ENOMEM, "store", "out of memory");
        return wh_write_file_atomic(record, text, strlen(text), err);
}
