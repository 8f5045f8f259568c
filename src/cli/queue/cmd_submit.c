/* whiskers submit: store raw files and queue their jobs (jobs.h,
 * wh_submit). Thin: parse, read the files, call the library, print. */
#include "base/cleanup.h"
#include "base/io.h"
#include "cli/exit_codes.h"
#include "cli/queue/boefje_net_limits.h"
#include "cli/queue/store_option.h"
#include "cli/run_options.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>
#include <whiskers/contract.h>
#include <whiskers/queue.h>
#include <whiskers/jobs.h>

#define MAX_FILES 10000

struct args {
        const char *db, *tenant, *normaliser, *mime, *meta, *dir, *input_ooi;
        const char *boefje, *boefjes;
        struct cli_list net_allow;
        bool net_no_input;
        struct wh_boefje_limits limits;
        struct wh_package_source packages;
        int priority;
        uint32_t max_attempts;
        bool json;
};

#define AT(field) offsetof(struct args, field)
static const struct cli_option options[] = {
    QUEUE_DB_OPTION(struct args, db),
    {CLI_STR, "tenant", .metavar = "T", .offset = AT(tenant), .required = true,
     .help = "the organisation the files belong to (required)"},
    {CLI_STR, "normaliser", .metavar = "REF", .offset = AT(normaliser),
     .help = "the normaliser to run"},
    {CLI_STR, "mime", .metavar = "TYPE", .offset = AT(mime),
     .help = "the files' MIME type: routes to every normaliser consuming it when --normaliser "
             "is not given; added to the meta's \"mime_types\" when the meta has none"},
    {CLI_STR, "meta", .metavar = "FILE", .offset = AT(meta), .complete = CLI_FILE,
     .help = "the meta document (docs/contract.md \"Meta\"); default {}"},
    {CLI_STR, "input-ooi", .metavar = "PK", .offset = AT(input_ooi),
     .help = "the object the raw file is about, as a primary key such as "
             "'Hostname|internet|example.org' (sets the meta's \"input_ooi\" when it has none)"},
    {CLI_STR, "normalisers", .metavar = "DIR", .offset = AT(dir), .complete = CLI_DIR,
     .help = "where ids are looked up (default $WHISKERS_NORMALISERS, else "
             "examples/normalisers)"},
    {CLI_GROUP, .group = cli_package_options, .offset = AT(packages)},
    {CLI_INT, "priority", .metavar = "N", .offset = AT(priority), .max = 32767,
     .help = "higher runs first (-32768..32767, default 0)"},
    {CLI_U32, "max-attempts", .metavar = "N", .offset = AT(max_attempts), .max = 1000,
     .help = "tries before the dead letter table (default 5)"},
    {CLI_FLAG, "json", .offset = AT(json), .help = "print the queued jobs as JSON"},
    {CLI_SECTION, .help = "A boefje job (docs/boefjes.md, \"In the worker\"):\n"},
    {CLI_STR, "boefje", .metavar = "REF", .offset = AT(boefje),
     .help = "queue a boefje job on --input-ooi instead of RAWFILEs: a boefje directory (with "
             "'/', stored absolute) or the id of one under --boefjes"},
    {CLI_STR, "boefjes", .metavar = "DIR", .offset = AT(boefjes), .complete = CLI_DIR,
     .help = "where boefje ids are looked up (default $WHISKERS_BOEFJES, else "
             "examples/boefjes)"},
    {CLI_LIST, "net-allow", .metavar = "ITEM", .offset = AT(net_allow), .max = 16,
     .help = "the boefje may also reach ITEM (as 'whiskers scan --net-allow'; ${SETTING} is "
             "expanded by the worker; repeatable)"},
    {CLI_FLAG, "net-no-input", .offset = AT(net_no_input),
     .help = "not the input object's own address"},
    {CLI_SECTION, .help = "The boefje job's own limits, stored with it: each lowers the worker's "
                          "where smaller, never raises it (0: the worker's):\n"},
    {CLI_U64, "wall-ms", .metavar = "N", .offset = AT(limits.wall_ms), .max = INT64_MAX,
     .help = "wall-clock time, ms (the worker's: 300000)"},
    {CLI_SIZE, "memory", .metavar = "SIZE", .offset = AT(limits.memory_bytes), .max = INT64_MAX,
     .help = "memory, swap off (cgroup)"},
    {CLI_SIZE, "output-limit", .metavar = "SIZE", .offset = AT(limits.output_bytes),
     .max = INT64_MAX, .help = "bytes of the boefje's output (its raw files, base64-encoded)"},
    {CLI_GROUP, .group = cli_boefje_net_limit_options, .offset = AT(limits)},
    {0},
};

/* The meta document as stored: the file's, with the MIME type and the
 * input object added where it has none, checked. */
static int load_meta(const struct args *a, char **out, struct wh_err *err)
{
        cleanup_free char *text = NULL;
        size_t len = 2;
        if (a->meta && wh_read_file(a->meta, WH_META_MAX_BYTES, &text, &len, err) < 0)
                return -1;
        json_t *doc;
        if (wh_meta_check(text ? text : "{}", len, &doc, err) < 0)
                return a->meta ? wh_err_prefix(err, "%s", a->meta) : -1;
        if (a->mime && !json_object_get(doc, "mime_types"))
                json_object_set_new(doc, "mime_types", json_pack("[s]", a->mime));
        if (a->input_ooi && !json_object_get(doc, "input_ooi"))
                json_object_set_new(doc, "input_ooi",
                                    json_pack("{s:s%, s:s}", "object_type", a->input_ooi,
                                              strcspn(a->input_ooi, "|"), "primary_key",
                                              a->input_ooi));
        *out = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        if (!*out)
                return wh_err_set(err, ENOMEM, "submit", "out of memory");
        return wh_meta_check(*out, strlen(*out), NULL, err);
}

static void print_jobs(const struct args *a, const char *const *files,
                       const struct wh_submitted *jobs, size_t n)
{
        if (!a->json) {
                for (size_t i = 0; i < n; i++)
                        printf("job %lld: %s <- %s (%s)\n", (long long)jobs[i].job_id,
                               jobs[i].normaliser, files[jobs[i].input], jobs[i].raw_digest);
                return;
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(
                    arr, json_pack("{s:I, s:s, s:s, s:s, s:s}", "job", (json_int_t)jobs[i].job_id,
                                   "kind", "normaliser", "normaliser", jobs[i].normaliser, "input",
                                   files[jobs[i].input], "raw_digest", jobs[i].raw_digest));
        char *text = json_dumps(arr, JSON_INDENT(2));
        if (text)
                printf("%s\n", text);
        free(text);
        json_decref(arr);
}

static void free_inputs(struct wh_submit_input *in, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free((void *)in[i].data);
        free(in);
}

static int submit(const struct args *a, const char **files, size_t nfiles)
{
        struct wh_err err;
        cleanup_free char *meta = NULL;
        if (load_meta(a, &meta, &err) < 0) {
                fprintf(stderr, "whiskers submit: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        struct wh_submit_input *in = calloc(nfiles, sizeof(*in));
        if (!in)
                return fprintf(stderr, "whiskers submit: out of memory\n"), WH_EXIT_FAILED;
        for (size_t i = 0; i < nfiles; i++) {
                char *data;
                if (wh_read_file(files[i], WH_QUEUE_RAW_MAX, &data, &in[i].len, &err) < 0) {
                        fprintf(stderr, "whiskers submit: %s\n", err.msg);
                        free_inputs(in, i);
                        return WH_EXIT_USAGE;
                }
                in[i].data = data;
        }
        struct wh_submission s = {.tenant = a->tenant,
                                  .normaliser = a->normaliser,
                                  .mime = a->mime,
                                  .normalisers_dir = a->dir,
                                  .packages = a->packages,
                                  .meta_json = meta,
                                  .priority = a->priority,
                                  .max_attempts = a->max_attempts};
        struct wh_queue *q = NULL;
        struct wh_submitted *jobs = NULL;
        size_t n = 0;
        int rc = WH_EXIT_OK;
        if (wh_queue_open(a->db, &q, &err) < 0 ||
            wh_submit(q, &s, in, nfiles, &jobs, &n, &err) < 0) {
                fprintf(stderr, "whiskers submit: %s\n", err.msg);
                bool theirs = err.stage && strcmp(err.stage, "queue") != 0;
                rc = theirs || err.kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        } else {
                print_jobs(a, files, jobs, n);
        }
        wh_submitted_free(jobs, n);
        wh_queue_close(q);
        free_inputs(in, nfiles);
        return rc;
}

/* A boefje job: no RAWFILE, no normaliser options. */
static int submit_boefje(const struct args *a)
{
        struct wh_boefje_job j = {.tenant = a->tenant,
                                  .boefje = a->boefje,
                                  .boefjes_dir = a->boefjes,
                                  .input_ooi = a->input_ooi,
                                  .net_allow = a->net_allow.v,
                                  .n_net_allow = a->net_allow.n,
                                  .net_no_input = a->net_no_input,
                                  .limits = a->limits,
                                  .priority = a->priority,
                                  .max_attempts = a->max_attempts};
        struct wh_err err;
        struct wh_queue *q = NULL;
        int64_t id = 0;
        cleanup_free char *ref = NULL;
        int rc = WH_EXIT_OK;
        if (wh_queue_open(a->db, &q, &err) < 0 || wh_submit_boefje(q, &j, &id, &ref, &err) < 0) {
                fprintf(stderr, "whiskers submit: %s\n", err.msg);
                bool theirs = err.stage && strcmp(err.stage, "queue") != 0;
                rc = theirs || err.kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        } else if (a->json) {
                json_t *doc = json_pack("[{s:I, s:s, s:s, s:s}]", "job", (json_int_t)id, "kind",
                                        "boefje", "boefje", ref, "input_ooi", a->input_ooi);
                json_dumpf(doc, stdout, JSON_INDENT(2));
                putchar('\n');
                json_decref(doc);
        } else {
                printf("job %lld: boefje %s <- %s\n", (long long)id, ref, a->input_ooi);
        }
        wh_queue_close(q);
        return rc;
}

static int cmd_submit(void *args, int argc, char **argv)
{
        struct args *a = args;
        if (a->boefje && (a->normaliser || a->mime || a->meta || !a->input_ooi || argc))
                return cli_usage_error("submit", "--boefje takes --input-ooi, and no "
                                                 "--normaliser, --mime, --meta or RAWFILE");
        if (a->boefje)
                return submit_boefje(a);
        static const struct wh_boefje_limits none;
        if (memcmp(&a->limits, &none, sizeof(none)) != 0)
                return cli_usage_error("submit", "--wall-ms, --memory, --output-limit and "
                                                 "--net-max-* are a boefje job's limits: give "
                                                 "--boefje REF");
        if (!a->normaliser && !a->mime)
                return cli_usage_error("submit", "give --normaliser REF or --mime TYPE (or "
                                                 "--boefje REF)");
        if (argc == 0) /* not .min_args: a boefje job has none */
                return cli_usage_error("submit", "give at least one RAWFILE");
        return submit(a, (const char **)argv, (size_t)argc);
}

const struct cli_command cmd_submit_cli = {
    .name = "submit",
    .head = "Usage: whiskers submit --tenant T (--normaliser REF | --mime TYPE) [OPTIONS] "
            "RAWFILE...\n"
            "       whiskers submit --tenant T --boefje REF --input-ooi PK [OPTIONS]\n"
            "\n"
            "Store each RAWFILE in the job store and queue a job for it: for the normaliser\n"
            "REF, or, without --normaliser, for every normaliser whose normalizer.json\n"
            "\"consumes\" lists TYPE (OpenKAT-style routing). All jobs are queued in one\n"
            "transaction: all or none. Workers pick them up ('whiskers worker').\n"
            "\n"
            "A REF with a '/' is a normaliser directory (stored as an absolute path);\n"
            "otherwise a package of --store (a tag, an id, a digest), else the \"id\" of\n"
            "a normaliser under --normalisers DIR. With a store, --mime routes to its\n"
            "packages.\n"
            "\n"
            "With --boefje, queue one boefje job on the input object PK instead: a worker\n"
            "runs the boefje, stores its raw files and queues a job for every normaliser\n"
            "consuming one of their MIME types with the result. Its settings come from the\n"
            "worker's --boefje-settings, never from the job; its own limits (below) are\n"
            "stored with it, and the worker applies each where it is below its own.\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Exit status: 0 queued; 1 the store failed (nothing queued); 2 bad usage, an\n"
            "unreadable file or meta, an unknown normaliser (nothing queued).\n",
    .options = options,
    .max_args = MAX_FILES,
    .args_size = sizeof(struct args),
    .defaults = &(const struct args){.db = QUEUE_DB_DEFAULT},
    .run = cmd_submit,
};
