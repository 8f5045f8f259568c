/* whiskers scan: one boefje job and the normaliser jobs its raw files make,
 * once, on this machine (docs/boefjes.md). Thin: options -> the boefje in
 * its sandbox -> raw files stored -> every normaliser consuming one of a
 * raw file's MIME types (jobs.h's routing, wh_normalisers_for_mime) on
 * it -> both halves printed. */
#define _GNU_SOURCE
#include "cli/queue/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_options.h"
#include "base/cleanup.h"
#include "base/io.h"
#include "base/strv.h"

#include <dirent.h>
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
};

static int check(const struct scan_args *a)
{
        if (!a->db != !a->tenant)
                return cli_usage_error("scan", "--db and --tenant go together");
        return 0;
}

/* A boefje id: the subdirectory of dir whose boefje.json says it. */
static char *find_boefje(const char *dir, const char *id)
{
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);
        char *found = NULL;
        for (int i = 0; i < n; i++) {
                struct wh_boefje_manifest m;
                struct wh_err err = {0};
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                if (!found && names[i]->d_name[0] != '.' &&
                    wh_boefje_manifest_load(path, &m, &err) == 0) {
                        if (strcmp(m.id, id) == 0)
                                found = strdup(path);
                        wh_boefje_manifest_clear(&m);
                }
                free(names[i]);
        }
        if (n >= 0)
                free(names);
        return found;
}

static json_t *read_settings(const char *path)
{
        cleanup_free char *text = NULL;
        size_t len;
        struct wh_err err = {0};
        if (wh_read_file(path, 1u << 20, &text, &len, &err) < 0) {
                fprintf(stderr, "whiskers scan: %s\n", err.msg);
                return NULL;
        }
        json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(v)) {
                /* jansson's message could quote the text: a secret. */
                fprintf(stderr, "whiskers scan: %s is not a JSON object of settings\n", path);
                json_decref(v);
                return NULL;
        }
        return v;
}

static void print_boefje(const struct wh_boefje_manifest *m, const struct wh_boefje_result *res,
                         const char *store)
{
        const char *task = json_string_value(json_object_get(res->boefje_meta, "id"));
        if (!res->ok) {
                printf("boefje %s (task %s): FAILED %s: %s\n", m->id, task, res->error_code,
                       res->error_message ? res->error_message : "");
                if (res->error_detail)
                        printf("%s\n", res->error_detail);
                if (res->stderr_len)
                        printf("stderr:\n%s\n", res->stderr_text);
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

/* The NormalizerMeta OpenKAT's scheduler would send for this raw file. */
static char *normaliser_meta(const struct wh_boefje_result *res, const struct wh_boefje_raw *r,
                             const char *normaliser, size_t job)
{
        json_t *mimes = json_array(), *v;
        size_t i;
        json_array_foreach(r->mime_types, i, v)
            json_array_append_new(mimes, json_pack("{s:O}", "value", v));
        const char *task = json_string_value(json_object_get(res->boefje_meta, "id"));
        char id[160];
        snprintf(id, sizeof(id), "%s-n%zu", task ? task : "scan", job);
        json_t *meta = json_pack("{s:s, s:{s:s, s:O, s:o}, s:{s:s, s:n}}", "id", id, "raw_data",
                                 "id", r->digest, "boefje_meta", res->boefje_meta, "mime_types",
                                 mimes, "normalizer", "id", normaliser, "version");
        char *text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
        json_decref(meta);
        return text;
}

struct chain {
        const struct scan_args *a;
        const struct wh_boefje_result *boefje;
        struct wh_queue *q; /* --db: queue the jobs instead */
        json_t *reports;    /* --json */
        size_t jobs;
        int failed;
};

/* One normaliser job into the job store, routed as it would be run here. */
static void queue_normaliser(struct chain *c, const struct wh_boefje_raw *r, const char *path,
                             const char *dir)
{
        struct wh_manifest m;
        struct wh_err err = {0};
        struct wh_submitted *jobs = NULL;
        size_t n = 0;
        if (wh_manifest_load(path, &m, &err) < 0) {
                printf("normaliser %s: %s\n", path, err.msg);
                c->failed = 1;
                return;
        }
        cleanup_free char *meta = normaliser_meta(c->boefje, r, m.id, ++c->jobs);
        struct wh_submission s = {.tenant = c->a->tenant,
                                  .normaliser = path,
                                  .normalisers_dir = dir,
                                  .mime = json_string_value(json_array_get(r->mime_types, 0)),
                                  .meta_json = meta};
        struct wh_submit_input in = {.data = r->data, .len = r->len};
        if (!meta || wh_submit(c->q, &s, &in, 1, &jobs, &n, &err) < 0) {
                printf("normaliser %s on %s: cannot queue: %s\n", m.id, r->digest, err.msg);
                c->failed = 1;
        } else if (c->reports) {
                json_array_append_new(c->reports,
                                      json_pack("{s:s, s:s, s:I}", "normaliser", m.id, "raw",
                                                r->digest, "job_id", (json_int_t)jobs[0].job_id));
        } else {
                printf("queued job %lld: normaliser %s on %s\n", (long long)jobs[0].job_id, m.id,
                       r->digest);
        }
        wh_submitted_free(jobs, n);
        wh_manifest_clear(&m);
}

static void run_normaliser(struct chain *c, const struct wh_boefje_raw *r, const char *path,
                           const char *dir)
{
        if (c->q) {
                queue_normaliser(c, r, path, dir);
                return;
        }
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
        cleanup_free char *meta = normaliser_meta(c->boefje, r, id, ++c->jobs);
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

/* Every normaliser in dir consuming one of r's MIME types, once each. */
static void route(struct chain *c, const struct wh_boefje_raw *r, const char *dir)
{
        char file[PATH_MAX];
        snprintf(file, sizeof(file), "%s/normalizer.json", dir);
        if (access(file, F_OK) == 0) { /* one normaliser: does it consume one of them? */
                struct wh_manifest m;
                struct wh_err err = {0};
                bool wanted = false;
                if (wh_manifest_load(dir, &m, &err) < 0) {
                        printf("normaliser %s: %s\n", dir, err.msg);
                        c->failed = 1;
                        return;
                }
                for (size_t i = 0; i < json_array_size(r->mime_types); i++)
                        for (size_t j = 0; j < json_array_size(m.consumes); j++)
                                wanted |= json_equal(json_array_get(r->mime_types, i),
                                                     json_array_get(m.consumes, j));
                wh_manifest_clear(&m);
                if (wanted)
                        run_normaliser(c, r, dir, dir);
                return;
        }
        char **done = NULL;
        size_t n_done = 0;
        for (size_t i = 0; i < json_array_size(r->mime_types); i++) {
                const char *mime = json_string_value(json_array_get(r->mime_types, i));
                char **ids = NULL;
                size_t n = 0;
                struct wh_err err = {0};
                if (wh_normalisers_for_mime(dir, mime, &ids, &n, &err) < 0) {
                        printf("normalisers in %s: %s\n", dir, err.msg);
                        c->failed = 1;
                }
                for (size_t k = 0; k < n; k++) {
                        bool seen = false;
                        for (size_t d = 0; d < n_done; d++)
                                seen |= strcmp(done[d], ids[k]) == 0;
                        char *path = NULL;
                        if (seen || wh_normaliser_find(dir, ids[k], &path, &err) < 0)
                                continue;
                        run_normaliser(c, r, path, dir);
                        free(path);
                        char **grown = realloc(done, (n_done + 1) * sizeof(*grown));
                        if (grown && (grown[n_done] = strdup(ids[k])))
                                n_done++;
                        done = grown ? grown : done;
                }
                wh_strv_free(ids, n);
        }
        wh_strv_free(done, n_done);
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
                                     .net_no_input = a->net_no_input};
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
        if (res.ok && a->db && wh_queue_open(a->db, &c.q, &err) < 0) {
                fprintf(stderr, "whiskers scan: the job store %s: %s\n", a->db, err.msg);
                rc = WH_EXIT_FAILED;
        }
        if (!a->json)
                print_boefje(wh_boefje_manifest(b), &res, store);
        for (size_t i = 0; res.ok && (!a->db || c.q) && i < res.n_raws; i++)
                for (size_t d = 0; d < a->norm_dirs.n; d++)
                        route(&c, &res.raws[i], a->norm_dirs.v[d]);
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
        if (c.q)
                wh_queue_close(c.q);
        wh_boefje_result_clear(&res);
        wh_boefje_free(b);
        return rc == WH_EXIT_OK && c.failed ? WH_EXIT_FAILED : rc;
}

int cmd_scan(int argc, char **argv)
{
        struct scan_args a = {0};
        cleanup_cli struct cli_parsed p = {0};
        int rc = cli_parse(&cmd_scan_cli, &a, argc, argv, &p);
        if (rc != CLI_PARSED)
                return rc;
        if ((rc = check(&a)) != 0)
                return rc;
        cleanup_free char *found = NULL;
        const char *dir = a.boefje;
        if (!strchr(a.boefje, '/')) {
                const char *in = a.boefjes ? a.boefjes : "examples/boefjes";
                if (!(dir = found = find_boefje(in, a.boefje)))
                        return cli_usage_error("scan",
                                               "no boefje with the id '%s' in %s (a path needs a "
                                               "'/': ./%s)",
                                               a.boefje, in, a.boefje);
        }
        json_t *settings = a.settings ? read_settings(a.settings) : NULL;
        if (a.settings && !settings)
                return WH_EXIT_USAGE;
        cli_install_stop_handlers();
        rc = scan(&a, dir, settings);
        json_decref(settings);
        return rc;
}
