/* The root filesystem of a Python runtime image, assembled from this
 * machine's interpreter (runtime.h: wh_runtime_python_tree).
 *
 * The interpreter itself says what it needs: run with -I -S, it imports
 * every extension module in its lib-dynload (so every shared library those
 * need gets mapped), then reports its executable, its stdlib directory, the
 * shared objects in /proc/self/maps (the dynamic loader included) and the
 * symlinks beside them that name them (sonames such as libffi.so.8, and
 * /usr/lib64/ld-linux-x86-64.so.2). Those files are copied under the same
 * paths into the staging directory, symlinks made relative so the tree is
 * self-contained, plus bin, lib and lib64 pointing into usr as on a
 * merged-/usr system. __pycache__ and site/dist-packages are left out. */
#define _GNU_SOURCE
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

#define REPORT_MAX (4u << 20)

extern char **environ;

static const char report_py[] =
    "import importlib, json, os, sys, sysconfig\n"
    "exe = os.path.realpath(sys.executable)\n"
    "std = sysconfig.get_paths()['stdlib']\n"
    "dyn = os.path.join(std, 'lib-dynload')\n"
    "for f in sorted(os.listdir(dyn)) if os.path.isdir(dyn) else []:\n"
    "    try: importlib.import_module(f.split('.')[0])\n"
    "    except Exception: pass\n"
    "maps = set()\n"
    "for line in open('/proc/self/maps'):\n"
    "    p = line.split()[-1]\n"
    "    if p.startswith('/') and '.so' in os.path.basename(p): maps.add(os.path.realpath(p))\n"
    "links = []\n"
    "for d in sorted({os.path.dirname(m) for m in maps} | {'/usr/lib64', os.path.dirname(exe)}):\n"
    "    if not os.path.isdir(d): continue\n"
    "    for f in sorted(os.listdir(d)):\n"
    "        p = os.path.join(d, f)\n"
    "        r = os.path.realpath(p)\n"
    "        if os.path.islink(p) and (r in maps or r == exe):\n"
    "            links.append([p, os.path.relpath(r, d)])\n"
    "print(json.dumps({'executable': exe, 'stdlib': std, 'files': sorted(maps | {exe}),\n"
    "                  'links': links, 'version': '%d.%d' % sys.version_info[:2]}))\n";

static int run_report(const char *python, char **out, struct wh_err *err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return wh_err_set(err, errno, "runtime", "pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
        char *argv[] = {(char *)python, "-I", "-S", "-c", (char *)report_py, NULL};
        cleanup_child pid_t pid = -1;
        int rc = posix_spawn(&pid, python, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        cleanup_close int rd = pipefd[0];
        if (rc != 0)
                return wh_err_set(err, rc, "runtime", "cannot run %s", python);
        cleanup_free char *buf = malloc(REPORT_MAX + 1);
        ssize_t n = buf ? wh_read_full(rd, buf, REPORT_MAX) : -1;
        close(steal_fd(&rd));
        int status = 0;
        wh_child_wait(&pid, &status);
        if (n < 0 || n == REPORT_MAX || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return wh_err_set(err, 0, "runtime", "%s could not describe itself (exit %d)",
                                  python, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        buf[n] = '\0';
        *out = steal_pointer(&buf);
        return 0;
}

/* mkdir -p of the parents of rel below root_fd. */
static int make_parents(int root_fd, const char *rel, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s", rel);
        for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdirat(root_fd, path, 0755) < 0 && errno != EEXIST)
                        return wh_err_set(err, errno, "runtime", "cannot create %s", path);
                *s = '/';
        }
        return 0;
}

static int copy_file(int root_fd, const char *abs, struct wh_err *err)
{
        const char *rel = abs + 1;
        if (make_parents(root_fd, rel, err) < 0)
                return -1;
        cleanup_close int in = open(abs, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (in < 0 || fstat(in, &st) < 0)
                return wh_err_set(err, errno, "runtime", "cannot read %s", abs);
        cleanup_close int out =
            openat(root_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0755);
        if (out < 0)
                return errno == EEXIST ? 0
                                       : wh_err_set(err, errno, "runtime", "cannot create %s", rel);
        for (off_t left = st.st_size; left > 0;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
                if (n <= 0)
                        return wh_err_set(err, n < 0 ? errno : EIO, "runtime", "copying %s", abs);
                left -= n;
        }
        return 0;
}

static bool skipped_dir(const char *name)
{
        return strcmp(name, "__pycache__") == 0 || strcmp(name, "site-packages") == 0 ||
               strcmp(name, "dist-packages") == 0 || strcmp(name, "test") == 0 ||
               strcmp(name, "idlelib") == 0 || strcmp(name, "tkinter") == 0;
}

/* Regular files below dir (an absolute path), recursively. */
static int copy_tree(int root_fd, const char *dir, struct wh_err *err)
{
        DIR *d = opendir(dir);
        if (!d)
                return wh_err_set(err, errno, "runtime", "cannot list %s", dir);
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.' || skipped_dir(de->d_name))
                        continue;
                char path[4096];
                struct stat st;
                if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
                    lstat(path, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        rc = copy_tree(root_fd, path, err);
                else if (S_ISREG(st.st_mode))
                        rc = copy_file(root_fd, path, err);
        }
        closedir(d);
        return rc;
}

static int add_link(int root_fd, const char *abs_link, const char *target, struct wh_err *err)
{
        const char *rel = abs_link[0] == '/' ? abs_link + 1 : abs_link;
        if (make_parents(root_fd, rel, err) < 0)
                return -1;
        if (symlinkat(target, root_fd, rel) < 0 && errno != EEXIST)
                return wh_err_set(err, errno, "runtime", "cannot link %s", rel);
        return 0;
}

int wh_runtime_python_tree(const char *python, int root_fd, struct wh_runtime_info *info,
                           struct wh_err *err)
{
        cleanup_free char *report = NULL;
        if (run_report(python, &report, err) < 0)
                return -1;
        cleanup_json json_t *j = json_loads(report, 0, NULL);
        const char *exe = json_string_value(json_object_get(j, "executable"));
        const char *std = json_string_value(json_object_get(j, "stdlib"));
        const char *ver = json_string_value(json_object_get(j, "version"));
        json_t *files = json_object_get(j, "files"), *links = json_object_get(j, "links");
        int rc = exe && std && ver && exe[0] == '/' && std[0] == '/' && json_is_array(files) &&
                         json_is_array(links)
                     ? 0
                     : wh_err_set(err, 0, "runtime", "%s gave an unreadable report", python);
        if (rc == 0) {
                snprintf(info->interpreter, sizeof(info->interpreter), "%s", exe);
                snprintf(info->name, sizeof(info->name), "python%s", ver);
                rc = copy_tree(root_fd, std, err);
        }
        for (size_t i = 0; rc == 0 && i < json_array_size(files); i++) {
                const char *f = json_string_value(json_array_get(files, i));
                rc = f && f[0] == '/' ? copy_file(root_fd, f, err) : 0;
        }
        for (size_t i = 0; rc == 0 && i < json_array_size(links); i++) {
                json_t *l = json_array_get(links, i);
                const char *at = json_string_value(json_array_get(l, 0));
                const char *to = json_string_value(json_array_get(l, 1));
                rc = at && to && at[0] == '/' ? add_link(root_fd, at, to, err) : 0;
        }
        /* The merged-/usr top level, for what exists below usr. */
        const char *top[][2] = {{"bin", "usr/bin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib64"}};
        for (size_t i = 0; rc == 0 && i < sizeof(top) / sizeof(top[0]); i++) {
                struct stat st;
                if (fstatat(root_fd, top[i][1], &st, 0) == 0 &&
                    fstatat(root_fd, top[i][0], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        rc = add_link(root_fd, top[i][0], top[i][1], err);
        }
        return rc;
}
