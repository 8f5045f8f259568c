/* Runtime images as the runner needs them: wh_runtime_read names the
 * image's layer, name and interpreter (what a package records when it
 * carries the runtime), and the runtime cache unpacks each image once, in a
 * directory named by its manifest digest, shared by every run (read-only
 * binds). The name is the digest, so an entry never goes stale;
 * wh_unpack_tar renames a complete, checked tree into place or nothing. */
#include "package/layer_read.h"
#include "base/dir.h"
#include "package/paths.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <whiskers/package.h>

int wh_runtime_read(struct wh_store *s, const char *ref, struct wh_runtime_ref *out,
                    struct wh_err *err)
{
        cleanup_json json_t *m = NULL;
        memset(out, 0, sizeof(*out));
        if (wh_store_resolve(s, ref, &out->manifest, err) < 0)
                return -1;
        if (!wh_media_type_is_manifest(out->manifest.media_type))
                return wh_err_set(err, 0, "runtime", "%s is not an image manifest", ref);
        if (wh_store_read_json(s, &out->manifest, "runtime", &m, err) < 0)
                return -1;
        json_t *layers = json_object_get(m, "layers");
        json_t *ann = json_object_get(m, "annotations");
        const char *name = json_string_value(json_object_get(ann, WH_ANN_RUNTIME_NAME));
        const char *interp = json_string_value(json_object_get(ann, WH_ANN_RUNTIME_INTERPRETER));
        int rc = 0;
        if (!name || !interp || json_array_size(layers) != 1)
                rc = wh_err_set(err, 0, "runtime",
                                "%s is not a whiskers runtime (one layer, annotations %s and %s)",
                                ref, WH_ANN_RUNTIME_NAME, WH_ANN_RUNTIME_INTERPRETER);
        else if (snprintf(out->name, sizeof(out->name), "%s", name) >= (int)sizeof(out->name) ||
                 snprintf(out->interpreter, sizeof(out->interpreter), "%s", interp) >=
                     (int)sizeof(out->interpreter))
                rc = wh_err_set(err, 0, "runtime", "%s: name or interpreter too long", ref);
        if (rc == 0)
                rc = wh_descriptor_from_json(json_array_get(layers, 0), "layer", &out->layer, err);
        if (rc == 0 && !wh_media_type_is_layer(out->layer.media_type))
                rc = wh_err_set(err, 0, "runtime", "%s: its layer is a %s, not a tar layer", ref,
                                out->layer.media_type);
        return rc;
}

/* The interpreter must be a file in the tree (symlinks in it were checked
 * to stay inside): an empty or wrong layer is refused, not run. */
static int check_interpreter(const char *root, const struct wh_runtime_ref *rt, const char *ref,
                             struct wh_err *err)
{
        char path[8192];
        struct stat st;
        snprintf(path, sizeof(path), "%s%s", root, rt->interpreter);
        if (rt->interpreter[0] == '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return 0;
        return wh_err_set(err, 0, "runtime",
                          "runtime %s has no interpreter %s in its layer %s (an empty or wrong "
                          "layer): refusing it",
                          ref, rt->interpreter, rt->layer.digest);
}

int wh_runtime_unpack(struct wh_store *s, const char *ref, const char *cache_dir, char *path_out,
                      size_t cap, struct wh_err *err)
{
        struct wh_runtime_ref rt;
        if (wh_runtime_read(s, ref, &rt, err) < 0)
                return -1;
        if (snprintf(path_out, cap, "%s/%s", cache_dir, rt.manifest.digest + 7) >= (int)cap)
                return wh_err_set(err, ENAMETOOLONG, "runtime", "%s", cache_dir);
        struct stat st;
        if (stat(path_out, &st) == 0 && S_ISDIR(st.st_mode))
                return check_interpreter(path_out, &rt, ref, err);
        if (mkdir(cache_dir, 0755) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "runtime", "cannot create %s", cache_dir);
        /* The whole image, config included, before anything is unpacked. */
        if (wh_store_check(s, &rt.manifest, err) < 0)
                return wh_err_prefix(err, "runtime %s", ref);
        cleanup_close int fd = -1;
        if (wh_store_blob_open_desc(s, &rt.layer, &fd, err) < 0 ||
            wh_unpack_tar(fd, rt.layer.digest, path_out, NULL, err) < 0)
                return -1;
        if (check_interpreter(path_out, &rt, ref, err) == 0)
                return 0;
        /* Named by its digest, the tree would be found again: remove it. */
        wh_rmtree_at(AT_FDCWD, path_out);
        return -1;
}
