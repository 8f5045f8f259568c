/* Structured logs: one JSON object per line,
 *   {"ts":"2024-05-01T12:00:00.123Z","level":"info","worker":"host:42","msg":"...","job":7}
 * written with a single write(2) so lines from several threads never mix.
 * Process-wide: wh_wlog_setup() once before the threads start. */
#ifndef WH_WORKER_LOG_H
#define WH_WORKER_LOG_H

#include <stdint.h>
#include <whiskers/worker.h>

/* fd -1 silences the log; worker may be NULL. */
void wh_wlog_setup(int fd, enum wh_log_level min, const char *worker);

/* job 0: the line is not about one job. */
void wh_wlog(enum wh_log_level level, int64_t job, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
