/* wh_qerr: how every file of the queue makes an error (qerr.c). */
#ifndef WH_QUEUE_QERR_H
#define WH_QUEUE_QERR_H

#include <whiskers/error.h>

/* Set err with stage "queue", `code` as its errnum and the kind that code
 * stands for, without appending strerror: the messages here already say
 * what happened in the database's words. */
int wh_qerr(struct wh_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
