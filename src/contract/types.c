/* The object types a normaliser produces: one compiled JSON Schema each, and
 * the two annotations whiskers reads from it (docs/contract.md "Schemas"):
 *
 *   "properties": {"network": {"type": "string", "x-reference": ["Network"]}}
 *       the field holds a primary key of an object of one of those types
 *       (true: of any type); the reference must resolve
 *   "x-natural-key": ["network", "name"]
 *       how the object's primary key is made when it carries none
 *
 * The schema of type T is schemas/T.json in the normaliser, else T.json in
 * the schema directory. Unknown keywords are errors here, unlike in plain
 * JSON Schema: a misspelt "requried" must not silently accept anything.
 * Annotations of our own start with "x-". */
#include "contract/internal.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHEMA_DIR_URI "https://whiskers.invalid/schemas/"

static bool find_schema(const char *dir, const char *schema_dir, const char *type,
                        char path[PATH_MAX])
{
        snprintf(path, PATH_MAX, "%s/schemas/%s.json", dir, type);
        if (access(path, F_OK) == 0)
                return true;
        if (schema_dir) {
                snprintf(path, PATH_MAX, "%s/%s.json", schema_dir, type);
                if (access(path, F_OK) == 0)
                        return true;
        }
        return false;
}

static int no_schema(const char *dir, const char *schema_dir, const char *type, struct wh_err *err)
{
        return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "schema",
                           "normalizer.json produces \"%s\" but there is no schema for it: write "
                           "%s/schemas/%s.json%s%s",
                           type, dir, type, schema_dir ? " or " : "", schema_dir ? schema_dir : "");
}

/* Compile warnings: unknown keywords without "x-" fail the load, the rest
 * (formats whiskers does not check, older drafts) become load warnings. */
static int add_warning(struct type_table *t, const char *text, struct wh_err *err)
{
        char **nw = realloc(t->warnings, (t->n_warnings + 1) * sizeof(*nw));
        if (!nw)
                return wh_err_set(err, ENOMEM, "schema", "warnings");
        t->warnings = nw;
        if (!(nw[t->n_warnings] = strdup(text)))
                return wh_err_set(err, ENOMEM, "schema", "warnings");
        t->n_warnings++;
        return 0;
}

static int sort_warnings(struct type_table *t, const struct wh_schema *s, const char *path,
                         struct wh_err *err)
{
        static const char unknown[] = "unknown keyword '";
        for (size_t i = 0; i < wh_schema_warning_count(s); i++) {
                const char *w = wh_schema_warning(s, i);
                if (strncmp(w, unknown, sizeof(unknown) - 1) == 0 &&
                    strncmp(w + sizeof(unknown) - 1, "x-", 2) != 0)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "schema",
                                           "%s: %s: whiskers refuses unknown keywords in schemas "
                                           "(a misspelling would accept anything); annotations "
                                           "must start with \"x-\"",
                                           path, w);
                if (strncmp(w, unknown, sizeof(unknown) - 1) == 0)
                        continue;
                char text[PATH_MAX + 1024];
                snprintf(text, sizeof(text), "%s: %.1000s", path, w);
                if (add_warning(t, text, err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_refs(struct object_type *ot, json_t *doc, const char *path, struct wh_err *err)
{
        json_t *props = json_object_get(doc, "properties");
        const char *name;
        json_t *p;
        json_object_foreach(props, name, p)
        {
                json_t *r = json_object_get(p, "x-reference");
                if (!r)
                        continue;
                bool list_ok = json_is_array(r) && json_array_size(r) > 0;
                for (size_t i = 0; list_ok && i < json_array_size(r); i++)
                        list_ok = json_is_string(json_array_get(r, i));
                if (!json_is_true(r) && !list_ok)
                        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "schema",
                                           "%s: properties/%s/x-reference must be true or a "
                                           "non-empty array of object type names",
                                           path, name);
                struct ref_field *nr = realloc(ot->refs, (ot->n_refs + 1) * sizeof(*nr));
                if (!nr)
                        return wh_err_set(err, ENOMEM, "schema", "%s", path);
                ot->refs = nr;
                nr[ot->n_refs] = (struct ref_field){strdup(name), list_ok ? json_incref(r) : NULL};
                if (!nr[ot->n_refs++].name)
                        return wh_err_set(err, ENOMEM, "schema", "%s", path);
        }
        return 0;
}

static int parse_key(struct object_type *ot, json_t *doc, const char *path, struct wh_err *err)
{
        json_t *key = json_object_get(doc, "x-natural-key");
        if (!key)
                return 0;
        if (!json_is_array(key) || json_array_size(key) == 0)
                goto bad;
        if (!(ot->key = calloc(json_array_size(key), sizeof(*ot->key))))
                return wh_err_set(err, ENOMEM, "schema", "%s", path);
        for (size_t i = 0; i < json_array_size(key); i++) {
                json_t *e = json_array_get(key, i);
                const char *field = json_string_value(e);
                bool whole = false;
                if (json_is_object(e)) {
                        field = json_string_value(json_object_get(e, "field"));
                        whole = json_is_true(json_object_get(e, "whole"));
                        if (json_object_size(e) != 1u + (json_object_get(e, "whole") != NULL))
                                field = NULL;
                }
                if (!field || !*field)
                        goto bad;
                ot->key[ot->n_key++] = (struct key_part){strdup(field), whole};
                if (!ot->key[ot->n_key - 1].field)
                        return wh_err_set(err, ENOMEM, "schema", "%s", path);
        }
        return 0;
bad:
        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "schema",
                           "%s: x-natural-key must be a non-empty array of field names or "
                           "{\"field\": NAME, \"whole\": true} entries",
                           path);
}

/* A type without a schema (OpenKAT's form only): objects are checked for
 * object_type and primary_key, nothing more. */
static int load_type(struct type_table *t, const char *dir, const char *schema_dir,
                     const char *type, bool optional, struct wh_err *err)
{
        char path[PATH_MAX];
        bool found = find_schema(dir, schema_dir, type, path);
        if (!found && !optional)
                return no_schema(dir, schema_dir, type, err);
        struct object_type *ot = &t->types[t->n++];
        if (!(ot->name = strdup(type)))
                return wh_err_set(err, ENOMEM, "schema", "%s", type);
        if (!found)
                return 0;
        cleanup_json json_t *doc = NULL;
        if (wh_schema_json_load(path, &doc, err) < 0)
                return wh_err_prefix(err, "schema of %s", type);
        int rc = -1;
        if (!json_is_object(doc))
                wh_err_setk(err, WH_ERR_INVALID, EINVAL, "schema",
                            "%s: a type's schema must be a JSON object", path);
        else if (wh_schema_compile_file(t->reg, path, &ot->schema, err) < 0)
                wh_err_prefix(err, "schema of %s", type);
        else if (sort_warnings(t, ot->schema, path, err) == 0 &&
                 parse_refs(ot, doc, path, err) == 0 && parse_key(ot, doc, path, err) == 0)
                rc = 0;
        return rc;
}

/* Names the types of an OpenKAT manifest that have no schema, in one warning. */
static int unchecked_warning(struct type_table *t, struct wh_err *err)
{
        char text[4096] = "";
        size_t len = 0, n = 0;
        for (size_t i = 0; i < t->n; i++)
                if (!t->types[i].schema && len < sizeof(text) - 300) {
                        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
                                                n++ ? ", " : "", t->types[i].name);
                }
        if (!n)
                return 0;
        char msg[4400];
        snprintf(msg, sizeof(msg),
                 "no schema for %s: objects of %s are checked for object_type and primary_key "
                 "only (give schemas in schemas/ or --schema-dir)",
                 text, n == 1 ? "this type" : "these types");
        return add_warning(t, msg, err);
}

static bool listed(json_t *produces, const char *type)
{
        for (size_t i = 0; i < json_array_size(produces); i++)
                if (strcmp(json_string_value(json_array_get(produces, i)), type) == 0)
                        return true;
        return false;
}

/* OpenKAT's form does not list every type it emits (kat_ssl_certificates
 * emits Website): every schema of the schema directory is a type too, so
 * that those objects are validated (and warned about as undeclared). */
static int load_schema_dir(struct type_table *t, const char *dir, const char *schema_dir,
                           json_t *produces, struct wh_err *err)
{
        DIR *d = opendir(schema_dir);
        if (!d)
                return wh_err_set(err, errno, "schema", "cannot read the schema directory %s",
                                  schema_dir);
        int rc = 0;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d))) {
                char name[256];
                size_t len = strlen(e->d_name);
                if (len <= 5 || len > 255 || strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
                if (listed(produces, name) || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                                           "klmnopqrstuvwxyz0123456789") != len - 5)
                        continue;
                struct object_type *nt = realloc(t->types, (t->n + 1) * sizeof(*nt));
                if (!nt) {
                        rc = wh_err_set(err, ENOMEM, "schema", "loading %s", schema_dir);
                        break;
                }
                t->types = nt;
                memset(&nt[t->n], 0, sizeof(*nt));
                rc = load_type(t, dir, schema_dir, name, true, err);
        }
        closedir(d);
        return rc;
}

int types_load(struct type_table *t, const char *dir, const char *schema_dir, json_t *produces,
               bool optional, struct wh_err *err)
{
        *t = (struct type_table){0};
        if (wh_schema_registry_new(WH_SCHEMA_ASSERT_FORMAT, &t->reg, err) < 0)
                return -1;
        if (schema_dir && wh_schema_registry_map(t->reg, SCHEMA_DIR_URI, schema_dir, err) < 0)
                return -1;
        if (!(t->types = calloc(json_array_size(produces) + 1, sizeof(*t->types))))
                return wh_err_set(err, ENOMEM, "schema", "loading schemas");
        for (size_t i = 0; i < json_array_size(produces); i++)
                if (load_type(t, dir, schema_dir, json_string_value(json_array_get(produces, i)),
                              optional, err) < 0)
                        return -1;
        if (optional && schema_dir && load_schema_dir(t, dir, schema_dir, produces, err) < 0)
                return -1;
        return unchecked_warning(t, err);
}

const struct object_type *types_find(const struct type_table *t, const char *name)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->types[i].name, name) == 0)
                        return &t->types[i];
        return NULL;
}

void types_clear(struct type_table *t)
{
        for (size_t i = 0; i < t->n; i++) {
                struct object_type *ot = &t->types[i];
                free(ot->name);
                wh_schema_free(ot->schema);
                for (size_t j = 0; j < ot->n_refs; j++) {
                        free(ot->refs[j].name);
                        json_decref(ot->refs[j].allowed);
                }
                free(ot->refs);
                for (size_t j = 0; j < ot->n_key; j++)
                        free(ot->key[j].field);
                free(ot->key);
        }
        free(t->types);
        for (size_t i = 0; i < t->n_warnings; i++)
                free(t->warnings[i]);
        free(t->warnings);
        wh_schema_registry_free(t->reg);
        *t = (struct type_table){0};
}
