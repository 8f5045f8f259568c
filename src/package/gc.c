/* Garbage collection: blobs no index.json entry reaches are deleted.
 *
 * Write handles hold .whiskers/gc.lock shared from open to close; gc turns
 * its own shared lock into an exclusive one, so it runs only when no other
 * writer is between writing a blob and tagging it. It also takes the index
 * lock, like every index.json change. */
#include "package/walk.h"
#include "base/dir.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* gc deletes what it did not reach, so a blob it could not read (missing,
 * the wrong size, not a manifest) might hide live blobs: it refuses instead
 * of guessing. */
static int refuse(struct wh_store *s, struct wh_err *err)
{
        return wh_err_prefix(err,
                             "refusing to collect garbage in %s, which cannot be read fully "
                             "(nothing was deleted; 'whiskers store verify %s' lists the "
                             "problems: fix them, or remove the broken tag with 'whiskers store "
                             "rm')",
                             s->path, s->path);
}

static int mark(struct wh_store *s, json_t *index, bool dry_run, struct wh_strset *seen,
                struct wh_gc_result *res, struct wh_err *err)
{
        cleanup_free struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_index_entries(index, &e, &n, err) < 0)
                return -1;
        const struct wh_walk_ops ops = {0};
        cleanup_free bool *referrer = calloc(n ? n : 1, sizeof(bool));
        if (!referrer)
                return wh_err_set(err, ENOMEM, "gc", "marking");
        for (size_t i = 0; i < n; i++) {
                cleanup_json json_t *m = NULL;
                if (!e[i].ref_name[0] && wh_media_type_is_manifest(e[i].desc.media_type) &&
                    wh_store_read_json(s, &e[i].desc, "manifest", &m, NULL) == 0) {
                        const char *subj = json_string_value(
                            json_object_get(json_object_get(m, "subject"), "digest"));
                        if (wh_digest_valid(subj)) {
                                memcpy(e[i].subject, subj, WH_DIGEST_BUF);
                                referrer[i] = true;
                        }
                }
                if (!referrer[i] && wh_walk(s, &e[i].desc, &ops, NULL, seen, err) < 0)
                        return refuse(s, err);
        }
        /* Referrers live only while their subject does (signatures of
         * signatures included: repeat until nothing changes). */
        cleanup_free bool *keep = calloc(n ? n : 1, sizeof(bool));
        if (!keep)
                return wh_err_set(err, ENOMEM, "gc", "marking");
        for (bool grew = true; grew;) {
                grew = false;
                for (size_t i = 0; i < n; i++) {
                        if (!referrer[i] || keep[i] || !wh_strset_has(seen, e[i].subject))
                                continue;
                        keep[i] = grew = true;
                        if (wh_walk(s, &e[i].desc, &ops, NULL, seen, err) < 0)
                                return refuse(s, err);
                }
        }
        json_t *arr = json_object_get(index, "manifests");
        for (size_t i = n; i-- > 0;) {
                if (referrer[i] && !keep[i]) {
                        res->referrers_dropped++;
                        if (!dry_run)
                                json_array_remove(arr, i);
                }
        }
        if (res->referrers_dropped && !dry_run)
                return wh_store_index_save(s, index, err);
        return 0;
}

static bool is_hex_name(const char *name)
{
        char digest[WH_DIGEST_BUF];
        if (strlen(name) != 64)
                return false;
        memcpy(digest, "sha256:", 7);
        memcpy(digest + 7, name, 65);
        return wh_digest_valid(digest);
}

struct sweep {
        bool dry_run;
        const struct wh_strset *seen;
        struct wh_gc_result *res;
};

static int sweep_blob(struct wh_store *s, const char *name, void *ctx, struct wh_err *err)
{
        struct sweep *w = ctx;
        if (!is_hex_name(name))
                return 0;
        char digest[WH_DIGEST_BUF] = "sha256:";
        memcpy(digest + 7, name, 65);
        if (wh_strset_has(w->seen, digest)) {
                w->res->blobs_kept++;
                return 0;
        }
        struct stat st;
        if (fstatat(s->blobs_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                w->res->bytes_removed += (uint64_t)st.st_size;
        w->res->blobs_removed++;
        if (!w->dry_run && unlinkat(s->blobs_fd, name, 0) < 0 && errno != ENOENT)
                return wh_err_set(err, errno, "gc", "cannot remove blob %s", digest);
        return 0;
}

static int sweep(struct wh_store *s, bool dry_run, const struct wh_strset *seen,
                 struct wh_gc_result *res, struct wh_err *err)
{
        struct sweep w = {.dry_run = dry_run, .seen = seen, .res = res};
        return wh_store_each_blob_name(s, "gc", sweep_blob, &w, err);
}

/* With every writer gone (and the index lock held), temporary files are left
 * over from crashed writers: everything in .whiskers/tmp, and the siblings
 * wh_write_file_atomic leaves beside the layout files. */
static int sweep_tmp(struct wh_store *s, int dirfd, bool all, bool dry_run,
                     struct wh_gc_result *res, struct wh_err *err)
{
        cleanup_closedir DIR *dir = wh_dir_at(dirfd, ".");
        if (!dir)
                return wh_err_set(err, errno, "gc", "cannot list temporary files in %s", s->path);
        struct dirent *de;
        while ((de = readdir(dir))) {
                const char *n = de->d_name;
                if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
                    (!all && strncmp(n, "index.json.tmp.", 15) != 0 &&
                     strncmp(n, "oci-layout.tmp.", 15) != 0))
                        continue;
                res->temp_removed++;
                if (!dry_run)
                        unlinkat(dirfd, n, 0);
        }
        return 0;
}

static int lock_gc(struct wh_store *s, int op, struct wh_err *err)
{
        while (flock(s->gc_lock_fd, op) < 0)
                if (errno != EINTR)
                        return wh_err_set(err, errno, "gc", "cannot lock %s", s->path);
        return 0;
}

int wh_store_gc(struct wh_store *s, bool dry_run, struct wh_gc_result *res, struct wh_err *err)
{
        *res = (struct wh_gc_result){0};
        if (!s->writable)
                return wh_err_set(err, 0, "gc", "%s was opened read-only", s->path);
        if (lock_gc(s, LOCK_EX, err) < 0)
                return -1;
        cleanup_close int index_lock = -1;
        cleanup_json json_t *index = NULL;
        struct wh_strset seen = {0};
        int rc = wh_store_lock_index(s, &index_lock, err);
        if (rc == 0)
                rc = wh_store_index_load(s, &index, err);
        if (rc == 0)
                rc = mark(s, index, dry_run, &seen, res, err);
        if (rc == 0)
                rc = sweep(s, dry_run, &seen, res, err);
        if (rc == 0)
                rc = sweep_tmp(s, s->tmp_fd, true, dry_run, res, err);
        if (rc == 0)
                rc = sweep_tmp(s, s->root_fd, false, dry_run, res, err);
        wh_strset_clear(&seen);
        if (lock_gc(s, LOCK_SH, rc < 0 ? NULL : err) < 0 && rc == 0)
                rc = -1;
        return rc;
}
