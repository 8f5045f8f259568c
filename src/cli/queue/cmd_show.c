/* whiskers show JOB: one job's state, attempts, result and output. */
#include "cli/exit_codes.h"
#include "base/size.h"
#include "cli/queue/store_option.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <jansson.h>
#include <whiskers/queue.h>

struct args {
        const char *db;
        bool json;
};

static const struct cli_option options[] = {
    QUEUE_DB_OPTION(struct args, db),
    {CLI_FLAG, "json", .offset = offsetof(struct args, json),
     .help = "print one JSON object (output and provenance as JSON)"},
    {0},
};

static void print_json_field(const char *label, const char *text)
{
        if (!text)
                return;
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        char *pretty = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        printf("%s:\n%s\n", label, pretty ? pretty : text);
        free(pretty);
        json_decref(v);
}

/* A boefje job's own limits, as its meta keeps them (whiskers submit
 * --boefje): "wall_ms 500, net_max_bytes 1024". */
static void print_limits(const struct wh_job_info *j)
{
        if (j->kind != WH_JOB_BOEFJE)
                return;
        json_t *meta = j->meta_json ? json_loads(j->meta_json, 0, NULL) : NULL;
        json_t *limits = json_object_get(meta, "limits"), *v;
        const char *name, *sep = "";
        if (json_object_size(limits))
                printf("  limits      ");
        json_object_foreach(limits, name, v)
        {
                printf("%s%s %lld", sep, name, (long long)json_integer_value(v));
                sep = ", ";
        }
        if (json_object_size(limits))
                printf(" (the worker's where smaller)\n");
        json_decref(meta);
}

static void print_text(const struct wh_job_info *j)
{
        printf("job %lld: %s\n", (long long)j->id, wh_job_state_name(j->state));
        /* The reference under its kind's name: "normaliser x" or "boefje x". */
        printf("  tenant      %s\n  %-11s %s\n  input       %s%s%s%s\n", j->tenant,
               wh_job_kind_name(j->kind), j->normaliser, j->raw_digest, j->mime ? " (" : "",
               j->mime ? j->mime : "", j->mime ? ")" : "");
        print_limits(j);
        printf("  attempt     %u of %u\n", j->attempt, j->max_attempts);
        if (j->lost_leases)
                printf("  lost        %u of %u workers running it (lease expired)\n",
                       j->lost_leases, j->max_lost_leases);
        if (j->lease_owner)
                printf("  leased by   %s\n", j->lease_owner);
        if (j->result) {
                printf("  outcome     %s (result %lld by %s)\n", j->result->outcome,
                       (long long)j->result->result_id,
                       j->result->worker ? j->result->worker : "-");
                if (j->result->reused_from)
                        printf("  reuses      result %lld\n", (long long)j->result->reused_from);
        }
        if (j->has_delivery) {
                printf("  delivery    %s after %u attempts",
                       wh_delivery_state_name(j->delivery_state), j->delivery_attempts);
                if (j->delivery_http_status)
                        printf(", HTTP %d", j->delivery_http_status);
                if (j->delivery_error)
                        printf(": %s", j->delivery_error);
                printf("\n");
        }
        if (j->dead_reason)
                printf("  dead        %s\n", j->dead_reason);
        print_json_field("last status", j->last_status_json);
        print_json_field("provenance", j->provenance_json);
        print_json_field("output", j->output_json);
}

static int cmd_show(void *args, int argc, char **argv)
{
        struct args *a = args;
        int rc;
        const char *db = a->db;
        bool json = a->json;
        struct wh_err err;
        uint64_t id;
        if (argc != 1 || wh_parse_u64(argv[0], &id, &err) < 0 || id == 0 || id > INT64_MAX)
                return cli_usage_error("show", "expected one job id");
        struct wh_queue *q = NULL;
        struct wh_job_info *info = NULL;
        char *text = NULL;
        rc = WH_EXIT_OK;
        if (wh_queue_open_existing(db, &q, &err) < 0 ||
            wh_queue_show(q, (int64_t)id, &info, &err) < 0 ||
            (json && wh_job_info_json(info, &text, &err) < 0)) {
                fprintf(stderr, "whiskers show: %s\n", err.msg);
                /* Not found by the open is a missing store, not a missing job. */
                bool no_job = q && err.kind == WH_ERR_NOT_FOUND;
                rc = no_job || err.kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        } else if (json) {
                printf("%s\n", text);
        } else {
                print_text(info);
        }
        free(text);
        wh_job_info_free(info);
        wh_queue_close(q);
        return rc;
}

const struct cli_command cmd_show_cli = {
    .name = "show",
    .head = "Usage: whiskers show [OPTIONS] JOB\n"
            "\n"
            "Show job JOB (a number from 'whiskers submit'): its state (queued, running,\n"
            "done, dead), tenant, normaliser, input, a boefje job's own limits, attempts,\n"
            "lease, the status record of\n"
            "its last failure, and when done its result: outcome, its delivery to the sink\n"
            "(pending, delivered or failed, attempts, last error), provenance and output\n"
            "(a reused result's output is the one it reuses).\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Exit status: 0 shown; 1 the store does not exist or failed (the message says\n"
            "which); 2 bad usage or no such job.\n",
    .options = options,
    .max_args = 1,
    .args_size = sizeof(struct args),
    .defaults = &(const struct args){.db = QUEUE_DB_DEFAULT},
    .run = cmd_show,
};
