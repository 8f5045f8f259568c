/* Where a bundle's bytes go: one file, or parts of a fixed size (for media
 * with a file size limit, or transfer in pieces). Everything is written under
 * temporary names and renamed only when the whole bundle is written, so a
 * failed export leaves no file that looks like a bundle. */
#define _GNU_SOURCE
#include "package/bundle.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTS_MAX 100000u

struct wh_bundle_sink {
        const char *path;
        uint64_t split, in_part;
        unsigned nparts; /* files opened so far */
        int fd;
        struct wh_err err;
        bool failed;
};

static int part_name(const struct wh_bundle_sink *k, unsigned i, bool tmp, char *out, size_t cap)
{
        int n = k->split ? snprintf(out, cap, "%s.%03u%s", k->path, i, tmp ? ".tmp" : "")
                         : snprintf(out, cap, "%s%s", k->path, tmp ? ".tmp" : "");
        return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int next_part(struct wh_bundle_sink *k)
{
        char name[4200];
        if (k->fd >= 0 && (fsync(k->fd) < 0 || close(k->fd) < 0)) {
                k->fd = -1;
                return wh_err_set(&k->err, errno, "bundle", "cannot write %s", k->path);
        }
        k->fd = -1;
        if (k->nparts >= PARTS_MAX || part_name(k, k->nparts, true, name, sizeof(name)) < 0)
                return wh_err_set(&k->err, 0, "bundle", "too many parts or name too long: %s",
                                  k->path);
        k->fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (k->fd < 0)
                return wh_err_set(&k->err, errno, "bundle", "cannot create %s", name);
        k->nparts++;
        k->in_part = 0;
        return 0;
}

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
        struct wh_bundle_sink *k = ctx;
        const char *p = buf;
        size_t left = len;
        while (left > 0 && !k->failed) {
                if ((k->fd < 0 || (k->split && k->in_part == k->split)) && next_part(k) < 0) {
                        k->failed = true;
                        break;
                }
                size_t n = left;
                if (k->split && n > k->split - k->in_part)
                        n = (size_t)(k->split - k->in_part);
                if (wh_write_all(k->fd, p, n) < 0) {
                        wh_err_set(&k->err, errno, "bundle", "cannot write %s", k->path);
                        k->failed = true;
                        break;
                }
                p += n;
                left -= n;
                k->in_part += n;
        }
        if (k->failed) {
                archive_set_error(a, k->err.errnum ? k->err.errnum : EIO, "%s", k->err.msg);
                return -1;
        }
        return (la_ssize_t)len;
}

int wh_bundle_sink_open(struct archive *a, const char *path, uint64_t split_size,
                        struct wh_bundle_sink **out, struct wh_err *err)
{
        struct wh_bundle_sink *k = calloc(1, sizeof(*k));
        if (!k)
                return wh_err_set(err, ENOMEM, "bundle", "writing %s", path);
        k->path = path;
        k->split = split_size;
        k->fd = -1;
        /* The first file exists even for an empty stream. */
        if (next_part(k) < 0 || archive_write_open2(a, k, NULL, sink_write, NULL, NULL) != 0) {
                *err = k->err.msg[0] ? k->err
                                     : (struct wh_err){.stage = "bundle", .msg = "archive open"};
                wh_bundle_sink_finish(k, false, NULL);
                return -1;
        }
        *out = k;
        return 0;
}

int wh_bundle_sink_finish(struct wh_bundle_sink *k, bool ok, struct wh_err *err)
{
        char tmp[4200], final[4200];
        int rc = 0;
        if (k->failed && ok) {
                *err = k->err;
                ok = false;
                rc = -1;
        }
        if (k->fd >= 0) {
                bool written = fsync(k->fd) == 0;
                written = close(k->fd) == 0 && written;
                if (!written && ok) {
                        rc = wh_err_set(err, errno, "bundle", "cannot write %s", k->path);
                        ok = false;
                }
        }
        for (unsigned i = 0; i < k->nparts; i++) {
                part_name(k, i, true, tmp, sizeof(tmp));
                part_name(k, i, false, final, sizeof(final));
                if (!ok)
                        unlink(tmp);
                else if (rename(tmp, final) < 0 && rc == 0)
                        rc = wh_err_set(err, errno, "bundle", "cannot rename %s", tmp);
        }
        /* Parts beyond ours are from an earlier, longer export: an import
         * would read them as a continuation. */
        for (unsigned i = k->nparts; ok && k->split && i < PARTS_MAX; i++) {
                part_name(k, i, false, final, sizeof(final));
                if (unlink(final) < 0)
                        break;
        }
        free(k);
        return rc;
}

int wh_bundle_parts(const char *path, char ***parts, struct wh_err *err)
{
        struct stat st;
        size_t n = 0;
        char **list = NULL;
        bool single = stat(path, &st) == 0;
        for (unsigned i = 0; i < PARTS_MAX; i++) {
                char *name = NULL;
                if ((single ? asprintf(&name, "%s", path) : asprintf(&name, "%s.%03u", path, i)) <
                    0)
                        name = NULL;
                if (name && !single && stat(name, &st) < 0) {
                        free(name);
                        break;
                }
                char **grown = name ? realloc(list, (n + 2) * sizeof(*list)) : NULL;
                if (!grown) {
                        free(name);
                        wh_bundle_parts_free(list);
                        return wh_err_set(err, ENOMEM, "bundle", "listing parts of %s", path);
                }
                list = grown;
                list[n++] = name;
                list[n] = NULL;
                if (single)
                        break;
        }
        if (!n)
                return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "bundle",
                                   "cannot find %s (nor %s.000)", path, path);
        *parts = list;
        return 0;
}

void wh_bundle_parts_free(char **parts)
{
        for (size_t i = 0; parts && parts[i]; i++)
                free(parts[i]);
        free(parts);
}
