/* whiskers test: run a normaliser on each of its fixtures and compare the
 * NormalizerResults with the fixture's expected.json (docs/contract.md
 * "Fixtures"). The normaliser is loaded once for all fixtures, and several
 * fixtures run through one warm sandbox when it can (docs/warm.md). */
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/opt/options.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <whiskers/contract.h>

#define MAX_DIFFS 20

struct test_args {
        struct wh_normaliser_options load;
        struct wh_sandbox_config sandbox;
        const char *color_choice;
        bool update, verbose, json, color, cold;
        json_t *report; /* --json: the fixtures array */
};

#define usage_error(...) cli_usage_error("test", __VA_ARGS__)

#define AT(field) offsetof(struct test_args, field)
static const struct cli_option options[] = {
    {CLI_FLAG, "update", .offset = AT(update),
     .help = "write expected.json from the results of valid runs (check the change before you "
             "commit it)"},
    {CLI_FLAG, "verbose", .offset = AT(verbose), .help = "print each run's summary"},
    {CLI_FLAG, "cold", .offset = AT(cold),
     .help = "a fresh sandbox per fixture (default: several fixtures run through one warm "
             "sandbox when the normaliser can, docs/warm.md)"},
    {CLI_FLAG, "json", .offset = AT(json),
     .help = "print {\"passed\", \"failed\", \"fixtures\": [...]} as JSON"},
    {CLI_STR, "color", .metavar = "auto|always|never", .offset = AT(color_choice),
     .help = "colour the results (default auto: on a terminal, unless $NO_COLOR)"},
    {CLI_STR, "schema-dir", .metavar = "DIR", .offset = AT(load.schema_dir), .complete = CLI_DIR},
    {CLI_STR, "python", .metavar = "PATH", .offset = AT(load.python), .complete = CLI_FILE},
    {CLI_FLAG, "allow-unenforced-limits", .offset = AT(load.overrides.run.allow_unenforced)},
    {CLI_STR, "cgroup-driver", .metavar = "auto|v1|v2|none", .offset = AT(sandbox.cgroup_driver),
     .help = "as for whiskers run"},
    {0},
};

struct diff_ctx {
        json_t *list;
        bool print;
};

static char *show(const json_t *v)
{
        char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(missing)");
        if (s && strlen(s) > 200)
                strcpy(s + 197, "...");
        return s;
}

static void on_diff(const char *pointer, const json_t *want, const json_t *got, void *ctx)
{
        struct diff_ctx *d = ctx;
        if (d->print) {
                cleanup_free char *w = show(want), *g = show(got);
                printf("    %s: expected %s, got %s\n", *pointer ? pointer : "(root)", w ? w : "?",
                       g ? g : "?");
        }
        json_array_append_new(
            d->list, json_pack("{s:s, s:O?, s:O?}", "path", pointer, "expected", want, "got", got));
}

/* SIGINT, SIGTERM, SIGHUP stop the current run cleanly (sandbox killed,
 * input directory removed) and the remaining fixtures are skipped. */
static volatile int cancelled;

static void on_stop_signal(int sig)
{
        cancelled = sig;
}

/* One fixture; returns true when it passed. */
static bool run_fixture(struct test_args *a, struct wh_normaliser *n, const struct wh_fixture *f)
{
        struct wh_err err = {0};
        cleanup_free char *meta = NULL;
        size_t meta_len;
        json_t *expected = NULL, *diffs = json_array();
        struct wh_run_result res = {0};
        struct wh_run_input in = {.raw_path = f->raw_path};
        bool ran = false, passed = false;
        const char *why = NULL;
        if (wh_read_file(f->meta_path, WH_META_MAX_BYTES, &meta, &meta_len, &err) == 0) {
                in.meta = meta;
                in.meta_len = meta_len;
                struct wh_run_options ro = {.cancel = &cancelled};
                ran = wh_normaliser_run(n, &in, &ro, &res, &err) == 0;
        }
        if (!ran)
                why = err.msg;
        else if (!res.ok)
                why = "the run is not valid";
        else if (a->update) {
                char *text = json_dumps(res.results, JSON_INDENT(2));
                char *line = text ? realloc(text, strlen(text) + 2) : NULL;
                if (line)
                        strcat(line, "\n");
                text = line ? line : text;
                passed =
                    line && wh_write_file_atomic(f->expected_path, line, strlen(line), &err) == 0;
                why = passed ? NULL : err.msg;
                free(text);
        } else if (!(expected = json_load_file(f->expected_path, JSON_REJECT_DUPLICATES, NULL))) {
                why = "no readable expected.json (whiskers test --update writes it)";
        } else {
                passed = json_equal(expected, res.results);
                why = passed ? NULL : "the results differ from expected.json";
        }
        if (!a->json) {
                printf("%s%s%s %s%s%s\n", a->color ? (passed ? "\033[32m" : "\033[31m") : "",
                       passed ? (a->update ? "updated" : "ok  ") : "FAIL",
                       a->color ? "\033[0m" : "", f->name, why ? ": " : "", why ? why : "");
                if (ran && (a->verbose || !res.ok))
                        wh_run_summary(stdout, n, &res, a->color);
        }
        struct diff_ctx d = {diffs, !a->json};
        if (ran && res.ok && expected && !passed)
                wh_json_diff(expected, res.results, MAX_DIFFS, on_diff, &d);
        json_t *errors = ran ? wh_contract_errors_json(&res.errors) : json_array();
        json_array_append_new(a->report, json_pack("{s:s, s:b, s:s?, s:o, s:o}", "name", f->name,
                                                   "passed", passed, "why", why, "differences",
                                                   diffs, "errors", errors));
        json_decref(expected);
        wh_run_result_clear(&res);
        return passed;
}

static bool selected(const struct wh_fixture *f, char **names, int n)
{
        for (int i = 0; i < n; i++)
                if (strcmp(names[i], f->name) == 0)
                        return true;
        return n == 0;
}

static int test(struct test_args *a, const char *dir, char **names, int n_names)
{
        struct wh_err err = {0};
        struct wh_fixture *fx = NULL;
        size_t nfx = 0, passed = 0, failed = 0;
        if (wh_fixtures_list(dir, &fx, &nfx, &err) < 0) {
                fprintf(stderr, "whiskers test: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        struct wh_normaliser *n = NULL;
        a->load.sandbox = &a->sandbox;
        if (wh_normaliser_load(dir, &a->load, &n, &err) < 0) {
                fprintf(stderr, "whiskers test: %s\n", err.msg);
                wh_fixtures_free(fx, nfx);
                return WH_EXIT_USAGE;
        }
        if (!a->cold && nfx > 1 && wh_normaliser_can_warm(n) &&
            wh_normaliser_warm(n, WH_ISOLATION_FORK, &err) < 0) {
                fprintf(stderr, "whiskers test: %s\n", err.msg);
                wh_normaliser_free(n);
                wh_fixtures_free(fx, nfx);
                return WH_EXIT_USAGE;
        }
        a->report = json_array();
        struct sigaction sa = {.sa_handler = on_stop_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        for (size_t i = 0; i < nfx && !cancelled; i++)
                if (selected(&fx[i], names, n_names))
                        *(run_fixture(a, n, &fx[i]) ? &passed : &failed) += 1;
        if (a->json) {
                json_t *doc = json_pack("{s:I, s:I, s:O}", "passed", (json_int_t)passed, "failed",
                                        (json_int_t)failed, "fixtures", a->report);
                json_dumpf(doc, stdout, JSON_INDENT(2));
                fputc('\n', stdout);
                json_decref(doc);
        } else {
                printf("%zu passed, %zu failed\n", passed, failed);
        }
        json_decref(a->report);
        wh_normaliser_free(n);
        wh_fixtures_free(fx, nfx);
        if (cancelled)
                return 128 + cancelled;
        if (passed + failed == 0)
                return usage_error("no fixture has the names given");
        return failed ? WH_EXIT_FAILED : WH_EXIT_OK;
}

static int cmd_test(void *args, int argc, char **argv)
{
        struct test_args *a = args;
        const char *color = a->color_choice;
        if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
                return usage_error("--color '%s': use auto, always or never", color);
        a->color = strcmp(color, "always") == 0 ||
                   (strcmp(color, "auto") == 0 && isatty(1) && !getenv("NO_COLOR"));
        return test(a, argv[0], argv + 1, argc - 1);
}

const struct cli_command cmd_test_cli = {
    .name = "test",
    .head =
        "Usage: whiskers test [OPTIONS] NORMALISER [FIXTURE...]\n"
        "\n"
        "Run the normaliser on each fixture in NORMALISER/fixtures/NAME/ (files raw and\n"
        "meta.json) and compare the NormalizerResults with NAME/expected.json. A fixture passes\n"
        "when the run is valid and the results are equal; otherwise its errors, or the\n"
        "differences as JSON pointers, are shown. FIXTURE names pick some fixtures.\n"
        "\n",
    .tail = "\n"
            "Exit status: 0 every fixture passed; 1 one failed; 2 usage error or the normaliser\n"
            "cannot be loaded.\n",
    .options = options,
    .min_args = 1,
    .max_args = CLI_ANY_ARGS,
    .args = "the NORMALISER directory",
    .args_size = sizeof(struct test_args),
    .defaults = &(const struct test_args){.sandbox = {.host_uid = (uid_t)-1, .host_gid = (gid_t)-1},
                                          .color_choice = "auto"},
    .run = cmd_test,
};
