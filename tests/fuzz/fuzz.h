/* Helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): inputs
 * as files for the readers that take a path or an fd, a scratch directory
 * per process, and cutting one input into parts.
 *
 * A harness aborts (fuzz_assert) only when the code under test broke a
 * promise the harness can check; the sanitizers catch the rest. */
#ifndef WH_FUZZ_H
#define WH_FUZZ_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <jansson.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_assert(cond, ...)                                                                     \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "fuzz_assert(%s) failed: ", #cond);                        \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* With WH_FUZZ_DEBUG set, say why the code under test refused an input:
 * how to see whether a seed reaches as deep as it should. */
static inline void fuzz_debug(const char *what, const char *msg)
{
        if (getenv("WH_FUZZ_DEBUG"))
                fprintf(stderr, "%s: %s\n", what, msg);
}

/* True when wh_schema_json_decode reads this text with every integer as a
 * double (it holds an integer beyond 64 bits; schema.h): integers between
 * 2^53 and 2^63 then lose precision there, and only there, as documented. */
static inline bool fuzz_json_all_doubles(const char *text, size_t len)
{
        json_error_t e;
        json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        json_decref(v);
        return !v && json_error_code(&e) == json_error_numeric_overflow;
}

/* The input in an anonymous memory file, at offset 0. */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
        int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
        if (fd < 0)
                abort();
        for (size_t off = 0; off < size;) {
                ssize_t n = write(fd, data + off, size - off);
                if (n <= 0)
                        abort();
                off += (size_t)n;
        }
        if (lseek(fd, 0, SEEK_SET) != 0)
                abort();
        return fd;
}

static int fuzz_open_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)ftw;
        /* Trees the code under test left read-only (dirs may be 0555). */
        if (flag == FTW_D && !(st->st_mode & S_IWUSR))
                chmod(path, 0700);
        return 0;
}

static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path) == 0 ? 0 : -1;
}

/* Remove path and everything below it; a missing path is fine. */
static inline void fuzz_rm_tree(const char *path)
{
        if (access(path, F_OK) != 0)
                return;
        nftw(path, fuzz_open_dir, 16, FTW_PHYS);
        if (nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
                perror(path);
                abort();
        }
}

/* A directory private to this process, made on first use under $TMPDIR
 * (else /dev/shm: the readers under test write there on every input) and
 * removed when the process exits normally. */
static char fuzz_scratch_dir[PATH_MAX];

static void fuzz_scratch_remove(void)
{
        fuzz_rm_tree(fuzz_scratch_dir);
}

static inline const char *fuzz_scratch(void)
{
        char *dir = fuzz_scratch_dir;
        if (!dir[0]) {
                const char *base = getenv("TMPDIR");
                if (!base)
                        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
                snprintf(dir, PATH_MAX, "%s/wh-fuzz.XXXXXX", base);
                if (!mkdtemp(dir))
                        abort();
                atexit(fuzz_scratch_remove);
        }
        return dir;
}

/* The next part of the input, up to (not including) the separator
 * sep[0..seplen), as a fresh NUL-terminated copy of *len bytes; *data and
 * *size advance past the separator. NULL when no part is left. */
static inline char *fuzz_next_part(const uint8_t **data, size_t *size, const char *sep,
                                   size_t seplen, size_t *len)
{
        if (!*data)
                return NULL;
        const uint8_t *end = memmem(*data, *size, sep, seplen);
        size_t n = end ? (size_t)(end - *data) : *size;
        char *part = malloc(n + 1);
        if (!part)
                abort();
        memcpy(part, *data, n);
        part[n] = '\0';
        *len = n;
        if (end) {
                *size -= n + seplen;
                *data = end + seplen;
        } else {
                *data = NULL;
                *size = 0;
        }
        return part;
}

#endif
