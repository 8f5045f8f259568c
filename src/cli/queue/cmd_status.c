/* whiskers status: queue depth by state and the live workers. */
#include "cli/exit_codes.h"
#include "cli/queue/args.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <jansson.h>
#include <whiskers/queue.h>

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers status [OPTIONS]\n"
                "\n"
                "Jobs by state (ready, waiting for a retry, running, done, dead), how many\n"
                "workers have sent a heartbeat recently, and the sink's outbox: results waiting\n"
                "for delivery and deliveries that failed for good ('whiskers results\n"
                "--undelivered' lists them, 'whiskers results --redeliver' queues them again).\n"
                "The counts are cheap at any store size: kept by the store, not counted.\n"
                "\n"
                "Options:\n"
                "  --db URL        the job store (default $WHISKERS_DB, else whiskers.db)\n"
                "  --stale-ms N    a worker silent this long is not live (default 30000, the\n"
                "                  default lease)\n"
                "  --json          print one JSON object\n"
                "  -h, --help      show this help\n"
                "\n"
                "Exit status: 0 shown; 1 the store does not exist (nothing is created) or\n"
                "failed; 2 bad usage.\n");
}

int cmd_status(int argc, char **argv)
{
        const char *db = db_url_default();
        uint32_t stale = 30000;
        bool json = false;
        const struct opt opts[] = {
            {"--db", OPT_STR, &db, 0},
            {"--stale-ms", OPT_U32, &stale, 86400000},
            {"--json", OPT_FLAG, &json, 0},
            {NULL, OPT_FLAG, NULL, 0},
        };
        size_t npos;
        int p = parse_opts(argc, argv, opts, NULL, 0, &npos);
        if (p != 0) {
                if (p > 0)
                        usage(stdout);
                return p > 0 ? WH_EXIT_OK : WH_EXIT_USAGE;
        }
        struct wh_queue *q = NULL;
        struct wh_queue_stats s;
        struct wh_err err;
        if (wh_queue_open_existing(db, &q, &err) < 0 || wh_queue_stats(q, stale, &s, &err) < 0) {
                fprintf(stderr, "whiskers status: %s\n", err.msg);
                wh_queue_close(q);
                return err.kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        }
        const char *backend = wh_queue_backend(q);
        if (json) {
                json_t *o = json_pack(
                    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}}", "backend", backend,
                    "ready", (json_int_t)s.ready, "delayed", (json_int_t)s.delayed, "running",
                    (json_int_t)s.running, "done", (json_int_t)s.done, "dead", (json_int_t)s.dead,
                    "live_workers", (json_int_t)s.live_workers, "deliveries", "pending",
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
                       "running       %llu\n"
                       "done          %llu\n"
                       "dead          %llu\n"
                       "live workers  %llu\n"
                       "to deliver    %llu\n"
                       "undeliverable %llu\n",
                       backend, (unsigned long long)s.ready, (unsigned long long)s.delayed,
                       (unsigned long long)s.running, (unsigned long long)s.done,
                       (unsigned long long)s.dead, (unsigned long long)s.live_workers,
                       (unsigned long long)s.deliveries_pending,
                       (unsigned long long)s.deliveries_failed);
        }
        wh_queue_close(q);
        return WH_EXIT_OK;
}
