/* Helpers shared by the package tests: scratch directories, files, and a
 * small normaliser directory to pack. Header-only (each test is its own
 * executable). */
#ifndef WH_TEST_PKGTEST_H
#define WH_TEST_PKGTEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/package.h>

#include "package/paths.h"
#include "base/dir.h"

static inline char *pt_tmpdir(void)
{
        char tmpl[] = "/tmp/wh-pkgtest.XXXXXX";
        char *d = mkdtemp(tmpl);
        assert_non_null(d);
        return strdup(d);
}

static inline void pt_rmrf(const char *path)
{
        assert_int_equal(wh_rmtree_at(AT_FDCWD, path), 0);
}

static inline char *pt_path(const char *dir, const char *name)
{
        size_t len = strlen(dir) + strlen(name) + 2;
        char *p = malloc(len);
        assert_non_null(p);
        snprintf(p, len, "%s/%s", dir, name);
        return p;
}

/* Write a file (creating parents), with mode. */
static inline void pt_write(const char *dir, const char *name, const char *content, mode_t mode)
{
        char *path = pt_path(dir, name);
        for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *s = '/';
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
        free(path);
}

static inline char *pt_read(const char *dir, const char *name)
{
        char *path = pt_path(dir, name);
        FILE *f = fopen(path, "re");
        free(path);
        if (!f)
                return NULL;
        char *buf = calloc(1, 1 << 20);
        size_t n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static inline bool pt_exists(const char *dir, const char *name)
{
        char *path = pt_path(dir, name);
        struct stat st;
        bool ok = lstat(path, &st) == 0;
        free(path);
        return ok;
}

static inline size_t pt_count(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return n;
}

/* A normaliser directory. `extra` is inserted into normalizer.json (with a
 * leading comma when not empty), e.g. "\"variant\": {...}". */
static inline void pt_normaliser(const char *dir, const char *runtime, const char *extra)
{
        bool native = strcmp(runtime, "exec") == 0;
        char meta[2048];
        snprintf(meta, sizeof(meta),
                 "{\n  \"id\": \"kat_nmap_normalize\",\n  \"name\": \"nmap normaliser\",\n"
                 "  \"description\": \"nmap XML to objects\",\n  \"version\": \"1.2.0\",\n"
                 "  \"consumes\": [\"boefje/nmap\"],\n"
                 "  \"produces\": [\"IPAddressV4\", \"IPPort\"],\n  \"runtime\": \"%s\",\n"
                 "  \"entrypoint\": \"%s\",\n"
                 "  \"limits\": {\"memory\": \"128M\", \"wall_ms\": 10000}%s%s\n}\n",
                 runtime, native ? "bin/normalize" : "normalize.py", *extra ? ",\n  " : "", extra);
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        pt_write(dir, "normalizer.json", meta, 0644);
        if (native)
                pt_write(dir, "bin/normalize", "#!/bin/sh\necho '[]'\n", 0755);
        else
                pt_write(dir, "normalize.py", "def run(input_ooi, raw):\n    return []\n", 0644);
        pt_write(dir, "lib/helpers.py", "X = 1\n", 0644);
        pt_write(dir, "schemas/output.json", "{\"type\": \"object\"}\n", 0644);
        pt_write(dir, "fixtures/scan.xml", "<nmaprun/>\n", 0644);
        pt_write(dir, ".git/HEAD", "ref: refs/heads/main\n", 0644);
        pt_write(dir, "__pycache__/normalize.cpython-311.pyc", "junk", 0644);
}

static inline struct wh_store *pt_store(const char *dir)
{
        struct wh_store *s = NULL;
        struct wh_err err = {0};
        if (wh_store_open(dir, WH_STORE_CREATE, &s, &err) < 0)
                fail_msg("store: %s", err.msg);
        return s;
}

static inline void pt_pack(struct wh_store *s, const char *const *dirs, size_t n, const char *tag,
                           struct wh_descriptor *root)
{
        struct wh_err err = {0};
        struct wh_pack_options o = {.tag = tag, .source_date_epoch = -1};
        if (wh_pack(s, dirs, n, &o, root, &err) < 0)
                fail_msg("pack: %s", err.msg);
}

/* Run f, expect failure with `needle` in the message. */
#define PT_EXPECT_ERR(call, err, needle)                                                           \
        do {                                                                                       \
                if ((call) == 0)                                                                   \
                        fail_msg("%s succeeded; expected an error with '%s'", #call, needle);      \
                if (!strstr((err).msg, needle))                                                    \
                        fail_msg("error '%s' lacks '%s'", (err).msg, needle);                      \
        } while (0)

#endif
