/* The Debian root of a runtime image: mmdebstrap, then runtime_prune.c.
 *
 * Variant "extract": the packages and their dependencies are unpacked, no
 * maintainer script runs, so there is no ldconfig cache (the dynamic loader
 * searches Debian's multiarch directories without one), no byte code, no
 * machine-id, nothing that depends on the clock or the host; the
 * update-alternatives links the postinst scripts would make are read from
 * them as data (runtime_alternatives.c). The sources
 * are one line, "deb MIRROR SUITE main": no -updates or -security suite,
 * so one InRelease pins every version. The exact package versions go to
 * /whiskers/debian-packages (the .deb names apt downloaded).
 *
 * WHISKERS_MMDEBSTRAP names another program to run instead (tests use a
 * fake that fails halfway). */
#define _GNU_SOURCE
#include "package/digest.h"
#include "base/dir.h"
#include "package/pack.h"
#include "package/paths.h"
#include "package/runtime.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_MAX (1u << 20)

extern char **environ;

/* "E: Unable to locate package NAME" (apt), or the last "E: " line. */
static int explain_failure(const char *log_path, const struct wh_debian_recipe *r, int status,
                           struct wh_err *err)
{
        cleanup_free char *log = NULL;
        size_t len = 0;
        struct wh_err ignored = {0};
        if (wh_read_file(log_path, LOG_MAX, &log, &len, &ignored) < 0)
                log = NULL;
        const char *missing = log ? strstr(log, "Unable to locate package ") : NULL;
        if (missing) {
                missing += strlen("Unable to locate package ");
                int n = (int)strcspn(missing, " \n");
                return wh_err_set(err, 0, "runtime",
                                  "Debian package '%.*s' does not exist in %s (%s, main); check "
                                  "the name (apt-cache policy %.*s on a %s system)",
                                  n, missing, r->suite, r->mirror, n, missing, r->suite);
        }
        const char *last = NULL;
        for (const char *p = log; p && (p = strstr(p, "E: ")); p += 3)
                if (p == log || p[-1] == '\n')
                        last = p;
        int n = last ? (int)strcspn(last, "\n") : 0;
        return wh_err_set(err, 0, "runtime", "mmdebstrap failed (%s %d)%s%.*s",
                          WIFEXITED(status) ? "exit status" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                          last ? ": " : "; it printed no error line", n, last ? last : "");
}

int wh_mmdebstrap_run(const struct wh_debian_recipe *r, const char *stage, struct wh_err *err)
{
        const char *prog = getenv("WHISKERS_MMDEBSTRAP");
        cleanup_free char *names = wh_join_names(r->packages), *include = NULL, *root = NULL,
                          *source = NULL, *log_path = NULL;
        if (!names || asprintf(&include, "--include=%s", names) < 0 ||
            asprintf(&root, "%s/root", stage) < 0 ||
            asprintf(&source, "deb %s %s main", r->mirror, r->suite) < 0 ||
            asprintf(&log_path, "%s/log", stage) < 0)
                return wh_err_set(err, ENOMEM, "runtime", "mmdebstrap arguments");
        cleanup_close int log = open(log_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (log < 0)
                return wh_err_set(err, errno, "runtime", "cannot create %s", log_path);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, log, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, log, STDERR_FILENO);
        char *argv[] = {(char *)(prog ? prog : "mmdebstrap"),
                        "--variant=extract",
                        include,
                        "--aptopt=APT::Install-Recommends \"false\"",
                        "--aptopt=Acquire::Languages \"none\"",
                        "--skip=cleanup/apt",
                        (char *)r->suite,
                        root,
                        source,
                        NULL};
        cleanup_child pid_t pid = -1;
        int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0)
                return wh_err_set(err, rc, "runtime", "cannot run %s%s", argv[0],
                                  prog ? "" : ": install it (apt-get install mmdebstrap)");
        int status = 0;
        wh_child_wait(&pid, &status);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return explain_failure(log_path, r, status, err);
}

static int by_string(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* whiskers/debian-packages: the .deb files apt downloaded, without ".deb",
 * sorted, one per line ("python3.13-minimal_3.13.5-2_amd64"); then the
 * alternatives their postinst scripts declare. */
static int record_versions(int root_fd, struct wh_err *err)
{
        DIR *d = wh_dir_at(root_fd, "var/cache/apt/archives");
        if (!d)
                return wh_err_set(err, errno, "runtime", "mmdebstrap left no apt cache");
        if (mkdirat(root_fd, "whiskers", 0755) < 0 && errno != EEXIST) {
                closedir(d);
                return wh_err_set(err, errno, "runtime", "cannot create whiskers/");
        }
        char **v = NULL;
        size_t n = 0, cap = 0, total = 1;
        struct dirent *de;
        int rc = 0;
        while (rc == 0 && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len <= 4 || strcmp(de->d_name + len - 4, ".deb") != 0)
                        continue;
                char **nv = n == cap ? realloc(v, (cap = cap * 2 + 16) * sizeof(*v)) : v;
                if (!nv || !(nv[n] = strndup(de->d_name, len - 4)))
                        rc = wh_err_set(err, ENOMEM, "runtime", "package list");
                if (nv)
                        v = nv;
                if (rc == 0)
                        total += len - 3, n++;
        }
        closedir(d);
        if (rc == 0 && n == 0)
                rc = wh_err_set(err, 0, "runtime", "mmdebstrap downloaded no package");
        qsort(v, n, sizeof(*v), by_string);
        cleanup_free char *text = rc == 0 ? calloc(1, total) : NULL;
        for (size_t i = 0; text && i < n; i++)
                strcat(strcat(text, v[i]), "\n");
        cleanup_close int out = text ? openat(root_fd, "whiskers/debian-packages",
                                              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                                     : -1;
        if (rc == 0 && (out < 0 || wh_write_all(out, text, strlen(text)) < 0))
                rc = wh_err_set(err, errno, "runtime", "cannot write whiskers/debian-packages");
        if (rc == 0)
                rc = wh_debian_alternatives(root_fd, v, n, err);
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
        return rc;
}

/* The InRelease apt used must be the one the cache key was made from. */
static int check_release(int root_fd, const struct wh_debian_recipe *r, struct wh_err *err)
{
        DIR *d = wh_dir_at(root_fd, "var/lib/apt/lists");
        if (!d)
                return wh_err_set(err, errno, "runtime", "mmdebstrap left no apt lists");
        char suffix[160], digest[WH_DIGEST_BUF] = "";
        snprintf(suffix, sizeof(suffix), "_dists_%s_InRelease", r->suite);
        struct dirent *de;
        int rc = 0;
        while (rc == 0 && !digest[0] && (de = readdir(d))) {
                size_t len = strlen(de->d_name), sl = strlen(suffix);
                if (len <= sl || strcmp(de->d_name + len - sl, suffix) != 0)
                        continue;
                cleanup_close int f = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
                rc = f < 0 ? wh_err_set(err, errno, "runtime", "cannot read %s", de->d_name)
                           : wh_digest_fd(f, digest, NULL, err);
        }
        closedir(d);
        if (rc == 0 && !digest[0])
                rc = wh_err_set(err, 0, "runtime", "apt fetched no InRelease for %s", r->suite);
        if (rc == 0 && strcmp(digest, r->release) != 0)
                rc = wh_err_set(err, 0, "runtime",
                                "the archive's %s changed during the build (InRelease %s, then "
                                "%s); build again",
                                r->suite, r->release, digest);
        return rc;
}

/* /usr/bin/python3 -> python3.N names the runtime; its dist-packages is
 * linked into the shim's path directory. A runtime image names an
 * interpreter (runtime unpack checks it is there), so python3 must be in. */
static int name_interpreter(int root_fd, struct wh_runtime_info *info, struct wh_err *err)
{
        char target[64];
        ssize_t n = readlinkat(root_fd, "usr/bin/python3", target, sizeof(target) - 1);
        struct stat st;
        if (n < 0)
                return wh_err_setk(
                    err, WH_ERR_NOT_FOUND, ENOENT, "runtime",
                    "the packages give no /usr/bin/python3, the image's interpreter: "
                    "add --package python3");
        target[n] = '\0';
        unsigned minor;
        char rest;
        if (strchr(target, '/') || sscanf(target, "python3.%u%c", &minor, &rest) != 1)
                return wh_err_set(err, 0, "runtime", "/usr/bin/python3 points to %s, not python3.N",
                                  target);
        snprintf(info->name, sizeof(info->name), "%s", target);
        snprintf(info->interpreter, sizeof(info->interpreter), "/usr/bin/%s", target);
        if (fstatat(root_fd, info->interpreter + 1, &st, 0) < 0 || !S_ISREG(st.st_mode))
                return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "runtime", "the image has no %s",
                                   info->interpreter);
        const char *dist = "usr/lib/python3/dist-packages";
        if (fstatat(root_fd, dist, &st, 0) == 0 && S_ISDIR(st.st_mode) &&
            symlinkat("../../usr/lib/python3/dist-packages", root_fd,
                      &(WH_SANDBOX_PYTHON_DIR "/debian")[1]) < 0)
                return wh_err_set(err, errno, "runtime", "cannot link the dist-packages");
        return 0;
}

int wh_debian_tree_finish(int root_fd, const struct wh_debian_recipe *r,
                          struct wh_runtime_info *info, struct wh_err *err)
{
        if (check_release(root_fd, r, err) < 0 || record_versions(root_fd, err) < 0 ||
            wh_debian_prune(root_fd, err) < 0 || wh_runtime_mount_points(root_fd, err) < 0)
                return -1;
        return name_interpreter(root_fd, info, err);
}
