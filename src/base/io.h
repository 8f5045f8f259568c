/* Small fd helpers: complete reads and writes that retry on EINTR and short
 * counts, and whole-file reads with a size cap (inputs may be hostile). */
#ifndef WH_BASE_IO_H
#define WH_BASE_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <whiskers/error.h>

/* Write all of buf; returns 0 or -1 with errno set. */
int wh_write_all(int fd, const void *buf, size_t len);
/* Read until len bytes or EOF; returns bytes read or -1 with errno set. */
ssize_t wh_read_full(int fd, void *buf, size_t len);
/* Read a whole file (at most max bytes, else EFBIG) into a NUL-terminated
 * malloc'd buffer. */
int wh_read_file(const char *path, size_t max, char **out, size_t *len, struct wh_err *err);
/* Write a file by writing a temporary sibling and renaming it over path. */
int wh_write_file_atomic(const char *path, const void *data, size_t len, struct wh_err *err);
/* Write a short string to a file such as a cgroup or /proc control file. */
int wh_write_string(const char *path, const char *value);

#endif
