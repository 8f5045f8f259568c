#include "package/paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wh_entry_name_normalize(const char *in, char *out, size_t outlen)
{
        while (in[0] == '.' && in[1] == '/')
                in += 2;
        size_t len = strlen(in);
        if (strcmp(in, ".") == 0)
                len = 0;
        while (len > 1 && in[len - 1] == '/')
                len--;
        if (len >= outlen)
                return -1;
        memcpy(out, in, len);
        out[len] = '\0';
        return 0;
}

bool wh_relpath_valid(const char *path)
{
        if (!path[0] || path[0] == '/')
                return false;
        const char *p = path;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (len == 0 || (len == 1 && p[0] == '.') ||
                    (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!slash)
                        break;
                p = slash + 1;
                if (!*p)
                        return false;
        }
        return true;
}

bool wh_symlink_inside(const char *link_path, const char *target)
{
        if (!target[0] || target[0] == '/')
                return false;
        /* ".." only at the start: after a name that may itself be a symlink
         * (to a shallower place), a lexical ".." count proves nothing. With
         * leading ".." only, every link resolves inside by induction. */
        long depth = 0;
        for (const char *p = link_path; *p; p++)
                depth += *p == '/';
        bool leading = true;
        const char *p = target;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (!leading || --depth < 0)
                                return false;
                } else if (len > 0 && !(len == 1 && p[0] == '.')) {
                        leading = false;
                }
                if (!slash)
                        break;
                p = slash + 1;
        }
        return true;
}
