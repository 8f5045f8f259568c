#include "package/walk.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds for hostile or broken layouts: index nesting and reachable blobs. */
#define WALK_MAX_DEPTH 8
#define WALK_MAX_NODES 1000000

struct walk {
        struct wh_store *s;
        const struct wh_walk_ops *ops;
        void *ctx;
        struct wh_strset *seen;
};

static int problem(struct walk *w, const struct wh_descriptor *d, const char *parent,
                   const char *what, struct wh_err *err)
{
        if (w->ops->problem)
                return w->ops->problem(d, parent, what, w->ctx, err);
        if (parent[0])
                return wh_err_set(err, 0, "walk", "%s (named by %s): %s", d->digest, parent, what);
        return wh_err_set(err, 0, "walk", "%s: %s", d->digest, what);
}

static int visit(struct walk *w, const struct wh_descriptor *d, const char *parent, int depth,
                 struct wh_err *err);

static int visit_child(struct walk *w, json_t *j, const char *parent, const char *field, int depth,
                       struct wh_err *err)
{
        struct wh_descriptor child;
        struct wh_err derr;
        char what[96];
        snprintf(what, sizeof(what), "%s of %.71s", field, parent);
        if (wh_descriptor_from_json(j, what, &child, &derr) < 0) {
                struct wh_descriptor self = {0};
                memcpy(self.digest, parent, WH_DIGEST_BUF);
                return problem(w, &self, "", derr.msg, err);
        }
        return visit(w, &child, parent, depth + 1, err);
}

static int visit_children(struct walk *w, const struct wh_descriptor *d, int depth,
                          struct wh_err *err)
{
        cleanup_json json_t *doc = NULL;
        struct wh_err rerr;
        if (wh_store_read_json(w->s, d, "manifest", &doc, &rerr) < 0)
                return problem(w, d, "", rerr.msg, err);
        int rc = 0;
        if (wh_media_type_is_index(d->media_type)) {
                json_t *arr = json_object_get(doc, "manifests");
                for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
                        rc = visit_child(w, json_array_get(arr, i), d->digest, "manifests[]", depth,
                                         err);
        } else {
                rc =
                    visit_child(w, json_object_get(doc, "config"), d->digest, "config", depth, err);
                json_t *arr = json_object_get(doc, "layers");
                for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
                        rc = visit_child(w, json_array_get(arr, i), d->digest, "layers[]", depth,
                                         err);
        }
        return rc;
}

static int visit(struct walk *w, const struct wh_descriptor *d, const char *parent, int depth,
                 struct wh_err *err)
{
        if (depth > WALK_MAX_DEPTH)
                return problem(w, d, parent, "nested too deeply", err);
        int added = wh_strset_add(w->seen, d->digest);
        if (added < 0)
                return wh_err_set(err, ENOMEM, "walk", "marking %s", d->digest);
        if (added == 0)
                return 0;
        if (w->seen->n > WALK_MAX_NODES)
                return wh_err_set(err, 0, "walk", "more than %d blobs reachable from %s",
                                  WALK_MAX_NODES, d->digest);
        cleanup_close int fd = -1;
        struct wh_err oerr;
        if (wh_store_blob_openat(w->s, d->digest, &fd, &oerr) < 0)
                return problem(w, d, parent, oerr.kind == WH_ERR_NOT_FOUND ? "missing" : oerr.msg,
                               err);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return wh_err_set(err, errno, "walk", "cannot stat %s", d->digest);
        /* A tolerated size problem does not end the walk: what the blob names
         * is still reachable (gc must keep it, verify must look at it). */
        struct wh_descriptor actual = *d;
        actual.size = (uint64_t)st.st_size;
        if (actual.size != d->size) {
                char what[96];
                snprintf(what, sizeof(what), "blob is %llu bytes, its descriptor says %llu",
                         (unsigned long long)st.st_size, (unsigned long long)d->size);
                if (problem(w, d, parent, what, err) < 0)
                        return -1;
        }
        if (w->ops->visit && w->ops->visit(d, w->ctx, err) < 0)
                return -1;
        if (wh_media_type_is_manifest(d->media_type) || wh_media_type_is_index(d->media_type))
                return visit_children(w, &actual, depth, err);
        return 0;
}

int wh_walk(struct wh_store *s, const struct wh_descriptor *root, const struct wh_walk_ops *ops,
            void *ctx, struct wh_strset *seen, struct wh_err *err)
{
        struct walk w = {s, ops, ctx, seen};
        return visit(&w, root, "", 0, err);
}
