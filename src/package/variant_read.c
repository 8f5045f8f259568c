/* The variants of a stored package. An index is read from its descriptors
 * alone (platform + whiskers annotations), so a registry client can choose
 * before pulling any manifest; a single manifest is its config's variant. */
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package.h>

static int copy(char dst[WH_NAME_MAX], const char *src)
{
        return snprintf(dst, WH_NAME_MAX, "%s", src ? src : "") < WH_NAME_MAX ? 0 : -1;
}

static int from_index_entry(json_t *item, size_t i, struct wh_variant_option *o, struct wh_err *err)
{
        char what[64];
        snprintf(what, sizeof(what), "variant index manifests[%zu]", i);
        if (wh_descriptor_from_json(item, what, &o->manifest, err) < 0)
                return -1;
        json_t *ann = json_object_get(item, "annotations");
        json_t *pl = json_object_get(item, "platform");
        const char *name = json_string_value(json_object_get(ann, WH_ANN_VARIANT));
        const char *rt = json_string_value(json_object_get(ann, WH_ANN_RUNTIME));
        const char *base = json_string_value(json_object_get(ann, WH_ANN_BASELINE));
        if (!name || !rt)
                return wh_err_set(err, 0, "variant",
                                  "%s lacks the %s and %s annotations: not a whiskers package",
                                  what, WH_ANN_VARIANT, WH_ANN_RUNTIME);
        const char *image = json_string_value(json_object_get(ann, WH_ANN_RUNTIME_IMAGE));
        if (image && !wh_digest_valid(image))
                return wh_err_set(err, 0, "variant", "%s: annotation %s is not a digest", what,
                                  WH_ANN_RUNTIME_IMAGE);
        struct wh_variant *v = &o->variant;
        v->baseline = base && strcmp(base, "true") == 0;
        snprintf(v->runtime_image, sizeof(v->runtime_image), "%s", image ? image : "");
        if (copy(v->name, name) < 0 || copy(v->runtime, rt) < 0 ||
            copy(v->os, json_string_value(json_object_get(pl, "os"))) < 0 ||
            copy(v->arch, json_string_value(json_object_get(pl, "architecture"))) < 0 ||
            copy(v->arch_variant, json_string_value(json_object_get(pl, "variant"))) < 0)
                return wh_err_set(err, 0, "variant", "%s: a field is too long", what);
        return 0;
}

static int from_index(struct wh_store *s, const struct wh_descriptor *root,
                      struct wh_variant_choice *out, struct wh_err *err)
{
        cleanup_json json_t *doc = NULL;
        if (wh_store_read_json(s, root, "variant index", &doc, err) < 0)
                return -1;
        json_t *arr = json_object_get(doc, "manifests");
        size_t n = json_array_size(arr);
        int rc = 0;
        if (n == 0)
                rc = wh_err_set(err, 0, "variant", "index %s lists no variants", root->digest);
        else if (!(out->options = calloc(n, sizeof(*out->options))))
                rc = wh_err_set(err, ENOMEM, "variant", "reading variants");
        for (size_t i = 0; rc == 0 && i < n; i++)
                rc = from_index_entry(json_array_get(arr, i), i, &out->options[i], err);
        if (rc == 0)
                out->n = n;
        return rc;
}

static int from_manifest(struct wh_store *s, const struct wh_descriptor *root,
                         struct wh_variant_choice *out, struct wh_err *err)
{
        cleanup_json json_t *m = NULL, *cfg = NULL;
        struct wh_descriptor config;
        struct wh_package_meta meta;
        if (wh_store_read_json(s, root, "manifest", &m, err) < 0)
                return -1;
        int rc =
            wh_descriptor_from_json(json_object_get(m, "config"), "manifest config", &config, err);
        if (rc == 0 && strcmp(config.media_type, WH_MT_NORMALIZER_CONFIG) != 0)
                rc = wh_err_set(err, 0, "variant",
                                "%s is not a whiskers normaliser (config media type %s)",
                                root->digest, config.media_type);
        if (rc == 0)
                rc = wh_store_read_json(s, &config, "config", &cfg, err);
        if (rc == 0)
                rc = wh_package_meta_parse(cfg, "package config", &meta, err);
        if (rc < 0)
                return -1;
        out->options = calloc(1, sizeof(*out->options));
        if (out->options) {
                out->n = 1;
                out->options[0].variant = meta.variant;
                out->options[0].manifest = *root;
        }
        wh_package_meta_clear(&meta);
        return out->options ? 0 : wh_err_set(err, ENOMEM, "variant", "reading variants");
}

int wh_variants_read(struct wh_store *s, const struct wh_descriptor *root,
                     struct wh_variant_choice *out, struct wh_err *err)
{
        *out = (struct wh_variant_choice){.chosen = -1};
        if (wh_media_type_is_index(root->media_type))
                return from_index(s, root, out, err);
        if (wh_media_type_is_manifest(root->media_type))
                return from_manifest(s, root, out, err);
        return wh_err_set(err, 0, "variant", "%s is a %s, not a package", root->digest,
                          root->media_type);
}
