/* Internals of runtime images (package.h: wh_runtime_build). */
#ifndef WH_PACKAGE_RUNTIME_H
#define WH_PACKAGE_RUNTIME_H

#include <whiskers/package.h>

struct wh_runtime_info {
        char name[WH_NAME_MAX]; /* "python3.11" */
        char interpreter[4096]; /* absolute path inside the image */
};

/* Copy what the Python interpreter `python` needs to run (itself, its
 * stdlib, the shared objects it and its extension modules map, the dynamic
 * loader, their soname links) below root_fd, at the same paths. */
int wh_runtime_python_tree(const char *python, int root_fd, struct wh_runtime_info *info,
                           struct wh_err *err);

#endif
