#include <whiskers/error.h>

#include <stdio.h>
#include <string.h>

int wh_err_setv(struct wh_err *err, int errnum, const char *stage, const char *fmt, va_list ap)
{
        if (!err)
                return -1;
        err->errnum = errnum;
        err->stage = stage;
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (n < 0)
                n = 0;
        if (errnum && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
        return -1;
}

int wh_err_set(struct wh_err *err, int errnum, const char *stage, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        wh_err_setv(err, errnum, stage, fmt, ap);
        va_end(ap);
        return -1;
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
        /* Truncation is fine: the message is for people, the stage is data. */
        int n = snprintf(err->msg, sizeof(err->msg), "%s", prefix);
        if (n >= 0 && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", old);
        return -1;
}

void wh_err_clear(struct wh_err *err)
{
        if (!err)
                return;
        err->errnum = 0;
        err->stage = NULL;
        err->msg[0] = '\0';
}
