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
        char raw_digest[WH_DIGEST_MAX];
        void *raw;
        size_t raw_len;
};

void wh_slot_io_clear(struct slot *s);

/* The slot's store handle, opened on first use. */
int wh_slot_queue(struct slot *s, struct wh_err *err);
/* The raw input; valid until the next call. ENOENT: not in the store. */
int wh_slot_raw(struct slot *s, const char *digest, const void **data, size_t *len,
                struct wh_err *err);
/* Set t->reused_from when an earlier ok result has t's key. */
int wh_slot_dedup(struct slot *s, struct task *t, struct wh_err *err);

/* {"status":STATUS,"stage":...,"message":...,"worker":...}, malloc'd. */
char *wh_worker_status(const struct wh_worker *w, const char *status, const struct wh_err *err);
int64_t wh_mono_us(void);

#endif
