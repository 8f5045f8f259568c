/* whiskers results: list stored results, or dead letters (--dead). */
#include "cli/exit_codes.h"
#include "cli/queue/args.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <jansson.h>
#include <time.h>
#include <whiskers/queue.h>

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers results [OPTIONS]\n"
                "\n"
                "List stored results, oldest first: id, job, outcome, when, worker, normaliser.\n"
                "A reused result names the result it reuses. 'whiskers show JOB' prints one\n"
                "with its output.\n"
                "\n"
                "Options:\n"
                "  --db URL        the job store (default $WHISKERS_DB, else whiskers.db)\n"
                "  --tenant T      only this tenant's\n"
                "  --after ID      only results (or, with --dead, jobs) with a larger id: paging\n"
                "  --limit N       at most N (default 100)\n"
                "  --dead          list the dead letter table instead: jobs that failed for good,\n"
                "                  with their last status record\n"
                "  --wait          first wait until no job is queued, waiting for a retry or\n"
                "                  running (polls the store; Ctrl-C stops)\n"
                "  --json          print JSON (an array)\n"
                "  -h, --help      show this help\n"
                "\n"
                "Exit status: 0 listed (maybe nothing); 1 the store failed; 2 bad usage.\n");
}

static void when(int64_t ms, char out[32])
{
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list_results(struct wh_queue *q, const struct wh_result_filter *f, bool json,
                        struct wh_err *err)
{
        struct wh_result_row *rows;
        size_t n;
        if (wh_queue_results(q, f, &rows, &n, err) < 0)
                return -1;
        if (json) {
                char *text;
                if (wh_result_rows_json(rows, n, &text, err) < 0) {
                        wh_result_rows_free(rows, n);
                        return -1;
                }
                printf("%s\n", text);
                free(text);
        } else {
                if (n)
                        printf("%-7s %-7s %-18s %-20s %-16s %s\n", "RESULT", "JOB", "OUTCOME",
                               "CREATED", "WORKER", "NORMALISER");
                for (size_t i = 0; i < n; i++) {
                        char t[32], outcome[64];
                        when(rows[i].created_ms, t);
                        if (rows[i].reused_from)
                                snprintf(outcome, sizeof(outcome), "%s (=%lld)", rows[i].outcome,
                                         (long long)rows[i].reused_from);
                        else
                                snprintf(outcome, sizeof(outcome), "%s", rows[i].outcome);
                        printf("%-7lld %-7lld %-18s %-20s %-16s %s\n", (long long)rows[i].result_id,
                               (long long)rows[i].job_id, outcome, t,
                               rows[i].worker ? rows[i].worker : "-",
                               rows[i].normaliser ? rows[i].normaliser : "-");
                }
        }
        wh_result_rows_free(rows, n);
        return 0;
}

static int list_dead(struct wh_queue *q, const struct wh_result_filter *f, bool json,
                     struct wh_err *err)
{
        struct wh_dead_row *rows;
        size_t n;
        if (wh_queue_dead_letters(q, f, &rows, &n, err) < 0)
                return -1;
        json_t *arr = json ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
                char t[32];
                when(rows[i].created_ms, t);
                if (!json) {
                        printf("job %lld  %s  %s  attempts %u  %s\n  %s\n",
                               (long long)rows[i].job_id, rows[i].tenant, rows[i].normaliser,
                               rows[i].attempts, t, rows[i].last_status_json);
                        continue;
                }
                json_t *st = json_loads(rows[i].last_status_json, 0, NULL);
                json_array_append_new(
                    arr, json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:o}", "job_id",
                                   (json_int_t)rows[i].job_id, "tenant", rows[i].tenant,
                                   "normaliser", rows[i].normaliser, "attempts",
                                   (int)rows[i].attempts, "reason", rows[i].reason, "created", t,
                                   "last_status", st ? st : json_string(rows[i].last_status_json)));
        }
        if (json) {
                char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (text)
                        printf("%s\n", text);
                free(text);
                json_decref(arr);
        }
        wh_dead_rows_free(rows, n);
        return 0;
}

/* Until nothing is queued, delayed or running. */
static int wait_idle(struct wh_queue *q, struct wh_err *err)
{
        for (;;) {
                struct wh_queue_stats s;
                if (wh_queue_stats(q, 30000, &s, err) < 0)
                        return -1;
                if (!s.ready && !s.delayed && !s.running)
                        return 0;
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
        }
}

int cmd_results(int argc, char **argv)
{
        const char *db = db_url_default(), *tenant = NULL, *after = NULL;
        uint32_t limit = 100;
        bool json = false, dead = false, wait = false;
        const struct opt opts[] = {
            {"--db", OPT_STR, &db, 0},       {"--tenant", OPT_STR, &tenant, 0},
            {"--after", OPT_STR, &after, 0}, {"--limit", OPT_U32, &limit, 100000},
            {"--dead", OPT_FLAG, &dead, 0},  {"--wait", OPT_FLAG, &wait, 0},
            {"--json", OPT_FLAG, &json, 0},  {NULL, OPT_FLAG, NULL, 0},
        };
        size_t npos;
        int p = parse_opts(argc, argv, opts, NULL, 0, &npos);
        if (p != 0) {
                if (p > 0)
                        usage(stdout);
                return p > 0 ? WH_EXIT_OK : WH_EXIT_USAGE;
        }
        struct wh_err err;
        uint64_t after_id = 0;
        if (after && wh_parse_u64(after, &after_id, &err) < 0) {
                fprintf(stderr, "whiskers results: --after wants an id\n");
                return WH_EXIT_USAGE;
        }
        struct wh_result_filter f = {
            .tenant = tenant, .after_id = (int64_t)after_id, .limit = limit};
        struct wh_queue *q = NULL;
        if (wh_queue_open(db, &q, &err) < 0 || (wait && wait_idle(q, &err) < 0) ||
            (dead ? list_dead(q, &f, json, &err) : list_results(q, &f, json, &err)) < 0) {
                fprintf(stderr, "whiskers results: %s\n", err.msg);
                wh_queue_close(q);
                return err.errnum == EINVAL ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        }
        wh_queue_close(q);
        return WH_EXIT_OK;
}
