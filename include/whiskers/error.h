/* Errors as values.
 *
 * Every fallible function returns an int (< 0 on failure) and fills a
 * `struct wh_err` the caller owns. Only main() turns an error into an exit.
 * `stage` names the step that failed ("mount", "seccomp", "parse-args"...):
 * it becomes the `stage` of a sandbox_error status record. */
#ifndef WHISKERS_ERROR_H
#define WHISKERS_ERROR_H

#include <stdarg.h>

#define WH_ERR_MSG_MAX 512

struct wh_err {
        int errnum;        /* errno at the failure, 0 if none */
        const char *stage; /* static string, never freed */
        char msg[WH_ERR_MSG_MAX];
};

/* Fill `err` and return -1, so call sites can `return wh_err_set(...)`.
 * The message gets ": strerror(errnum)" appended when errnum != 0. */
int wh_err_set(struct wh_err *err, int errnum, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int wh_err_setv(struct wh_err *err, int errnum, const char *stage, const char *fmt, va_list ap);

/* Prefix an existing message with more context ("loading policy: ..."). */
int wh_err_prefix(struct wh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void wh_err_clear(struct wh_err *err);

#endif
