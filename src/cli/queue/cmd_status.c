/* whiskers status: queue depth by state and the live workers. */
#include "cli/exit_codes.h"
#include "cli/queue/store_option.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <jansson.h>
#include <whiskers/queue.h>

struct args {
        const char *db;
        uint32_t stale;
        bool json;
};

static const struct cli_option options[] = {
    QUEUE_DB_OPTION(struct args, db),
    {CLI_U32, "stale-ms", .metavar = "N", .offset = offsetof(struct args, stale), .max = 86400000,
     .help = "a worker silent this long is not live (default 30000, the default lease)"},
    {CLI_FLAG, "json", .offset = offsetof(struct args, json), .help = "print one JSON object"},
    {0},
};

static int cmd_status(void *args, int argc, char **argv)
{
        (void)argc, (void)argv;
        struct args *a = args;
        const char *db = a->db;
        uint32_t stale = a->stale;
        bool json = a->json;
        struct wh_queue *q = NULL;
        struct wh_queue_stats s;
        struct wh_err err;
        if (wh_queue_open_existing(db, &q, &err) < 0 || wh_queue_stats(q, stale, &s, &err) < 0)
                return queue_exit("status", q, true, &err);
        const char *backend = wh_queue_backend(q);
        /* One statement reads both: the boefje jobs are a part. */
        uint64_t normalisers = s.running > s.running_boefje ? s.running - s.running_boefje : 0;
        if (json) {
                json_t *o = json_pack(
                    "{s:s, s:I, s:I, s:I, s:{s:I, s:I}, s:I, s:I, s:I, s:{s:I, s:I}}", "backend",
                    backend, "ready", (json_int_t)s.ready, "delayed", (json_int_t)s.delayed,
                    "running", (json_int_t)s.running, "running_by_kind", "normaliser",
                    (json_int_t)normalisers, "boefje", (json_int_t)s.running_boefje, "done",
                    (json_int_t)s.done, "dead", (json_int_t)s.dead, "live_workers",
                    (json_int_t)s.live_workers, "deliveries", "pending",
                    (json_int_t)s.deliveries_pending, "failed", (json_int_t)s.deliveries_failed);
                char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (text)
                        printf("%s\n", text);
                free(text);
                json_decref(o);
        } else {
                printf("store         %s\n"
                       "ready         %llu\n"
                       "retry later   %llu\n"
                       "running       %llu (%llu boefje)\n"
                       "done          %llu\n"
                       "dead          %llu\n"
                       "live workers  %llu\n"
                       "to deliver    %llu\n"
                       "undeliverable %llu\n",
                       backend, (unsigned long long)s.ready, (unsigned long long)s.delayed,
                       (unsigned long long)s.running, (unsigned long long)s.running_boefje,
                       (unsigned long long)s.done, (unsigned long long)s.dead,
                       (unsigned long long)s.live_workers, (unsigned long long)s.deliveries_pending,
                       (unsigned long long)s.deliveries_failed);
        }
        return queue_exit("status", q, false, NULL);
}

const struct cli_command cmd_status_cli = {
    .name = "status",
    .head = "Usage: whiskers status [OPTIONS]\n"
            "\n"
            "Jobs by state (ready, waiting for a retry, running, done, dead; the running\n"
            "ones also by kind: normaliser or boefje), how many\n"
            "workers have sent a heartbeat recently, and the sink's outbox: results waiting\n"
            "for delivery and deliveries that failed for good ('whiskers results\n"
            "--undelivered' lists them, 'whiskers results --redeliver' queues them again).\n"
            "The counts are cheap at any store size: kept by the store, not counted.\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Exit status: 0 shown; 1 the store does not exist (nothing is created) or\n"
            "failed; 2 bad usage.\n",
    .options = options,
    .args_size = sizeof(struct args),
    .defaults = &(const struct args){.db = QUEUE_DB_DEFAULT, .stale = 30000},
    .run = cmd_status,
};
