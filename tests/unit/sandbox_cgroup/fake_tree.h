/* A fake cgroupfs tree for the cgroup driver tests (test_cgroup_fake_*.c;
 * include it from exactly one file per test executable).
 *
 * The fake tree is plain directories and files, plus one piece of kernel
 * behaviour the drivers rely on: a new cgroup directory comes with its control
 * files, and rmdir of a cgroup removes them. mkdir() and rmdir() are defined
 * below to do that beneath the fake root (this executable's definitions take
 * precedence over libc's for the library linked into it); elsewhere they are
 * the plain system calls. The library itself has no test-only code path.
 *
 * The fake root's path contains a space, so mountinfo's \040 escape is
 * exercised by every test. */
#ifndef WH_TEST_FAKE_TREE_H
#define WH_TEST_FAKE_TREE_H

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/syscall.h>

#include "cgroup_test.h"
#include "sandbox/cgroup.h"

static char top[256];       /* temp dir: proc/ and cg/ */
static char cgroot[300];    /* the fake cgroupfs root (fs_root) */
static char self_file[300]; /* fake /proc/self/cgroup */
static char mountinfo[300]; /* fake /proc/self/mountinfo */

static inline bool in_fake(const char *path)
{
        size_t len = strlen(cgroot);
        return len && strncmp(path, cgroot, len) == 0 && path[len] == '/';
}

int mkdir(const char *path, mode_t mode)
{
        if (syscall(SYS_mkdirat, AT_FDCWD, path, mode) < 0)
                return -1;
        if (!in_fake(path))
                return 0;
        /* A new cgroup has its parent's control files, with their defaults
         * (the fake parents hold defaults) and modes; its process list starts
         * empty. */
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s", path);
        *strrchr(parent, '/') = '\0';
        DIR *d = opendir(parent);
        if (!d)
                return 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (e->d_type != DT_REG)
                        continue;
                bool empty = strcmp(e->d_name, "cgroup.procs") == 0 ||
                             strcmp(e->d_name, "cgroup.subtree_control") == 0;
                char text[4096] = "", file[4608];
                snprintf(file, sizeof(file), "%s/%s", parent, e->d_name);
                if (!empty)
                        snprintf(text, sizeof(text), "%s", slurp(file));
                snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
                int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                struct stat st; /* and its mode: a read-only file stays one */
                if (fd >= 0 && (write(fd, text, strlen(text)) < 0 ||
                                fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
                                fchmod(fd, st.st_mode & 07777) < 0))
                        abort();
                if (fd >= 0)
                        close(fd);
        }
        closedir(d);
        return 0;
}

int rmdir(const char *path)
{
        if (in_fake(path)) {
                DIR *d = opendir(path);
                for (struct dirent *e; d && (e = readdir(d));)
                        if (e->d_type == DT_REG)
                                unlinkat(dirfd(d), e->d_name, 0);
                if (d)
                        closedir(d);
        }
        return (int)syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}

static inline void put(const char *rel, const char *content)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", cgroot, rel);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

/* Write a file given by absolute directory and name (counters in a leaf). */
static inline void put_in(const char *dir, const char *file, const char *content)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static inline void mk(const char *rel)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", cgroot, rel);
        assert_int_equal(mkdir(path, 0755), 0);
}

/* mountinfo line for a fake mount; spaces escaped as the kernel does. */
static inline void mount_line(FILE *f, const char *root, const char *dir, const char *fstype,
                              const char *super)
{
        fprintf(f, "40 31 0:38 %s ", root);
        for (const char *c = cgroot; *c; c++)
                *c == ' ' ? fputs("\\040", f) : fputc(*c, f);
        fprintf(f, "/%s rw,relatime shared:9 - %s %s %s\n", dir, fstype, fstype, super);
}

enum layout { V1_SEPARATE = 1, V1_COMOUNTED = 2, V2_FULL = 4, V2_EMPTY = 8, NO_PIDS = 16 };

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Build a fake host, replacing the previous one. v1: memory/sess is our
 * memory cgroup, "/" in the other hierarchies. */
static inline void build(unsigned layout)
{
        assert_int_equal(nftw(cgroot, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
        assert_int_equal(syscall(SYS_mkdirat, AT_FDCWD, cgroot, 0755), 0);
        FILE *mi = fopen(mountinfo, "we");
        assert_non_null(mi);
        fputs("22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n", mi);
        FILE *self = fopen(self_file, "we");
        assert_non_null(self);
        if (layout & (V1_SEPARATE | V1_COMOUNTED)) {
                mk("memory");
                put("memory/cgroup.procs", "1\n");
                put("memory/memory.limit_in_bytes", "9223372036854771712\n");
                put("memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
                put("memory/memory.swappiness", "60\n");
                put("memory/memory.max_usage_in_bytes", "0\n");
                put("memory/memory.failcnt", "0\n");
                put("memory/memory.memsw.failcnt", "0\n");
                put("memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
                mk("memory/sess");
                mount_line(mi, "/", "memory", "cgroup", "rw,memory");
                fputs("4:memory:/sess\n", self);
                if (!(layout & NO_PIDS)) {
                        mk("pids");
                        put("pids/cgroup.procs", "");
                        put("pids/pids.max", "max\n");
                        put("pids/pids.events", "max 0\n");
                        mount_line(mi, "/", "pids", "cgroup", "rw,pids");
                        fputs("8:pids:/\n", self);
                }
        }
        if (layout & V1_SEPARATE) {
                mk("cpu");
                put("cpu/cgroup.procs", "");
                put("cpu/cpu.cfs_period_us", "100000\n");
                put("cpu/cpu.cfs_quota_us", "-1\n");
                mk("cpuacct");
                put("cpuacct/cgroup.procs", "");
                put("cpuacct/cpuacct.usage", "0\n");
                mount_line(mi, "/", "cpu", "cgroup", "rw,cpu");
                mount_line(mi, "/", "cpuacct", "cgroup", "rw,cpuacct");
                fputs("2:cpuacct:/\n1:cpu:/\n", self);
        }
        if (layout & V1_COMOUNTED) {
                mk("cpu,cpuacct");
                put("cpu,cpuacct/cgroup.procs", "");
                put("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
                put("cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
                put("cpu,cpuacct/cpuacct.usage", "0\n");
                mount_line(mi, "/", "cpu,cpuacct", "cgroup", "rw,cpu,cpuacct");
                fputs("3:cpu,cpuacct:/\n", self);
        }
        if (layout & (V2_FULL | V2_EMPTY)) {
                mk("unified");
                put("unified/cgroup.procs", "");
                put("unified/cgroup.controllers",
                    layout & V2_FULL ? "cpuset cpu io memory hugetlb pids\n" : "hugetlb\n");
                put("unified/cgroup.subtree_control", "");
                put("unified/cgroup.kill", "");
                put("unified/cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
                if (layout & V2_FULL) {
                        put("unified/memory.max", "max\n");
                        put("unified/memory.swap.max", "max\n");
                        put("unified/memory.peak", "0\n");
                        put("unified/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
                        put("unified/memory.events.local",
                            "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
                        put("unified/memory.current", "0\n");
                        put("unified/pids.max", "max\n");
                        put("unified/pids.events", "max 0\n");
                        put("unified/cpu.max", "max 100000\n");
                }
                mount_line(mi, "/", "unified", "cgroup2", "rw,nsdelegate");
                fputs("0::/\n", self);
        }
        fclose(mi);
        fclose(self);
}

static inline int setup(void **state)
{
        (void)state;
        snprintf(top, sizeof(top), "/tmp/wh cgroup-test.XXXXXX");
        if (!mkdtemp(top))
                return -1;
        snprintf(self_file, sizeof(self_file), "%s/self-cgroup", top);
        snprintf(mountinfo, sizeof(mountinfo), "%s/mountinfo", top);
        char dir[300];
        snprintf(dir, sizeof(dir), "%s/cg", top);
        if (syscall(SYS_mkdirat, AT_FDCWD, dir, 0755) < 0)
                return -1;
        snprintf(cgroot, sizeof(cgroot), "%s", dir);
        return 0;
}

static inline int teardown(void **state)
{
        (void)state;
        cgroot[0] = '\0';
        return nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct wh_cgroup_opts opts(const char *driver)
{
        return (struct wh_cgroup_opts){.driver = driver,
                                       .fs_root = cgroot,
                                       .self_cgroup = self_file,
                                       .mountinfo = mountinfo,
                                       .name_hint = "t"};
}

static const struct wh_cgroup_limits all_limits = {
    .memory_bytes = 64 << 20, .pids = 16, .cpus = 0.5};

/* The leaf's path for a controller, asserted to exist. */
static inline const char *leaf(const struct wh_cgroup *cg, const char *controller)
{
        const char *dir = wh_cgroup_dir(cg, controller);
        assert_non_null(dir);
        assert_true(exists(dir));
        return dir;
}

/* Number of subdirectories of a fake-tree directory (leaves left behind). */
static inline int subdirs(const char *rel)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", cgroot, rel);
        DIR *d = opendir(path);
        assert_non_null(d);
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        return n;
}

#endif
