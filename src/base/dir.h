/* Directories below a directory fd, never through a symlink: listing one
 * and removing a whole tree. Package, contract and CLI code share these. */
#ifndef WH_BASE_DIR_H
#define WH_BASE_DIR_H

#include <dirent.h>

/* opendir of path below dir_fd, not following a final symlink; "." lists
 * dir_fd itself with a description of its own (readdir does not move
 * dir_fd's offset). NULL with errno set. */
DIR *wh_dir_at(int dir_fd, const char *path);
/* Remove name (below parent_fd) and everything under it; 0 when it is not
 * there. -1 with errno set when anything stayed. */
int wh_rmtree_at(int parent_fd, const char *name);

#endif
