/* The caller's command line and environment, kept from the sandbox.
 *
 * init is a clone of the supervisor that never execs, so its memory holds
 * the caller's argument and environment areas, and /proc/1/cmdline - world
 * readable, unlike /proc/1/environ and /proc/1/mem, which init's
 * non-dumpability guards - would show the program the caller's arguments:
 * host paths, the status file, every --setenv value, a worker's database URL.
 *
 * So the supervisor finds both areas once (/proc/self/stat, fields 48-51)
 * and, before each run, copies what the program needs from the caller's
 * memory (argv, envp, cwd, which may point into those areas); init wipes both
 * areas once it has built the sandbox (whose configuration may point there
 * too) and before the program exists. */
#define _GNU_SOURCE
#include "sandbox/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INIT_TITLE "whiskers-init"

int caller_areas_find(struct caller_areas *a, struct wh_err *err)
{
        cleanup_free char *stat = NULL;
        size_t len;
        if (wh_read_file("/proc/self/stat", 4096, &stat, &len, err) < 0)
                return -1;
        /* Fields 3 and on follow the last ')': the command name may hold any byte. */
        const char *p = strrchr(stat, ')');
        for (int field = 2; p && field < 48; field++)
                p = strchr(p + 1, ' ');
        uint64_t v[4];
        if (!p ||
            sscanf(p, " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &v[0], &v[1], &v[2],
                   &v[3]) != 4 ||
            v[0] >= v[1] || v[2] > v[3])
                return wh_err_set(err, EINVAL, "init",
                                  "cannot find this process's argument area in /proc/self/stat");
        *a = (struct caller_areas){(uintptr_t)v[0], (uintptr_t)v[1], (uintptr_t)v[2],
                                   (uintptr_t)v[3]};
        return 0;
}

void caller_areas_wipe(const struct caller_areas *a)
{
        char *arg = (char *)a->arg_start;
        size_t arg_len = a->arg_end - a->arg_start;
        memset(arg, 0, arg_len);
        memset((char *)a->env_start, 0, a->env_end - a->env_start);
        /* With the area's last byte not NUL the kernel takes the area for a
         * setproctitle() title and shows it up to its first NUL: the title
         * alone, not the length of what was there. */
        size_t n = arg_len < sizeof(INIT_TITLE) + 1 ? arg_len - 1 : sizeof(INIT_TITLE) - 1;
        memcpy(arg, INIT_TITLE, n);
        if (arg_len > n + 1)
                arg[arg_len - 1] = ' ';
}

static size_t count(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* Packs the strings of v into *chars and their pointers into out (NULL-ended). */
static void pack(const char *const *v, size_t n, char **out, char **chars)
{
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(v[i]) + 1;
                out[i] = memcpy(*chars, v[i], len);
                *chars += len;
        }
        out[n] = NULL;
}

int run_strings_copy(const struct wh_run_spec *run, struct run_strings *s, struct wh_err *err)
{
        size_t argc = count(run->argv), envc = count(run->envp);
        const char *cwd = run->cwd ? run->cwd : "/";
        size_t bytes = strlen(cwd) + 1;
        for (size_t i = 0; i < argc; i++)
                bytes += strlen(run->argv[i]) + 1;
        for (size_t i = 0; i < envc; i++)
                bytes += strlen(run->envp[i]) + 1;
        char **ptrs = malloc((argc + envc + 2) * sizeof(char *) + bytes);
        if (!ptrs)
                return wh_err_set(err, ENOMEM, "sandbox", "copying the program's arguments");
        char *chars = (char *)(ptrs + argc + envc + 2);
        s->argv = ptrs;
        s->envp = ptrs + argc + 1;
        pack(run->argv, argc, s->argv, &chars);
        pack(run->envp, envc, s->envp, &chars);
        s->cwd = memcpy(chars, cwd, strlen(cwd) + 1);
        return 0;
}

void run_strings_free(struct run_strings *s)
{
        free(s->argv);
        s->argv = NULL;
}
