/* Capturing the normaliser's stdout and stderr: the sandbox's supervisor
 * writes them into two memory files (capped by the output limit it
 * enforces), and once the run has ended stdout is read back in 64 KiB
 * chunks, hashed and cut into lines for the checker: memory stays bounded
 * by the limit, whatever the normaliser printed.
 *
 * Why not a pipe and a reader thread, which would check items while the
 * normaliser still runs: the sandbox's init changes its ids with glibc's
 * setresuid(), which in a copy of a multi-threaded process waits forever
 * for the other threads. The checker is push-based (ndjson_feed), so a
 * streaming reader can replace this file when that is fixed. */
#define _GNU_SOURCE
#include "contract/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int reader_open(struct reader *r, struct wh_err *err)
{
        r->out_fd = memfd_create("whiskers-stdout", MFD_CLOEXEC);
        r->err_fd = memfd_create("whiskers-stderr", MFD_CLOEXEC);
        if (r->out_fd < 0 || r->err_fd < 0) {
                reader_close(r);
                return wh_err_set(err, errno, "run", "cannot create the output files");
        }
        return 0;
}

static ssize_t read_at(int fd, char *buf, size_t len, off_t off)
{
        ssize_t n;
        do
                n = pread(fd, buf, len, off);
        while (n < 0 && errno == EINTR);
        return n;
}

int reader_collect(struct reader *r, struct wh_err *err)
{
        char *buf = malloc(1 << 16);
        if (!buf || !(r->err_buf = malloc(r->err_keep + 1))) {
                free(buf);
                return wh_err_set(err, ENOMEM, "run", "reading the output");
        }
        wh_sha256_init(&r->out_hash);
        ssize_t n;
        while ((n = read_at(r->out_fd, buf, 1 << 16, (off_t)r->out_bytes)) > 0) {
                wh_sha256_update(&r->out_hash, buf, (size_t)n);
                r->out_bytes += (uint64_t)n;
                ndjson_feed(&r->lines, buf, (size_t)n);
        }
        ndjson_finish(&r->lines);
        free(buf);
        if (n < 0)
                return wh_err_set(err, errno, "run", "reading the normaliser's stdout");
        n = read_at(r->err_fd, r->err_buf, r->err_keep, 0);
        if (n < 0)
                return wh_err_set(err, errno, "run", "reading the normaliser's stderr");
        r->err_len = (size_t)n;
        r->err_buf[n] = '\0';
        off_t end = lseek(r->err_fd, 0, SEEK_END);
        r->err_bytes = end > 0 ? (uint64_t)end : r->err_len;
        return 0;
}

void reader_close(struct reader *r)
{
        if (r->out_fd >= 0)
                close(r->out_fd);
        if (r->err_fd >= 0)
                close(r->err_fd);
        r->out_fd = r->err_fd = -1;
}
