/* normalizer.json (and the config blob made from it): validation.
 *
 * Unknown top-level fields are refused rather than ignored: a misspelt
 * "limit" must not silently run a normaliser without its limits. Fields
 * starting with "x-" are free for extensions. */
#include "base/size.h"
#include "package/paths.h"
#include "package/store.h"
#include "base/strset.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <whiskers/package.h>

static const char *const known_fields[] = {"$schema",
                                           "id",
                                           "name",
                                           "description",
                                           "version",
                                           "consumes",
                                           "produces",
                                           "runtime",
                                           "entrypoint",
                                           "limits",
                                           "variant",
                                           "schema_digests",
                                           "external_types",
                                           "runtime_image",
                                           NULL};

/* The same names as the contract's manifest (src/contract/manifest.c). */
static const char *const size_limits[] = {"memory", "output_limit", "tmp_size",
                                          "fsize",  "item_size",    NULL};
static const char *const count_limits[] = {"wall_ms", "cpu_ms", "pids", "nofile",
                                           "items",   "depth",  NULL};

static int bad(struct wh_err *err, const char *origin, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(struct wh_err *err, const char *origin, const char *field, const char *fmt, ...)
{
        char why[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return wh_err_set(err, 0, "normalizer", "%s: field \"%s\" %s", origin, field, why);
}

static bool in_list(const char *const *list, const char *s)
{
        for (; *list; list++)
                if (strcmp(*list, s) == 0)
                        return true;
        return false;
}

/* Letters and digits joined by single separators: safe in tags and paths. */
static bool name_ok(const char *s, const char *seps)
{
        if (!isalnum((unsigned char)*s) || strlen(s) >= WH_NAME_MAX)
                return false;
        for (const char *p = s; *p; p++) {
                if (isalnum((unsigned char)*p))
                        continue;
                if (!strchr(seps, *p) || !isalnum((unsigned char)p[1]))
                        return false;
        }
        return true;
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

static int get_string(json_t *obj, const char *origin, const char *field, bool required,
                      const char **out, struct wh_err *err)
{
        json_t *v = json_object_get(obj, field);
        *out = NULL;
        if (!v && !required)
                return 0;
        if (!v)
                return bad(err, origin, field, "is required");
        if (!json_is_string(v) || !json_string_length(v))
                return bad(err, origin, field, "must be a non-empty string");
        *out = json_string_value(v);
        return 0;
}

static int check_names(json_t *arr, const char *origin, const char *field, bool nonempty,
                       struct wh_err *err)
{
        if (!json_is_array(arr))
                return bad(err, origin, field, "is required and must be an array of strings");
        if (nonempty && json_array_size(arr) == 0)
                return bad(err, origin, field, "must name at least one type");
        struct wh_strset seen = {0};
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                if (!s || !*s || strlen(s) > 255)
                        rc = bad(err, origin, field, "[%zu] must be a string of 1 to 255 bytes", i);
                else if (wh_strset_add(&seen, s) == 0)
                        rc = bad(err, origin, field, "lists \"%s\" twice", s);
        }
        wh_strset_clear(&seen);
        return rc;
}

static int check_limits(json_t *limits, const char *origin, struct wh_err *err)
{
        if (!json_is_object(limits))
                return bad(err, origin, "limits", "must be an object");
        const char *key;
        json_t *v;
        json_object_foreach(limits, key, v)
        {
                char field[80];
                snprintf(field, sizeof(field), "limits.%s", key);
                uint64_t n;
                if (in_list(size_limits, key)) {
                        if (json_is_string(v) && wh_parse_size(json_string_value(v), &n, NULL) == 0)
                                continue;
                        if (json_is_integer(v) && json_integer_value(v) >= 0)
                                continue;
                        return bad(err, origin, field, "must be a size such as \"128M\" or bytes");
                }
                if (in_list(count_limits, key)) {
                        if (json_is_integer(v) && json_integer_value(v) > 0)
                                continue;
                        return bad(err, origin, field, "must be a positive integer");
                }
                if (strcmp(key, "cpus") == 0) {
                        if (json_is_number(v) && json_number_value(v) > 0)
                                continue;
                        return bad(err, origin, field, "must be a positive number");
                }
                return bad(err, origin, field,
                           "is not a known limit (known: memory, output_limit, tmp_size, fsize, "
                           "item_size, wall_ms, cpu_ms, pids, nofile, items, depth, cpus)");
        }
        return 0;
}

static int copy_field(char dst[WH_NAME_MAX], const char *src)
{
        return snprintf(dst, WH_NAME_MAX, "%s", src ? src : "") >= WH_NAME_MAX ? -1 : 0;
}

static int parse_platform(json_t *p, const char *origin, struct wh_variant *v, struct wh_err *err)
{
        const char *os = json_string_value(json_object_get(p, "os"));
        const char *arch = json_string_value(json_object_get(p, "architecture"));
        const char *level = json_string_value(json_object_get(p, "variant"));
        if (!json_is_object(p) || json_object_size(p) > (size_t)(!!os + !!arch + !!level))
                return bad(err, origin, "variant.platform",
                           "must be an object of strings os, architecture, variant");
        if (os && strcmp(os, "linux") != 0)
                return bad(err, origin, "variant.platform.os", "must be \"linux\"");
        if (!arch || !name_ok(arch, ""))
                return bad(err, origin, "variant.platform.architecture",
                           "is required with a platform, as an OCI name (amd64, arm64, ...)");
        if (level && !(strcmp(arch, "amd64") == 0 && strlen(level) == 2 && level[0] == 'v' &&
                       level[1] >= '1' && level[1] <= '4'))
                return bad(err, origin, "variant.platform.variant",
                           "must be v1, v2, v3 or v4 with architecture amd64");
        copy_field(v->os, "linux");
        copy_field(v->arch, arch);
        copy_field(v->arch_variant, level);
        return 0;
}

static int parse_variant(json_t *obj, const char *origin, struct wh_variant *v, struct wh_err *err)
{
        json_t *jv = json_object_get(obj, "variant");
        *v = (struct wh_variant){.baseline = true};
        copy_field(v->name, "baseline");
        copy_field(v->runtime, json_string_value(json_object_get(obj, "runtime")));
        if (!jv)
                return 0;
        const char *name = json_string_value(json_object_get(jv, "name"));
        json_t *baseline = json_object_get(jv, "baseline");
        json_t *platform = json_object_get(jv, "platform");
        if (!json_is_object(jv) ||
            json_object_size(jv) > (size_t)(!!name + !!baseline + !!platform))
                return bad(err, origin, "variant",
                           "must be an object with name, baseline, platform");
        if (!name || !name_ok(name, "._-"))
                return bad(err, origin, "variant.name",
                           "is required: letters and digits joined by '.', '_' or '-'");
        if (baseline && !json_is_boolean(baseline))
                return bad(err, origin, "variant.baseline", "must be true or false");
        copy_field(v->name, name);
        v->baseline = json_is_true(baseline);
        return platform ? parse_platform(platform, origin, v, err) : 0;
}

/* What pack records of a carried runtime image (package.h, struct
 * wh_normalizer): the runtime must be one the image provides. */
static int parse_runtime_image(json_t *ri, const char *origin, struct wh_normalizer *n,
                               struct wh_err *err)
{
        const char *manifest = json_string_value(json_object_get(ri, "manifest"));
        const char *name = json_string_value(json_object_get(ri, "name"));
        const char *interp = json_string_value(json_object_get(ri, "interpreter"));
        struct wh_descriptor layer;
        if (!json_is_object(ri) || !manifest || !wh_digest_valid(manifest) || !name || !interp ||
            wh_descriptor_from_json(json_object_get(ri, "layer"), "runtime_image.layer", &layer,
                                    err) < 0)
                return bad(err, origin, "runtime_image",
                           "must be {\"manifest\": digest, \"layer\": descriptor, \"name\", "
                           "\"interpreter\"} (written by whiskers pack --runtime-image)");
        bool python = strncmp(n->runtime, "python3", 7) == 0;
        if (python && (interp[0] != '/' || strncmp(name, "python3", 7) != 0 ||
                       (n->runtime[7] && strcmp(name, n->runtime) != 0)))
                return bad(err, origin, "runtime_image",
                           "provides %s at '%s', which cannot run runtime %s", name, interp,
                           n->runtime);
        n->runtime_image = ri;
        snprintf(n->variant.runtime_image, sizeof(n->variant.runtime_image), "%s", manifest);
        return 0;
}

static int check_fields(json_t *obj, const char *origin, struct wh_err *err)
{
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                if (!in_list(known_fields, key) && strncmp(key, "x-", 2) != 0)
                        return wh_err_set(err, 0, "normalizer",
                                          "%s: unknown field \"%s\" (extensions must start "
                                          "with \"x-\")",
                                          origin, key);
        }
        return 0;
}

int wh_normalizer_parse(json_t *obj, const char *origin, struct wh_normalizer *out,
                        struct wh_err *err)
{
        struct wh_normalizer n = {0};
        if (!json_is_object(obj))
                return wh_err_set(err, 0, "normalizer", "%s: not a JSON object", origin);
        if (check_fields(obj, origin, err) < 0 ||
            get_string(obj, origin, "id", true, &n.id, err) < 0 ||
            get_string(obj, origin, "version", true, &n.version, err) < 0 ||
            get_string(obj, origin, "name", false, &n.name, err) < 0 ||
            get_string(obj, origin, "description", false, &n.description, err) < 0 ||
            get_string(obj, origin, "runtime", true, &n.runtime, err) < 0 ||
            get_string(obj, origin, "entrypoint", true, &n.entrypoint, err) < 0)
                return -1;
        if (!name_ok(n.id, "._-"))
                return bad(err, origin, "id",
                           "must be letters and digits joined by single '.', '_' or '-' "
                           "(at most %d bytes), e.g. kat_nmap_normalize",
                           WH_NAME_MAX - 1);
        if (!name_ok(n.version, "._-+"))
                return bad(err, origin, "version", "must be like 1.2.0 (letters, digits, . _ - +)");
        if (!runtime_ok(n.runtime))
                return bad(err, origin, "runtime",
                           "must be \"exec\", \"python3\" or \"python3.N\"");
        if (!wh_relpath_valid(n.entrypoint) || strstr(n.entrypoint, "/.") || n.entrypoint[0] == '.')
                return bad(err, origin, "entrypoint",
                           "must be a relative path inside the package, without hidden parts");
        n.consumes = json_object_get(obj, "consumes");
        n.produces = json_object_get(obj, "produces");
        n.limits = json_object_get(obj, "limits");
        if (check_names(n.consumes, origin, "consumes", true, err) < 0 ||
            check_names(n.produces, origin, "produces", false, err) < 0 ||
            (n.limits && check_limits(n.limits, origin, err) < 0) ||
            parse_variant(obj, origin, &n.variant, err) < 0)
                return -1;
        json_t *ri = json_object_get(obj, "runtime_image");
        if (ri && parse_runtime_image(ri, origin, &n, err) < 0)
                return -1;
        n.json = json_incref(obj);
        *out = n;
        return 0;
}

void wh_normalizer_clear(struct wh_normalizer *n)
{
        json_decref(n->json);
        *n = (struct wh_normalizer){0};
}
