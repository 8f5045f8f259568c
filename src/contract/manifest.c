/* normalizer.json: OpenKAT's fields (id, name, description, consumes,
 * produces, enabled, version) plus ours (runtime, entrypoint, limits,
 * external_types), checked so that every message names the field.
 *
 * OpenKAT's own normalizer.json names neither runtime nor entrypoint (nor,
 * usually, a version): such a manifest is "OpenKAT's form" and gets what
 * OpenKAT itself assumes, runtime python3 and entrypoint normalize.py; its
 * missing version stays NULL (provenance says null). Checks that OpenKAT
 * does not make (a schema per type, emitted types listed in produces)
 * become warnings for it (docs/openkat.md).
 *
 * This is the one parser of the file: packages (wh_package_meta_parse) add
 * their own fields on top of it. Unknown top-level fields are refused ("x-"
 * ones are free for extensions): a misspelt "limit" must not silently run a
 * normaliser without its limits. "variant", "schema_digests",
 * "runtime_image" and "python_layers" belong to packaging (docs/packages.md)
 * and are accepted here as they are. */
#include "contract/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const known[] = {"$schema",
                                    "id",
                                    "name",
                                    "description",
                                    "version",
                                    "consumes",
                                    "produces",
                                    "runtime",
                                    "entrypoint",
                                    "limits",
                                    "external_types",
                                    "variant",
                                    "schema_digests",
                                    "runtime_image",
                                    "enabled",
                                    "python_layers",
                                    "warm",
                                    "max_inputs",
                                    NULL};

static int bad(struct wh_err *err, const char *origin, const char *field, const char *what)
{
        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest", "%s: field \"%s\" %s", origin,
                           field, what);
}

static int get_string(json_t *obj, const char *origin, const char *field, bool required,
                      const char **out, struct wh_err *err)
{
        json_t *v = json_object_get(obj, field);
        *out = NULL;
        if (!v && !required)
                return 0;
        if (!v)
                return bad(err, origin, field, "is required");
        if (!json_is_string(v) || json_string_length(v) == 0)
                return bad(err, origin, field, "must be a non-empty string");
        *out = json_string_value(v);
        return 0;
}

/* Letters and digits joined by single separators (safe in paths and tags). */
static bool name_ok(const char *s, const char *seps)
{
        if (!isalnum((unsigned char)*s) || strlen(s) > 63)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) &&
                    (!strchr(seps, *p) || !isalnum((unsigned char)p[1])))
                        return false;
        return true;
}

/* Object type names as OpenKAT spells them: a letter, then letters and digits. */
static bool type_name_ok(const char *s)
{
        if (!isalpha((unsigned char)*s) || strlen(s) > 255)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s))
                        return false;
        return true;
}

static int check_list(json_t *obj, const char *origin, const char *field, bool required,
                      bool nonempty, bool types, struct wh_err *err)
{
        json_t *arr = json_object_get(obj, field);
        if (!arr && !required)
                return 0;
        if (!json_is_array(arr))
                return bad(err, origin, field, "is required and must be an array of strings");
        if (nonempty && json_array_size(arr) == 0)
                return bad(err, origin, field, "must list at least one entry");
        for (size_t i = 0; i < json_array_size(arr); i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                char what[160];
                snprintf(what, sizeof(what), "has entry %zu that is not %s", i,
                         types ? "an object type name (a letter, then letters and digits)"
                               : "a string of 1 to 255 bytes");
                if (!s || !*s || strlen(s) > 255 || (types && !type_name_ok(s)))
                        return bad(err, origin, field, what);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s, json_string_value(json_array_get(arr, j))) == 0) {
                                snprintf(what, sizeof(what), "lists \"%.100s\" twice", s);
                                return bad(err, origin, field, what);
                        }
        }
        return 0;
}

/* "max_inputs": how many inputs one persistent process may serve before it
 * is recycled; only with "warm": "persistent". */
static int max_inputs_parse(json_t *obj, const char *origin, struct wh_manifest *m,
                            struct wh_err *err)
{
        json_t *v = json_object_get(obj, "max_inputs");
        if (!v) {
                m->max_inputs =
                    m->warm && !strcmp(m->warm, "persistent") ? WH_MAX_INPUTS_DEFAULT : 0;
                return 0;
        }
        if (!m->warm || strcmp(m->warm, "persistent") != 0)
                return bad(err, origin, "max_inputs", "needs \"warm\": \"persistent\"");
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > WH_MAX_INPUTS_LIMIT)
                return bad(err, origin, "max_inputs", "must be an integer from 1 to 1000000");
        m->max_inputs = (uint32_t)json_integer_value(v);
        return 0;
}

static bool runtime_ok(const char *rt)
{
        if (strcmp(rt, "exec") == 0 || strcmp(rt, "python3") == 0)
                return true;
        if (strncmp(rt, "python3.", 8) != 0 || !rt[8] || strlen(rt + 8) > 3)
                return false;
        for (const char *p = rt + 8; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return false;
        return true;
}

/* A relative path without empty, ".", ".." or hidden components. */
static bool entrypoint_ok(const char *p)
{
        if (!*p || *p == '/')
                return false;
        for (const char *c = p; *c; c++) {
                bool start = c == p || c[-1] == '/';
                if ((start && (*c == '.' || *c == '/')) || (*c == '/' && !c[1]) || *c == '\\')
                        return false;
        }
        return true;
}

static int check_fields(json_t *obj, const char *origin, struct wh_err *err)
{
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                bool ok = strncmp(key, "x-", 2) == 0;
                for (size_t i = 0; !ok && known[i]; i++)
                        ok = strcmp(known[i], key) == 0;
                if (!ok)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest",
                                           "%s: unknown field \"%s\" (extensions must start with "
                                           "\"x-\")",
                                           origin, key);
        }
        return 0;
}

int wh_manifest_parse(json_t *obj, const char *origin, struct wh_manifest *out, struct wh_err *err)
{
        struct wh_manifest m = {0};
        if (!json_is_object(obj))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest", "%s: not a JSON object",
                                   origin);
        m.openkat = !json_object_get(obj, "runtime") && !json_object_get(obj, "entrypoint");
        if (check_fields(obj, origin, err) < 0 ||
            get_string(obj, origin, "id", true, &m.id, err) < 0 ||
            get_string(obj, origin, "version", !m.openkat, &m.version, err) < 0 ||
            get_string(obj, origin, "runtime", !m.openkat, &m.runtime, err) < 0 ||
            get_string(obj, origin, "entrypoint", !m.openkat, &m.entrypoint, err) < 0 ||
            get_string(obj, origin, "name", false, &m.name, err) < 0 ||
            get_string(obj, origin, "description", false, &m.description, err) < 0 ||
            get_string(obj, origin, "warm", false, &m.warm, err) < 0)
                return -1;
        if (m.warm && strcmp(m.warm, "fork") != 0 && strcmp(m.warm, "persistent") != 0)
                return bad(err, origin, "warm",
                           "must be \"fork\" (the program speaks the warm protocol) or "
                           "\"persistent\" (its children may also serve several inputs; "
                           "docs/warm.md)");
        if (max_inputs_parse(obj, origin, &m, err) < 0)
                return -1;
        if (!name_ok(m.id, "._-"))
                return bad(err, origin, "id",
                           "must be letters and digits joined by single '.', '_' or '-' (at most "
                           "63 bytes), e.g. kat_nmap_normalize");
        if (m.openkat) {
                m.runtime = "python3";
                m.entrypoint = "normalize.py";
        }
        json_t *enabled = json_object_get(obj, "enabled");
        if (enabled && !json_is_boolean(enabled))
                return bad(err, origin, "enabled", "must be true or false");
        if (m.version && !name_ok(m.version, "._-+"))
                return bad(err, origin, "version", "must be like 1.2.0 (letters, digits, . _ - +)");
        if (!runtime_ok(m.runtime))
                return bad(err, origin, "runtime",
                           "must be \"exec\", \"python3\" or \"python3.N\"");
        if (!entrypoint_ok(m.entrypoint))
                return bad(err, origin, "entrypoint",
                           "must be a relative path inside the normaliser, without hidden parts");
        if (check_list(obj, origin, "consumes", true, true, false, err) < 0 ||
            check_list(obj, origin, "produces", true, false, true, err) < 0 ||
            check_list(obj, origin, "external_types", false, false, true, err) < 0 ||
            limits_parse(json_object_get(obj, "limits"), origin, &m.limits, err) < 0)
                return -1;
        json_t *schema = json_object_get(obj, "$schema");
        if (schema && !json_is_string(schema))
                return bad(err, origin, "$schema", "must be a string");
        m.consumes = json_object_get(obj, "consumes");
        m.produces = json_object_get(obj, "produces");
        m.external_types = json_object_get(obj, "external_types");
        m.json = json_incref(obj);
        *out = m;
        return 0;
}

int wh_manifest_load(const char *dir, struct wh_manifest *out, struct wh_err *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/normalizer.json", dir) >= (int)sizeof(path))
                return wh_err_set(err, ENAMETOOLONG, "manifest", "%s", dir);
        cleanup_free char *text = NULL;
        size_t len;
        if (wh_read_file(path, WH_META_MAX_BYTES, &text, &len, err) < 0)
                return wh_err_prefix(err, "a normaliser is a directory with a normalizer.json");
        json_error_t jerr;
        cleanup_json json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest",
                                   "%s: not valid JSON: %s (line %d, column %d)", path, jerr.text,
                                   jerr.line, jerr.column);
        int rc = wh_manifest_parse(obj, path, out, err);
        return rc;
}

void wh_manifest_clear(struct wh_manifest *m)
{
        json_decref(m->json);
        *m = (struct wh_manifest){0};
}

bool wh_manifest_produces(const struct wh_manifest *m, const char *object_type)
{
        for (size_t i = 0; i < json_array_size(m->produces); i++)
                if (strcmp(json_string_value(json_array_get(m->produces, i)), object_type) == 0)
                        return true;
        return false;
}
