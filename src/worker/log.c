/* JSON-lines logging for the worker (see log.h). jansson does the string
 * escaping: messages carry error texts that may hold any byte. */
#include "worker/log.h"

#include "base/io.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_fd = -1;
static enum wh_log_level log_min = WH_LOG_INFO;
static char log_worker[128];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int wh_log_level_parse(const char *name)
{
        for (int i = 0; i < 4; i++)
                if (strcmp(name, level_names[i]) == 0)
                        return i;
        return -1;
}

void wh_wlog_setup(int fd, enum wh_log_level min, const char *worker)
{
        log_fd = fd;
        log_min = min;
        snprintf(log_worker, sizeof(log_worker), "%s", worker ? worker : "");
}

static void timestamp(char out[32])
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void wh_wlog(enum wh_log_level level, int64_t job, const char *fmt, ...)
{
        if (log_fd < 0 || level < log_min)
                return;
        char msg[1024], ts[32];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        timestamp(ts);
        json_t *jmsg = json_string(msg);
        if (!jmsg) {
                /* Not UTF-8 (a hostile file name in an error): keep the line,
                 * lose only the bytes that JSON cannot carry. */
                for (char *p = msg; *p; p++)
                        if ((unsigned char)*p >= 0x80)
                                *p = '?';
                jmsg = json_string(msg);
        }
        json_t *line = json_pack("{s:s, s:s, s:s, s:o}", "ts", ts, "level", level_names[level],
                                 "worker", log_worker, "msg", jmsg);
        if (line && job)
                json_object_set_new(line, "job", json_integer(job));
        char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(line);
        if (!text)
                return;
        size_t len = strlen(text);
        char *buf = realloc(text, len + 2);
        if (!buf) {
                free(text);
                return;
        }
        buf[len] = '\n';
        /* A log that cannot be written has nowhere to report it. */
        (void)wh_write_all(log_fd, buf, len + 1);
        free(buf);
}
