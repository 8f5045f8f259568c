/* whiskers results: list stored results, dead letters (--dead), deliveries
 * the sink does not have yet (--undelivered), or re-queue failed
 * deliveries (--redeliver). */
#include "cli/exit_codes.h"
#include "base/size.h"
#include "cli/queue/store_option.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <time.h>
#include <whiskers/queue.h>

struct args {
        const char *db, *tenant, *after, *job;
        uint32_t limit;
        bool json, dead, wait, undelivered, again;
};

#define AT(field) offsetof(struct args, field)
static const struct cli_option options[] = {
    QUEUE_DB_OPTION(struct args, db),
    {CLI_STR, "tenant", .metavar = "T", .offset = AT(tenant), .help = "only this tenant's"},
    {CLI_STR, "after", .metavar = "ID", .offset = AT(after),
     .help = "only results (or, with --dead, jobs) with a larger id: paging"},
    {CLI_U32, "limit", .metavar = "N", .offset = AT(limit), .max = 100000,
     .help = "at most N (default 100)"},
    {CLI_FLAG, "dead", .offset = AT(dead),
     .help = "list the dead letter table instead: jobs that failed for good, with their last "
             "status record"},
    {CLI_FLAG, "undelivered", .offset = AT(undelivered),
     .help = "list results not delivered to the sink (worker --sink): pending ones (waiting "
             "for an attempt or a retry) and failed ones (the attempts ran out), with the last "
             "error"},
    {CLI_FLAG, "redeliver", .offset = AT(again),
     .help = "queue failed deliveries again, attempts reset: all of them, or --tenant T's, or "
             "job JOB's (--job JOB); any worker with a sink delivers them. Prints how many"},
    {CLI_STR, "job", .metavar = "JOB", .offset = AT(job),
     .help = "with --redeliver: only this job's result"},
    {CLI_FLAG, "wait", .offset = AT(wait),
     .help = "first wait until no job is queued, waiting for a retry or running (polls the "
             "store; Ctrl-C stops)"},
    {CLI_FLAG, "json", .offset = AT(json), .help = "print JSON (an array)"},
    {0},
};

/* Print JSON rendered by the queue (render.c) and free it. */
static int print_json(int rendered, char **text)
{
        if (rendered < 0)
                return -1;
        printf("%s\n", *text);
        free(*text);
        return 0;
}

static int list_results(struct wh_queue *q, const struct wh_result_filter *f, bool json,
                        struct wh_err *err)
{
        struct wh_result_row *rows;
        size_t n;
        if (wh_queue_results(q, f, &rows, &n, err) < 0)
                return -1;
        if (json) {
                char *text = NULL;
                if (print_json(wh_result_rows_json(rows, n, &text, err), &text) < 0) {
                        wh_result_rows_free(rows, n);
                        return -1;
                }
        } else {
                if (n)
                        printf("%-7s %-7s %-18s %-20s %-16s %-10s %s\n", "RESULT", "JOB", "OUTCOME",
                               "CREATED", "WORKER", "KIND", "REFERENCE");
                for (size_t i = 0; i < n; i++) {
                        char t[32], outcome[64];
                        wh_queue_time_text(rows[i].created_ms, t);
                        if (rows[i].reused_from)
                                snprintf(outcome, sizeof(outcome), "%s (=%lld)", rows[i].outcome,
                                         (long long)rows[i].reused_from);
                        else
                                snprintf(outcome, sizeof(outcome), "%s", rows[i].outcome);
                        printf("%-7lld %-7lld %-18s %-20s %-16s %-10s %s\n",
                               (long long)rows[i].result_id, (long long)rows[i].job_id, outcome, t,
                               rows[i].worker ? rows[i].worker : "-",
                               wh_job_kind_name(rows[i].kind),
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
        char *text = NULL;
        int rc = json ? print_json(wh_dead_rows_json(rows, n, &text, err), &text) : 0;
        for (size_t i = 0; !json && i < n; i++) {
                char t[32];
                wh_queue_time_text(rows[i].created_ms, t);
                printf("job %lld  %s  %s %s  attempts %u  %s\n  %s\n", (long long)rows[i].job_id,
                       rows[i].tenant, wh_job_kind_name(rows[i].kind), rows[i].normaliser,
                       rows[i].attempts, t, rows[i].last_status_json);
        }
        wh_dead_rows_free(rows, n);
        return rc;
}

static int list_undelivered(struct wh_queue *q, const struct wh_result_filter *f, bool json,
                            struct wh_err *err)
{
        struct wh_delivery_row *rows;
        size_t n;
        if (wh_queue_undelivered(q, f, &rows, &n, err) < 0)
                return -1;
        char *text = NULL;
        int rc = json ? print_json(wh_delivery_rows_json(rows, n, &text, err), &text) : 0;
        if (!json && n)
                printf("%-7s %-7s %-9s %-8s %-20s %-6s %s\n", "RESULT", "JOB", "STATE", "ATTEMPTS",
                       "UPDATED", "HTTP", "LAST ERROR");
        for (size_t i = 0; !json && i < n; i++) {
                const struct wh_delivery_row *r = &rows[i];
                char t[32];
                wh_queue_time_text(r->updated_ms, t);
                printf("%-7lld %-7lld %-9s %-8u %-20s %-6d %s\n", (long long)r->result_id,
                       (long long)r->job_id, wh_delivery_state_name(r->state), r->attempts, t,
                       r->http_status, r->last_error ? r->last_error : "-");
        }
        wh_delivery_rows_free(rows, n);
        return rc;
}

static int redeliver(struct wh_queue *q, const char *tenant, int64_t job, bool json,
                     struct wh_err *err)
{
        size_t n;
        if (wh_queue_redeliver(q, tenant, job, &n, err) < 0)
                return -1;
        if (json)
                printf("{\"requeued\": %zu}\n", n);
        else
                printf("%zu failed deliveries queued again\n", n);
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

static int cmd_results(void *args, int argc, char **argv)
{
        (void)argc, (void)argv;
        struct args *a = args;
        int rc;
        const char *db = a->db, *tenant = a->tenant, *after = a->after, *job = a->job;
        bool json = a->json, dead = a->dead, wait = a->wait, undelivered = a->undelivered,
             again = a->again;
        struct wh_err err;
        uint64_t after_id = 0, job_id = 0;
        if (after && wh_parse_u64(after, &after_id, &err) < 0) {
                fprintf(stderr, "whiskers results: --after wants an id\n");
                return WH_EXIT_USAGE;
        }
        if ((int)dead + (int)undelivered + (int)again > 1 || (job && !again)) {
                fprintf(stderr, "whiskers results: --dead, --undelivered and --redeliver exclude "
                                "each other; --job goes with --redeliver\n");
                return WH_EXIT_USAGE;
        }
        if (job && (wh_parse_u64(job, &job_id, &err) < 0 || !job_id || job_id > INT64_MAX)) {
                fprintf(stderr, "whiskers results: --job wants a job id\n");
                return WH_EXIT_USAGE;
        }
        struct wh_result_filter f = {
            .tenant = tenant, .after_id = (int64_t)after_id, .limit = a->limit};
        struct wh_queue *q = NULL;
        if (wh_queue_open_existing(db, &q, &err) < 0 || (wait && wait_idle(q, &err) < 0))
                rc = -1;
        else if (again)
                rc = redeliver(q, tenant, (int64_t)job_id, json, &err);
        else if (undelivered)
                rc = list_undelivered(q, &f, json, &err);
        else
                rc = dead ? list_dead(q, &f, json, &err) : list_results(q, &f, json, &err);
        return queue_exit("results", q, rc < 0, &err);
}

const struct cli_command cmd_results_cli = {
    .name = "results",
    .head = "Usage: whiskers results [OPTIONS]\n"
            "\n"
            "List stored results, oldest first: id, job, outcome, when, worker, the job's kind\n"
            "(normaliser or boefje) and what it ran.\n"
            "A reused result names the result it reuses. 'whiskers show JOB' prints one\n"
            "with its output.\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Exit status: 0 listed or re-queued (maybe nothing); 1 the store does not exist\n"
            "(nothing is created) or failed; 2 bad usage.\n",
    .options = options,
    .args_size = sizeof(struct args),
    .defaults = &(const struct args){.db = QUEUE_DB_DEFAULT, .limit = 100},
    .run = cmd_results,
};
