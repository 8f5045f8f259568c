#define _GNU_SOURCE
#include "base/dir.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

DIR *wh_dir_at(int dir_fd, const char *path)
{
        int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d)
                wh_closep(&fd);
        return d;
}

int wh_rmtree_at(int parent_fd, const char *name)
{
        struct stat st;
        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -1;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(parent_fd, name, 0);
        cleanup_closedir DIR *dir = wh_dir_at(parent_fd, name);
        if (!dir)
                return -1;
        int rc = 0;
        struct dirent *de;
        while ((de = readdir(dir))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (wh_rmtree_at(dirfd(dir), de->d_name) < 0)
                        rc = -1;
        }
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0)
                rc = -1;
        return rc;
}
