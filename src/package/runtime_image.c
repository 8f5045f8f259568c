/* A runtime's root filesystem written as an OCI image (wh_runtime_build,
 * runtime_build.c, and the Debian build, runtime_debian.c, both end here).
 *
 * The image is a plain OCI image (image config with rootfs.diff_ids, one
 * deterministic tar+gzip layer written by wh_layer_write), so umoci,
 * skopeo and registries treat it like any image, and bundles carry it like
 * any package. */
#define _GNU_SOURCE
#include "package/cleanup_archive.h"
#include "package/digest.h"
#include "package/runtime.h"
#include "package/store.h"
#include "package/tree.h"
#include "base/cleanup.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/package.h>

#define MT_IMAGE_CONFIG "application/vnd.oci.image.config.v1+json"

/* The digest of the layer's uncompressed tar: what rootfs.diff_ids lists. */
static int diff_id(struct wh_store *s, const char *layer, char out[WH_DIGEST_BUF],
                   struct wh_err *err)
{
        cleanup_close int fd = -1;
        uint64_t size;
        if (wh_store_blob_open(s, layer, &fd, &size, err) < 0)
                return -1;
        cleanup_archive_read struct archive *a = archive_read_new();
        struct wh_hasher h = {0};
        cleanup_free char *buf = malloc(1 << 16);
        int rc = a && buf ? wh_hasher_init(&h, err) : wh_err_set(err, ENOMEM, "runtime", "diff id");
        if (rc == 0 && (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
                        archive_read_support_format_raw(a) != ARCHIVE_OK ||
                        archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK))
                rc = wh_err_set(err, 0, "runtime", "reading layer: %s", archive_error_string(a));
        struct archive_entry *ae;
        if (rc == 0 && archive_read_next_header(a, &ae) != ARCHIVE_OK)
                rc = wh_err_set(err, 0, "runtime", "reading layer: %s", archive_error_string(a));
        la_ssize_t n;
        while (rc == 0 && (n = archive_read_data(a, buf, 1 << 16)) > 0)
                rc = wh_hasher_update(&h, buf, (size_t)n, err);
        if (rc == 0 && n < 0)
                rc = wh_err_set(err, 0, "runtime", "reading layer: %s", archive_error_string(a));
        if (rc == 0)
                rc = wh_hasher_final(&h, out, err);
        if (h.ctx)
                wh_hasher_free(&h);
        return rc;
}

static int write_layer(struct wh_store *s, int root_fd, const char *origin, int64_t mtime,
                       struct wh_descriptor *layer, struct wh_err *err)
{
        struct wh_tree t = {0};
        struct wh_blob_writer *w = NULL;
        int rc = wh_tree_scan(root_fd, origin, &t, err);
        if (rc == 0)
                rc = wh_blob_writer_new(s, &w, err);
        if (rc == 0)
                rc = wh_layer_write(root_fd, &t, mtime, w, err);
        if (rc == 0)
                rc = wh_blob_writer_seal(w, NULL, layer->digest, &layer->size, err);
        if (rc == 0)
                rc = wh_blob_writer_commit(w, err);
        snprintf(layer->media_type, sizeof(layer->media_type), "%s", WH_MT_LAYER_TAR_GZIP);
        wh_blob_writer_free(w);
        wh_tree_clear(&t);
        return rc;
}

static int write_image(struct wh_store *s, const struct wh_descriptor *layer,
                       const struct wh_runtime_info *info, json_t *extra, const char *tag,
                       struct wh_descriptor *root, struct wh_err *err)
{
        char diff[WH_DIGEST_BUF];
        struct wh_host host;
        struct wh_descriptor config;
        if (diff_id(s, layer->digest, diff, err) < 0 || wh_host_detect(&host, err) < 0)
                return -1;
        cleanup_json json_t *cfg =
            json_pack("{s:s,s:s,s:{s:[s],s:[s]},s:{s:s,s:[s]}}", "architecture", host.arch, "os",
                      "linux", "config", "Entrypoint", info->interpreter, "Env",
                      "PATH=/usr/bin:/bin", "rootfs", "type", "layers", "diff_ids", diff);
        int rc = cfg ? wh_store_put_json(s, cfg, MT_IMAGE_CONFIG, &config, err)
                     : wh_err_set(err, ENOMEM, "runtime", "image config");
        if (rc < 0)
                return -1;
        json_t *ann =
            json_pack("{s:s,s:s,s:s}", WH_ANN_RUNTIME_NAME, info->name, WH_ANN_RUNTIME_INTERPRETER,
                      info->interpreter, "org.opencontainers.image.title", info->name);
        if (ann && extra)
                json_object_update(ann, extra);
        cleanup_json json_t *m =
            json_pack("{s:i,s:s,s:o,s:[o],s:o}", "schemaVersion", 2, "mediaType", WH_MT_MANIFEST,
                      "config", wh_descriptor_to_json(&config), "layers",
                      wh_descriptor_to_json(layer), "annotations", ann);
        rc = m ? wh_store_put_json(s, m, WH_MT_MANIFEST, root, err)
               : wh_err_set(err, ENOMEM, "runtime", "image manifest");
        struct wh_index_entry e = {.desc = *root};
        snprintf(e.ref_name, sizeof(e.ref_name), "%s", tag);
        return rc < 0 ? -1 : wh_store_index_add(s, &e, err);
}

int wh_runtime_write_image(struct wh_store *s, int root_fd, const char *origin, int64_t mtime,
                           const struct wh_runtime_info *info, json_t *annotations, const char *tag,
                           struct wh_descriptor *root, struct wh_err *err)
{
        struct wh_descriptor layer;
        if (!wh_ref_name_valid(tag))
                return wh_err_set(err, 0, "runtime", "'%s' is not a valid tag", tag);
        if (write_layer(s, root_fd, origin, mtime, &layer, err) < 0)
                return -1;
        return write_image(s, &layer, info, annotations, tag, root, err);
}

/* The sandbox mounts onto these in a runtime's root (it cannot create
 * them in a read-only image): /proc, /dev, /tmp, the normaliser's and the
 * input's directories (docs/contract.md) and the Python layers' slots. */
int wh_runtime_mount_points(int root_fd, struct wh_err *err)
{
        static const char *const dirs[] = {
            "proc", "dev", "tmp", "normaliser", "input", "whiskers", &WH_SANDBOX_PYTHON_DIR[1]};
        char path[64];
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) + WH_PYTHON_LAYERS_MAX; i++) {
                if (i < sizeof(dirs) / sizeof(dirs[0]))
                        snprintf(path, sizeof(path), "%s", dirs[i]);
                else
                        snprintf(path, sizeof(path), "%s/%zu", &WH_SANDBOX_PYTHON_DIR[1],
                                 i - sizeof(dirs) / sizeof(dirs[0]));
                if (mkdirat(root_fd, path, 0755) < 0 && errno != EEXIST)
                        return wh_err_set(err, errno, "runtime", "cannot create %s/", path);
        }
        return 0;
}
