/* Joining a sandbox cgroup at birth without the global migration lock
 * (the why is in cgroup.h, above struct wh_cgroup_join). */
#include "sandbox/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

_Static_assert(CG_MAX_LEAVES <= WH_CGROUP_MAX_HIERARCHIES, "a join holds one fd per leaf");

int wh_cgroup_join_prepare(struct wh_cgroup *cg, struct wh_cgroup_join *join, struct wh_err *err)
{
        join->clone_into_fd = -1;
        join->n_task_fds = 0;
        if (cg->kind == WH_CGROUP_V2 && cg->n_leaves > 0) {
                /* Born in the leaf of the sandbox's own processes, if nested. */
                const struct cg_leaf *leaf = cg->home ? &cg->home->leaves[0] : &cg->leaves[0];
                join->clone_into_fd = fcntl(leaf->fd, F_DUPFD_CLOEXEC, 3);
                if (join->clone_into_fd < 0)
                        return wh_err_set(err, errno, "cgroup", "cannot open %s", leaf->path);
                return 0;
        }
        for (size_t i = 0; cg->kind == WH_CGROUP_V1 && i < cg->n_leaves; i++) {
                int fd = openat(cg->leaves[i].fd, "tasks", O_WRONLY | O_CLOEXEC);
                if (fd < 0) {
                        wh_cgroup_join_release(join);
                        return wh_err_set(err, errno, "cgroup", "cannot open %s/tasks",
                                          cg->leaves[i].path);
                }
                join->task_fds[join->n_task_fds++] = fd;
        }
        return 0;
}

int wh_cgroup_join_self(const struct wh_cgroup_join *join)
{
        for (size_t i = 0; i < join->n_task_fds; i++) {
                ssize_t n;
                do
                        n = write(join->task_fds[i], "0", 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        return -1;
        }
        return 0;
}

void wh_cgroup_join_release(struct wh_cgroup_join *join)
{
        if (join->clone_into_fd >= 0)
                close(join->clone_into_fd);
        join->clone_into_fd = -1;
        for (size_t i = 0; i < join->n_task_fds; i++)
                close(join->task_fds[i]);
        join->n_task_fds = 0;
}
