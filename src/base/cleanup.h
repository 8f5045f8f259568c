/* Scope-bound cleanup, as in crun and systemd.
 *
 *   cleanup_free char *buf = malloc(n);   freed when buf leaves scope
 *   cleanup_close int fd = open(...);     closed when fd leaves scope (if >= 0)
 *   return steal_pointer(&buf);           hand ownership on; the cleanup sees NULL
 *
 * Error paths stay one `return` long and leak nothing. */
#ifndef WH_BASE_CLEANUP_H
#define WH_BASE_CLEANUP_H

#include <errno.h>
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

#define cleanup_free   __attribute__((cleanup(wh_freep)))
#define cleanup_close  __attribute__((cleanup(wh_closep)))
#define cleanup_fclose __attribute__((cleanup(wh_fclosep)))

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
