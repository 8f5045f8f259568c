/* whiskers scan: one boefje job and the normaliser jobs its raw files make,
 * once, on this machine (docs/boefjes.md). Thin: options -> the boefje in
 * its sandbox -> raw files stored -> every normaliser consuming one of a
 * raw file's MIME types (jobs.h's routing, as the worker's boefje jobs)
 * run on it, or with --db queued -> both halves printed. */
#define _GNU_SOURCE
#include "cli/queue/commands.h"
#include "cli/queue/boefje_net_limits.h"
#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "base/cleanup.h"
#include "base/io.h"
#include "base/shown.h"
#include "base/strv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/boefje.h>
#include <whiskers/contract.h>
#include <whiskers/queue.h>
#include <whiskers/jobs.h>

#define MAX_DIRS 16

struct scan_args {
        const char *boefje, *boefjes, *input, *settings, *runtime_root, *store, *task;
        struct cli_list norm_dirs, net_allow;
        bool net_no_input;
        struct wh_boefje_limits limits; /* the network's; the others are opts.limits */
        const char *norm_root, *schema_dir, *db, *tenant;
        bool json;
        struct wh_boefje_options opts;
};

static int raw_max(void *base, const char *v, const char *cmd)
{
        return cli_parse_number(cmd, "--raw-max", v, &((struct scan_args *)base)->opts.raw_max,
                                true);
}

#define AT(field) offsetof(struct scan_args, field)
static const struct cli_option options[] = {
    {CLI_STR, "boefje", .metavar = "DIR|ID", .offset = AT(boefje), .complete = CLI_DIR,
     .required = true, .help = "the boefje's directory, or the id of one under --boefjes"},
    {CLI_STR, "boefjes", .metavar = "DIR", .offset = AT(boefjes), .env = "WHISKERS_BOEFJES",
     .complete = CLI_DIR,
     .help = "where boefje ids are looked up (default $WHISKERS_BOEFJES, else examples/boefjes)"},
    {CLI_STR, "input-ooi", .metavar = "REF", .offset = AT(input), .required = true,
     .help = "the input object's primary key, e.g. Hostname|internet|x.org"},
    {CLI_STR, "settings", .metavar = "FILE", .offset = AT(settings), .complete = CLI_FILE,
     .help = "a JSON object of settings (schema.json): the boefje's environment; never "
             "printed, logged or stored"},
    {CLI_STR, "runtime-root", .metavar = "DIR", .offset = AT(runtime_root), .complete = CLI_DIR,
     .help = "an unpacked runtime image for the boefje (its tools)"},
    {CLI_STR, "raw-store", .metavar = "DIR", .offset = AT(store), .complete = CLI_DIR,
     .help = "where raw files and the job's record go (default: a new directory under $TMPDIR, "
             "printed)"},
    {CLI_CALL, "raw-max", .metavar = "SIZE", .call = raw_max,
     .help = "largest raw file (default 16M)"},
    {CLI_STR, "task-id", .metavar = "ID", .offset = AT(task),
     .help = "the boefje task's id (default: a random UUID)"},
    {CLI_SECTION, .help = "Network (docs/boefjes.md \"Network\"): the input object's address, "
                          "what\nboefje.json's x-whiskers-network lists, and\n"},
    {CLI_LIST, "net-allow", .metavar = "ITEM", .offset = AT(net_allow), .max = MAX_DIRS,
     .help = "also reach ITEM: ADDR[/LEN]:PORTS[/tcp|udp|both], [IPv6]:..., HOST:PORTS; "
             "${SETTING} is that setting (repeatable)"},
    {CLI_FLAG, "net-no-input", .offset = AT(net_no_input),
     .help = "do not allow the input object's own address (a boefje that only asks a resolver "
             "about it, such as kat_dns)"},
    {CLI_GROUP, .group = cli_boefje_net_limit_options, .offset = AT(limits)},
    {CLI_SECTION, .help = "Normalisers:\n"},
    {CLI_LIST, "normalisers", .metavar = "DIR", .offset = AT(norm_dirs), .max = MAX_DIRS,
     .complete = CLI_DIR, .help = "a normaliser directory, or a directory of them (repeatable)"},
    {CLI_STR, "normaliser-runtime-root", .metavar = "DIR", .offset = AT(norm_root),
     .complete = CLI_DIR, .help = "the runtime image the normalisers run on"},
    {CLI_STR, "schema-dir", .metavar = "DIR", .offset = AT(schema_dir), .complete = CLI_DIR,
     .help = "schemas for the normalisers' object types"},
    {CLI_STR, "db", .metavar = "URL", .offset = AT(db), .complete = CLI_FILE,
     .help = "with --tenant: queue the normaliser jobs in that job store (as 'whiskers submit' "
             "does, one per raw file and consuming normaliser) for 'whiskers worker', instead "
             "of running them here"},
    {CLI_STR, "tenant", .metavar = "T", .offset = AT(tenant),
     .help = "with --db; also the BoefjeMeta's organization"},
    {CLI_FLAG, "json", .offset = AT(json),
     .help = "print {\"boefje\": ..., \"normalisers\": [...]} instead"},
    {CLI_SECTION, .help = "Limits of the boefje's run (--wall-ms: default 300000;\n"
                          "--allow-unenforced-limits holds for the normalisers too):\n"},
    {CLI_GROUP, .group = cli_limit_options, .offset = AT(opts.limits)},
    {0},
};

static int check(const struct scan_args *a)
{
        if (!a->db != !a->tenant)
                return cli_usage_error("scan", "--db and --tenant go together");
        return 0;
}

static void print_boefje(const struct wh_boefje_manifest *m, const struct wh_boefje_result *res,
                         const char *store)
{
        const char *task = json_string_value(json_object_get(res->boefje_meta, "id"));
        if (!res->ok) {
                /* The message, its detail and stderr are the boefje's (and
                 * so the scanned host's) text: shown, not obeyed. */
                const char *msg = res->error_message ? res->error_message : "";
                printf("boefje %s (task %s): FAILED %s: ", m->id, task, res->error_code);
                wh_fput_shown(stdout, msg, strlen(msg));
                if (res->error_detail) {
                        putchar('\n');
                        wh_fput_shown(stdout, res->error_detail, strlen(res->error_detail));
                }
                if (res->stderr_len) {
                        fputs("\nstderr:\n", stdout);
                        wh_fput_shown(stdout, res->stderr_text, res->stderr_len);
                }
                putchar('\n');
                return;
        }
        printf("boefje %s (task %s): ok, %zu raw file%s in %s (%llu ms)\n", m->id, task,
               res->n_raws, res->n_raws == 1 ? "" : "s", store,
               (unsigned long long)res->report.wall_ms);
        for (size_t i = 0; i < res->n_raws; i++) {
                cleanup_free char *types = json_dumps(res->raws[i].mime_types, JSON_COMPACT);
                printf("  %s  %zu bytes  %s\n", res->raws[i].digest, res->raws[i].len, types);
        }
}

struct chain {
        const struct scan_args *a;
        const struct wh_boefje_result *boefje;
        json_t *reports; /* --json */
        size_t jobs;
        int failed;
};

static void run_normaliser(struct chain *c, const struct wh_boefje_raw *r, const char *path)
{
        struct wh_normaliser_options o = {.schema_dir = c->a->schema_dir,
                                          .runtime_root = c->a->norm_root};
        /* --allow-unenforced-limits holds for both halves of the chain:
         * without a usable cgroup (a rootless laptop) the normaliser's
         * memory and pids limits fall back to rlimits, as for the boefje. */
        o.overrides.run.allow_unenforced = c->a->opts.limits.allow_unenforced;
        struct wh_normaliser *n = NULL;
        struct wh_err err = {0};
        struct wh_run_result res = {0};
        if (wh_normaliser_load(path, &o, &n, &err) < 0) {
                printf("normaliser %s: cannot load: %s\n", path, err.msg);
                c->failed = 1;
                return;
        }
        const char *id = wh_normaliser_manifest(n)->id;
        cleanup_free char *meta = wh_boefje_normalizer_meta(c->boefje, r, id, ++c->jobs);
        struct wh_run_input in = {
            .raw = r->data, .raw_len = r->len, .meta = meta, .meta_len = meta ? strlen(meta) : 0};
        struct wh_run_options ro = {.cancel = &cli_stop_signal};
        if (!meta || wh_normaliser_run(n, &in, &ro, &res, &err) < 0) {
                printf("normaliser %s on %s: cannot run: %s\n", id, r->digest, err.msg);
                c->failed = 1;
        } else {
                c->failed |= !res.ok;
                if (c->reports) {
                        json_t *rep = wh_run_result_json(&res);
                        json_array_append_new(c->reports,
                                              json_pack("{s:s, s:s, s:o*}", "normaliser", id, "raw",
                                                        r->digest, "result", rep));
                } else {
                        printf("\nnormaliser %s on %s:\n", id, r->digest);
                        wh_run_summary(stdout, n, &res, false);
                }
        }
        wh_run_result_clear(&res);
        wh_normaliser_free(n);
}

/* Every normaliser of dir consuming one of r's MIME types, once each
 * (the routing the worker's boefje jobs use), run here. */
static void run_routed(struct chain *c, const struct wh_boefje_raw *r, const char *dir)
{
        struct wh_route route = {.normalisers_dir = dir};
        struct wh_err err = {0};
        char **refs = NULL;
        size_t n = 0;
        if (wh_route_mime_types(&route, r->mime_types, &refs, &n, &err) < 0) {
                printf("normalisers in %s: %s\n", dir, err.msg);
                c->failed = 1;
        }
        for (size_t k = 0; k < n; k++) {
                cleanup_free char *path = NULL;
                if (wh_normaliser_find(dir, refs[k], &path, &err) < 0) {
                        printf("normaliser %s: %s\n", refs[k], err.msg);
                        c->failed = 1;
                        continue;
                }
                run_normaliser(c, r, path);
        }
        wh_strv_free(refs, n);
}

/* --db: the normaliser jobs the raw files make, queued in one transaction
 * for 'whiskers worker', as a boefje job's are (wh_route_raw_files). */
static void queue_routed(struct chain *c, struct wh_queue *q)
{
        const struct scan_args *a = c->a;
        struct wh_route routes[MAX_DIRS];
        for (size_t d = 0; d < a->norm_dirs.n; d++)
                routes[d] = (struct wh_route){.normalisers_dir = a->norm_dirs.v[d]};
        struct wh_routed_jobs jobs = {0};
        struct wh_err err = {0};
        cleanup_free int64_t *ids = NULL;
        if (wh_route_raw_files(q, routes, a->norm_dirs.n, a->tenant, c->boefje, &jobs, &err) < 0 ||
            (jobs.n && (!(ids = calloc(jobs.n, sizeof(*ids))) ||
                        wh_queue_submit(q, jobs.specs, jobs.n, ids, &err) < 0))) {
                printf("normaliser jobs: cannot queue: %s\n",
                       ids || err.msg[0] ? err.msg : "out of memory");
                c->failed = 1;
                wh_routed_jobs_clear(&jobs);
                return;
        }
        for (size_t i = 0; i < jobs.n; i++) {
                const struct wh_job_spec *j = &jobs.specs[i];
                if (c->reports)
                        json_array_append_new(c->reports,
                                              json_pack("{s:s, s:s, s:I}", "normaliser",
                                                        j->normaliser, "raw", j->raw_digest,
                                                        "job_id", (json_int_t)ids[i]));
                else
                        printf("queued job %lld: normaliser %s on %s\n", (long long)ids[i],
                               j->normaliser, j->raw_digest);
        }
        c->jobs = jobs.n;
        wh_routed_jobs_clear(&jobs);
}

static int scan(struct scan_args *a, const char *dir, json_t *settings)
{
        struct wh_err err = {0};
        struct wh_boefje *b = NULL;
        a->opts.runtime_root = a->runtime_root;
        if (wh_boefje_load(dir, &a->opts, &b, &err) < 0) {
                fprintf(stderr, "whiskers scan: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        json_t *ooi = wh_boefje_input_ooi(a->input, &err);
        struct wh_boefje_input in = {.input_ooi = ooi,
                                     .settings = settings,
                                     .task_id = a->task,
                                     .organization = a->tenant,
                                     .net_allow = a->net_allow.v,
                                     .n_net_allow = a->net_allow.n,
                                     .net_no_input = a->net_no_input,
                                     .limits = a->limits,
                                     .cancel = &cli_stop_signal};
        struct wh_boefje_result res = {0};
        if (!ooi || wh_boefje_run(b, &in, &res, &err) < 0) {
                fprintf(stderr, "whiskers scan: %s\n", err.msg);
                json_decref(ooi);
                wh_boefje_free(b);
                return WH_EXIT_USAGE;
        }
        json_decref(ooi);
        char tmpl[PATH_MAX];
        const char *store = a->store;
        if (!store && res.ok) {
                const char *tmp = getenv("TMPDIR");
                snprintf(tmpl, sizeof(tmpl), "%s/whiskers-scan-XXXXXX", tmp && *tmp ? tmp : "/tmp");
                store = mkdtemp(tmpl);
        }
        int rc = res.ok ? WH_EXIT_OK : WH_EXIT_FAILED;
        if (res.ok && (!store || wh_boefje_store(store, &res, &err) < 0)) {
                fprintf(stderr, "whiskers scan: storing the raw files: %s\n",
                        store ? err.msg : strerror(errno));
                rc = WH_EXIT_FAILED;
        }
        struct chain c = {.a = a, .boefje = &res, .reports = a->json ? json_array() : NULL};
        struct wh_queue *q = NULL;
        if (res.ok && a->db && wh_queue_open(a->db, &q, &err) < 0) {
                fprintf(stderr, "whiskers scan: the job store %s: %s\n", a->db, err.msg);
                rc = WH_EXIT_FAILED;
        }
        if (!a->json)
                print_boefje(wh_boefje_manifest(b), &res, store);
        if (res.ok && q)
                queue_routed(&c, q);
        for (size_t i = 0; res.ok && !a->db && i < res.n_raws; i++)
                for (size_t d = 0; d < a->norm_dirs.n; d++)
                        run_routed(&c, &res.raws[i], a->norm_dirs.v[d]);
        if (res.ok && a->norm_dirs.n && c.jobs == 0 && !a->json)
                printf("no normaliser consumes these raw files' MIME types\n");
        if (a->json) {
                json_t *doc =
                    json_pack("{s:o, s:s?, s:o}", "boefje", wh_boefje_result_json(&res),
                              "raw_store", res.ok ? store : NULL, "normalisers", c.reports);
                json_dumpf(doc, stdout, JSON_INDENT(2));
                putchar('\n');
                json_decref(doc);
        }
        wh_queue_close(q);
        wh_boefje_result_clear(&res);
        wh_boefje_free(b);
        return rc == WH_EXIT_OK && c.failed ? WH_EXIT_FAILED : rc;
}

static int cmd_scan(void *args, int argc, char **argv)
{
        (void)argc, (void)argv;
        struct scan_args *a = args;
        int rc;
        if ((rc = check(a)) != 0)
                return rc;
        cleanup_free char *dir = NULL;
        struct wh_err err = {0};
        if (wh_boefje_find(a->boefjes, a->boefje, &dir, &err) < 0)
                return cli_usage_error("scan", "%s", err.msg);
        json_t *settings = a->settings ? wh_boefje_settings_read(a->settings, &err) : NULL;
        if (a->settings && !settings)
                return cli_usage_error("scan", "%s", err.msg);
        cli_install_stop_handlers();
        rc = scan(a, dir, settings);
        json_decref(settings);
        return rc;
}

const struct cli_command cmd_scan_cli = {
    .name = "scan",
    .head =
        "Usage: whiskers scan --boefje DIR|ID --input-ooi REF [--normalisers DIR]... [OPTIONS]\n"
        "\n"
        "Run an OpenKAT boefje (boefje.json, main.py with run(boefje_meta)) unchanged in a\n"
        "sandbox on the input object REF, check the (mime_types, raw) pairs it returns,\n"
        "store its raw files content-addressed with their MIME types (boefje/<id> and what\n"
        "it declared), then run every normaliser that consumes one of a raw file's MIME\n"
        "types on it. Prints the boefje's raw files, then each normaliser's results.\n"
        "\n",
    .tail = "\n"
            "Exit status: 0 the boefje and every normaliser succeeded; 1 the boefje or a\n"
            "normaliser failed (its error is printed, a failed boefje stores nothing); 2 usage\n"
            "error or nothing could run.\n",
    .options = options,
    .args_size = sizeof(struct scan_args),
    .run = cmd_scan,
};
