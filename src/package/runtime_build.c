/* whiskers runtime build: a runtime as an OCI image (runtime_image.c).
 * The root filesystem is assembled from this machine's Python
 * (runtime_tree.c) in a staging directory under LAYOUT/.whiskers/tmp, or
 * taken as it is from a prepared tree (a debootstrap tree with relative
 * symlinks and no device nodes), or built from Debian packages
 * (runtime_debian.c). */
#define _GNU_SOURCE
#include "base/dir.h"
#include "package/runtime.h"
#include "package/store.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy_shim(int root_fd, const char *shim, struct wh_err *err)
{
        cleanup_free char *data = NULL;
        size_t len;
        if (wh_read_file(shim, 16u << 20, &data, &len, err) < 0)
                return -1;
        if (mkdirat(root_fd, "whiskers", 0755) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "runtime", "cannot create whiskers/");
        cleanup_close int fd =
            openat(root_fd, "whiskers/shim.py", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || wh_write_all(fd, data, len) < 0)
                return wh_err_set(err, errno, "runtime", "cannot write whiskers/shim.py");
        return 0;
}

int wh_runtime_build(struct wh_store *s, const struct wh_runtime_build_options *o,
                     struct wh_descriptor *root, struct wh_err *err)
{
        if (o->reused)
                *o->reused = false;
        if (!!o->python + !!o->tree + !!o->debian_suite != 1)
                return wh_err_set(err, 0, "runtime",
                                  "give one of a Python, a tree or a Debian suite");
        if (o->shim && !o->python)
                return wh_err_set(err, 0, "runtime",
                                  "only a runtime built from --python gets --shim");
        if (o->debian_suite)
                return wh_runtime_build_debian(s, o, root, err);
        struct wh_runtime_info info = {0};
        cleanup_free char *staging = NULL;
        cleanup_close int root_fd = -1;
        int rc = 0;
        if (o->tree) {
                snprintf(info.name, sizeof(info.name), "%s", o->name ? o->name : "tree");
                snprintf(info.interpreter, sizeof(info.interpreter), "%s",
                         o->interpreter ? o->interpreter : "");
                if ((root_fd = open(o->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                        return wh_err_set(err, errno, "runtime", "cannot open %s", o->tree);
        } else {
                if (asprintf(&staging, "%s/.whiskers/tmp/runtime.XXXXXX", s->path) < 0 ||
                    !mkdtemp(staging))
                        return wh_err_set(err, errno, "runtime", "cannot create a staging dir");
                root_fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                rc = root_fd < 0 ? wh_err_set(err, errno, "runtime", "%s", staging)
                                 : wh_runtime_python_tree(o->python, root_fd, &info, err);
                if (rc == 0 && o->shim)
                        rc = copy_shim(root_fd, o->shim, err);
                if (rc == 0)
                        rc = wh_runtime_mount_points(root_fd, err);
        }
        char tag[WH_REF_MAX];
        snprintf(tag, sizeof(tag), "%s", o->tag ? o->tag : "");
        if (!o->tag && snprintf(tag, sizeof(tag), "runtime-%s:host", info.name) >= (int)sizeof(tag))
                rc = wh_err_set(err, 0, "runtime", "name too long");
        if (rc == 0)
                rc = wh_runtime_write_image(s, root_fd, o->tree ? o->tree : o->python,
                                            o->source_date_epoch, &info, NULL, tag, root, err);
        if (staging)
                wh_rmtree_at(s->tmp_fd, strrchr(staging, '/') + 1);
        return rc;
}
