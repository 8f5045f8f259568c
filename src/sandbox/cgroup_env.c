/* Discovery: which cgroup hierarchies are mounted (mountinfo) and where this
 * process sits in each (/proc/self/cgroup). Both files are read once per
 * wh_cgroup_create() and parsed in place; the hierarchies point into them.
 *
 * Only mounts at or beneath fs_root count, so a test can point the drivers at
 * a fake tree and a host's stray extra cgroup mounts are ignored. */
#define _GNU_SOURCE
#include "sandbox/cgroup_internal.h"

#include "base/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SELF_LINES_MAX 32

struct self_line {
        unsigned ctrls; /* v1 controllers of the line */
        bool unified;   /* the "0::" line */
        const char *path;
};

static const char *const ctrl_names[CG_N_CTRLS] = {"memory", "pids", "cpu", "cpuacct"};

const char *cg_ctrl_name(unsigned bit)
{
        for (unsigned i = 0; i < CG_N_CTRLS; i++)
                if (bit == 1u << i)
                        return ctrl_names[i];
        return NULL;
}

unsigned cg_ctrl_bit(const char *name, size_t len)
{
        for (unsigned i = 0; i < CG_N_CTRLS; i++)
                if (strlen(ctrl_names[i]) == len && memcmp(ctrl_names[i], name, len) == 0)
                        return 1u << i;
        return 0;
}

unsigned cg_ctrls_needed(const struct wh_cgroup_limits *limits)
{
        return (limits->memory_bytes ? CG_MEMORY : 0u) | (limits->pids ? CG_PIDS : 0u) |
               (limits->cpus > 0 ? CG_CPU : 0u);
}

const char *cg_ctrls_list(unsigned bits, char *buf, size_t size)
{
        size_t used = 0;
        buf[0] = '\0';
        for (unsigned i = 0; i < CG_N_CTRLS && used < size; i++)
                if (bits & (1u << i))
                        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                                 ctrl_names[i]);
        return buf;
}

/* Bits of a separator-delimited list such as "rw,cpu,cpuacct". */
static unsigned ctrls_of(const char *list, char sep)
{
        unsigned bits = 0;
        while (*list) {
                const char *end = strchr(list, sep);
                size_t len = end ? (size_t)(end - list) : strlen(list);
                bits |= cg_ctrl_bit(list, len);
                list += len + (end ? 1 : 0);
        }
        return bits;
}

/* /proc/self/cgroup: "hierarchy-id:controller,list:/path" per line. */
static size_t parse_self(char *buf, struct self_line *lines)
{
        size_t n = 0;
        for (char *line = buf, *next; line && *line && n < SELF_LINES_MAX; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c1 = *c2 = '\0';
                lines[n].unified = strcmp(line, "0") == 0 && c1[1] == '\0';
                lines[n].ctrls = ctrls_of(c1 + 1, ',');
                lines[n].path = c2 + 1;
                n++;
        }
        return n;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *out = s;
        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *out++ = *s;
                }
        }
        *out = '\0';
}

static bool beneath(const char *path, const char *dir)
{
        size_t len = strlen(dir);
        while (len > 1 && dir[len - 1] == '/')
                len--;
        if (strncmp(path, dir, len) != 0)
                return false;
        return path[len] == '\0' || path[len] == '/' || (len == 1 && dir[0] == '/');
}

static void add_mount(struct cg_env *env, const char *fstype, char *root, char *mount,
                      const char *super, const struct self_line *lines, size_t n_lines)
{
        if (strcmp(fstype, "cgroup2") == 0) {
                if (env->has_v2)
                        return;
                env->has_v2 = true;
                env->v2 = (struct cg_hierarchy){.mount = mount, .root = root};
                for (size_t i = 0; i < n_lines; i++)
                        if (lines[i].unified)
                                env->v2.self = lines[i].path;
                return;
        }
        unsigned bits = ctrls_of(super, ',');
        if (!bits || env->n_v1 == CG_N_CTRLS)
                return;
        for (size_t i = 0; i < env->n_v1; i++)
                if (env->v1[i].ctrls & bits)
                        return; /* the same hierarchy mounted again */
        struct cg_hierarchy *h = &env->v1[env->n_v1++];
        *h = (struct cg_hierarchy){.mount = mount, .root = root, .ctrls = bits};
        for (size_t i = 0; i < n_lines; i++)
                if (lines[i].ctrls & bits)
                        h->self = lines[i].path;
}

/* "id parent maj:min root mountpoint options [optional...] - fstype source super" */
static void parse_mountinfo(struct cg_env *env, char *buf, const struct self_line *lines,
                            size_t n_lines)
{
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *field[6], *save = NULL, *tok = strtok_r(line, " ", &save);
                size_t n = 0;
                for (; tok && n < 6; tok = strtok_r(NULL, " ", &save))
                        field[n++] = tok;
                while (tok && strcmp(tok, "-") != 0)
                        tok = strtok_r(NULL, " ", &save);
                char *fstype = strtok_r(NULL, " ", &save);
                char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
                char *super = source ? strtok_r(NULL, " ", &save) : NULL;
                if (n < 6 || !super ||
                    (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0))
                        continue;
                unescape(field[3]);
                unescape(field[4]);
                if (beneath(field[4], env->fs_root))
                        add_mount(env, fstype, field[3], field[4], super, lines, n_lines);
        }
}

static bool valid_parent(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *c = p; *c;) {
                while (*c == '/')
                        c++;
                size_t len = strcspn(c, "/");
                if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += len;
        }
        return true;
}

static bool valid_hint(const char *h)
{
        return h[0] && strlen(h) <= 64 && !strchr(h, '/') && strcmp(h, ".") != 0 &&
               strcmp(h, "..") != 0 && !strchr(h, '\n');
}

int cg_env_load(const struct wh_cgroup_opts *opts, struct cg_env *env, struct wh_err *err)
{
        *env = (struct cg_env){.fs_root = opts->fs_root ? opts->fs_root : "/sys/fs/cgroup",
                               .parent = opts->parent,
                               .hint = opts->name_hint ? opts->name_hint : "whiskers"};
        if (env->parent && !valid_parent(env->parent))
                return wh_err_set(err, EINVAL, "cgroup",
                                  "cgroup parent '%s' must be an absolute cgroup path such as "
                                  "/whiskers, without . or .. components",
                                  env->parent);
        if (!valid_hint(env->hint))
                return wh_err_set(err, EINVAL, "cgroup", "invalid cgroup name prefix '%s'",
                                  env->hint);
        const char *self = opts->self_cgroup ? opts->self_cgroup : "/proc/self/cgroup";
        const char *mi = opts->mountinfo ? opts->mountinfo : "/proc/self/mountinfo";
        if (wh_read_file(self, 64 * 1024, &env->self_buf, NULL, err) < 0)
                return wh_err_prefix(err, "finding this process's cgroup");
        if (wh_read_file(mi, 4 * 1024 * 1024, &env->mountinfo_buf, NULL, err) < 0) {
                cg_env_free(env);
                return wh_err_prefix(err, "finding the cgroup mounts");
        }
        struct self_line lines[SELF_LINES_MAX];
        size_t n_lines = parse_self(env->self_buf, lines);
        parse_mountinfo(env, env->mountinfo_buf, lines, n_lines);
        return 0;
}

void cg_env_free(struct cg_env *env)
{
        free(env->self_buf);
        free(env->mountinfo_buf);
        env->self_buf = env->mountinfo_buf = NULL;
}

const struct cg_hierarchy *cg_env_v1(const struct cg_env *env, unsigned ctrl)
{
        for (size_t i = 0; i < env->n_v1; i++)
                if (env->v1[i].ctrls & ctrl)
                        return &env->v1[i];
        return NULL;
}

char *cg_env_parent_dir(const struct cg_env *env, const struct cg_hierarchy *h, struct wh_err *err)
{
        const char *path = env->parent ? env->parent : h->self;
        if (!path) {
                wh_err_set(err, ENOENT, "cgroup", "no entry for the hierarchy at %s in %s",
                           h->mount, "/proc/self/cgroup");
                return NULL;
        }
        const char *rel = path;
        if (strcmp(h->root, "/") != 0) {
                if (!beneath(path, h->root)) {
                        wh_err_set(err, ENOENT, "cgroup",
                                   "cgroup %s is outside the part of the hierarchy mounted at %s "
                                   "(%s)",
                                   path, h->mount, h->root);
                        return NULL;
                }
                rel = path + strlen(h->root);
        }
        while (*rel == '/')
                rel++;
        char *dir;
        if (asprintf(&dir, "%s%s%s", h->mount, *rel ? "/" : "", rel) < 0) {
                wh_err_set(err, ENOMEM, "cgroup", "building a cgroup path");
                return NULL;
        }
        return dir;
}
