/* Control-file I/O for the cgroup drivers: short writes and small reads
 * relative to a leaf's directory fd (openat, no path building on the hot
 * path). Control files are never created, only opened: a missing file means
 * the kernel or the hierarchy lacks that feature. */
#include "sandbox/cgroup_internal.h"

#include "base/cleanup.h"
#include "base/io.h"
#include "base/size.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cg_write(int dirfd, const char *file, const char *value)
{
        /* O_TRUNC as a shell's `echo >` does: cgroupfs ignores it, and a fake
         * tree's regular file then holds exactly what the kernel was told. */
        cleanup_close int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -1;
        return wh_write_all(fd, value, strlen(value));
}

int cg_write_u64(int dirfd, const char *file, uint64_t value)
{
        char text[24];
        snprintf(text, sizeof(text), "%" PRIu64, value);
        return cg_write(dirfd, file, text);
}

int cg_read(int dirfd, const char *file, char *buf, size_t size)
{
        cleanup_close int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -1;
        ssize_t n = wh_read_full(fd, buf, size - 1);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

static int parse_u64(char *text, uint64_t *out)
{
        size_t len = strlen(text);
        while (len > 0 && isspace((unsigned char)text[len - 1]))
                text[--len] = '\0';
        struct wh_err ignored;
        if (wh_parse_u64(text, out, &ignored) < 0) {
                errno = EINVAL;
                return -1;
        }
        return 0;
}

int cg_read_u64(int dirfd, const char *file, uint64_t *out)
{
        char buf[64];
        if (cg_read(dirfd, file, buf, sizeof(buf)) < 0)
                return -1;
        return parse_u64(buf, out);
}

int cg_pread_u64(int fd, uint64_t *out)
{
        char buf[64];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return parse_u64(buf, out);
}

int cg_key(const char *text, const char *key, uint64_t *out)
{
        size_t key_len = strlen(key);
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                if (len > key_len && strncmp(line, key, key_len) == 0 && line[key_len] == ' ') {
                        char value[32];
                        size_t value_len = len - key_len - 1;
                        if (value_len >= sizeof(value)) {
                                errno = EINVAL;
                                return -1;
                        }
                        memcpy(value, line + key_len + 1, value_len);
                        value[value_len] = '\0';
                        return parse_u64(value, out);
                }
                line += len;
                line += *line == '\n';
        }
        errno = ENOENT;
        return -1;
}

int cg_read_key(int dirfd, const char *file, const char *key, uint64_t *out)
{
        char buf[4096];
        if (cg_read(dirfd, file, buf, sizeof(buf)) < 0)
                return -1;
        return cg_key(buf, key, out);
}

bool cg_exists(int dirfd, const char *file)
{
        return faccessat(dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

bool cg_word_in(const char *list, const char *word)
{
        size_t len = strlen(word);
        for (const char *p = list; *p;) {
                p += strspn(p, " \t\n");
                size_t n = strcspn(p, " \t\n");
                if (n == len && strncmp(p, word, len) == 0)
                        return true;
                p += n;
        }
        return false;
}

int cg_write_failed(struct wh_err *err, int errnum, const char *dir, const char *file,
                    const char *value)
{
        if (errnum == ENOENT)
                return wh_err_set(err, errnum, "cgroup",
                                  "%s/%s is missing (kernel without this cgroup feature?)", dir,
                                  file);
        return wh_err_set(err, errnum, "cgroup", "cannot write '%s' to %s/%s", value, dir, file);
}
