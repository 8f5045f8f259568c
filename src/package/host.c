/* What this machine can run, for the variant choice: OS, OCI architecture,
 * amd64 micro-architecture level, and the runtimes present. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <whiskers/package.h>

static const struct {
        const char *uname, *oci;
} arch_names[] = {
    {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},    {"i386", "386"},
    {"armv7l", "arm"},   {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
};

static int amd64_level(void)
{
#if defined(__x86_64__) && defined(__clang__) && __clang_major__ < 16
        /* clang before 16 knows no "x86-64-vN" here; only the fuzz build
         * (tests/fuzz) uses clang, and nothing there needs the level. */
        return 1;
#elif defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("x86-64-v4"))
                return 4;
        if (__builtin_cpu_supports("x86-64-v3"))
                return 3;
        if (__builtin_cpu_supports("x86-64-v2"))
                return 2;
        return 1;
#else
        return 0;
#endif
}

int wh_host_add_runtime(struct wh_host *h, const char *runtime, struct wh_err *err)
{
        for (size_t i = 0; i < h->nruntimes; i++)
                if (strcmp(h->runtimes[i], runtime) == 0)
                        return 0;
        if (h->nruntimes == WH_HOST_RUNTIMES_MAX || strlen(runtime) >= WH_NAME_MAX)
                return wh_err_set(err, 0, "host", "cannot record runtime %s", runtime);
        snprintf(h->runtimes[h->nruntimes++], WH_NAME_MAX, "%s", runtime);
        return 0;
}

static bool python_name(const char *name)
{
        if (strcmp(name, "python3") == 0)
                return true;
        if (strncmp(name, "python3.", 8) != 0 || !name[8] || strlen(name + 8) > 3)
                return false;
        for (const char *p = name + 8; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

static int scan_pythons(struct wh_host *h, const char *dir, struct wh_err *err)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0; /* no such directory: nothing there */
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d)))
                if (python_name(de->d_name) && faccessat(dirfd(d), de->d_name, X_OK, 0) == 0)
                        rc = wh_host_add_runtime(h, de->d_name, err);
        closedir(d);
        return rc;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(a, b);
}

int wh_host_detect(struct wh_host *h, struct wh_err *err)
{
        *h = (struct wh_host){0};
        struct utsname u;
        if (uname(&u) < 0)
                return wh_err_set(err, errno, "host", "uname");
        snprintf(h->os, sizeof(h->os), "linux");
        snprintf(h->arch, sizeof(h->arch), "%.*s", WH_NAME_MAX - 1, u.machine);
        for (size_t i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++)
                if (strcmp(u.machine, arch_names[i].uname) == 0)
                        snprintf(h->arch, sizeof(h->arch), "%s", arch_names[i].oci);
        h->arch_level = strcmp(h->arch, "amd64") == 0 ? amd64_level() : 0;
        if (wh_host_add_runtime(h, "exec", err) < 0 || scan_pythons(h, "/usr/bin", err) < 0 ||
            scan_pythons(h, "/usr/local/bin", err) < 0)
                return -1;
        qsort(h->runtimes, h->nruntimes, sizeof(h->runtimes[0]), by_name);
        return 0;
}
