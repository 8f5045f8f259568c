/* whiskers submit: store raw files and queue their jobs (jobs.h,
 * wh_submit). Thin: parse, read the files, call the library, print. */
#include "base/cleanup.h"
#include "base/io.h"
#include "cli/exit_codes.h"
#include "cli/queue/args.h"
#include "cli/queue/commands.h"

#include <errno.h>
#include <jansson.h>
#include <whiskers/contract.h>
#include <whiskers/queue.h>
#include <whiskers/jobs.h>

#define MAX_FILES 10000

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: whiskers submit --tenant T (--normaliser REF | --mime TYPE) [OPTIONS] "
                "RAWFILE...\n"
                "\n"
                "Store each RAWFILE in the job store and queue a job for it: for the normaliser\n"
                "REF, or, without --normaliser, for every normaliser whose normalizer.json\n"
                "\"consumes\" lists TYPE (OpenKAT-style routing). All jobs are queued in one\n"
                "transaction: all or none. Workers pick them up ('whiskers worker').\n"
                "\n"
                "A REF with a '/' is a normaliser directory (stored as an absolute path);\n"
                "otherwise a package of --store (a tag, an id, a digest), else the \"id\" of\n"
                "a normaliser under --normalisers DIR.\n"
                "\n"
                "Options:\n"
                "  --db URL            the job store: sqlite:///path/whiskers.db, a path, or\n"
                "                      postgres://user:pass@host/db (default $WHISKERS_DB, else\n"
                "                      whiskers.db in the current directory)\n"
                "  --tenant T          the organisation the files belong to (required)\n"
                "  --normaliser REF    the normaliser to run\n"
                "  --mime TYPE         the files' MIME type: routes to every normaliser consuming\n"
                "                      it when --normaliser is not given; added to the meta's\n"
                "                      \"mime_types\" when the meta has none\n"
                "  --meta FILE         the meta document (docs/contract.md \"Meta\"); default {}\n"
                "  --input-ooi PK      the object the raw file is about, as a primary key such\n"
                "                      as 'Hostname|internet|example.org' (sets the meta's\n"
                "                      \"input_ooi\" when it has none)\n"
                "  --normalisers DIR   where ids are looked up (default $WHISKERS_NORMALISERS,\n"
                "                      else examples/normalisers)\n" PACKAGE_SOURCE_HELP
                "  --priority N        higher runs first (-32768..32767, default 0)\n"
                "  --max-attempts N    tries before the dead letter table (default 5)\n"
                "  --json              print the queued jobs as JSON\n"
                "  -h, --help          show this help\n"
                "\n"
                "Exit status: 0 queued; 1 the store failed (nothing queued); 2 bad usage, an\n"
                "unreadable file or meta, an unknown normaliser (nothing queued).\n");
}

struct args {
        const char *db, *tenant, *normaliser, *mime, *meta, *dir, *input_ooi;
        struct wh_package_source packages;
        int priority;
        uint32_t max_attempts;
        bool json;
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
                    arr, json_pack("{s:I, s:s, s:s, s:s}", "job", (json_int_t)jobs[i].job_id,
                                   "normaliser", jobs[i].normaliser, "input", files[jobs[i].input],
                                   "raw_digest", jobs[i].raw_digest));
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

int cmd_submit(int argc, char **argv)
{
        struct args a = {.db = db_url_default()};
        package_source_defaults(&a.packages);
        const struct opt opts[] = {
            {"--db", OPT_STR, &a.db, 0},
            {"--tenant", OPT_STR, &a.tenant, 0},
            {"--normaliser", OPT_STR, &a.normaliser, 0},
            {"--mime", OPT_STR, &a.mime, 0},
            {"--meta", OPT_STR, &a.meta, 0},
            {"--input-ooi", OPT_STR, &a.input_ooi, 0},
            {"--normalisers", OPT_STR, &a.dir, 0},
            PACKAGE_SOURCE_OPTS(a.packages),
            {"--priority", OPT_INT, &a.priority, 0},
            {"--max-attempts", OPT_U32, &a.max_attempts, 1000},
            {"--json", OPT_FLAG, &a.json, 0},
            {NULL, OPT_FLAG, NULL, 0},
        };
        static const char *files[MAX_FILES];
        size_t nfiles;
        int p = parse_opts(argc, argv, opts, files, MAX_FILES, &nfiles);
        if (p != 0) {
                if (p > 0)
                        usage(stdout);
                return p > 0 ? WH_EXIT_OK : WH_EXIT_USAGE;
        }
        if (!a.tenant || (!a.normaliser && !a.mime) || nfiles == 0) {
                fprintf(stderr, "whiskers submit: need --tenant, --normaliser or --mime, and at "
                                "least one RAWFILE; see 'whiskers submit --help'\n");
                return WH_EXIT_USAGE;
        }
        return submit(&a, files, nfiles);
}
