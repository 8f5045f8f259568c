#include "base/io.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wh_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

ssize_t wh_read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, p + got, len - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        return (ssize_t)got;
}

int wh_read_file(const char *path, size_t max, char **out, size_t *len, struct wh_err *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return wh_err_set(err, errno, "read-file", "cannot open %s", path);
        size_t cap = 4096, used = 0;
        cleanup_free char *buf = malloc(cap);
        if (!buf)
                return wh_err_set(err, ENOMEM, "read-file", "reading %s", path);
        for (;;) {
                if (used + 1 >= cap) {
                        if (cap > max)
                                return wh_err_set(err, EFBIG, "read-file",
                                                  "%s is larger than %zu bytes", path, max);
                        char *grown = realloc(buf, cap * 2);
                        if (!grown)
                                return wh_err_set(err, ENOMEM, "read-file", "reading %s", path);
                        buf = grown;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + used, cap - used - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return wh_err_set(err, errno, "read-file", "cannot read %s", path);
                if (n == 0)
                        break;
                used += (size_t)n;
                if (used > max)
                        return wh_err_set(err, EFBIG, "read-file", "%s is larger than %zu bytes",
                                          path, max);
        }
        buf[used] = '\0';
        if (len)
                *len = used;
        *out = steal_pointer(&buf);
        return 0;
}

int wh_write_file_atomic(const char *path, const void *data, size_t len, struct wh_err *err)
{
        char tmp[4096];
        if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
                return wh_err_set(err, ENAMETOOLONG, "write-file", "%s", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return wh_err_set(err, errno, "write-file", "cannot create %s", tmp);
        if (wh_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                return wh_err_set(err, e, "write-file", "cannot write %s", tmp);
        }
        if (close(fd) < 0 || rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return wh_err_set(err, e, "write-file", "cannot replace %s", path);
        }
        return 0;
}

int wh_write_string(const char *path, const char *value)
{
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        return wh_write_all(fd, value, strlen(value));
}
