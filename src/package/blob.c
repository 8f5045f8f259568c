/* Blobs: content-addressed files under blobs/sha256/.
 *
 * Writing goes through a temporary file in .whiskers/tmp (same filesystem),
 * hashed while written, fsync'd, checked, then renamed to its digest: a blob
 * name always holds exactly its content, even after a crash. */
#include "package/digest.h"
#include "base/dir.h"
#include "package/store.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct wh_blob_writer {
        struct wh_store *s;
        int fd;
        char name[64]; /* in .whiskers/tmp */
        struct wh_hasher hash;
        uint64_t size, max;
        bool sealed, committed;
        char digest[WH_DIGEST_BUF];
};

int wh_blob_writer_new(struct wh_store *s, struct wh_blob_writer **out, struct wh_err *err)
{
        struct wh_blob_writer *w = calloc(1, sizeof(*w));
        if (!w)
                return wh_err_set(err, ENOMEM, "blob", "allocating a blob writer");
        w->s = s;
        w->fd = -1;
        if (wh_hasher_init(&w->hash, err) < 0) {
                free(w);
                return -1;
        }
        if (wh_store_tmpfile(s, "blob", w->name, &w->fd, err) < 0) {
                w->name[0] = '\0';
                wh_blob_writer_free(w);
                return -1;
        }
        *out = w;
        return 0;
}

void wh_blob_writer_set_max(struct wh_blob_writer *w, uint64_t max_size)
{
        w->max = max_size;
}

int wh_blob_writer_write(struct wh_blob_writer *w, const void *buf, size_t len, struct wh_err *err)
{
        if (w->sealed)
                return wh_err_set(err, 0, "blob", "write to a sealed blob");
        if (w->max && (len > w->max || w->size > w->max - len))
                return wh_err_set(err, 0, "blob", "blob is larger than the limit of %llu bytes",
                                  (unsigned long long)w->max);
        if (wh_hasher_update(&w->hash, buf, len, err) < 0)
                return -1;
        if (wh_write_all(w->fd, buf, len) < 0)
                return wh_err_set(err, errno, "blob", "cannot write to %s/.whiskers/tmp",
                                  w->s->path);
        w->size += len;
        return 0;
}

int wh_blob_writer_seal(struct wh_blob_writer *w, const char *expect_digest,
                        char digest_out[WH_DIGEST_BUF], uint64_t *size_out, struct wh_err *err)
{
        if (w->sealed)
                return wh_err_set(err, 0, "blob", "blob sealed twice");
        if (wh_hasher_final(&w->hash, w->digest, err) < 0)
                return -1;
        if (expect_digest && strcmp(expect_digest, w->digest) != 0)
                return wh_err_set(err, 0, "blob",
                                  "blob does not match its digest: expected %s, content is %s",
                                  expect_digest, w->digest);
        if (fsync(w->fd) < 0 || close(w->fd) < 0) {
                w->fd = -1;
                return wh_err_set(err, errno, "blob", "cannot write %s/.whiskers/tmp/%s",
                                  w->s->path, w->name);
        }
        w->fd = -1;
        w->sealed = true;
        if (digest_out)
                memcpy(digest_out, w->digest, WH_DIGEST_BUF);
        if (size_out)
                *size_out = w->size;
        return 0;
}

int wh_blob_writer_commit(struct wh_blob_writer *w, struct wh_err *err)
{
        if (!w->sealed)
                return wh_err_set(err, 0, "blob", "commit of an unsealed blob");
        /* Renaming over an existing blob is harmless: same name, same bytes. */
        if (renameat(w->s->tmp_fd, w->name, w->s->blobs_fd, wh_digest_hex(w->digest)) < 0)
                return wh_err_set(err, errno, "blob", "cannot publish blob %s in %s", w->digest,
                                  w->s->path);
        w->committed = true;
        if (fsync(w->s->blobs_fd) < 0)
                return wh_err_set(err, errno, "blob", "cannot sync %s/blobs/sha256", w->s->path);
        return 0;
}

void wh_blob_writer_free(struct wh_blob_writer *w)
{
        if (!w)
                return;
        if (w->fd >= 0)
                close(w->fd);
        if (!w->committed && w->name[0])
                unlinkat(w->s->tmp_fd, w->name, 0);
        if (w->hash.ctx)
                wh_hasher_free(&w->hash);
        free(w);
}

const char *wh_blob_writer_digest(const struct wh_blob_writer *w)
{
        return w->sealed ? w->digest : "";
}

void wh_store_stage(struct wh_store *s, struct wh_blob_writer **w, size_t n)
{
        s->staged = w;
        s->nstaged = n;
}

int wh_store_put(struct wh_store *s, const void *data, size_t len, char digest_out[WH_DIGEST_BUF],
                 struct wh_err *err)
{
        char digest[WH_DIGEST_BUF];
        if (wh_digest_buffer(data, len, digest, err) < 0)
                return -1;
        if (digest_out)
                memcpy(digest_out, digest, WH_DIGEST_BUF);
        if (!s->writable)
                return wh_err_set(err, 0, "blob", "%s was opened read-only", s->path);
        if (wh_store_blob_exists(s, digest))
                return 0;
        struct wh_blob_writer *w;
        if (wh_blob_writer_new(s, &w, err) < 0)
                return -1;
        int rc = wh_blob_writer_write(w, data, len, err);
        if (rc == 0)
                rc = wh_blob_writer_seal(w, digest, NULL, NULL, err);
        if (rc == 0)
                rc = wh_blob_writer_commit(w, err);
        wh_blob_writer_free(w);
        return rc;
}

bool wh_store_blob_exists(struct wh_store *s, const char *digest)
{
        cleanup_close int fd = -1;
        return wh_store_blob_openat(s, digest, &fd, NULL) == 0;
}

int wh_store_each_blob_name(struct wh_store *s, const char *stage, wh_blob_name_fn fn, void *ctx,
                            struct wh_err *err)
{
        if (s->blobs_fd < 0)
                return 0;
        cleanup_closedir DIR *dir = wh_dir_at(s->blobs_fd, ".");
        if (!dir)
                return wh_err_set(err, errno, stage, "cannot list %s/blobs/sha256", s->path);
        struct dirent *de;
        while ((errno = 0, de = readdir(dir)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    fn(s, de->d_name, ctx, err) < 0)
                        return -1;
        if (errno != 0)
                return wh_err_set(err, errno, stage, "cannot list %s/blobs/sha256", s->path);
        return 0;
}

int wh_store_blob_openat(struct wh_store *s, const char *digest, int *fd, struct wh_err *err)
{
        if (!wh_digest_valid(digest))
                return wh_err_set(err, 0, "blob", "'%s' is not a sha256 digest", digest);
        for (size_t i = 0; i < s->nstaged; i++) {
                if (strcmp(s->staged[i]->digest, digest) == 0) {
                        *fd = openat(s->tmp_fd, s->staged[i]->name,
                                     O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        if (*fd < 0)
                                return wh_err_set(err, errno, "blob", "cannot open staged %s",
                                                  digest);
                        return 0;
                }
        }
        *fd = s->blobs_fd < 0
                  ? -1
                  : openat(s->blobs_fd, wh_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (*fd < 0 && (s->blobs_fd < 0 || errno == ENOENT))
                return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "blob",
                                   "blob %s is missing from %s", digest, s->path);
        if (*fd < 0)
                return wh_err_set(err, errno, "blob", "cannot open blob %s in %s", digest, s->path);
        return 0;
}

int wh_store_blob_open(struct wh_store *s, const char *digest, int *fd, uint64_t *size,
                       struct wh_err *err)
{
        cleanup_close int f = -1;
        if (wh_store_blob_openat(s, digest, &f, err) < 0)
                return -1;
        struct stat st;
        if (fstat(f, &st) < 0)
                return wh_err_set(err, errno, "blob", "cannot stat blob %s", digest);
        if (!S_ISREG(st.st_mode))
                return wh_err_set(err, 0, "blob", "blob %s in %s is not a regular file", digest,
                                  s->path);
        if (size)
                *size = (uint64_t)st.st_size;
        *fd = steal_fd(&f);
        return 0;
}

static int size_mismatch(struct wh_store *s, const char *digest, uint64_t size, uint64_t want,
                         struct wh_err *err)
{
        return wh_err_set(err, 0, "blob",
                          "blob %s in %s is %llu bytes but its descriptor says %llu: the blob "
                          "no longer matches its digest, or the descriptor is wrong; 'whiskers "
                          "store verify %s' lists the problems",
                          digest, s->path, (unsigned long long)size, (unsigned long long)want,
                          s->path);
}

int wh_store_blob_open_desc(struct wh_store *s, const struct wh_descriptor *d, int *fd,
                            struct wh_err *err)
{
        cleanup_close int f = -1;
        uint64_t size;
        if (wh_store_blob_open(s, d->digest, &f, &size, err) < 0)
                return -1;
        if (size != d->size)
                return size_mismatch(s, d->digest, size, d->size, err);
        *fd = steal_fd(&f);
        return 0;
}

/* want: the size a descriptor states, or NULL when only the digest is known. */
static int read_blob(struct wh_store *s, const char *digest, const uint64_t *want, size_t max,
                     char **data, size_t *len, struct wh_err *err)
{
        cleanup_close int fd = -1;
        uint64_t size;
        if (wh_store_blob_open(s, digest, &fd, &size, err) < 0)
                return -1;
        if (want && size != *want)
                return size_mismatch(s, digest, size, *want, err);
        if (size > max)
                return wh_err_set(err, 0, "blob", "blob %s is %llu bytes, more than %zu", digest,
                                  (unsigned long long)size, max);
        cleanup_free char *buf = malloc((size_t)size + 1);
        if (!buf)
                return wh_err_set(err, ENOMEM, "blob", "reading blob %s", digest);
        ssize_t n = wh_read_full(fd, buf, (size_t)size);
        if (n < 0 || (uint64_t)n != size)
                return wh_err_set(err, n < 0 ? errno : EIO, "blob", "cannot read blob %s", digest);
        buf[size] = '\0';
        char actual[WH_DIGEST_BUF];
        if (wh_digest_buffer(buf, (size_t)size, actual, err) < 0)
                return -1;
        if (strcmp(actual, digest) != 0)
                return wh_err_set(err, 0, "blob",
                                  "blob %s in %s does not match its digest (content is %s); "
                                  "run 'whiskers store verify %s'",
                                  digest, s->path, actual, s->path);
        if (len)
                *len = (size_t)size;
        *data = steal_pointer(&buf);
        return 0;
}

int wh_store_blob_read(struct wh_store *s, const char *digest, size_t max, char **data, size_t *len,
                       struct wh_err *err)
{
        return read_blob(s, digest, NULL, max, data, len, err);
}

int wh_store_blob_read_desc(struct wh_store *s, const struct wh_descriptor *d, size_t max,
                            char **data, size_t *len, struct wh_err *err)
{
        return read_blob(s, d->digest, &d->size, max, data, len, err);
}
