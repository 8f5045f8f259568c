/* Path checks for archive entries and packed trees. */
#ifndef WH_PACKAGE_PATHS_H
#define WH_PACKAGE_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Strip leading "./" and trailing '/' from an archive entry name into out.
 * Returns -1 when it does not fit. "" means the archive's root. */
int wh_entry_name_normalize(const char *in, char *out, size_t outlen);
/* A relative path of non-empty components, none "." or "..", no leading '/'. */
bool wh_relpath_valid(const char *path);
/* Whether a symlink at link_path (a valid relative path) with this target
 * stays inside the tree: relative, ".." only as leading components and never
 * above the root ("../lib/x" is fine, "a/../../x" and "/x" are not). */
bool wh_symlink_inside(const char *link_path, const char *target);

#endif
