/* A Debian root made into an image root (runtime_mmdebstrap.c fills it):
 * left out are /var (apt lists and cache, logs; an extract root has no dpkg
 * state), /dev's nodes, /etc/apt (it names the mirror), the host's
 * resolv.conf and hostname, man pages, info, locales, lintian overrides and
 * every file of /usr/share/doc except the copyright files, and names that
 * are not printable ASCII. Absolute symlinks become relative, so the tree stays self-contained
 * wherever it is unpacked, and bin, lib, lib64, sbin point into usr. */
#define _GNU_SOURCE
#include "package/paths.h"
#include "base/dir.h"
#include "package/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything in usr/share/doc/<package>/ but copyright; a doc entry that is
 * not a directory (a link to another package's) goes entirely. */
static int prune_docs(int root_fd, struct wh_err *err)
{
        DIR *d = wh_dir_at(root_fd, "usr/share/doc");
        if (!d)
                return errno == ENOENT ? 0 : wh_err_set(err, errno, "runtime", "usr/share/doc");
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                DIR *p = wh_dir_at(dirfd(d), de->d_name);
                if (!p) {
                        if (wh_rmtree_at(dirfd(d), de->d_name) < 0)
                                rc = wh_err_set(err, errno, "runtime", "usr/share/doc/%s",
                                                de->d_name);
                        continue;
                }
                struct dirent *f;
                while (rc == 0 && (f = readdir(p)))
                        if (strcmp(f->d_name, ".") && strcmp(f->d_name, "..") &&
                            strcmp(f->d_name, "copyright") && wh_rmtree_at(dirfd(p), f->d_name) < 0)
                                rc = wh_err_set(err, errno, "runtime", "usr/share/doc/%s/%s",
                                                de->d_name, f->d_name);
                closedir(p);
        }
        closedir(d);
        return rc;
}

static bool printable_ascii(const char *name)
{
        for (; *name; name++)
                if (*name < 0x20 || *name > 0x7e)
                        return false;
        return true;
}

/* Rewrite absolute symlinks (/etc/rmt -> /usr/sbin/rmt) relative to the
 * link's directory, `depth` levels below the root, and drop names that are
 * not printable ASCII (the layer refuses them: ca-certificates' source
 * certificates have such names; an extract root has no generated bundle
 * anyway). */
static int tidy_tree(int dir_fd, const char *path, int depth, struct wh_err *err)
{
        DIR *d = depth <= 64 ? wh_dir_at(dir_fd, ".") : NULL;
        if (!d)
                return wh_err_set(err, errno, "runtime", "cannot list /%s", path);
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (!printable_ascii(de->d_name)) {
                        if (wh_rmtree_at(dirfd(d), de->d_name) < 0)
                                rc =
                                    wh_err_set(err, errno, "runtime", "cannot remove in /%s", path);
                        continue;
                }
                char sub[4096], target[4096], rel[4096 + 3 * 65] = "";
                snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "/" : "", de->d_name);
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        rc = wh_err_set(err, errno, "runtime", "cannot stat /%s", sub);
                } else if (S_ISDIR(st.st_mode)) {
                        int c = openat(dirfd(d), de->d_name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        rc = c < 0 ? wh_err_set(err, errno, "runtime", "cannot open /%s", sub)
                                   : tidy_tree(c, sub, depth + 1, err);
                        if (c >= 0)
                                close(c);
                } else if (S_ISLNK(st.st_mode)) {
                        ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                        if (n < 0 || n == (ssize_t)sizeof(target) - 1) {
                                rc = wh_err_set(err, errno, "runtime", "cannot read /%s", sub);
                                continue;
                        }
                        target[n] = '\0';
                        if (target[0] != '/')
                                continue;
                        for (int i = 0; i < depth; i++)
                                strcat(rel, "../");
                        strcat(rel, target[1] ? target + 1 : ".");
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0 ||
                            symlinkat(rel, dirfd(d), de->d_name) < 0)
                                rc = wh_err_set(err, errno, "runtime", "cannot relink /%s", sub);
                }
        }
        closedir(d);
        return rc;
}

/* bin, lib, lib64, sbin -> usr/...: the interpreter's ELF header names
 * /lib64/ld-linux-x86-64.so.2. */
static int merged_usr(int root_fd, struct wh_err *err)
{
        static const char *const top[] = {"bin", "lib", "lib64", "sbin"};
        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
                char usr[16];
                struct stat st;
                snprintf(usr, sizeof(usr), "usr/%s", top[i]);
                if (fstatat(root_fd, usr, &st, 0) == 0 &&
                    fstatat(root_fd, top[i], &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                    symlinkat(usr, root_fd, top[i]) < 0)
                        return wh_err_set(err, errno, "runtime", "cannot link /%s", top[i]);
        }
        return 0;
}

int wh_debian_prune(int root_fd, struct wh_err *err)
{
        static const char *const gone[] = {"var",
                                           "dev",
                                           "etc/apt",
                                           "etc/resolv.conf",
                                           "etc/hostname",
                                           "usr/share/man",
                                           "usr/share/info",
                                           "usr/share/locale",
                                           "usr/share/lintian"};
        for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
                if (wh_rmtree_at(root_fd, gone[i]) < 0)
                        return wh_err_set(err, errno, "runtime", "cannot remove %s", gone[i]);
        if (prune_docs(root_fd, err) < 0 || tidy_tree(root_fd, "", 0, err) < 0)
                return -1;
        return merged_usr(root_fd, err);
}
