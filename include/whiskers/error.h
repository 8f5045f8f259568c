/* Errors as values.
 *
 * Every fallible function returns an int (< 0 on failure) and fills a
 * `struct wh_err` the caller owns. Only main() turns an error into an exit.
 * `stage` names the step that failed ("mount", "seccomp", "parse-args"...):
 * it becomes the `stage` of a sandbox_error status record.
 *
 * `kind` says what the caller can do about the error; decisions (reject,
 * retry, dead-letter, exit code) read it and never `errnum`, which is only
 * the OS's words for the message: a stray EINVAL from a system call deep in
 * a load is a failure of the host (internal), not invalid input. The code
 * that makes the error knows which it is and says so with wh_err_setk(). */
#ifndef WHISKERS_ERROR_H
#define WHISKERS_ERROR_H

#include <stdarg.h>

#define WH_ERR_MSG_MAX 512

enum wh_err_kind {
        WH_ERR_INTERNAL = 0, /* the host or whiskers failed; another try may pass */
        WH_ERR_INVALID,      /* the input (argument, document, meta) can never pass */
        WH_ERR_NOT_FOUND,    /* what was named does not exist */
        WH_ERR_TRANSIENT,    /* busy, unreachable or timed out: try again later */
        WH_ERR_FENCED,       /* another owner took the work over: drop it */
        WH_ERR_LIMIT,        /* larger than allowed, or out of space */
        WH_ERR_CANCELLED,    /* asked to stop */
};

struct wh_err {
        enum wh_err_kind kind;
        int errnum;        /* errno at the failure, 0 if none: for the message */
        const char *stage; /* static string, never freed */
        char msg[WH_ERR_MSG_MAX];
};

/* Fill `err` and give -1, so call sites can `return wh_err_set(...)`:
 *   wh_err_set(err, errnum, stage, fmt, ...)
 *   wh_err_setk(err, kind, errnum, stage, fmt, ...)
 * The message gets ": strerror(errnum)" appended when errnum != 0.
 * wh_err_set's kind is WH_ERR_NOT_FOUND for ENOENT (the OS says the path
 * named is not there), else WH_ERR_INTERNAL; wh_err_setk names another.
 * They are macros so that the compiler sees the -1 where the error is made:
 * a caller's `if (parse(&x) < 0) return -1;` then proves x set on success,
 * which gcc -O3 cannot see through a call (-Wmaybe-uninitialized). */
#define wh_err_set(err, ...)                                                                       \
        ({                                                                                         \
                wh_err_fill((err), __VA_ARGS__);                                                   \
                -1;                                                                                \
        })
#define wh_err_setk(err, kind, ...)                                                                \
        ({                                                                                         \
                wh_err_fillk((err), (kind), __VA_ARGS__);                                          \
                -1;                                                                                \
        })
void wh_err_fill(struct wh_err *err, int errnum, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void wh_err_fillk(struct wh_err *err, enum wh_err_kind kind, int errnum, const char *stage,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int wh_err_setv(struct wh_err *err, int errnum, const char *stage, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
int wh_err_setkv(struct wh_err *err, enum wh_err_kind kind, int errnum, const char *stage,
                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Prefix an existing message with more context ("loading policy: ..."). */
int wh_err_prefix(struct wh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void wh_err_clear(struct wh_err *err);

#endif
