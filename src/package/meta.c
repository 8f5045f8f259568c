/* The package fields of normalizer.json and of the config blob made from
 * it: the variant, the carried runtime image and the Python layers. Every other field is the
 * contract's (wh_manifest_parse, the one parser of the file), so a
 * directory and its package accept exactly the same manifests. */
#include "package/paths.h"
#include "package/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <whiskers/contract.h>
#include <whiskers/package.h>

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
 * wh_package_meta): the runtime must be one the image provides. */
static int parse_runtime_image(json_t *ri, const char *origin, struct wh_package_meta *n,
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
        /* Plain python3 runs on whichever python3.N the image has: the
         * variant is that one, so the choice rule can rank images. */
        if (strcmp(n->runtime, "python3") == 0)
                copy_field(n->variant.runtime, name);
        return 0;
}

/* What pack records of the Python layers: layer descriptors, in order. */
static int parse_python_layers(json_t *pl, const char *origin, struct wh_package_meta *n,
                               struct wh_err *err)
{
        size_t count = json_array_size(pl);
        if (!json_is_array(pl) || count == 0 || count > WH_PYTHON_LAYERS_MAX)
                return bad(err, origin, "python_layers",
                           "must be an array of 1 to %d layer descriptors (written by whiskers "
                           "pack --python-path)",
                           WH_PYTHON_LAYERS_MAX);
        for (size_t i = 0; i < count; i++) {
                struct wh_descriptor d;
                if (wh_descriptor_from_json(json_array_get(pl, i), "python_layers", &d, err) < 0)
                        return -1;
                if (strcmp(d.media_type, WH_MT_LAYER_TAR_GZIP) != 0)
                        return bad(err, origin, "python_layers", "lists a %s, not a layer",
                                   d.media_type);
        }
        n->python_layers = pl;
        return 0;
}

int wh_package_meta_parse(json_t *obj, const char *origin, struct wh_package_meta *out,
                          struct wh_err *err)
{
        struct wh_manifest m;
        if (wh_manifest_parse(obj, origin, &m, err) < 0)
                return -1;
        if (!m.version) {
                wh_manifest_clear(&m);
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "manifest",
                                   "%s: field \"version\" is required in a package (whiskers "
                                   "pack puts one in an OpenKAT normalizer.json: --version)",
                                   origin);
        }
        struct wh_package_meta n = {.id = m.id,
                                    .name = m.name,
                                    .description = m.description,
                                    .version = m.version,
                                    .runtime = m.runtime,
                                    .entrypoint = m.entrypoint,
                                    .consumes = m.consumes,
                                    .produces = m.produces,
                                    .limits = json_object_get(obj, "limits")};
        /* The pointers borrow from obj, which n keeps. */
        n.json = json_incref(obj);
        wh_manifest_clear(&m);
        json_t *ri = json_object_get(obj, "runtime_image");
        json_t *pl = json_object_get(obj, "python_layers");
        if (parse_variant(obj, origin, &n.variant, err) < 0 ||
            (ri && parse_runtime_image(ri, origin, &n, err) < 0) ||
            (pl && parse_python_layers(pl, origin, &n, err) < 0)) {
                wh_package_meta_clear(&n);
                return -1;
        }
        *out = n;
        return 0;
}

void wh_package_meta_clear(struct wh_package_meta *n)
{
        json_decref(n->json);
        *n = (struct wh_package_meta){0};
}
