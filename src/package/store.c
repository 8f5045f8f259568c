/* Opening and creating a store; its locks and temporary files (store.h). */
#include "package/paths.h"
#include "base/dir.h"
#include "package/store.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char oci_layout_doc[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
static const char empty_index_doc[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" WH_MT_INDEX "\",\"manifests\":[]}";

static int mkdirat_ok(int dirfd, const char *name, struct wh_err *err)
{
        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "store", "cannot create %s", name);
        return 0;
}

static int write_file_at(struct wh_store *s, const char *name, const char *doc, struct wh_err *err)
{
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", s->path, name) >= (int)sizeof(path))
                return wh_err_set(err, ENAMETOOLONG, "store", "%s", s->path);
        if (wh_write_file_atomic(path, doc, strlen(doc), err) < 0)
                return -1;
        if (fsync(s->root_fd) < 0)
                return wh_err_set(err, errno, "store", "cannot sync %s", s->path);
        return 0;
}

/* Missing layout files are created under the index lock, so two processes
 * creating one store at once neither clobber nor see half of each other. */
static int create_layout(struct wh_store *s, struct wh_err *err)
{
        cleanup_close int lock = -1;
        if (wh_store_lock_index(s, &lock, err) < 0)
                return -1;
        if (faccessat(s->root_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
            write_file_at(s, "oci-layout", oci_layout_doc, err) < 0)
                return -1;
        if (faccessat(s->root_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
            write_file_at(s, "index.json", empty_index_doc, err) < 0)
                return -1;
        return 0;
}

static int check_layout(struct wh_store *s, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/oci-layout", s->path);
        cleanup_free char *doc = NULL;
        if (wh_read_file(path, 4096, &doc, NULL, err) < 0) {
                if (err && err->kind == WH_ERR_NOT_FOUND)
                        return wh_err_set(err, 0, "store",
                                          "%s is not an OCI image layout (no oci-layout file); "
                                          "'whiskers pack --into %s' creates one",
                                          s->path, s->path);
                return -1;
        }
        cleanup_json json_t *j = json_loads(doc, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "imageLayoutVersion"));
        bool ok = v && strncmp(v, "1.", 2) == 0;
        if (!ok)
                return wh_err_set(err, 0, "store",
                                  "%s/oci-layout does not declare imageLayoutVersion 1.x", s->path);
        return 0;
}

static int open_write_side(struct wh_store *s, bool create, struct wh_err *err)
{
        if (mkdirat_ok(s->root_fd, ".whiskers", err) < 0 ||
            mkdirat_ok(s->root_fd, ".whiskers/tmp", err) < 0)
                return -1;
        s->tmp_fd = openat(s->root_fd, ".whiskers/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->tmp_fd < 0)
                return wh_err_set(err, errno, "store", "cannot open %s/.whiskers/tmp", s->path);
        s->gc_lock_fd = openat(s->root_fd, ".whiskers/gc.lock",
                               O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (s->gc_lock_fd < 0)
                return wh_err_set(err, errno, "store", "cannot open %s/.whiskers/gc.lock", s->path);
        /* Held until close: gc waits for every writer, so a blob written but
         * not yet referenced is never collected under its writer's feet. */
        while (flock(s->gc_lock_fd, LOCK_SH) < 0)
                if (errno != EINTR)
                        return wh_err_set(err, errno, "store", "cannot lock %s", s->path);
        if (create && create_layout(s, err) < 0)
                return -1;
        if (mkdirat_ok(s->root_fd, "blobs", err) < 0 ||
            mkdirat_ok(s->root_fd, "blobs/sha256", err) < 0)
                return -1;
        return 0;
}

int wh_store_open(const char *path, int flags, struct wh_store **out, struct wh_err *err)
{
        bool create = flags & WH_STORE_CREATE;
        bool writable = create || (flags & WH_STORE_WRITE);
        bool created = create && mkdir(path, 0755) == 0;
        if (create && !created && errno != EEXIST)
                return wh_err_set(err, errno, "store", "cannot create %s", path);
        struct wh_store *s = calloc(1, sizeof(*s));
        if (!s || !(s->path = strdup(path))) {
                free(s);
                return wh_err_set(err, ENOMEM, "store", "opening %s", path);
        }
        s->blobs_fd = s->tmp_fd = s->gc_lock_fd = -1;
        s->writable = writable;
        s->created = created;
        s->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0) {
                wh_err_set(err, errno, "store", "cannot open store %s", path);
                wh_store_close(s);
                return -1;
        }
        /* An existing layout is checked before anything is written into it:
         * a mistyped path must not grow a .whiskers directory. */
        if ((!create && check_layout(s, err) < 0) ||
            (writable && open_write_side(s, create, err) < 0) ||
            (create && check_layout(s, err) < 0)) {
                wh_store_close(s);
                return -1;
        }
        s->blobs_fd = openat(s->root_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->blobs_fd < 0 && errno != ENOENT) {
                wh_err_set(err, errno, "store", "cannot open %s/blobs/sha256", path);
                wh_store_close(s);
                return -1;
        }
        *out = s;
        return 0;
}

void wh_store_close(struct wh_store *s)
{
        if (!s)
                return;
        int fds[] = {s->root_fd, s->blobs_fd, s->tmp_fd, s->gc_lock_fd};
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(s->path);
        free(s);
}

const char *wh_store_path(const struct wh_store *s)
{
        return s->path;
}

int wh_store_lock_index(struct wh_store *s, int *lock_fd, struct wh_err *err)
{
        if (!s->writable)
                return wh_err_set(err, 0, "store", "%s was opened read-only", s->path);
        int fd = openat(s->root_fd, ".whiskers/index.lock",
                        O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return wh_err_set(err, errno, "store", "cannot open %s/.whiskers/index.lock",
                                  s->path);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return wh_err_set(err, e, "store", "cannot lock %s/index.json", s->path);
                }
        }
        *lock_fd = fd;
        return 0;
}

int wh_store_tmpfile(struct wh_store *s, const char *prefix, char name[64], int *fd,
                     struct wh_err *err)
{
        if (!s->writable)
                return wh_err_set(err, 0, "store", "%s was opened read-only", s->path);
        for (int attempt = 0; attempt < 16; attempt++) {
                unsigned char rnd[8];
                if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        return wh_err_set(err, errno, "store", "getrandom");
                snprintf(name, 64, "%s.%d.%02x%02x%02x%02x%02x%02x%02x%02x", prefix, (int)getpid(),
                         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
                /* 0444: blobs are immutable once named; the fd stays writable. */
                int f = openat(s->tmp_fd, name,
                               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
                if (f >= 0) {
                        *fd = f;
                        return 0;
                }
                if (errno != EEXIST)
                        return wh_err_set(err, errno, "store",
                                          "cannot create a file in %s/.whiskers/tmp", s->path);
        }
        return wh_err_set(err, 0, "store", "no free temporary name in %s", s->path);
}
