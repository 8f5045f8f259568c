/* boefje.json as OpenKAT defines it (boefjes/models.py, Boefje), checked,
 * and schema.json, the settings' JSON Schema, when it is beside it.
 * Unknown top-level fields are refused (a misspelt field must not pass
 * silently); fields starting with "x-" are free. */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MANIFEST_MAX (1u << 20)

static const char *const known[] = {
    "id",      "name",       "version",       "created",     "static",        "type", "description",
    "enabled", "scan_level", "consumes",      "produces",    "boefje_schema", "cron", "interval",
    "run_on",  "oci_image",  "oci_arguments", "deduplicate", "related"};

static bool id_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 1; i < n; i++) {
                bool sep = s[i] == '.' || s[i] == '_' || s[i] == '-';
                if (!isalnum((unsigned char)s[i]) && (!sep || !isalnum((unsigned char)s[i - 1])))
                        return false;
        }
        return true;
}

static int strings(json_t *v, const char *path, const char *field, bool nonempty,
                   struct wh_err *err)
{
        size_t i;
        json_t *e;
        if (!json_is_array(v) || (nonempty && json_array_size(v) == 0))
                return wh_err_set(err, EINVAL, "manifest",
                                  "%s: field \"%s\" must be %sarray of strings", path, field,
                                  nonempty ? "a non-empty " : "an ");
        json_array_foreach(v, i, e) if (!json_is_string(e)) return wh_err_set(
            err, EINVAL, "manifest", "%s: field \"%s\"[%zu] is not a string", path, field, i);
        return 0;
}

static int check_fields(json_t *obj, const char *path, struct wh_err *err)
{
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                bool ok = strncmp(key, "x-", 2) == 0;
                for (size_t i = 0; !ok && i < sizeof(known) / sizeof(known[0]); i++)
                        ok = strcmp(key, known[i]) == 0;
                if (!ok)
                        return wh_err_set(err, EINVAL, "manifest",
                                          "%s: unknown field \"%s\" (OpenKAT's boefje fields, or "
                                          "\"x-\" for extensions)",
                                          path, key);
        }
        return 0;
}

static int parse(struct wh_boefje_manifest *m, const char *path, struct wh_err *err)
{
        json_t *o = m->json, *v;
        if (check_fields(o, path, err) < 0)
                return -1;
        m->id = json_string_value(json_object_get(o, "id"));
        if (!m->id || !id_valid(m->id))
                return wh_err_set(err, EINVAL, "manifest",
                                  "%s: field \"id\" must be letters and digits joined by single "
                                  "'.', '_' or '-', at most 63 bytes (\"dns-records\")",
                                  path);
        m->name = json_string_value(json_object_get(o, "name"));
        m->description = json_string_value(json_object_get(o, "description"));
        m->consumes = json_object_get(o, "consumes");
        if (strings(m->consumes, path, "consumes", true, err) < 0)
                return -1;
        if ((m->produces = json_object_get(o, "produces")) &&
            strings(m->produces, path, "produces", false, err) < 0)
                return -1;
        if ((m->oci_arguments = json_object_get(o, "oci_arguments")) &&
            strings(m->oci_arguments, path, "oci_arguments", false, err) < 0)
                return -1;
        if ((v = json_object_get(o, "oci_image")) && !(m->oci_image = json_string_value(v)))
                return wh_err_set(err, EINVAL, "manifest",
                                  "%s: field \"oci_image\" must be a string", path);
        m->scan_level = -1;
        if ((v = json_object_get(o, "scan_level"))) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4)
                        return wh_err_set(err, EINVAL, "manifest",
                                          "%s: field \"scan_level\" must be an integer 0..4", path);
                m->scan_level = (int)json_integer_value(v);
        }
        return 0;
}

static json_t *load_json(const char *path, struct wh_err *err)
{
        cleanup_free char *text = NULL;
        size_t len;
        if (wh_read_file(path, MANIFEST_MAX, &text, &len, err) < 0)
                return NULL;
        json_error_t je;
        json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(v)) {
                json_decref(v);
                wh_err_set(err, EINVAL, "manifest", "%s: not a JSON object (line %d: %s)", path,
                           je.line, je.text);
                return NULL;
        }
        return v;
}

int wh_boefje_manifest_load(const char *dir, struct wh_boefje_manifest *out, struct wh_err *err)
{
        *out = (struct wh_boefje_manifest){.scan_level = -1};
        cleanup_free char *path = NULL, *schema = NULL;
        if (asprintf(&path, "%s/boefje.json", dir) < 0 ||
            asprintf(&schema, "%s/schema.json", dir) < 0)
                return wh_err_set(err, ENOMEM, "manifest", "out of memory");
        if (!(out->json = load_json(path, err)) || parse(out, path, err) < 0)
                goto fail;
        if (access(schema, F_OK) == 0 && !(out->settings = load_json(schema, err)))
                goto fail;
        return 0;
fail:
        wh_boefje_manifest_clear(out);
        return -1;
}

void wh_boefje_manifest_clear(struct wh_boefje_manifest *m)
{
        json_decref(m->json);
        json_decref(m->settings);
        *m = (struct wh_boefje_manifest){.scan_level = -1};
}
