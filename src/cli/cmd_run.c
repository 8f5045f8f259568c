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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/contract.h>

struct run_args {
        struct wh_normaliser_options load;
        struct wh_sandbox_config sandbox;
        struct wh_package_source package;
        const char *meta_path, *input_ooi, *task_id, *zip_path, *results_path, *color, *clock;
        struct cli_list mime;
        size_t max_errors;
        bool json;
        int warm; /* 1 --warm, 0 --cold, -1 unset */
        enum wh_isolation isolation;
        bool isolation_set;
};

#define usage_error(...) cli_usage_error("run", __VA_ARGS__)

static int warm(void *base, const char *v, const char *cmd)
{
        (void)v, (void)cmd;
        ((struct run_args *)base)->warm = 1;
        return 0;
}

static int cold(void *base, const char *v, const char *cmd)
{
        (void)v, (void)cmd;
        ((struct run_args *)base)->warm = 0;
        return 0;
}

static int isolation(void *base, const char *v, const char *cmd)
{
        struct run_args *a = base;
        (void)cmd;
        if (wh_isolation_parse(v, &a->isolation) < 0)
                return usage_error("--isolation '%s': use fork or persistent", v);
        a->isolation_set = true;
        return 0;
}

static int color(void *base, const char *v, const char *cmd)
{
        (void)cmd;
        if (strcmp(v, "auto") && strcmp(v, "always") && strcmp(v, "never"))
                return usage_error("--color '%s': use auto, always or never", v);
        ((struct run_args *)base)->color = v;
        return 0;
}

static int max_errors(void *base, const char *v, const char *cmd)
{
        uint64_t n;
        if (cli_parse_number(cmd, "--max-errors", v, &n, false) != 0)
                return WH_EXIT_USAGE;
        ((struct run_args *)base)->max_errors = n ? (size_t)n : 1;
        return 0;
}

#define AT(field) offsetof(struct run_args, field)
static const struct cli_option options[] = {
    {CLI_CALL_FLAG, "warm", .call = warm},
    {CLI_CALL_FLAG, "cold", .call = cold,
     .help = "force warm or cold runs (default: warm for several files)"},
    {CLI_CALL, "isolation", .metavar = "fork|persistent", .call = isolation,
     .help = "warm: a fresh fork per input (default), or one process serving up to the "
             "manifest's max_inputs inputs in a row (only if normalizer.json says \"warm\": "
             "\"persistent\")"},
    {CLI_SECTION, .help = "Input:\n"},
    {CLI_STR, "meta", .metavar = "FILE", .offset = AT(meta_path), .complete = CLI_FILE,
     .help = "the meta document: task_id, input_ooi, boefje_meta, mime_types"},
    {CLI_STR, "input-ooi", .metavar = "REF", .offset = AT(input_ooi),
     .help = "or make one whose input object is REF, e.g. 'Hostname|internet|example.org'"},
    {CLI_LIST, "mime", .metavar = "TYPE", .offset = AT(mime), .max = 32,
     .help = "a MIME type of the raw file, for the made meta (repeatable)"},
    {CLI_STR, "task-id", .metavar = "ID", .offset = AT(task_id),
     .help = "the task id of the made meta (default: a random UUID)"},
    {CLI_STR, "zip", .metavar = "FILE", .offset = AT(zip_path), .complete = CLI_FILE,
     .help = "a raw-file ZIP holding \"raw\" and \"meta.json\" (instead of RAWFILE and --meta)"},
    {CLI_SECTION, .help = "Output:\n"},
    {CLI_FLAG, "json", .offset = AT(json), .help = "print the run report as JSON"},
    {CLI_STR, "results", .metavar = "FILE", .offset = AT(results_path), .complete = CLI_FILE,
     .help = "also write the NormalizerResults to FILE"},
    {CLI_CALL, "color", .metavar = "auto|always|never", .call = color,
     .help = "colour in the summary (default auto: on a terminal)"},
    {CLI_CALL, "max-errors", .metavar = "N", .call = max_errors,
     .help = "errors listed before the rest is only counted (default 100)"},
    {CLI_SECTION, .help = "Limits (override normalizer.json's \"limits\"; SIZE takes K, M, G "
                          "suffixes):\n"},
    {CLI_GROUP, .group = cli_limit_options, .offset = AT(load.overrides.run)},
    {CLI_SIZE, "tmp-size", .metavar = "SIZE", .offset = AT(load.overrides.tmp_bytes),
     .help = "size of the sandbox's /tmp"},
    {CLI_U64, "items", .metavar = "N", .offset = AT(load.overrides.max_items),
     .help = "items per run"},
    {CLI_SIZE, "item-size", .metavar = "SIZE", .offset = AT(load.overrides.max_item_bytes),
     .help = "bytes per item line"},
    {CLI_U64, "depth", .metavar = "N", .offset = AT(load.overrides.max_depth),
     .max = WH_MAX_DEPTH_LIMIT, .help = "nesting of an item (at most 1000)"},
    {CLI_SECTION, .help = "Environment:\n"},
    {CLI_STR, "schema-dir", .metavar = "DIR", .offset = AT(load.schema_dir), .complete = CLI_DIR,
     .help = "schemas of types the normaliser has none for (DIR/Type.json)"},
    {CLI_STR, "python", .metavar = "PATH", .offset = AT(load.python), .complete = CLI_FILE,
     .help = "interpreter for runtime python3 (default /usr/bin/python3)"},
    {CLI_STR, "runtime-root", .metavar = "DIR", .offset = AT(load.runtime_root),
     .complete = CLI_DIR,
     .help = "an unpacked runtime image to run the directory on instead of the host's /usr "
             "(--python is then a path inside it)"},
    {CLI_STR, "clock", .metavar = "INSTANT|scan", .offset = AT(clock),
     .help = "pin the clock the normaliser reads (Python: datetime.now()) to an ISO 8601 "
             "instant, e.g. 2024-05-01T12:00:00+00:00, or to the scan's time (the meta's "
             "boefje_meta.ended_at)"},
    {CLI_GROUP, .group = cli_sandbox_options, .offset = AT(sandbox)},
    {CLI_SECTION, .help = "Network (none by default; several RAWFILEs share one warm sandbox and "
                          "its namespace, each input with its own connection log and limits: "
                          "docs/warm.md \"Network\"):\n"},
    {CLI_GROUP, .group = cli_net_options, .offset = AT(sandbox)},
    {CLI_SECTION, .help = "Packages (NORMALISER is a tag, an id or a digest in the OCI layout "
                          "--store):\n"},
    {CLI_GROUP, .group = cli_package_options, .offset = AT(package)},
    {CLI_STR, "variant", .metavar = "NAME", .offset = AT(package.variant),
     .help = "force a variant instead of the choice rule"},
    {0},
};

/* As exec's (cli_exit_code), but output that breaks the contract and a
 * normaliser that stopped early are failures, and run has no 126 and 127:
 * a normaliser's program that cannot start is the sandbox's error. */
static int exit_code_for(const struct wh_run_result *r)
{
        if (r->report.status == WH_STATUS_OK)
                return r->ok ? WH_EXIT_OK : WH_EXIT_FAILED;
        if (r->report.status == WH_STATUS_SANDBOX_ERROR && wh_run_stopped_early(r))
                return WH_EXIT_FAILED;
        int rc = cli_exit_code(&r->report);
        return rc == WH_EXIT_NOT_FOUND || rc == WH_EXIT_NOT_EXECUTABLE ? WH_EXIT_SANDBOX : rc;
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
        } else if (wh_meta_build(a->input_ooi, a->mime.v, a->mime.n, a->task_id, meta_buf, &err) <
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

/* True when NORMALISER is to be read from the store (it is not a directory
 * and a store is configured). */
static bool package_wanted(const struct wh_package_source *p, const char *normaliser)
{
        struct stat st;
        return p->store && !(stat(normaliser, &st) == 0 && S_ISDIR(st.st_mode));
}

static int load(struct run_args *a, char **argv, const char *ref, struct wh_normaliser **n)
{
        a->load.sandbox = &a->sandbox;
        if (package_wanted(&a->package, ref))
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

/* run parses its own command line: a package hands all of it to
 * whiskers-package (run_package_load). */
static int cmd_run(int argc, char **argv)
{
        struct run_args a = {.sandbox = {.host_uid = (uid_t)-1, .host_gid = (gid_t)-1}, .warm = -1};
        cleanup_cli struct cli_parsed p = {0};
        int rc = cli_parse(&cmd_run_cli, &a, argc, argv, &p);
        if (rc != CLI_PARSED)
                return rc;
        int rest = p.argc;
        if (a.zip_path ? rest != 1 : rest < 2)
                return usage_error(a.zip_path ? "give NORMALISER and --zip FILE"
                                              : "give NORMALISER and RAWFILE");
        if (a.zip_path && (a.meta_path || a.input_ooi || a.mime.n || a.task_id))
                return usage_error("--zip brings its own meta.json: drop --meta, --input-ooi, "
                                   "--mime and --task-id");
        if (a.isolation_set && a.warm == 0)
                return usage_error("--isolation chooses how warm inputs are isolated: drop it or "
                                   "--cold");
        if (a.isolation_set)
                a.warm = 1; /* even one input: the chosen level is what runs */
        if (a.meta_path && (a.input_ooi || a.mime.n || a.task_id))
                return usage_error("--meta is the whole meta document: put the input object, "
                                   "MIME types and task id in it");
        rc = run(&a, argv, p.argv[0], a.zip_path ? NULL : p.argv + 1, a.zip_path ? 1 : rest - 1);
        cli_net_policy_free(&a.sandbox);
        return rc;
}

const struct cli_command cmd_run_cli = {
    .name = "run",
    .head = "Usage: whiskers run [OPTIONS] NORMALISER RAWFILE...\n"
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
            "run; each input's result and time are printed (--json: a list of run reports).\n",
    .tail = "\n"
            "Exit status: 0 the run succeeded and its output is valid; 1 the normaliser failed or\n"
            "its output breaks the contract; 2 usage error or the normaliser cannot be loaded\n"
            "(nothing ran); 3 a limit stopped it; 4 killed for a forbidden system call; 5 the\n"
            "sandbox could not be set up; 6 the host forbids user namespaces.\n",
    .options = options,
    .max_args = CLI_ANY_ARGS,
    .dispatch = cmd_run,
};
