/* A slot's resources and the store reads it makes (slot_io.c): its own
 * store handle and the last raw input (the normalisers are the worker's
 * pool's, pool.h); plus the status records the worker writes for failures that happen outside the
 * sandbox. */
#ifndef WH_WORKER_SLOT_IO_H
#define WH_WORKER_SLOT_IO_H

#include "worker/core.h"

#include <signal.h>

/* Sent to a slot thread to interrupt a blocking call after setting its
 * cancel flag; the worker installs a handler that does nothing. */
#define WH_SLOT_WAKE_SIGNAL SIGUSR2

struct slot {
        struct wh_worker *w;
        pthread_t thread;
        volatile int cancel;
        struct wh_queue *q; /* opened on first use */
        char raw_digest[WH_DIGEST_BUF];
        void *raw;
        size_t raw_len;
};

void wh_slot_io_clear(struct slot *s);

/* The slot's store handle, opened on first use. */
int wh_slot_queue(struct slot *s, struct wh_err *err);

/* The largest raw input a prefetch returns: the rest is read when it runs.
 * A prefetch is for up to 16 jobs, so it holds at most 4 MiB of inputs. */
#define WH_PREFETCH_RAW_MAX (256 * 1024)

/* The raw input; valid until the next call. ENOENT: not in the store. */
int wh_slot_raw(struct slot *s, const char *digest, const void **data, size_t *len,
                struct wh_err *err);
/* Jobs to be run for tenant: wh_queue_prefetch on the slot's handle. */
int wh_slot_prefetch(struct slot *s, const char *tenant, struct wh_job_prefetch *jobs, size_t n,
                     struct wh_err *err);

/* {"status":STATUS,"stage":...,"message":...,"worker":...}, malloc'd. */
char *wh_worker_status(const struct wh_worker *w, const char *status, const struct wh_err *err);
int64_t wh_mono_us(void);

#endif
