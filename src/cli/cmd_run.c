/* whiskers run: one normaliser on one raw file, in the sandbox, checked
 * against the contract (docs/contract.md). Thin: options -> load -> run ->
 * print the summary or the run report. */
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "cli/run_package.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <whiskers/contract.h>

#define MAX_MIME 32

static const char help[] =
    "Usage: whiskers run [OPTIONS] NORMALISER RAWFILE...\n"
    "       whiskers run [OPTIONS] NORMALISER --zip RAW.zip\n"
    "\n"
    "Run the normaliser NORMALISER (a directory, or a package: see below) on one raw\n"
    "file in a fresh sandbox, check every item it prints against the contract, its\n"
    "schemas and its references, and print a summary (docs/contract.md). --json prints\n"
    "the run report instead: OpenKAT's NormalizerResults, errors, warnings, stderr, the\n"
    "status record and provenance.\n"
    "\n"
    "Several RAWFILEs run through one warm sandbox (docs/warm.md): the normaliser is\n"
    "loaded once and each input is a fork of it, with the limits and checks of a cold\n"
    "run; each input's result and time are printed (--json: a list of run reports).\n"
    "  --warm / --cold        force warm or cold runs (default: warm for several files)\n"
    "  --isolation fork|persistent  warm: a fresh fork per input (default), or one process\n"
    "                         serving up to the manifest's max_inputs inputs in a row\n"
    "                         (only if normalizer.json says \"warm\": \"persistent\")\n"
    "\n"
    "Input:\n"
    "  --meta FILE            the meta document: task_id, input_ooi, boefje_meta, mime_types\n"
    "  --input-ooi REF        or make one whose input object is REF,\n"
    "                         e.g. 'Hostname|internet|example.org'\n"
    "  --mime TYPE            a MIME type of the raw file, for the made meta (repeatable)\n"
    "  --task-id ID           the task id of the made meta (default: a random UUID)\n"
    "  --zip FILE             a raw-file ZIP holding \"raw\" and \"meta.json\" (instead of\n"
    "                         RAWFILE and --meta)\n"
    "Output:\n"
    "  --json                 print the run report as JSON\n"
    "  --results FILE         also write the NormalizerResults to FILE\n"
    "  --color auto|always|never  colour in the summary (default auto: on a terminal)\n"
    "  --max-errors N         errors listed before the rest is only counted (default 100)\n"
    "Limits (override normalizer.json's \"limits\"; SIZE takes K, M, G suffixes):\n"
    "  --memory SIZE, --pids N, --cpus FRACTION, --wall-ms N, --cpu-ms N,\n"
    "  --output-limit SIZE, --nofile N, --fsize SIZE, --tmp-size SIZE\n"
    "  --items N              items per run          --item-size SIZE  bytes per item line\n"
    "  --depth N              nesting of an item (at most 1000)\n"
    "  --allow-unenforced-limits  run even if a cgroup limit cannot be enforced here\n"
    "Environment:\n"
    "  --schema-dir DIR       schemas of types the normaliser has none for (DIR/Type.json)\n"
    "  --python PATH          interpreter for runtime python3 (default /usr/bin/python3)\n"
    "  --runtime-root DIR     an unpacked runtime image to run the directory on instead\n"
    "                         of the host's /usr (--python is then a path inside it)\n"
    "  --clock INSTANT|scan   pin the clock the normaliser reads (Python: datetime.now())\n"
    "                         to an ISO 8601 instant, e.g. 2024-05-01T12:00:00+00:00, or\n"
    "                         to the scan's time (the meta's boefje_meta.ended_at)\n"
    "  --cgroup-driver auto|v1|v2|none, --cgroup-parent PATH, --seccomp-policy "
    "FILE\n" WH_PACKAGE_HELP "\n"
    "Exit status: 0 the run succeeded and its output is valid; 1 the normaliser failed or\n"
    "its output breaks the contract; 2 usage error or the normaliser cannot be loaded\n"
    "(nothing ran); 3 a limit stopped it; 4 killed for a forbidden system call; 5 the\n"
    "sandbox could not be set up; 6 the host forbids user namespaces.\n";

enum {
        OPT_META = 256,
        OPT_INPUT_OOI,
        OPT_MIME,
        OPT_TASK,
        OPT_ZIP,
        OPT_JSON,
        OPT_RESULTS,
        OPT_COLOR,
        OPT_MAX_ERRORS,
        OPT_TMP,
        OPT_ITEMS,
        OPT_ITEM_SIZE,
        OPT_DEPTH,
        OPT_SCHEMA_DIR,
        OPT_PYTHON,
        OPT_RUNTIME_ROOT,
        OPT_CLOCK,
        OPT_WARM,
        OPT_COLD,
        OPT_ISOLATION,
};

static const struct option options[] = {
    {"meta", required_argument, 0, OPT_META},
    {"input-ooi", required_argument, 0, OPT_INPUT_OOI},
    {"mime", required_argument, 0, OPT_MIME},
    {"task-id", required_argument, 0, OPT_TASK},
    {"zip", required_argument, 0, OPT_ZIP},
    {"json", no_argument, 0, OPT_JSON},
    {"results", required_argument, 0, OPT_RESULTS},
    {"color", required_argument, 0, OPT_COLOR},
    {"max-errors", required_argument, 0, OPT_MAX_ERRORS},
    {"tmp-size", required_argument, 0, OPT_TMP},
    {"items", required_argument, 0, OPT_ITEMS},
    {"item-size", required_argument, 0, OPT_ITEM_SIZE},
    {"depth", required_argument, 0, OPT_DEPTH},
    WH_LIMIT_OPTIONS,
    {"schema-dir", required_argument, 0, OPT_SCHEMA_DIR},
    {"python", required_argument, 0, OPT_PYTHON},
    {"runtime-root", required_argument, 0, OPT_RUNTIME_ROOT},
    {"clock", required_argument, 0, OPT_CLOCK},
    {"warm", no_argument, 0, OPT_WARM},
    {"cold", no_argument, 0, OPT_COLD},
    {"isolation", required_argument, 0, OPT_ISOLATION},
    WH_SANDBOX_OPTIONS,
    WH_PACKAGE_OPTIONS,
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

struct run_args {
        struct wh_normaliser_options load;
        struct wh_sandbox_config sandbox;
        struct run_package_args package;
        const char *meta_path, *input_ooi, *task_id, *zip_path, *results_path, *color, *clock;
        const char *mime[MAX_MIME];
        size_t n_mime, max_errors;
        bool json;
        int warm; /* 1 --warm, 0 --cold, -1 unset */
        enum wh_isolation isolation;
        bool isolation_set;
};

#define usage_error(...) cli_usage_error("run", __VA_ARGS__)

static int number(const char *opt, const char *text, uint64_t *out, bool size)
{
        return cli_parse_number("run", opt, text, out, size);
}

static int parse_limit(struct run_args *a, int opt, const char *arg)
{
        struct wh_normaliser_limits *l = &a->load.overrides;
        int rc = cli_parse_limit("run", opt, arg, &l->run);
        if (rc >= 0)
                return rc;
        switch (opt) {
        case OPT_TMP:
                return number("--tmp-size", arg, &l->tmp_bytes, true);
        case OPT_ITEMS:
                return number("--items", arg, &l->max_items, false);
        case OPT_ITEM_SIZE:
                return number("--item-size", arg, &l->max_item_bytes, true);
        case OPT_DEPTH:
                if (number("--depth", arg, &l->max_depth, false) != 0)
                        return WH_EXIT_USAGE;
                return l->max_depth > WH_MAX_DEPTH_LIMIT ? usage_error("--depth: at most 1000") : 0;
        }
        return usage_error("unknown option");
}

static int parse_option(struct run_args *a, int opt, const char *arg)
{
        uint64_t v;
        int rc = cli_parse_sandbox("run", opt, arg, &a->sandbox);
        if (rc >= 0 || (rc = run_package_option(&a->package, opt, arg)) >= 0)
                return rc;
        switch (opt) {
        case OPT_META:
                a->meta_path = arg;
                return 0;
        case OPT_INPUT_OOI:
                a->input_ooi = arg;
                return 0;
        case OPT_TASK:
                a->task_id = arg;
                return 0;
        case OPT_ZIP:
                a->zip_path = arg;
                return 0;
        case OPT_JSON:
                a->json = true;
                return 0;
        case OPT_RESULTS:
                a->results_path = arg;
                return 0;
        case OPT_SCHEMA_DIR:
                a->load.schema_dir = arg;
                return 0;
        case OPT_PYTHON:
                a->load.python = arg;
                return 0;
        case OPT_RUNTIME_ROOT:
                a->load.runtime_root = arg;
                return 0;
        case OPT_CLOCK:
                a->clock = arg;
                return 0;
        case OPT_WARM:
        case OPT_COLD:
                a->warm = opt == OPT_WARM;
                return 0;
        case OPT_ISOLATION:
                if (wh_isolation_parse(arg, &a->isolation) < 0)
                        return usage_error("--isolation '%s': use fork or persistent", arg);
                a->isolation_set = true;
                return 0;
        case OPT_MIME:
                if (a->n_mime == MAX_MIME)
                        return usage_error("too many --mime (at most %d)", MAX_MIME);
                a->mime[a->n_mime++] = arg;
                return 0;
        case OPT_COLOR:
                if (strcmp(arg, "auto") && strcmp(arg, "always") && strcmp(arg, "never"))
                        return usage_error("--color '%s': use auto, always or never", arg);
                a->color = arg;
                return 0;
        case OPT_MAX_ERRORS:
                if (number("--max-errors", arg, &v, false) != 0)
                        return WH_EXIT_USAGE;
                a->max_errors = v ? (size_t)v : 1;
                return 0;
        case 'h':
                fputs(help, stdout);
                return -1;
        }
        return parse_limit(a, opt, arg);
}

static int exit_code_for(const struct wh_run_result *r)
{
        switch (r->report.status) {
        case WH_STATUS_OK:
                return r->ok ? WH_EXIT_OK : WH_EXIT_FAILED;
        case WH_STATUS_EXIT_NONZERO:
        case WH_STATUS_SIGNAL:
                return WH_EXIT_FAILED;
        case WH_STATUS_TIMEOUT_WALL:
        case WH_STATUS_TIMEOUT_CPU:
        case WH_STATUS_OOM:
        case WH_STATUS_OUTPUT_LIMIT:
                return WH_EXIT_LIMIT;
        case WH_STATUS_SECCOMP_KILL:
                return WH_EXIT_SECCOMP;
        case WH_STATUS_SANDBOX_ERROR:
                if (wh_run_stopped_early(r))
                        return WH_EXIT_FAILED;
                break;
        }
        return strcmp(r->report.stage, "userns") == 0 ? WH_EXIT_NO_USERNS : WH_EXIT_SANDBOX;
}

/* The raw file and meta: from the ZIP, or RAWFILE plus --meta or a made meta. */
static int read_input(struct run_args *a, const char *raw_arg, struct wh_run_input *in,
                      char **raw_buf, char **meta_buf)
{
        struct wh_err err = {0};
        size_t len = 0;
        if (a->zip_path) {
                if (wh_raw_zip_read(a->zip_path, 0, raw_buf, &in->raw_len, meta_buf, &in->meta_len,
                                    &err) < 0)
                        return usage_error("%s", err.msg);
                in->raw = *raw_buf;
                in->meta = *meta_buf;
                return 0;
        }
        in->raw_path = raw_arg;
        if (a->meta_path) {
                if (wh_read_file(a->meta_path, WH_META_MAX_BYTES, meta_buf, &len, &err) < 0)
                        return usage_error("--meta: %s", err.msg);
        } else if (wh_meta_build(a->input_ooi, a->mime, a->n_mime, a->task_id, meta_buf, &err) <
                   0) {
                return usage_error("%s", err.msg);
        } else {
                len = strlen(*meta_buf);
        }
        in->meta = *meta_buf;
        in->meta_len = len;
        return 0;
}

static int print_result(struct run_args *a, struct wh_normaliser *n, struct wh_run_result *res)
{
        if (a->results_path) {
                char *text = json_dumps(res->results, JSON_INDENT(2));
                struct wh_err err = {0};
                int rc =
                    text ? wh_write_file_atomic(a->results_path, text, strlen(text), &err) : -1;
                free(text);
                if (rc < 0)
                        fprintf(stderr, "whiskers run: --results: %s\n", err.msg);
        }
        if (!a->json) {
                bool color = a->color ? strcmp(a->color, "always") == 0 ||
                                            (strcmp(a->color, "auto") == 0 && isatty(1))
                                      : isatty(1) && !getenv("NO_COLOR");
                wh_run_summary(stdout, n, res, color);
                return 0;
        }
        json_t *doc = wh_run_result_json(res);
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) < 0) {
                json_decref(doc);
                fprintf(stderr, "whiskers run: cannot print the run report\n");
                return -1;
        }
        json_decref(doc);
        fputc('\n', stdout);
        return 0;
}

static int load(struct run_args *a, char **argv, const char *ref, struct wh_normaliser **n)
{
        a->load.sandbox = &a->sandbox;
        if (run_package_wanted(&a->package, ref))
                return run_package_load(&a->package, argv, ref, &a->load, n);
        struct wh_err err = {0};
        if (wh_normaliser_load(ref, &a->load, n, &err) < 0) {
                fprintf(stderr, "whiskers run: %s%s\n", err.msg,
                        a->package.store ? ""
                                         : " (to run a package from a store, give --store LAYOUT)");
                return WH_EXIT_USAGE;
        }
        return 0;
}

/* One input: read it, run it, print its result; returns the exit code. */
static int run_one(struct run_args *a, struct wh_normaliser *n, const char *raw_arg,
                   json_t *reports)
{
        cleanup_free char *raw_buf = NULL, *meta_buf = NULL;
        struct wh_run_input in = {0};
        int rc = read_input(a, raw_arg, &in, &raw_buf, &meta_buf);
        if (rc != 0)
                return rc;
        struct wh_err err = {0};
        struct wh_run_options ro = {
            .cancel = &cli_stop_signal, .max_errors = a->max_errors, .clock = a->clock};
        struct wh_run_result res;
        if (wh_normaliser_run(n, &in, &ro, &res, &err) < 0) {
                fprintf(stderr, "whiskers run: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        if (!reports) {
                rc = print_result(a, n, &res) < 0 ? WH_EXIT_FAILED : exit_code_for(&res);
        } else {
                json_t *doc = wh_run_result_json(&res);
                json_object_set_new(doc, "raw", json_string(raw_arg));
                json_array_append_new(reports, doc);
                rc = exit_code_for(&res);
                if (!a->json) {
                        const struct wh_report *r = &res.report;
                        printf("== %s: %s, %s", raw_arg, wh_status_name(r->status),
                               r->warm ? "warm" : "cold");
                        if (r->warm)
                                printf(" (zygote %s, input %llu)", r->zygote,
                                       (unsigned long long)r->ordinal);
                        if (r->persistent)
                                printf(" persistent (process %llu, its input %llu)",
                                       (unsigned long long)r->process,
                                       (unsigned long long)r->process_ordinal);
                        printf(", %.2f ms\n",
                               (double)json_integer_value(json_object_get(
                                   json_object_get(json_object_get(doc, "provenance"), "timings"),
                                   "total_us")) /
                                   1000.0);
                        wh_run_summary(stdout, n, &res, false);
                }
        }
        wh_run_result_clear(&res);
        return rc;
}

/* Several inputs: one loaded normaliser (warm unless --cold), the worst
 * exit code wins. */
static int run(struct run_args *a, char **argv, const char *ref, char **raws, int n_raws)
{
        struct wh_normaliser *n = NULL;
        int rc = load(a, argv, ref, &n);
        if (rc != 0)
                return rc;
        struct wh_err err = {0};
        bool warm = a->warm == 1 || (a->warm == -1 && n_raws > 1 && wh_normaliser_can_warm(n));
        if (warm && wh_normaliser_warm(n, a->isolation, &err) < 0) {
                fprintf(stderr, "whiskers run: %s\n", err.msg);
                wh_normaliser_free(n);
                return WH_EXIT_USAGE;
        }
        cli_install_stop_handlers();
        json_t *reports = n_raws > 1 ? json_array() : NULL;
        rc = WH_EXIT_OK;
        for (int i = 0; i < n_raws && !cli_stop_signal; i++) {
                int one = run_one(a, n, raws ? raws[i] : NULL, reports);
                rc = one > rc ? one : rc;
        }
        if (reports && a->json &&
            (json_dumpf(reports, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF))
                rc = WH_EXIT_FAILED;
        json_decref(reports);
        wh_normaliser_free(n);
        return cli_stop_signal ? 128 + cli_stop_signal : rc;
}

int cmd_run(int argc, char **argv)
{
        struct run_args a = {.sandbox = {.host_uid = (uid_t)-1, .host_gid = (gid_t)-1}, .warm = -1};
        int opt;
        run_package_defaults(&a.package);
        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                if (opt == '?')
                        return usage_error("unknown option");
                int rc = parse_option(&a, opt, optarg);
                if (rc != 0)
                        return rc < 0 ? WH_EXIT_OK : rc;
        }
        int rest = argc - optind;
        if (a.zip_path ? rest != 1 : rest < 2)
                return usage_error(a.zip_path ? "give NORMALISER and --zip FILE"
                                              : "give NORMALISER and RAWFILE");
        if (a.zip_path && (a.meta_path || a.input_ooi || a.n_mime || a.task_id))
                return usage_error("--zip brings its own meta.json: drop --meta, --input-ooi, "
                                   "--mime and --task-id");
        if (a.isolation_set && a.warm == 0)
                return usage_error("--isolation chooses how warm inputs are isolated: drop it or "
                                   "--cold");
        if (a.isolation_set)
                a.warm = 1; /* even one input: the chosen level is what runs */
        if (a.meta_path && (a.input_ooi || a.n_mime || a.task_id))
                return usage_error("--meta is the whole meta document: put the input object, "
                                   "MIME types and task id in it");
        return run(&a, argv, argv[optind], a.zip_path ? NULL : argv + optind + 1,
                   a.zip_path ? 1 : rest - 1);
}
