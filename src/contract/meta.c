/* The meta document a normaliser receives beside the raw file
 * (docs/contract.md "Meta"):
 *
 *   {"task_id": "…", "input_ooi": {"object_type": "Hostname",
 *    "primary_key": "Hostname|internet|example.org", …} or null,
 *    "boefje_meta": {…}, "mime_types": ["…"]}
 *
 * Every field is optional; the ones present must have these types. Other
 * fields are passed on untouched.
 *
 * OpenKAT's NormalizerMeta (NormalizerMeta.model_dump(mode="json")) is
 * accepted as it is: {"id", "normalizer": {...}, "raw_data": {"boefje_meta":
 * {"input_ooi": "Hostname|...", "arguments": {"input": {...}}, ...},
 * "mime_types": [{"value": "..."}]}}. It is recognised by "raw_data" or
 * "normalizer"; its task id is "id", its input object
 * raw_data.boefje_meta.input_ooi, its MIME types the "value"s. What run()
 * receives is decided in the shim, by OpenKAT's rule (runtimes/python). */
#include "contract/internal.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static int bad(struct wh_err *err, const char *what)
{
        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "meta", "meta: %s", what);
}

static int check_input_ooi(json_t *ooi, struct wh_err *err)
{
        if (json_is_null(ooi))
                return 0;
        if (!json_is_object(ooi))
                return bad(err, "\"input_ooi\" must be an object or null");
        const char *pk = json_string_value(json_object_get(ooi, "primary_key"));
        if (!pk || !pk_valid(pk))
                return bad(err, "\"input_ooi.primary_key\" must be a primary key such as "
                                "\"Hostname|internet|example.org\"");
        json_t *type = json_object_get(ooi, "object_type");
        size_t tl = strcspn(pk, "|");
        if (type && (!json_is_string(type) || strlen(json_string_value(type)) != tl ||
                     strncmp(json_string_value(type), pk, tl) != 0))
                return bad(err, "\"input_ooi.object_type\" must be the type its primary_key "
                                "starts with");
        return 0;
}

static bool is_openkat(json_t *doc)
{
        return json_object_get(doc, "raw_data") || json_object_get(doc, "normalizer");
}

/* OpenKAT's NormalizerMeta: the parts whiskers reads must have their types. */
static int check_openkat(json_t *doc, struct wh_err *err)
{
        json_t *raw = json_object_get(doc, "raw_data");
        json_t *bm = json_object_get(raw, "boefje_meta");
        json_t *id = json_object_get(doc, "id");
        json_t *ooi = json_object_get(bm, "input_ooi");
        json_t *args = json_object_get(bm, "arguments");
        json_t *mimes = json_object_get(raw, "mime_types");
        if (!json_is_object(bm))
                return bad(err, "OpenKAT's NormalizerMeta needs \"raw_data\": {\"boefje_meta\": "
                                "{...}}: the boefje run whose input object and raw file this "
                                "is");
        if (id && !json_is_string(id))
                return bad(err, "\"id\" must be a string");
        if (ooi && !json_is_null(ooi) && !(json_is_string(ooi) && pk_valid(json_string_value(ooi))))
                return bad(err, "\"raw_data.boefje_meta.input_ooi\" must be a primary key such as "
                                "\"Hostname|internet|example.org\", or null");
        if (args && !json_is_object(args) && !json_is_null(args))
                return bad(err, "\"raw_data.boefje_meta.arguments\" must be an object");
        if (mimes && !json_is_array(mimes))
                return bad(err, "\"raw_data.mime_types\" must be an array of {\"value\": ...}");
        for (size_t i = 0; i < json_array_size(mimes); i++)
                if (!json_is_string(json_object_get(json_array_get(mimes, i), "value")))
                        return bad(err, "\"raw_data.mime_types\" must be an array of "
                                        "{\"value\": string}");
        return 0;
}

int wh_meta_facts(json_t *doc, struct wh_meta_facts *out)
{
        *out = (struct wh_meta_facts){0};
        if (!is_openkat(doc)) {
                out->task_id = json_string_value(json_object_get(doc, "task_id"));
                out->input_pk = json_string_value(
                    json_object_get(json_object_get(doc, "input_ooi"), "primary_key"));
                out->mime_types = json_incref(json_object_get(doc, "mime_types"));
                out->scan_time = json_string_value(
                    json_object_get(json_object_get(doc, "boefje_meta"), "ended_at"));
                return 0;
        }
        json_t *raw = json_object_get(doc, "raw_data");
        out->openkat = true;
        out->task_id = json_string_value(json_object_get(doc, "id"));
        json_t *bm = json_object_get(raw, "boefje_meta");
        out->input_pk = json_string_value(json_object_get(bm, "input_ooi"));
        out->scan_time = json_string_value(json_object_get(bm, "ended_at"));
        json_t *mimes = json_object_get(raw, "mime_types");
        if (!mimes)
                return 0;
        if (!(out->mime_types = json_array()))
                return -1;
        for (size_t i = 0; i < json_array_size(mimes); i++)
                if (json_array_append(out->mime_types,
                                      json_object_get(json_array_get(mimes, i), "value")) < 0)
                        return -1;
        return 0;
}

void wh_meta_facts_clear(struct wh_meta_facts *f)
{
        json_decref(f->mime_types);
        *f = (struct wh_meta_facts){0};
}

int wh_meta_check(const char *meta, size_t len, json_t **out, struct wh_err *err)
{
        if (len > WH_META_MAX_BYTES)
                return bad(err, "larger than 1 MiB");
        json_error_t je;
        cleanup_json json_t *doc = json_loadb(meta, len, JSON_REJECT_DUPLICATES, &je);
        if (!doc)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "meta",
                                   "meta: not valid JSON: %s (line %d, column %d)", je.text,
                                   je.line, je.column);
        int rc = -1;
        json_t *task = json_object_get(doc, "task_id");
        json_t *boefje = json_object_get(doc, "boefje_meta");
        json_t *mimes = json_object_get(doc, "mime_types");
        json_t *ooi = json_object_get(doc, "input_ooi");
        bool mimes_ok = !mimes || json_is_array(mimes);
        for (size_t i = 0; mimes_ok && i < json_array_size(mimes); i++)
                mimes_ok = json_is_string(json_array_get(mimes, i));
        if (!json_is_object(doc))
                bad(err, "must be a JSON object");
        else if (is_openkat(doc))
                rc = check_openkat(doc, err);
        else if (task && !json_is_string(task))
                bad(err, "\"task_id\" must be a string");
        else if (boefje && !json_is_object(boefje) && !json_is_null(boefje))
                bad(err, "\"boefje_meta\" must be an object");
        else if (!mimes_ok)
                bad(err, "\"mime_types\" must be an array of strings");
        else if (!ooi || check_input_ooi(ooi, err) == 0)
                rc = 0;
        if (rc == 0 && out)
                *out = json_incref(doc);
        return rc;
}

int random_uuid(char out[37], struct wh_err *err)
{
        unsigned char b[16];
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                return wh_err_set(err, errno, "meta", "cannot make a task id");
        b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
        b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
        return 0;
}

int wh_meta_build(const char *input_ooi_ref, const char *const *mime_types, size_t n_mime,
                  const char *task_id, char **out, struct wh_err *err)
{
        char uuid[37];
        if (!task_id && random_uuid(uuid, err) < 0)
                return -1;
        if (input_ooi_ref && !pk_valid(input_ooi_ref))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "meta",
                                   "input object \"%s\" is not a primary key such as "
                                   "\"Hostname|internet|example.org\"",
                                   input_ooi_ref);
        json_t *mimes = json_array();
        for (size_t i = 0; mimes && i < n_mime; i++)
                if (json_array_append_new(mimes, json_string(mime_types[i])) < 0) {
                        json_decref(mimes);
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "meta",
                                           "MIME type \"%s\" is not UTF-8", mime_types[i]);
                }
        json_t *ooi = json_null();
        if (input_ooi_ref)
                ooi = json_pack("{s:s%, s:s}", "object_type", input_ooi_ref,
                                strcspn(input_ooi_ref, "|"), "primary_key", input_ooi_ref);
        cleanup_json json_t *doc =
            json_pack("{s:s, s:o, s:{}, s:o}", "task_id", task_id ? task_id : uuid, "input_ooi",
                      ooi, "boefje_meta", "mime_types", mimes);
        *out = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!*out)
                return wh_err_set(err, ENOMEM, "meta", "building the meta document");
        return 0;
}
