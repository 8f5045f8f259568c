/* Scope-bound cleanup, as in crun and systemd.
 *
 *   cleanup_free char *buf = malloc(n);   freed when buf leaves scope
 *   cleanup_close int fd = open(...);     closed when fd leaves scope (if >= 0)
 *   cleanup_closedir DIR *d = opendir(.); closed when d leaves scope (if not NULL)
 *   cleanup_json json_t *j = json_...();   one reference dropped when j leaves scope
 *   return steal_pointer(&buf);           hand ownership on; the cleanup sees NULL
 *
 * Error paths stay one `return` long and leak nothing. */
#ifndef WH_BASE_CLEANUP_H
#define WH_BASE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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

#define cleanup_free     __attribute__((cleanup(wh_freep)))
#define cleanup_close    __attribute__((cleanup(wh_closep)))
#define cleanup_fclose   __attribute__((cleanup(wh_fclosep)))
#define cleanup_closedir __attribute__((cleanup(wh_closedirp)))
#define cleanup_json     __attribute__((cleanup(wh_json_decrefp)))

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
