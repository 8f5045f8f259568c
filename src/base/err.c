#include <whiskers/error.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int wh_err_setkv(struct wh_err *err, enum wh_err_kind kind, int errnum, const char *stage,
                 const char *fmt, va_list ap)
{
        if (!err)
                return -1;
        err->kind = kind;
        err->errnum = errnum;
        err->stage = stage;
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (n < 0)
                n = 0;
        if (errnum && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
        return -1;
}

/* What a system call's errno alone may say: ENOENT, that the path named is
 * not there. Any other errno (EINVAL above all) says nothing about the
 * input and stays internal. */
static enum wh_err_kind kind_of_errno(int errnum)
{
        return errnum == ENOENT ? WH_ERR_NOT_FOUND : WH_ERR_INTERNAL;
}

int wh_err_setv(struct wh_err *err, int errnum, const char *stage, const char *fmt, va_list ap)
{
        return wh_err_setkv(err, kind_of_errno(errnum), errnum, stage, fmt, ap);
}

void wh_err_fill(struct wh_err *err, int errnum, const char *stage, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        wh_err_setkv(err, kind_of_errno(errnum), errnum, stage, fmt, ap);
        va_end(ap);
}

void wh_err_fillk(struct wh_err *err, enum wh_err_kind kind, int errnum, const char *stage,
                  const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        wh_err_setkv(err, kind, errnum, stage, fmt, ap);
        va_end(ap);
}

int wh_err_prefix(struct wh_err *err, const char *fmt, ...)
{
        if (!err)
                return -1;
        char prefix[WH_ERR_MSG_MAX], old[WH_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        /* Truncation is fine: the message is for people, the stage is data
         * (the result is looked at, which tells gcc it is meant). */
        int n = snprintf(err->msg, sizeof(err->msg), "%s", prefix);
        if (n >= 0 && (size_t)n < sizeof(err->msg) &&
            snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", old) < 0)
                err->msg[n] = '\0';
        return -1;
}

void wh_err_clear(struct wh_err *err)
{
        if (!err)
                return;
        err->kind = WH_ERR_INTERNAL;
        err->errnum = 0;
        err->stage = NULL;
        err->msg[0] = '\0';
}
