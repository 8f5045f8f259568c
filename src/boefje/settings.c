/* Settings: what schema.json describes, given to the boefje as environment
 * variables (OpenKAT's rule). The environment only holds strings, so a
 * setting arrives as a string, number or boolean and is checked against
 * the schema as the type its property asks for ("250" against
 * {"type": "integer"}); the boefje receives the string. Values are never
 * copied into messages: a setting may be a secret (an API key). */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A name the environment can carry and a shell could set: [A-Za-z_][A-Za-z0-9_]*. */
static bool env_name(const char *s)
{
        if (!*s || isdigit((unsigned char)*s))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_')
                        return false;
        return true;
}

/* The string the boefje will see, or NULL for a value of no such form. */
static char *as_string(json_t *v)
{
        char *s = NULL;
        if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
                s = strdup(json_string_value(v)); /* no NUL: the environment could not hold it */
        else if (json_is_integer(v) && asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
                s = NULL;
        else if (json_is_boolean(v))
                s = strdup(json_is_true(v) ? "true" : "false");
        return s;
}

/* The value as the schema's property type reads it: "250" is 250 for an
 * integer property; anything unreadable stays a string (and fails there). */
static json_t *typed(json_t *schema, const char *name, const char *s)
{
        json_t *prop = json_object_get(json_object_get(schema, "properties"), name);
        const char *type = json_string_value(json_object_get(prop, "type"));
        char *end;
        if (type && strcmp(type, "integer") == 0) {
                errno = 0;
                long long n = strtoll(s, &end, 10);
                if (*s && !*end && !errno)
                        return json_integer(n);
        } else if (type && strcmp(type, "number") == 0) {
                double d = strtod(s, &end);
                if (*s && !*end)
                        return json_real(d);
        } else if (type && strcmp(type, "boolean") == 0 &&
                   (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
                return json_boolean(strcmp(s, "true") == 0);
        }
        return json_string(s);
}

static int validate(const struct wh_boefje *b, json_t *instance, struct wh_err *err)
{
        struct wh_schema_errors errs;
        wh_schema_errors_init(&errs, 1);
        int rc = wh_schema_validate(b->settings_schema, instance, &errs, err);
        if (rc < 0) {
                wh_schema_errors_reset(&errs);
                return -1;
        }
        if (rc == WH_SCHEMA_VALID) {
                wh_schema_errors_reset(&errs);
                return 0;
        }
        /* The instance path names the setting; the message could quote its value. */
        wh_err_setk(err, WH_ERR_INVALID, 0, "settings",
                    "setting %s does not match %s/schema.json (keyword %s); the value is not shown",
                    errs.count ? errs.items[0].instance : "?", b->dir,
                    errs.count ? errs.items[0].keyword : "?");
        wh_schema_errors_reset(&errs);
        return -1;
}

json_t *settings_check(const struct wh_boefje *b, json_t *settings, struct wh_err *err)
{
        json_t *env = json_object(), *instance = json_object(), *v;
        const char *name;
        if (!env || !instance)
                goto oom;
        if (settings && !json_is_object(settings)) {
                wh_err_setk(err, WH_ERR_INVALID, 0, "settings", "settings must be a JSON object");
                goto fail;
        }
        json_object_foreach(settings, name, v)
        {
                char *s = as_string(v);
                if (!env_name(name) || !s) {
                        free(s);
                        wh_err_setk(err, WH_ERR_INVALID, 0, "settings",
                                    "setting \"%s\": a name of letters, digits and '_' with a "
                                    "string, integer or boolean value",
                                    name);
                        goto fail;
                }
                json_t *t = typed(b->manifest.settings, name, s);
                int rc = json_object_set_new(env, name, json_string(s)) ||
                         json_object_set_new(instance, name, t);
                free(s);
                if (rc)
                        goto oom;
        }
        if (b->settings_schema && validate(b, instance, err) < 0)
                goto fail;
        json_decref(instance);
        return env;
oom:
        wh_err_set(err, ENOMEM, "settings", "out of memory");
fail:
        json_decref(env);
        json_decref(instance);
        return NULL;
}

json_t *wh_boefje_settings_read(const char *path, struct wh_err *err)
{
        cleanup_free char *text = NULL;
        size_t len;
        if (wh_read_file(path, 1u << 20, &text, &len, err) < 0)
                return NULL;
        json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(v)) {
                /* jansson's message could quote the text: a secret. */
                json_decref(v);
                wh_err_setk(err, WH_ERR_INVALID, EINVAL, "settings",
                            "%s is not a JSON object of settings", path);
                return NULL;
        }
        return v;
}
