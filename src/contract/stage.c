/* The input directory: a private directory on the host holding the raw file
 * and meta.json of the current run, bound read-only at /input.
 *
 * The sandbox is prepared once per normaliser, and its binds are fixed for
 * its life, so runs change the files, not the mount. The directory is 0700
 * and, for a root caller, owned by the host id the sandbox's root maps to:
 * only that sandbox (and root) can enter it. Raw files come from scanned
 * hosts of one tenant; other local users must not read them. The
 * directory is locked while it lives (stage_sweep.c removes the ones whose
 * process was killed). */
#define _GNU_SOURCE
#include "contract/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define RAW_MAX (1ull << 30)

const char *const run_base_env[RUN_N_ENV] = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                             "LANG=C.UTF-8",
                                             "HOME=/tmp",
                                             "WHISKERS_CONTRACT=1",
                                             "WHISKERS_NORMALISER=" WH_SANDBOX_NORMALISER_DIR,
                                             "WHISKERS_RAW=" WH_SANDBOX_RAW_PATH,
                                             "WHISKERS_META=" WH_SANDBOX_META_PATH};

/* Where input directories go unless the caller says: $TMPDIR, else memory
 * when /dev/shm is a tmpfs we may write (a run's input is small and short
 * lived, and tmpfs saves ext4's journalled create, write and unlink of
 * every run: ~0.4 ms, bench/README.md), else /tmp. */
static const char *default_base(void)
{
        const char *env = getenv("TMPDIR");
        struct statfs fs;
        if (env && *env)
                return env;
        if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
            access("/dev/shm", W_OK | X_OK) == 0)
                return "/dev/shm";
        return "/tmp";
}

const char *stage_base(const char *work_dir)
{
        return work_dir && *work_dir ? work_dir : default_base();
}

int stage_create(struct stage *s, const char *work_dir, uid_t uid, gid_t gid, struct wh_err *err)
{
        *s = (struct stage){.dir_fd = -1, .uid = uid, .gid = gid};
        const char *base = stage_base(work_dir);
        char tmpl[PATH_MAX];
        if (snprintf(tmpl, sizeof(tmpl), "%s/whiskers-input-XXXXXX", base) >= (int)sizeof(tmpl))
                return wh_err_set(err, ENAMETOOLONG, "stage", "%s", base);
        stage_sweep(base, uid);
        if (!mkdtemp(tmpl))
                return wh_err_set(err, errno, "stage", "cannot create the input directory in %s",
                                  base);
        if (!(s->dir = strdup(tmpl))) {
                rmdir(tmpl);
                return wh_err_set(err, ENOMEM, "stage", "%s", tmpl);
        }
        s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dir_fd < 0 || flock(s->dir_fd, LOCK_EX | LOCK_NB) < 0) {
                wh_err_set(err, errno, "stage", "cannot open and lock %s", s->dir);
                stage_destroy(s);
                return -1;
        }
        if (geteuid() == 0 && uid != 0 && fchown(s->dir_fd, uid, gid) < 0) {
                wh_err_set(err, errno, "stage", "cannot give %s to the sandbox's host id %u",
                           s->dir, (unsigned)uid);
                stage_destroy(s);
                return -1;
        }
        return 0;
}

static int create_file(struct stage *s, const char *name, struct wh_err *err)
{
        if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT)
                return wh_err_set(err, errno, "stage", "cannot replace %s/%s", s->dir, name);
        int fd = openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0 || fchmod(fd, 0444) < 0) {
                wh_err_set(err, errno, "stage", "cannot write %s/%s", s->dir, name);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

static int write_hashed(int fd, const void *data, size_t len, struct wh_sha256 *h)
{
        wh_sha256_update(h, data, len);
        return wh_write_all(fd, data, len);
}

static int write_failed(const struct stage *s, struct wh_err *err)
{
        if (errno == ENOSPC)
                return wh_err_set(err, errno, "stage",
                                  "no room for the raw file in %s: point TMPDIR (or the worker's "
                                  "--work-dir) at a larger file system",
                                  s->dir);
        return wh_err_set(err, errno, "stage", "writing the raw file");
}

/* Copies a raw file given by path, hashing it, up to RAW_MAX bytes. */
static int copy_raw(const struct stage *s, int out, const char *path, struct wh_sha256 *h,
                    uint64_t *total, struct wh_err *err)
{
        cleanup_close int in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return wh_err_set(err, errno, "input", "cannot read the raw file %s", path);
        cleanup_free char *buf = malloc(1 << 16);
        if (!buf)
                return wh_err_set(err, ENOMEM, "input", "%s", path);
        for (;;) {
                ssize_t n = read(in, buf, 1 << 16);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return wh_err_set(err, errno, "input", "reading the raw file %s", path);
                if (n == 0)
                        return 0;
                if ((*total += (uint64_t)n) > RAW_MAX)
                        return wh_err_set(err, EFBIG, "input", "the raw file %s is over 1 GiB",
                                          path);
                if (write_hashed(out, buf, (size_t)n, h) < 0)
                        return write_failed(s, err);
        }
}

int stage_write(struct stage *s, const struct wh_run_input *in, const char *meta, size_t meta_len,
                char raw_digest[WH_DIGEST_BUF], uint64_t *raw_bytes, int *raw_fd,
                struct wh_err *err)
{
        struct wh_sha256 h;
        wh_sha256_init(&h);
        *raw_bytes = 0;
        cleanup_close int fd = create_file(s, "raw", err);
        if (fd < 0)
                return -1;
        if (in->raw) {
                *raw_bytes = in->raw_len;
                if (write_hashed(fd, in->raw, in->raw_len, &h) < 0)
                        return write_failed(s, err);
        } else if (copy_raw(s, fd, in->raw_path, &h, raw_bytes, err) < 0) {
                return -1;
        }
        uint8_t d[WH_SHA256_LEN];
        wh_sha256_final(&h, d);
        memcpy(raw_digest, "sha256:", 7);
        wh_hex_encode(d, sizeof(d), raw_digest + 7);

        cleanup_close int mfd = create_file(s, "meta.json", err);
        if (mfd < 0)
                return -1;
        if (wh_write_all(mfd, meta, meta_len) < 0)
                return wh_err_set(err, errno, "stage", "writing meta.json");
        *raw_fd = openat(s->dir_fd, "raw", O_RDONLY | O_CLOEXEC);
        if (*raw_fd < 0)
                return wh_err_set(err, errno, "stage", "cannot reopen the raw file");
        return 0;
}

void stage_destroy(struct stage *s)
{
        if (s->dir_fd >= 0) {
                unlinkat(s->dir_fd, "raw", 0);
                unlinkat(s->dir_fd, "meta.json", 0);
                close(s->dir_fd);
        }
        if (s->dir)
                rmdir(s->dir);
        free(s->dir);
        *s = (struct stage){.dir_fd = -1};
}
