/* Taking the normaliser's output.
 *
 * stdout is checked while the normaliser runs: the sandbox's supervisor
 * passes each chunk it drains from the stdout pipe to reader_on_stdout
 * (from its poll loop, on the caller's thread), which hashes it and cuts it
 * into lines for the checker. Memory stays bounded by one line (item_size)
 * plus the kept items, whatever the normaliser prints; a normaliser that
 * writes faster than it is checked waits on the full pipe. After each line
 * the checker is asked whether going on is pointless (too many items or
 * errors, no memory); then the rest is not fed and the supervisor is asked
 * to stop the run.
 *
 * stderr is never parsed: the supervisor writes it to a memory file (capped
 * by the output limit) and its first err_keep bytes are read back after the
 * run. */
#define _GNU_SOURCE
#include "contract/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int reader_open(struct reader *r, struct wh_err *err)
{
        wh_sha256_init(&r->out_hash);
        r->err_fd = memfd_create("whiskers-stderr", MFD_CLOEXEC);
        if (r->err_fd < 0)
                return wh_err_set(err, errno, "run", "cannot create the stderr file");
        return 0;
}

int reader_on_stdout(void *ctx, const char *data, size_t len)
{
        struct reader *r = ctx;
        wh_sha256_update(&r->out_hash, data, len);
        r->out_bytes += len;
        /* Line by line, so that nothing after the line that settled it is
         * checked: the errors and the count end where the run was stopped. */
        while (len && !r->stopped) {
                const char *nl = memchr(data, '\n', len);
                size_t n = nl ? (size_t)(nl - data) + 1 : len;
                ndjson_feed(&r->lines, data, n);
                r->stopped = r->checker->stop != NULL;
                data += n;
                len -= n;
        }
        return r->stopped;
}

int reader_collect(struct reader *r, struct wh_err *err)
{
        ndjson_finish(&r->lines);
        if (!(r->err_buf = malloc(r->err_keep + 1)))
                return wh_err_set(err, ENOMEM, "run", "reading the normaliser's stderr");
        ssize_t n;
        do
                n = pread(r->err_fd, r->err_buf, r->err_keep, 0);
        while (n < 0 && errno == EINTR);
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
        if (r->err_fd >= 0)
                close(r->err_fd);
        r->err_fd = -1;
}
