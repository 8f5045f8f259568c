/* Scope-bound cleanup, as in crun and systemd.
 *
 *   cleanup_free char *buf = malloc(n);   freed when buf leaves scope
 *   cleanup_close int fd = open(...);     closed when fd leaves scope (if >= 0)
 *   cleanup_closedir DIR *d = opendir(.); closed when d leaves scope (if not NULL)
 *   cleanup_json json_t *j = json_...();   one reference dropped when j leaves scope
 *   cleanup_child pid_t pid = fork();     killed and reaped when pid leaves scope (if > 0);
 *                                         wh_child_wait() reaps it and gives it up
 *   return steal_pointer(&buf);           hand ownership on; the cleanup sees NULL
 *
 * Error paths stay one `return` long and leak nothing. */
#ifndef WH_BASE_CLEANUP_H
#define WH_BASE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void wh_freep(void *p)
{
        free(*(void **)p);
}

static inline void wh_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void wh_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void wh_closedirp(DIR **d)
{
        if (*d) {
                int saved = errno;
                closedir(*d);
                errno = saved;
        }
}

static inline void wh_json_decrefp(json_t **j)
{
        json_decref(*j);
}

/* A child the scope still owns is one whose outcome no longer matters (an
 * error path, a deadline passed): SIGKILL, then reap it so no zombie stays. */
static inline void wh_child_killp(pid_t *pid)
{
        if (*pid > 0) {
                int saved = errno;
                kill(*pid, SIGKILL);
                while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                errno = saved;
        }
}

/* Reaps *pid (retrying on EINTR) into *status and gives it up: the cleanup
 * then kills nothing. -1 with errno if waitpid failed. */
static inline int wh_child_wait(pid_t *pid, int *status)
{
        int s = 0;
        pid_t r;
        while ((r = waitpid(*pid, &s, 0)) < 0 && errno == EINTR)
                ;
        *pid = -1;
        if (status)
                *status = s;
        return r < 0 ? -1 : 0;
}

#define cleanup_free     __attribute__((cleanup(wh_freep)))
#define cleanup_close    __attribute__((cleanup(wh_closep)))
#define cleanup_fclose   __attribute__((cleanup(wh_fclosep)))
#define cleanup_closedir __attribute__((cleanup(wh_closedirp)))
#define cleanup_json     __attribute__((cleanup(wh_json_decrefp)))
#define cleanup_child    __attribute__((cleanup(wh_child_killp)))

static inline void *wh_steal_pointer(void *pp)
{
        void **p = pp;
        void *v = *p;
        *p = NULL;
        return v;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))wh_steal_pointer(pp))

static inline int steal_fd(int *fd)
{
        int v = *fd;
        *fd = -1;
        return v;
}

#endif
