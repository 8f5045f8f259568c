/* The sandbox's filesystem, built by init inside its new mount namespace.
 *
 * Every bind source is first cloned as a detached mount (open_tree) and made
 * read-only *recursively* with mount_setattr(AT_RECURSIVE) - re-flagging only
 * the top mount leaves submounts writable, a bug nsjail and firejail shipped.
 * Sources are opened before anything is mounted, so a source under /tmp stays
 * reachable after the new root is mounted there. Then:
 *
 *   /          tmpfs (read-only at the end), or --rootfs DIR read-only
 *   /usr       host /usr, ro; bin, lib, lib64, sbin -> usr/... (usr-merge)
 *   /etc       passwd, group, hosts generated; host ld.so.cache bound ro
 *   /proc      fresh procfs of the new pid namespace; /proc/sys read-only
 *   /dev       tmpfs, ro, with null zero full random urandom bound from the host
 *   /tmp       tmpfs of the configured size
 *   binds      as configured, read-only unless --bind
 *
 * then pivot_root and a lazy detach of the old root. Runs after clone, so no
 * allocation: fixed arrays and stack buffers only. */
#define _GNU_SOURCE
#include "sandbox/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STAGE_DIR    "/tmp" /* where the new root is assembled */
#define MAX_TREES    80
#define DEV_TMP_SIZE "size=64k,nr_inodes=64,mode=0755"

struct tree {
        int fd;
        const char *dst; /* path inside the sandbox: the caller's string, never a copy */
        bool is_file;
};

struct build {
        struct tree trees[MAX_TREES];
        int n;
        const char **stage;
        char *what;
        size_t what_len;
};

__attribute__((format(printf, 3, 4))) static int fail(struct build *b, const char *stage,
                                                      const char *fmt, ...)
{
        int e = errno;
        va_list ap;
        va_start(ap, fmt);
        *b->stage = stage;
        vsnprintf(b->what, b->what_len, fmt, ap);
        va_end(ap);
        errno = e;
        return -1;
}

/* Clone `src` as a detached tree with the given attributes (recursively). */
static int add_tree(struct build *b, const char *src, const char *dst, uint64_t attrs)
{
        if (b->n >= MAX_TREES)
                return errno = E2BIG, fail(b, "mount", "too many binds (max %s)", "80");
        int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0)
                return fail(b, "mount", "cannot open bind source %s", src);
        struct mount_attr attr = {.attr_set = attrs};
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
                close(fd);
                return fail(b, "mount", "cannot make %s read-only/nosuid", src);
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                close(fd);
                return fail(b, "mount", "cannot stat %s", src);
        }
        struct tree *t = &b->trees[b->n++];
        t->fd = fd;
        t->is_file = !S_ISDIR(st.st_mode);
        t->dst = dst;
        return 0;
}

/* A path inside the new root, opened through `root` (the staged root's
 * directory): symlinks are followed as the sandbox will see them after
 * pivot_root, never out of it (RESOLVE_IN_ROOT), and never through a /proc
 * magic link. A symlink that an earlier run planted in a writable bind
 * (/work/evil -> /var/tmp) therefore resolves to the sandbox's /var/tmp, not
 * the host's: nothing is created or mounted outside the new root. */
static int open_in_root(int root, const char *path, int flags)
{
        struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* Paths are never cut short: a shorter path is another place. */
static int copy_path(char buf[PATH_MAX], const char *path)
{
        size_t len = strlen(path);
        if (len >= PATH_MAX)
                return errno = ENAMETOOLONG, -1;
        memcpy(buf, path, len + 1);
        return 0;
}

/* Creates the last component of `path` (absolute, inside the root) in its
 * resolved parent. mkdirat and O_EXCL never follow a symlink at that last
 * component; an existing entry (perhaps a symlink) is left to the caller's
 * resolution. */
static int create_last(int root, char *path, bool dir)
{
        char *slash = strrchr(path, '/');
        *slash = '\0';
        int parent = open_in_root(root, slash == path ? "/" : path, O_PATH | O_DIRECTORY);
        *slash = '/';
        if (parent < 0)
                return -1;
        int rc = dir ? mkdirat(parent, slash + 1, 0755)
                     : openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        int e = errno;
        if (!dir && rc >= 0)
                close(rc);
        close(parent);
        errno = e;
        return rc < 0 && errno != EEXIST ? -1 : 0;
}

/* mkdir -p inside the root; each component is resolved in the root before
 * the next one is created. `path` is absolute and shorter than PATH_MAX
 * (wh_sandbox_new refuses longer destinations). */
static int make_dirs(int root, const char *path)
{
        char buf[PATH_MAX];
        if (copy_path(buf, path) < 0)
                return -1;
        for (char *p = buf + 1;; p++) {
                if (*p && *p != '/')
                        continue;
                char c = *p;
                *p = '\0';
                if (p[-1] != '/') {
                        int fd = open_in_root(root, buf, O_PATH | O_DIRECTORY);
                        if (fd < 0 && errno == ENOENT && create_last(root, buf, true) == 0)
                                fd = open_in_root(root, buf, O_PATH | O_DIRECTORY);
                        if (fd < 0)
                                return -1;
                        close(fd);
                }
                if (!c)
                        return 0;
                *p = c;
        }
}

/* An O_PATH fd of t's mount point inside the root, created first when the
 * root is ours (the default tmpfs); a --rootfs must already have it. */
static int open_mountpoint(int root, const struct tree *t, bool can_create)
{
        int fd = open_in_root(root, t->dst, O_PATH);
        if (fd >= 0 || errno != ENOENT || !can_create)
                return fd;
        if (!t->is_file)
                return make_dirs(root, t->dst) < 0 ? -1 : open_in_root(root, t->dst, O_PATH);
        char path[PATH_MAX];
        if (copy_path(path, t->dst) < 0)
                return -1;
        char *slash = strrchr(path, '/');
        if (slash != path) {
                *slash = '\0';
                if (make_dirs(root, path) < 0)
                        return -1;
                *slash = '/';
        }
        if (create_last(root, path, false) < 0)
                return -1;
        return open_in_root(root, t->dst, O_PATH);
}

static int attach_trees(struct build *b, bool can_create)
{
        int root = open(STAGE_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return fail(b, "mount", "cannot open %s", "the new root");
        for (int i = 0; i < b->n; i++) {
                struct tree *t = &b->trees[i];
                int at = open_mountpoint(root, t, can_create);
                if (at < 0) {
                        close(root);
                        return fail(b, "mount",
                                    can_create ? "cannot create mount point %s inside the sandbox"
                                               : "the rootfs has no %s to mount on: create it",
                                    t->dst);
                }
                int rc = move_mount(t->fd, "", at, "",
                                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
                close(at);
                if (rc < 0) {
                        close(root);
                        return fail(b, "mount", "cannot mount onto %s", t->dst);
                }
                close(t->fd);
                t->fd = -1;
        }
        close(root);
        return 0;
}

static int write_small_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The default root: an empty tmpfs with the host's /usr and a minimal /etc. */
static int populate_default_root(struct build *b)
{
        static const char *const merged[] = {"bin", "lib", "lib64", "sbin"};
        for (size_t i = 0; i < sizeof(merged) / sizeof(merged[0]); i++) {
                char target[32], link[64];
                snprintf(target, sizeof(target), "usr/%s", merged[i]);
                snprintf(link, sizeof(link), STAGE_DIR "/%s", merged[i]);
                if (symlink(target, link) < 0)
                        return fail(b, "mount", "cannot create /%s", merged[i]);
        }
        static const char *const dirs[] = {STAGE_DIR "/usr", STAGE_DIR "/etc", STAGE_DIR "/proc",
                                           STAGE_DIR "/dev", STAGE_DIR "/tmp"};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                if (mkdir(dirs[i], 0755) < 0)
                        return fail(b, "mount", "cannot create %s", dirs[i]);
        /* Our own passwd/group: programs look up their uid, but the host's user
         * list is none of the sandbox's business. */
        if (write_small_file(STAGE_DIR "/etc/passwd",
                             "root:x:0:0:root:/:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n") < 0 ||
            write_small_file(STAGE_DIR "/etc/group", "root:x:0:\nnogroup:x:65534:\n") < 0 ||
            write_small_file(STAGE_DIR "/etc/hosts", "127.0.0.1 localhost whiskers\n") < 0)
                return fail(b, "mount", "cannot write %s", "/etc");
        return 0;
}

static int mount_proc_dev_tmp(struct build *b, const struct wh_sandbox_config *c)
{
        if (mount("proc", STAGE_DIR "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return fail(b, "mount", "cannot mount %s", "/proc");
        /* /proc/sys is read-only: its files are the kernel's knobs. */
        int sys = open_tree(AT_FDCWD, STAGE_DIR "/proc/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
        if (sys < 0 || mount_setattr(sys, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
            move_mount(sys, "", AT_FDCWD, STAGE_DIR "/proc/sys", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return fail(b, "mount", "cannot make %s read-only", "/proc/sys");
        close(sys);

        if (mount("tmpfs", STAGE_DIR "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, DEV_TMP_SIZE) < 0)
                return fail(b, "mount", "cannot mount %s", "/dev");
        static const char *const nodes[] = {"null", "zero", "full", "random", "urandom"};
        for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
                char src[32], dst[64];
                snprintf(src, sizeof(src), "/dev/%s", nodes[i]);
                snprintf(dst, sizeof(dst), STAGE_DIR "/dev/%s", nodes[i]);
                int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return fail(b, "mount", "cannot create %s", dst);
                close(fd);
                int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC};
                if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
                    move_mount(tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return fail(b, "mount", "cannot bind %s", src);
                close(tree);
        }
        static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                               {"/proc/self/fd/0", "stdin"},
                                               {"/proc/self/fd/1", "stdout"},
                                               {"/proc/self/fd/2", "stderr"}};
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
                char at[64];
                snprintf(at, sizeof(at), STAGE_DIR "/dev/%s", links[i][1]);
                if (symlink(links[i][0], at) < 0)
                        return fail(b, "mount", "cannot create %s", at);
        }
        if (mount(NULL, STAGE_DIR "/dev", NULL,
                  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
                return fail(b, "mount", "cannot make %s read-only", "/dev");

        char opts[64];
        snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
                 (unsigned long long)(c->tmp_bytes ? c->tmp_bytes : 64ull << 20));
        if (mount("tmpfs", STAGE_DIR "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return fail(b, "mount", "cannot mount %s", "/tmp");
        return 0;
}

static int pivot(struct build *b)
{
        if (chdir(STAGE_DIR) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
                return fail(b, "pivot_root", "cannot pivot into %s", "the new root");
        /* The old root is now stacked under ".": detach it entirely. */
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                return fail(b, "pivot_root", "cannot detach %s", "the old root");
        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
                return fail(b, "mount", "cannot make %s read-only", "/");
        return 0;
}

int rootfs_setup(const struct child_ctx *ctx, const char **failed_stage, char *what, size_t len)
{
        const struct wh_sandbox_config *c = &ctx->sb->config;
        struct build b = {.stage = failed_stage, .what = what, .what_len = len};
        const uint64_t ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        int rc = -1;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fail(&b, "mount", "cannot make %s private", "/");
                goto out;
        }
        if (!c->rootfs && (add_tree(&b, "/usr", "/usr", ro) < 0 ||
                           add_tree(&b, "/etc/ld.so.cache", "/etc/ld.so.cache", ro) < 0))
                goto out;
        for (size_t i = 0; i < c->n_binds; i++)
                if (add_tree(&b, c->binds[i].src, c->binds[i].dst,
                             c->binds[i].writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : ro) < 0)
                        goto out;

        if (c->rootfs) {
                int root = open_tree(AT_FDCWD, c->rootfs,
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                struct mount_attr attr = {.attr_set = ro};
                if (root < 0 ||
                    mount_setattr(root, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
                        0 ||
                    move_mount(root, "", AT_FDCWD, STAGE_DIR, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        fail(&b, "mount", "cannot mount rootfs %s", c->rootfs);
                        goto out;
                }
                close(root);
        } else {
                if (mount("tmpfs", STAGE_DIR, "tmpfs", MS_NOSUID | MS_NODEV,
                          "mode=0755,size=1m,nr_inodes=4096") < 0) {
                        fail(&b, "mount", "cannot mount the root %s", "tmpfs");
                        goto out;
                }
                if (populate_default_root(&b) < 0)
                        goto out;
        }
        /* /tmp first, so that a bind below /tmp lands on the sandbox's tmpfs. */
        if (mount_proc_dev_tmp(&b, c) < 0 || attach_trees(&b, !c->rootfs) < 0 || pivot(&b) < 0)
                goto out;
        rc = 0;
out:
        for (int i = 0; i < b.n; i++)
                if (b.trees[i].fd >= 0)
                        close(b.trees[i].fd);
        return rc;
}
