/* One normaliser directory -> layer, config and image manifest.
 *
 * The config is normalizer.json as an object (re-serialised canonically, so
 * whitespace does not matter) with the variant spelt out and the digest of
 * every .json file under schemas/ added as "schema_digests". */
#include "package/pack.h"
#include "package/tree.h"
#include "package/digest.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <whiskers/package.h>

#define META_MAX   (1u << 20)
#define SCHEMA_MAX (4u << 20)

static int read_json_file(const char *path, size_t max, json_t **out, char digest[WH_DIGEST_BUF],
                          struct wh_err *err)
{
        cleanup_free char *text = NULL;
        size_t len;
        if (wh_read_file(path, max, &text, &len, err) < 0)
                return -1;
        json_error_t jerr;
        cleanup_json json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return wh_err_set(err, 0, "pack", "%s is not valid JSON: %s (line %d)", path,
                                  jerr.text, jerr.line);
        if (digest && wh_digest_buffer(text, len, digest, err) < 0)
                return -1;
        *out = steal_pointer(&j);
        return 0;
}

static int schema_digests(const char *dir, const struct wh_tree *t, json_t *out, struct wh_err *err)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct wh_tree_entry *e = &t->e[i];
                size_t len = strlen(e->path);
                if (e->type != WH_TREE_FILE || strncmp(e->path, "schemas/", 8) != 0 || len < 5 ||
                    strcmp(e->path + len - 5, ".json") != 0)
                        continue;
                char origin[4200], digest[WH_DIGEST_BUF];
                snprintf(origin, sizeof(origin), "%s/%s", dir, e->path);
                cleanup_json json_t *schema = NULL;
                if (read_json_file(origin, SCHEMA_MAX, &schema, digest, err) < 0)
                        return -1;
                json_object_set_new(out, e->path, json_string(digest));
        }
        return 0;
}

static int check_entrypoint(const struct wh_package_meta *m, const struct wh_tree *t,
                            const char *dir, struct wh_err *err)
{
        const struct wh_tree_entry *e = wh_tree_find(t, m->entrypoint);
        if (!e || e->type != WH_TREE_FILE)
                return wh_err_set(err, 0, "pack",
                                  "%s/normalizer.json: field \"entrypoint\": %s/%s is not a file "
                                  "in the package (hidden files and __pycache__ are not packed)",
                                  dir, dir, m->entrypoint);
        if (strcmp(m->runtime, "exec") == 0 && !e->exec)
                return wh_err_set(err, 0, "pack",
                                  "%s/normalizer.json: field \"entrypoint\": runtime exec needs "
                                  "%s/%s to be executable (chmod +x)",
                                  dir, dir, m->entrypoint);
        return 0;
}

static json_t *variant_json(const struct wh_variant *v)
{
        json_t *j = json_pack("{s:s, s:b}", "name", v->name, "baseline", v->baseline);
        if (j && v->arch[0]) {
                json_t *p = json_pack("{s:s, s:s}", "os", v->os, "architecture", v->arch);
                if (p && v->arch_variant[0])
                        json_object_set_new(p, "variant", json_string(v->arch_variant));
                json_object_set_new(j, "platform", p);
        }
        return j;
}

char *wh_join_names(json_t *arr)
{
        size_t len = 1;
        for (size_t i = 0; i < json_array_size(arr); i++)
                len += json_string_length(json_array_get(arr, i)) + 1;
        char *s = calloc(1, len);
        for (size_t i = 0; s && i < json_array_size(arr); i++) {
                if (i)
                        strcat(s, ",");
                strcat(s, json_string_value(json_array_get(arr, i)));
        }
        return s;
}

json_t *wh_package_annotations(const struct wh_package_meta *m, int64_t source_date_epoch)
{
        cleanup_free char *consumes = wh_join_names(m->consumes);
        cleanup_free char *produces = wh_join_names(m->produces);
        if (!consumes || !produces)
                return NULL;
        json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "org.opencontainers.image.title",
                              m->name ? m->name : m->id, "org.opencontainers.image.version",
                              m->version, WH_ANN_ID, m->id, WH_ANN_VERSION, m->version,
                              WH_ANN_CONSUMES, consumes, WH_ANN_PRODUCES, produces);
        if (a && m->description)
                json_object_set_new(a, "org.opencontainers.image.description",
                                    json_string(m->description));
        if (a && source_date_epoch >= 0) {
                /* Only from SOURCE_DATE_EPOCH: a wall-clock time would make
                 * every pack a new digest. */
                time_t t = (time_t)source_date_epoch;
                struct tm tm;
                char when[32];
                if (gmtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
                        json_object_set_new(a, "org.opencontainers.image.created",
                                            json_string(when));
        }
        return a;
}

static int put_layer(struct wh_store *s, int root_fd, const struct wh_tree *t, int64_t mtime,
                     struct wh_descriptor *out, struct wh_err *err)
{
        struct wh_blob_writer *w;
        if (wh_blob_writer_new(s, &w, err) < 0)
                return -1;
        int rc = wh_layer_write(root_fd, t, mtime, w, err);
        if (rc == 0)
                rc = wh_blob_writer_seal(w, NULL, out->digest, &out->size, err);
        if (rc == 0)
                rc = wh_blob_writer_commit(w, err);
        wh_blob_writer_free(w);
        snprintf(out->media_type, sizeof(out->media_type), "%s", WH_MT_LAYER_TAR_GZIP);
        return rc;
}

static int put_manifest(struct wh_store *s, const struct wh_package_meta *m, int64_t sde,
                        const struct wh_descriptor *config, const struct wh_descriptor *layer,
                        struct wh_descriptor *out, struct wh_err *err)
{
        json_t *ann = wh_package_annotations(m, sde);
        if (!ann)
                return wh_err_set(err, ENOMEM, "pack", "building annotations");
        json_object_set_new(ann, WH_ANN_RUNTIME, json_string(m->runtime));
        json_object_set_new(ann, WH_ANN_VARIANT, json_string(m->variant.name));
        json_object_set_new(ann, WH_ANN_BASELINE,
                            json_string(m->variant.baseline ? "true" : "false"));
        /* A carried runtime is the second layer, the Python layers follow:
         * every OCI tool that copies the package (registries, skopeo,
         * bundles) copies them too. */
        if (m->runtime_image)
                json_object_set_new(ann, WH_ANN_RUNTIME_IMAGE,
                                    json_string(m->variant.runtime_image));
        json_t *layers = json_pack("[o, O*]", wh_descriptor_to_json(layer),
                                   json_object_get(m->runtime_image, "layer"));
        if (layers && m->python_layers)
                json_array_extend(layers, m->python_layers);
        cleanup_json json_t *doc =
            json_pack("{s:i, s:s, s:s, s:o, s:o, s:o}", "schemaVersion", 2, "mediaType",
                      WH_MT_MANIFEST, "artifactType", WH_AT_NORMALIZER, "config",
                      wh_descriptor_to_json(config), "layers", layers, "annotations", ann);
        if (!doc)
                return wh_err_set(err, ENOMEM, "pack", "building a manifest");
        int rc = wh_store_put_json(s, doc, WH_MT_MANIFEST, out, err);
        return rc;
}

static int pack_tree(struct wh_store *s, int root_fd, const char *dir, int64_t sde,
                     struct wh_packed *out, struct wh_err *err)
{
        struct wh_package_meta *m = &out->meta;
        struct wh_tree t;
        if (wh_tree_scan(root_fd, dir, &t, err) < 0)
                return -1;
        cleanup_json json_t *config = json_deep_copy(m->json);
        cleanup_json json_t *digests = json_object();
        struct wh_descriptor cdesc, ldesc;
        int rc = config && digests ? 0 : wh_err_set(err, ENOMEM, "pack", "building a config");
        if (rc == 0)
                rc = check_entrypoint(m, &t, dir, err);
        if (rc == 0)
                rc = schema_digests(dir, &t, digests, err);
        if (rc == 0) {
                json_object_set(config, "schema_digests", digests);
                json_object_set_new(config, "variant", variant_json(&m->variant));
                rc = wh_store_put_json(s, config, WH_MT_NORMALIZER_CONFIG, &cdesc, err);
        }
        if (rc == 0)
                rc = put_layer(s, root_fd, &t, sde < 0 ? 0 : sde, &ldesc, err);
        if (rc == 0)
                rc = put_manifest(s, m, sde, &cdesc, &ldesc, &out->manifest, err);
        wh_tree_clear(&t);
        return rc;
}

int wh_pack_meta(const char *dir, const char *version, struct wh_package_meta *out,
                 struct wh_err *err)
{
        char origin[4200];
        snprintf(origin, sizeof(origin), "%s/normalizer.json", dir);
        cleanup_json json_t *obj = NULL;
        if (read_json_file(origin, META_MAX, &obj, NULL, err) < 0)
                return -1;
        int rc = 0;
        const char *computed = json_object_get(obj, "schema_digests")  ? "schema_digests"
                               : json_object_get(obj, "runtime_image") ? "runtime_image"
                               : json_object_get(obj, "python_layers") ? "python_layers"
                                                                       : NULL;
        if (computed)
                rc = wh_err_set(err, 0, "pack",
                                "%s: field \"%s\" is computed by whiskers pack; remove it", origin,
                                computed);
        if (rc == 0 && !json_object_get(obj, "version") &&
            json_object_set_new(obj, "version", json_string(version)) < 0)
                rc = wh_err_set(err, ENOMEM, "pack", "version");
        if (rc == 0)
                rc = wh_package_meta_parse(obj, origin, out, err);
        return rc;
}

int wh_pack_python_layer(struct wh_store *s, const char *dir, int64_t source_date_epoch,
                         struct wh_descriptor *out, struct wh_err *err)
{
        cleanup_close int root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return wh_err_set(err, errno, "pack", "--python-path: cannot open directory %s",
                                  dir);
        struct wh_tree t;
        if (wh_tree_scan(root_fd, dir, &t, err) < 0)
                return -1;
        int rc = put_layer(s, root_fd, &t, source_date_epoch < 0 ? 0 : source_date_epoch, out, err);
        wh_tree_clear(&t);
        return rc;
}

int wh_pack_dir(struct wh_store *s, const char *dir, int64_t source_date_epoch, struct wh_packed *p,
                struct wh_err *err)
{
        cleanup_close int root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return wh_err_set(err, errno, "pack", "cannot open normaliser directory %s", dir);
        return pack_tree(s, root_fd, dir, source_date_epoch, p, err);
}
