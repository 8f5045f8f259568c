/* On-disk cache of compiled filters, keyed by policy hash, libseccomp version,
 * native architecture and program layout (compiling with libseccomp costs
 * milliseconds; reading an entry costs microseconds). Beside them, text
 * entries map the SHA-256 of a policy's exact text to its policy hash, so a
 * known text need not even be parsed (parsing costs ~0.3 ms per process).
 *
 * The cache is security-relevant: a tampered entry would replace the filter.
 * So an entry is used only when the directory and the file are owned by the
 * effective uid and not writable by group or others (opened without following
 * a final symlink and checked with fstat, so the checked object is the one
 * read), and when the SHA-256 over key and instructions matches. Anything else
 * is a miss; the caller compiles and rewrites the entry atomically.
 *
 * Entry: "WHSECBPF", u32 instruction count, u32 zero, 32-byte SHA-256 of
 * (key, NUL, instructions), then the instructions (host byte order).
 * Text entry: "WHSECTXT", the policy hash (64 hex digits), 32-byte SHA-256 of
 * (key, NUL, policy hash). */
#define _GNU_SOURCE
#include "sandbox/seccomp_internal.h"
#include "base/cleanup.h"
#include "base/io.h"
#include "base/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC      "WHSECBPF"
#define TEXT_MAGIC "WHSECTXT"

struct entry_header {
        char magic[8];
        uint32_t count;
        uint32_t zero;
        uint8_t digest[WH_SHA256_LEN];
};

struct text_entry {
        char magic[8];
        char policy_hash[WH_SHA256_HEX_LEN];
        uint8_t digest[WH_SHA256_LEN];
};

void wh_seccomp_cache_key(const char *policy_hash, char *key, size_t len)
{
        const struct scmp_version *v = seccomp_version();
        snprintf(key, len, "%s libseccomp-%u.%u.%u %s layout-%d", policy_hash, v->major, v->minor,
                 v->micro, wh_audit_arch_name(seccomp_arch_native()), WH_SECCOMP_LAYOUT);
}

int wh_seccomp_cache_dir(char *buf, size_t len)
{
        const char *v;
        int n;
        /* secure_getenv: should whiskers ever run set-id, the environment
         * must not pick the filter it installs. */
        if ((v = secure_getenv("WHISKERS_CACHE_DIR")) && *v)
                n = snprintf(buf, len, "%s/seccomp", v);
        else if (geteuid() == 0)
                n = snprintf(buf, len, "/var/cache/whiskers/seccomp");
        else if ((v = secure_getenv("XDG_CACHE_HOME")) && *v == '/')
                n = snprintf(buf, len, "%s/whiskers/seccomp", v);
        else if ((v = secure_getenv("HOME")) && *v == '/')
                n = snprintf(buf, len, "%s/.cache/whiskers/seccomp", v);
        else
                return -1;
        return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void entry_name(const char *key, char name[WH_SHA256_HEX_LEN + 5])
{
        wh_sha256_hex(key, strlen(key), name);
        strcpy(name + WH_SHA256_HEX_LEN, ".bpf");
}

int wh_seccomp_cache_path(const char *dir, const char *key, char *buf, size_t len)
{
        char name[WH_SHA256_HEX_LEN + 5];
        entry_name(key, name);
        int n = snprintf(buf, len, "%s/%s", dir, name);
        return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* SHA-256 of (key, NUL, data): binds an entry's content to its key. */
static void entry_digest(const char *key, const void *data, size_t len, uint8_t out[WH_SHA256_LEN])
{
        struct wh_sha256 ctx;
        wh_sha256_init(&ctx);
        wh_sha256_update(&ctx, key, strlen(key) + 1);
        wh_sha256_update(&ctx, data, len);
        wh_sha256_final(&ctx, out);
}

static bool private_to_us(int fd, mode_t type)
{
        struct stat st;
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_uid == geteuid() &&
               !(st.st_mode & (S_IWGRP | S_IWOTH));
}

static int open_private_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && !private_to_us(fd, S_IFDIR)) {
                close(fd);
                errno = EPERM;
                return -1;
        }
        return fd;
}

/* The entry for key, opened for reading if it and its directory are ours
 * alone; -1 otherwise. */
static int open_entry(const char *dir, const char *key)
{
        cleanup_close int dfd = open_private_dir(dir);
        if (dfd < 0)
                return -1;
        char name[WH_SHA256_HEX_LEN + 5];
        entry_name(key, name);
        /* O_NONBLOCK: a FIFO planted under the name must not hang the run. */
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && !private_to_us(fd, S_IFREG)) {
                close(fd);
                return -1;
        }
        return fd;
}

int wh_seccomp_cache_load(const char *dir, const char *key, struct sock_filter **out, size_t *len)
{
        cleanup_close int fd = open_entry(dir, key);
        if (fd < 0)
                return -1;
        struct entry_header hdr;
        size_t max = BPF_MAXINSNS * sizeof(struct sock_filter);
        cleanup_free struct sock_filter *insns = malloc(max + 1);
        if (!insns || wh_read_full(fd, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
                return -1;
        ssize_t got = wh_read_full(fd, insns, max + 1);
        if (memcmp(hdr.magic, MAGIC, sizeof(hdr.magic)) != 0 || hdr.zero != 0 || hdr.count == 0 ||
            hdr.count > BPF_MAXINSNS || got != (ssize_t)(hdr.count * sizeof(*insns)))
                return -1;
        uint8_t digest[WH_SHA256_LEN];
        entry_digest(key, insns, hdr.count * sizeof(*insns), digest);
        if (memcmp(digest, hdr.digest, sizeof(digest)) != 0)
                return -1;
        *len = hdr.count;
        *out = steal_pointer(&insns);
        return 0;
}

static bool is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

int wh_seccomp_cache_load_text(const char *dir, const char *key,
                               char policy_hash[WH_SHA256_HEX_LEN + 1])
{
        cleanup_close int fd = open_entry(dir, key);
        if (fd < 0)
                return -1;
        struct text_entry e;
        char extra;
        if (wh_read_full(fd, &e, sizeof(e)) != (ssize_t)sizeof(e) ||
            wh_read_full(fd, &extra, 1) != 0 || memcmp(e.magic, TEXT_MAGIC, sizeof(e.magic)) != 0)
                return -1;
        uint8_t digest[WH_SHA256_LEN];
        entry_digest(key, e.policy_hash, sizeof(e.policy_hash), digest);
        if (memcmp(digest, e.digest, sizeof(digest)) != 0)
                return -1;
        if (!is_hex(e.policy_hash, sizeof(e.policy_hash)))
                return -1;
        memcpy(policy_hash, e.policy_hash, sizeof(e.policy_hash));
        policy_hash[WH_SHA256_HEX_LEN] = '\0';
        return 0;
}

/* mkdir -p, new components 0700; existing ones are left as they are. */
static int make_dirs(const char *dir, struct wh_err *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
                return wh_err_set(err, ENAMETOOLONG, "seccomp-cache", "%s", dir);
        for (char *p = path + 1;; p++) {
                bool end = *p == '\0';
                if (*p != '/' && !end)
                        continue;
                *p = '\0';
                if (mkdir(path, 0700) < 0 && errno != EEXIST)
                        return wh_err_set(err, errno, "seccomp-cache", "cannot create %s", path);
                if (end)
                        return 0;
                *p = '/';
        }
}

/* Write an entry for key atomically, in a directory that is ours alone. */
static int store_entry(const char *dir, const char *key, const void *data, size_t size,
                       struct wh_err *err)
{
        if (make_dirs(dir, err) < 0)
                return -1;
        cleanup_close int dfd = open_private_dir(dir);
        if (dfd < 0)
                return wh_err_set(err, errno, "seccomp-cache",
                                  "not using %s: it must be a directory owned by uid %u and not "
                                  "writable by group or others",
                                  dir, (unsigned)geteuid());
        char path[PATH_MAX];
        if (wh_seccomp_cache_path(dir, key, path, sizeof(path)) < 0)
                return wh_err_set(err, ENAMETOOLONG, "seccomp-cache", "%s", dir);
        return wh_write_file_atomic(path, data, size, err);
}

int wh_seccomp_cache_store(const char *dir, const char *key, const struct sock_filter *insns,
                           size_t len, struct wh_err *err)
{
        if (len == 0 || len > BPF_MAXINSNS)
                return wh_err_set(err, EINVAL, "seccomp-cache", "bad program length %zu", len);
        size_t size = sizeof(struct entry_header) + len * sizeof(*insns);
        cleanup_free char *buf = malloc(size);
        if (!buf)
                return wh_err_set(err, ENOMEM, "seccomp-cache", "writing a cache entry");
        struct entry_header hdr = {.count = (uint32_t)len};
        memcpy(hdr.magic, MAGIC, sizeof(hdr.magic));
        entry_digest(key, insns, len * sizeof(*insns), hdr.digest);
        memcpy(buf, &hdr, sizeof(hdr));
        memcpy(buf + sizeof(hdr), insns, len * sizeof(*insns));
        return store_entry(dir, key, buf, size, err);
}

int wh_seccomp_cache_store_text(const char *dir, const char *key, const char *policy_hash,
                                struct wh_err *err)
{
        struct text_entry e;
        if (strlen(policy_hash) != sizeof(e.policy_hash))
                return wh_err_set(err, EINVAL, "seccomp-cache", "bad policy hash %s", policy_hash);
        memcpy(e.magic, TEXT_MAGIC, sizeof(e.magic));
        memcpy(e.policy_hash, policy_hash, sizeof(e.policy_hash));
        entry_digest(key, e.policy_hash, sizeof(e.policy_hash), e.digest);
        return store_entry(dir, key, &e, sizeof(e), err);
}
