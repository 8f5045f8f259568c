/* The queue's errors: each is made with an errno-style code in the
 * database's words (wh_qerr) and gets its kind here, in one table, so that
 * callers decide on the kind (wh_queue_err_is_transient, _is_fenced). */
#include "queue/qerr.h"

#include <errno.h>
#include <whiskers/queue.h>

static enum wh_err_kind kind_of(int code)
{
        switch (code) {
        case ECONNREFUSED:
        case ECONNRESET:
        case EBUSY:
        case EAGAIN:
        case ETIMEDOUT:
                return WH_ERR_TRANSIENT;
        case ESTALE:
                return WH_ERR_FENCED;
        case ENOENT:
                return WH_ERR_NOT_FOUND;
        case EINVAL:
        case ENOTSUP:
                return WH_ERR_INVALID;
        case EFBIG:
        case ENOSPC:
                return WH_ERR_LIMIT;
        default:
                return WH_ERR_INTERNAL;
        }
}

int wh_qerr(struct wh_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        wh_err_setkv(err, kind_of(code), 0, "queue", fmt, ap);
        va_end(ap);
        if (err)
                err->errnum = code;
        return -1;
}

bool wh_queue_err_is_transient(const struct wh_err *err)
{
        return err->kind == WH_ERR_TRANSIENT;
}

bool wh_queue_err_is_fenced(const struct wh_err *err)
{
        return err->kind == WH_ERR_FENCED;
}
