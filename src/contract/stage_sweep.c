/* Removing input directories left behind by processes that were killed
 * (SIGKILL, a crash): they cannot clean up, so the next load does.
 *
 * A live directory is recognised by its lock, not by a pid: every input
 * directory is flock()ed by the process that made it for as long as it
 * exists, and locks work across pid namespaces and die with their holder.
 * Only directories of ours (owned by us, or by the sandbox's host id when we
 * are root) are touched, and only ones unchanged for a minute, so one being
 * made right now (created, not yet locked) is never taken. */
#define _GNU_SOURCE
#include "contract/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREFIX  "whiskers-input-"
#define MIN_AGE 60

static void remove_stale(int base_fd, const char *name, uid_t host_uid)
{
        int fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        struct stat st;
        bool ours = fstat(fd, &st) == 0 &&
                    (st.st_uid == geteuid() || (geteuid() == 0 && st.st_uid == host_uid));
        if (ours && time(NULL) - st.st_mtime > MIN_AGE && flock(fd, LOCK_EX | LOCK_NB) == 0) {
                /* A normaliser's input, or a boefje job's (src/boefje/run.c):
                 * its settings may hold secrets, they must not outlive it. */
                static const char *const files[] = {"raw", "meta.json", "boefje_meta.json",
                                                    "settings.json"};
                for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                        unlinkat(fd, files[i], 0);
                unlinkat(base_fd, name, AT_REMOVEDIR);
        }
        close(fd);
}

void stage_sweep(const char *base, uid_t host_uid)
{
        DIR *d = opendir(base);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, PREFIX, sizeof(PREFIX) - 1) == 0)
                        remove_stale(dirfd(d), de->d_name, host_uid);
        closedir(d);
}
