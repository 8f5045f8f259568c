/* update-alternatives links in a Debian root built without maintainer
 * scripts (runtime_mmdebstrap.c: variant extract). Debian makes some names
 * only in a postinst (libblas3: /usr/lib/x86_64-linux-gnu/libblas.so.3, which
 * nmap needs), so the calls `update-alternatives --install LINK NAME PATH
 * PRIORITY [--slave LINK NAME PATH]...` are read from the downloaded .debs'
 * postinst scripts as data, never run. As update-alternatives' auto mode
 * does, the candidate of highest priority whose PATH is in the tree wins
 * (equal priorities: the smaller PATH, so the result never depends on
 * order), giving /etc/alternatives/NAME -> PATH and LINK ->
 * /etc/alternatives/NAME, and the same for each of its slaves whose PATH is
 * there. runtime_prune.c makes these links relative later.
 *
 * A call whose words hold shell expansions ($, `) cannot be read without
 * running the script: it is skipped. A LINK or PATH that is not an absolute
 * path of plain components (no "..", ".", empty or non-printable ones) or a
 * NAME with a '/' fails the build, naming the package. Links are made by
 * resolving their directory inside the root (RESOLVE_IN_ROOT), never
 * through it to the host. What was made is listed in
 * /whiskers/debian-alternatives ("NAME LINK PATH", by NAME,
 * each slave after its master). */
#define _GNU_SOURCE
#include "base/cleanup.h"
#include "base/io.h"
#include "package/runtime.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CONTROL_MAX  (16u << 20)
#define POSTINST_MAX (1u << 20)
#define SLAVES_MAX   64
#define ARCHIVES     "var/cache/apt/archives"

struct alt_link {
        char *link, *name, *path;
};

struct alt {
        struct alt_link master, slaves[SLAVES_MAX];
        size_t n_slaves;
        long priority;
};

struct alts {
        struct alt *v;
        size_t n, cap;
};

/* A directory or file below the root, symlinks resolved inside it. */
static int open_in_root(int root_fd, const char *path, int flags)
{
        struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

static bool plain_path(const char *p)
{
        if (p[0] != '/' || !p[1] || strlen(p) >= 4096)
                return false;
        for (const char *c = p + 1; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (c[i] <= 0x20 || c[i] > 0x7e)
                                return false;
                c += n + (c[n] == '/');
        }
        return p[strlen(p) - 1] != '/';
}

static bool plain_name(const char *n)
{
        if (!n[0] || strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strlen(n) > 255)
                return false;
        for (; *n; n++)
                if (*n <= 0x20 || *n > 0x7e || *n == '/')
                        return false;
        return true;
}

static int check_link(const char *deb, const struct alt_link *l, struct wh_err *err)
{
        if (plain_path(l->link) && plain_path(l->path) && plain_name(l->name))
                return 0;
        return wh_err_set(err, 0, "runtime",
                          "%s: its postinst declares the alternative '%s' with link '%s' and path "
                          "'%s', not absolute paths inside the root (no '..' or '.') and a name "
                          "without '/': refusing to build the image",
                          deb, l->name, l->link, l->path);
}

/* The words of one shell command, quotes removed; it ends at ; | & # or >. */
static size_t split_words(char *s, char **w, size_t cap)
{
        size_t n = 0;
        while (n < cap) {
                s += strspn(s, " \t");
                if (!*s || strchr(";|&#>", *s))
                        break;
                char *start = s, *out = s, q = 0;
                for (; *s && (q || !strchr(" \t;|&>", *s)); s++)
                        if (!q && (*s == '"' || *s == '\''))
                                q = *s;
                        else if (q && *s == q)
                                q = 0;
                        else
                                *out++ = *s;
                bool end = !*s || *s == ';' || *s == '|' || *s == '&' || *s == '>';
                if (*s)
                        s++;
                *out = '\0';
                w[n++] = start;
                if (end)
                        break;
        }
        return n;
}

static int add_alt(struct alts *a, char **w, size_t n, const char *deb, struct wh_err *err)
{
        struct alt x = {0};
        char *endp;
        for (size_t i = 0; i < n; i++)
                if (strpbrk(w[i], "$`\\"))
                        return 0; /* needs the shell: skipped */
        if (n < 4 || (x.priority = strtol(w[3], &endp, 10), *endp) || x.priority < 0)
                return 0;
        x.master = (struct alt_link){w[0], w[1], w[2]};
        for (size_t i = 4; i + 3 < n && strcmp(w[i], "--slave") == 0 && x.n_slaves < SLAVES_MAX;
             i += 4)
                x.slaves[x.n_slaves++] = (struct alt_link){w[i + 1], w[i + 2], w[i + 3]};
        if (check_link(deb, &x.master, err) < 0)
                return -1;
        for (size_t i = 0; i < x.n_slaves; i++)
                if (check_link(deb, &x.slaves[i], err) < 0)
                        return -1;
        struct alt *nv =
            a->n == a->cap ? realloc(a->v, (a->cap = a->cap * 2 + 8) * sizeof(x)) : a->v;
        if (!nv)
                return wh_err_set(err, ENOMEM, "runtime", "alternatives");
        a->v = nv;
        a->v[a->n++] = x;
        return 0;
}

/* Every `update-alternatives ... --install ...` of one postinst (its text
 * stays referenced by the entries: `text` is kept by the caller). */
static int parse_postinst(char *text, const char *deb, struct alts *a, struct wh_err *err)
{
        /* Join continued lines. */
        for (char *p = text; (p = strstr(p, "\\\n"));)
                p[0] = p[1] = ' ';
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                char *u =
                    line[strspn(line, " \t")] == '#' ? NULL : strstr(line, "update-alternatives");
                char *w[4 + 4 * SLAVES_MAX + 8];
                size_t n =
                    u ? split_words(u + strlen("update-alternatives"), w, sizeof(w) / sizeof(w[0]))
                      : 0;
                size_t i = 0;
                while (i < n && w[i][0] == '-' && strcmp(w[i], "--install") != 0)
                        i++; /* --quiet and the like */
                if (i < n && strcmp(w[i], "--install") == 0 &&
                    add_alt(a, w + i + 1, n - i - 1, deb, err) < 0)
                        return -1;
                line = nl ? nl + 1 : NULL;
        }
        return 0;
}

/* ./postinst of a .deb's control.tar.* (NULL when it has none). */
static int read_postinst(int dir_fd, const char *deb, char **out, struct wh_err *err)
{
        *out = NULL;
        cleanup_close int fd = openat(dir_fd, deb, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return wh_err_set(err, errno, "runtime", "cannot open %s", deb);
        struct archive *ar = archive_read_new(), *tar = NULL;
        struct archive_entry *e;
        cleanup_free char *control = NULL;
        la_int64_t size = -1;
        int rc = 0;
        archive_read_support_format_ar(ar);
        if (archive_read_open_fd(ar, fd, 65536) != ARCHIVE_OK)
                rc = -1;
        while (rc == 0 && size < 0 && archive_read_next_header(ar, &e) == ARCHIVE_OK)
                if (strncmp(archive_entry_pathname(e), "control.tar", 11) == 0) {
                        size = archive_entry_size(e);
                        control = size > 0 && size <= CONTROL_MAX ? malloc((size_t)size) : NULL;
                        if (!control || archive_read_data(ar, control, (size_t)size) != size)
                                rc = -1;
                }
        if (rc == 0 && size > 0) {
                tar = archive_read_new();
                archive_read_support_format_tar(tar);
                archive_read_support_filter_all(tar);
                if (archive_read_open_memory(tar, control, (size_t)size) != ARCHIVE_OK)
                        rc = -1;
        }
        bool found = false;
        while (rc == 0 && tar && !found && archive_read_next_header(tar, &e) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(e);
                la_int64_t len = archive_entry_size(e);
                if (strcmp(name, "./postinst") != 0 && strcmp(name, "postinst") != 0)
                        continue;
                found = true;
                *out = len >= 0 && len <= POSTINST_MAX ? calloc(1, (size_t)len + 1) : NULL;
                if (!*out || archive_read_data(tar, *out, (size_t)len) != len)
                        rc = -1;
        }
        if (rc < 0 || size < 0) {
                const char *why = archive_error_string(tar ? tar : ar);
                rc = wh_err_set(err, 0, "runtime",
                                "cannot read the control files of %s (%s): a broken download? "
                                "build again",
                                deb,
                                why        ? why
                                : size < 0 ? "no control.tar"
                                           : "too large");
                free(*out);
                *out = NULL;
        }
        if (tar)
                archive_read_free(tar);
        archive_read_free(ar);
        return rc;
}

static bool exists_in_root(int root_fd, const char *path)
{
        int fd = open_in_root(root_fd, path, O_PATH);
        if (fd >= 0)
                close(fd);
        return fd >= 0;
}

/* LINK -> TARGET, LINK's directory resolved inside the root; a real file
 * already at LINK stays (as update-alternatives leaves it). */
static int make_link(int root_fd, const char *link, const char *target, struct wh_err *err)
{
        cleanup_free char *dir = strdup(link);
        if (!dir)
                return wh_err_set(err, ENOMEM, "runtime", "alternatives");
        char *base = strrchr(dir, '/');
        *base++ = '\0';
        cleanup_close int dfd = open_in_root(root_fd, dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
        struct stat st;
        if (dfd < 0)
                return 0; /* no such directory in the tree: nothing uses the link */
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISLNK(st.st_mode))
                        return 0;
                if (unlinkat(dfd, base, 0) < 0)
                        return wh_err_set(err, errno, "runtime", "cannot replace %s", link);
        }
        if (symlinkat(target, dfd, base) < 0)
                return wh_err_set(err, errno, "runtime", "cannot link %s", link);
        return 0;
}

static int make_alt(int root_fd, const struct alt_link *l, FILE *record, struct wh_err *err)
{
        char alt[300];
        snprintf(alt, sizeof(alt), "/etc/alternatives/%s", l->name);
        if (make_link(root_fd, alt, l->path, err) < 0 || make_link(root_fd, l->link, alt, err) < 0)
                return -1;
        fprintf(record, "%s %s %s\n", l->name, l->link, l->path);
        return 0;
}

static int by_name(const void *a, const void *b)
{
        const struct alt *x = a, *y = b;
        int c = strcmp(x->master.name, y->master.name);
        if (c == 0)
                c = x->priority < y->priority ? 1 : x->priority > y->priority ? -1 : 0;
        return c ? c : strcmp(x->master.path, y->master.path);
}

/* The winner of each NAME (sorted: best first) and its slaves. */
static int make_alts(int root_fd, struct alts *a, struct wh_err *err)
{
        qsort(a->v, a->n, sizeof(*a->v), by_name);
        cleanup_free char *text = NULL;
        size_t len = 0;
        FILE *record = open_memstream(&text, &len);
        if (!record)
                return wh_err_set(err, ENOMEM, "runtime", "alternatives");
        const char *done = NULL;
        int rc = 0;
        if (a->n && mkdirat(root_fd, "etc", 0755) < 0 && errno != EEXIST)
                rc = wh_err_set(err, errno, "runtime", "cannot create /etc");
        if (rc == 0 && a->n && mkdirat(root_fd, "etc/alternatives", 0755) < 0 && errno != EEXIST)
                rc = wh_err_set(err, errno, "runtime", "cannot create /etc/alternatives");
        for (size_t i = 0; rc == 0 && i < a->n; i++) {
                const struct alt *x = &a->v[i];
                if ((done && strcmp(done, x->master.name) == 0) ||
                    !exists_in_root(root_fd, x->master.path))
                        continue;
                done = x->master.name;
                rc = make_alt(root_fd, &x->master, record, err);
                for (size_t s = 0; rc == 0 && s < x->n_slaves; s++)
                        if (exists_in_root(root_fd, x->slaves[s].path))
                                rc = make_alt(root_fd, &x->slaves[s], record, err);
        }
        fclose(record);
        cleanup_close int out = rc == 0 && len
                                    ? openat(root_fd, "whiskers/debian-alternatives",
                                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                                    : -1;
        if (rc == 0 && len && (out < 0 || wh_write_all(out, text, len) < 0))
                rc = wh_err_set(err, errno, "runtime", "cannot write whiskers/debian-alternatives");
        return rc;
}

int wh_debian_alternatives(int root_fd, char *const *debs, size_t n, struct wh_err *err)
{
        cleanup_close int dir = openat(root_fd, ARCHIVES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return wh_err_set(err, errno, "runtime", "mmdebstrap left no apt cache");
        struct alts a = {0};
        char **texts = calloc(n + 1, sizeof(*texts));
        int rc = texts ? 0 : wh_err_set(err, ENOMEM, "runtime", "alternatives");
        for (size_t i = 0; rc == 0 && i < n; i++) {
                char deb[512];
                snprintf(deb, sizeof(deb), "%s.deb", debs[i]);
                rc = read_postinst(dir, deb, &texts[i], err);
                if (rc == 0 && texts[i])
                        rc = parse_postinst(texts[i], debs[i], &a, err);
        }
        if (rc == 0)
                rc = make_alts(root_fd, &a, err);
        for (size_t i = 0; texts && i < n; i++)
                free(texts[i]);
        free(texts);
        free(a.v);
        return rc;
}
