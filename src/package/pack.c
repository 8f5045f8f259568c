/* wh_pack: directories -> one manifest, or an index of variants; then tag.
 *
 * Variants of one package must describe the same normaliser (id, version,
 * consumes, produces), have distinct names and distinct host requirements
 * (otherwise the choice between two would be arbitrary), and exactly one is
 * the baseline, which must not need more than the base amd64 level: it is
 * what every host falls back to. The index lists variants sorted by name so
 * the order of the directories on the command line does not matter. */
#include "package/pack.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <whiskers/package.h>

static bool same_host_needs(const struct wh_variant *a, const struct wh_variant *b)
{
        return strcmp(a->runtime, b->runtime) == 0 && strcmp(a->os, b->os) == 0 &&
               strcmp(a->arch, b->arch) == 0 && strcmp(a->arch_variant, b->arch_variant) == 0;
}

static int check_variants(struct wh_packed *p, size_t n, const char *const *dirs,
                          struct wh_err *err)
{
        size_t baselines = 0;
        for (size_t i = 0; i < n; i++) {
                const struct wh_package_meta *a = &p[i].meta, *b = &p[0].meta;
                if (strcmp(a->id, b->id) || strcmp(a->version, b->version) ||
                    !json_equal(a->consumes, b->consumes) || !json_equal(a->produces, b->produces))
                        return wh_err_set(err, 0, "pack",
                                          "%s and %s are not variants of one normaliser: id, "
                                          "version, consumes and produces must be equal",
                                          dirs[0], dirs[i]);
                baselines += a->variant.baseline;
                if (a->variant.baseline && a->variant.arch_variant[0] &&
                    strcmp(a->variant.arch_variant, "v1") != 0)
                        return wh_err_set(err, 0, "pack",
                                          "%s: the baseline variant must run on every host of its "
                                          "architecture; drop platform.variant %s",
                                          dirs[i], a->variant.arch_variant);
                for (size_t j = 0; j < i; j++) {
                        if (strcmp(a->variant.name, p[j].meta.variant.name) == 0)
                                return wh_err_set(err, 0, "pack",
                                                  "%s and %s both name their variant \"%s\"",
                                                  dirs[j], dirs[i], a->variant.name);
                        if (same_host_needs(&a->variant, &p[j].meta.variant))
                                return wh_err_set(err, 0, "pack",
                                                  "variants \"%s\" and \"%s\" need the same "
                                                  "runtime and platform; the choice would be "
                                                  "arbitrary",
                                                  p[j].meta.variant.name, a->variant.name);
                }
        }
        if (baselines != 1)
                return wh_err_set(err, 0, "pack",
                                  "a package needs exactly one baseline variant, found %zu; mark "
                                  "one with \"variant\": {\"baseline\": true, ...}",
                                  baselines);
        return 0;
}

static json_t *variant_descriptor(const struct wh_packed *p)
{
        const struct wh_variant *v = &p->meta.variant;
        json_t *d = wh_descriptor_to_json(&p->manifest);
        if (!d)
                return NULL;
        json_object_set_new(d, "artifactType", json_string(WH_AT_NORMALIZER));
        json_object_set_new(d, "annotations",
                            json_pack("{s:s, s:s, s:s, s:s*}", WH_ANN_VARIANT, v->name,
                                      WH_ANN_BASELINE, v->baseline ? "true" : "false",
                                      WH_ANN_RUNTIME, v->runtime, WH_ANN_RUNTIME_IMAGE,
                                      v->runtime_image[0] ? v->runtime_image : NULL));
        if (v->arch[0]) {
                json_t *pl = json_pack("{s:s, s:s}", "architecture", v->arch, "os", v->os);
                if (pl && v->arch_variant[0])
                        json_object_set_new(pl, "variant", json_string(v->arch_variant));
                json_object_set_new(d, "platform", pl);
        }
        return d;
}

/* Set a computed field in every variant's config (and so its manifest),
 * checked by the same parser that reads configs back. Takes `value`. */
static int set_computed(struct wh_packed *p, size_t n, const char *const *dirs, const char *field,
                        json_t *value, struct wh_err *err)
{
        int rc = value ? 0 : wh_err_set(err, ENOMEM, "pack", "%s", field);
        for (size_t i = 0; rc == 0 && i < n; i++) {
                cleanup_json json_t *obj = json_deep_copy(p[i].meta.json);
                char origin[4200];
                snprintf(origin, sizeof(origin), "%s/normalizer.json", dirs[i]);
                struct wh_package_meta meta;
                if (!obj || json_object_set(obj, field, value) < 0)
                        rc = wh_err_set(err, ENOMEM, "pack", "%s", field);
                if (rc == 0 && (rc = wh_package_meta_parse(obj, origin, &meta, err)) == 0) {
                        wh_package_meta_clear(&p[i].meta);
                        p[i].meta = meta;
                }
        }
        json_decref(value);
        return rc;
}

static int carry_runtime(struct wh_store *s, const char *ref, struct wh_packed *p, size_t n,
                         const char *const *dirs, struct wh_err *err)
{
        struct wh_runtime_ref rt;
        if (wh_runtime_read(s, ref, &rt, err) < 0)
                return wh_err_prefix(err, "--runtime-image");
        json_t *ri = json_pack("{s:s, s:o, s:s, s:s}", "manifest", rt.manifest.digest, "layer",
                               wh_descriptor_to_json(&rt.layer), "name", rt.name, "interpreter",
                               rt.interpreter);
        return set_computed(p, n, dirs, "runtime_image", ri, err);
}

/* Each --python-path directory becomes a layer blob (content-addressed:
 * packages sharing a directory share the blob) listed in the configs. */
static int carry_python(struct wh_store *s, const struct wh_pack_options *o, struct wh_packed *p,
                        size_t n, const char *const *dirs, struct wh_err *err)
{
        if (o->n_python_paths > WH_PYTHON_LAYERS_MAX)
                return wh_err_set(err, 0, "pack", "at most %d --python-path directories, not %zu",
                                  WH_PYTHON_LAYERS_MAX, o->n_python_paths);
        cleanup_json json_t *layers = json_array();
        for (size_t i = 0; layers && i < o->n_python_paths; i++) {
                struct wh_descriptor d;
                if (wh_pack_python_layer(s, o->python_paths[i], o->source_date_epoch, &d, err) < 0)
                        return -1;
                json_array_append_new(layers, wh_descriptor_to_json(&d));
        }
        return set_computed(p, n, dirs, "python_layers", steal_pointer(&layers), err);
}

/* One directory, several runtime images: one variant per image, named
 * after it, the first the baseline. */
static int image_variants(struct wh_store *s, const struct wh_pack_options *o, struct wh_packed *p,
                          const char *const *dirs, struct wh_err *err)
{
        for (size_t i = 0; i < o->n_runtime_images; i++) {
                struct wh_runtime_ref rt;
                if (json_object_get(p[i].meta.json, "variant"))
                        return wh_err_set(err, 0, "pack",
                                          "%s/normalizer.json: field \"variant\": with several "
                                          "--runtime-image the images are the variants; remove it",
                                          dirs[i]);
                if (wh_runtime_read(s, o->runtime_images[i], &rt, err) < 0)
                        return wh_err_prefix(err, "--runtime-image");
                json_t *v = json_pack("{s:s, s:b}", "name", rt.name, "baseline", i == 0);
                if (set_computed(p + i, 1, dirs + i, "variant", v, err) < 0 ||
                    carry_runtime(s, o->runtime_images[i], p + i, 1, dirs + i, err) < 0)
                        return -1;
        }
        return 0;
}

static int by_variant_name(const void *a, const void *b)
{
        return strcmp(((const struct wh_packed *)a)->meta.variant.name,
                      ((const struct wh_packed *)b)->meta.variant.name);
}

static int put_index(struct wh_store *s, struct wh_packed *p, size_t n, int64_t sde,
                     struct wh_descriptor *out, struct wh_err *err)
{
        qsort(p, n, sizeof(*p), by_variant_name);
        json_t *manifests = json_array();
        for (size_t i = 0; manifests && i < n; i++)
                if (json_array_append_new(manifests, variant_descriptor(&p[i])) < 0) {
                        json_decref(manifests);
                        manifests = NULL;
                }
        cleanup_json json_t *doc =
            json_pack("{s:i, s:s, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", WH_MT_INDEX,
                      "artifactType", WH_AT_NORMALIZER, "manifests", manifests, "annotations",
                      wh_package_annotations(&p[0].meta, sde));
        if (!doc)
                return wh_err_set(err, ENOMEM, "pack", "building the variant index");
        int rc = wh_store_put_json(s, doc, WH_MT_INDEX, out, err);
        return rc;
}

int wh_pack(struct wh_store *s, const char *const *given, size_t ngiven,
            const struct wh_pack_options *o, struct wh_descriptor *root, struct wh_err *err)
{
        static const struct wh_pack_options defaults = {.source_date_epoch = -1};
        if (!o)
                o = &defaults;
        if (ngiven == 0)
                return wh_err_set(err, 0, "pack", "no normaliser directory given");
        if (o->n_runtime_images > 1 && (ngiven != 1 || o->runtime_image))
                return wh_err_set(err, 0, "pack",
                                  "several runtime images make variants of one directory: give "
                                  "exactly one DIR");
        if (o->tag && !wh_ref_name_valid(o->tag))
                return wh_err_set(err, 0, "pack",
                                  "'%s' is not a valid tag: use letters and digits joined by one "
                                  "of - . _ : @ + (e.g. kat_nmap_normalize:1.2.0)",
                                  o->tag);
        /* With several images, the one directory is every variant's. */
        size_t ndirs = o->n_runtime_images > 1 ? o->n_runtime_images : ngiven;
        cleanup_free struct wh_packed *p = calloc(ndirs, sizeof(*p));
        cleanup_free const char **dirs = calloc(ndirs, sizeof(*dirs));
        if (!p || !dirs)
                return wh_err_set(err, ENOMEM, "pack", "packing");
        for (size_t i = 0; i < ndirs; i++)
                dirs[i] = given[i < ngiven ? i : 0];
        const char *image = o->n_runtime_images == 1 ? o->runtime_images[0] : o->runtime_image;
        /* Every normalizer.json is checked, alone and against the others,
         * before any blob is written. */
        int rc = 0;
        size_t done = 0;
        for (; rc == 0 && done < ndirs; done++)
                rc = wh_pack_meta(dirs[done], o->version ? o->version : "unversioned",
                                  &p[done].meta, err);
        if (rc < 0)
                done--; /* the failed one holds nothing */
        if (rc == 0 && o->n_runtime_images > 1)
                rc = image_variants(s, o, p, dirs, err);
        if (rc == 0)
                rc = check_variants(p, ndirs, dirs, err);
        if (rc == 0 && image)
                rc = carry_runtime(s, image, p, ndirs, dirs, err);
        if (rc == 0 && o->n_python_paths)
                rc = carry_python(s, o, p, ndirs, dirs, err);
        for (size_t i = 0; rc == 0 && i < ndirs; i++)
                rc = wh_pack_dir(s, dirs[i], o->source_date_epoch, &p[i], err);
        if (rc == 0 && ndirs == 1)
                *root = p[0].manifest;
        else if (rc == 0)
                rc = put_index(s, p, ndirs, o->source_date_epoch, root, err);
        if (rc == 0) {
                struct wh_index_entry e = {.desc = *root};
                snprintf(e.artifact_type, sizeof(e.artifact_type), "%s", WH_AT_NORMALIZER);
                if (o->tag)
                        snprintf(e.ref_name, sizeof(e.ref_name), "%s", o->tag);
                else
                        snprintf(e.ref_name, sizeof(e.ref_name), "%s:%s", p[0].meta.id,
                                 p[0].meta.version);
                rc = wh_store_index_add(s, &e, err);
        }
        for (size_t i = 0; i < done; i++)
                wh_package_meta_clear(&p[i].meta);
        return rc;
}
