/* The runtime cache: each runtime image unpacked once, in a directory named
 * by its manifest digest, shared by every run (read-only binds). The name
 * is the digest, so an entry never goes stale; wh_unpack_tar renames a
 * complete, checked tree into place or nothing. */
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int wh_runtime_unpack(struct wh_store *s, const char *ref, const char *cache_dir, char *path_out,
                      size_t cap, struct wh_err *err)
{
        struct wh_descriptor root, layer;
        json_t *m = NULL;
        if (wh_store_resolve(s, ref, &root, err) < 0)
                return -1;
        if (!wh_media_type_is_manifest(root.media_type))
                return wh_err_set(err, 0, "runtime", "%s is not an image manifest", ref);
        if (snprintf(path_out, cap, "%s/%s", cache_dir, root.digest + 7) >= (int)cap)
                return wh_err_set(err, ENAMETOOLONG, "runtime", "%s", cache_dir);
        struct stat st;
        if (stat(path_out, &st) == 0 && S_ISDIR(st.st_mode))
                return 0;
        if (mkdir(cache_dir, 0755) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "runtime", "cannot create %s", cache_dir);
        if (wh_store_read_json(s, root.digest, "runtime", &m, err) < 0)
                return -1;
        json_t *layers = json_object_get(m, "layers");
        const char *ann = json_string_value(
            json_object_get(json_object_get(m, "annotations"), WH_ANN_RUNTIME_NAME));
        int rc = 0;
        if (!ann || json_array_size(layers) != 1)
                rc = wh_err_set(err, 0, "runtime",
                                "%s is not a whiskers runtime (one layer, annotation %s)", ref,
                                WH_ANN_RUNTIME_NAME);
        if (rc == 0)
                rc = wh_descriptor_from_json(json_array_get(layers, 0), "layer", &layer, err);
        json_decref(m);
        cleanup_close int fd = -1;
        uint64_t size;
        if (rc == 0)
                rc = wh_store_blob_open(s, layer.digest, &fd, &size, err);
        if (rc == 0)
                rc = wh_unpack_tar(fd, layer.digest, path_out, NULL, err);
        return rc;
}
