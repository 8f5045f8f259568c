/* whiskers worker: run queued jobs until SIGTERM (wh_worker_run). */
#include "cli/exit_codes.h"
#include "cli/queue/store_option.h"
#include "cli/run_options.h"
#include "cli/queue/commands.h"
#include "base/size.h"

#include <errno.h>
#include <signal.h>
#include <whiskers/worker.h>

/* A port in the uint16_t of the config. */
static int metrics_port(void *base, const char *v, const char *cmd)
{
        uint64_t port;
        struct wh_err err;
        if (wh_parse_u64(v, &port, &err) < 0 || port > 65535)
                return cli_usage_error(cmd,
                                       "--metrics-port wants a number from 0 to 65535, "
                                       "not '%s'",
                                       v);
        ((struct wh_worker_config *)base)->metrics_port = (uint16_t)port;
        return 0;
}

struct args {
        struct wh_worker_config c;
        const char *level, *isolation;
        bool warm;
};

#define AT(field) offsetof(struct args, field)
#define C(field)  offsetof(struct args, c.field)
static const struct cli_option options[] = {
    QUEUE_DB_OPTION(struct args, c.db_url),
    {CLI_U32, "concurrency", .metavar = "N", .offset = C(concurrency), .max = 1024,
     .help = "jobs run at once (default: the number of CPUs)"},
    {CLI_STR, "normalisers", .metavar = "DIR", .offset = C(normalisers_dir), .complete = CLI_DIR,
     .help = "where normaliser ids are looked up (default $WHISKERS_NORMALISERS, else "
             "examples/normalisers)"},
    {CLI_GROUP, .group = cli_package_options, .offset = C(packages)},
    {CLI_STR, "boefjes", .metavar = "DIR", .offset = C(boefjes_dir), .complete = CLI_DIR,
     .help = "where the boefje ids of boefje jobs are looked up (default $WHISKERS_BOEFJES, "
             "else examples/boefjes)"},
    {CLI_STR, "boefje-runtime-root", .metavar = "DIR", .offset = C(boefje_runtime_root),
     .complete = CLI_DIR, .help = "the runtime image boefjes run on (their tools)"},
    {CLI_STR, "boefje-settings", .metavar = "DIR", .offset = C(boefje_settings_dir),
     .complete = CLI_DIR,
     .help = "boefje settings: DIR/TENANT/ID.json, else DIR/ID.json (docs/boefjes.md; never "
             "stored in the job store)"},
    {CLI_U32, "boefje-slots", .metavar = "N", .offset = C(boefje_slots), .max = 1024,
     .help = "boefje jobs running at once, of the --concurrency slots (default: any)"},
    {CLI_U32, "batch", .metavar = "N", .offset = C(claim_batch), .max = 10000,
     .help = "jobs claimed per statement and held ready beyond the running ones (default: "
             "what the slots run in 100 ms at the recent run time, --concurrency to 32)"},
    {CLI_U32, "batch-ms", .metavar = "N", .offset = C(complete_batch_ms), .max = 60000,
     .help = "gather finished jobs this long into one completion transaction (default 5)"},
    {CLI_U32, "lease-ms", .metavar = "N", .offset = C(lease_ms), .max = 86400000,
     .help = "lease length; heartbeats every third of it (default 30000). A dead worker's "
             "jobs return after this"},
    {CLI_U32, "grace-ms", .metavar = "N", .offset = C(grace_ms), .max = 86400000,
     .help = "on stop, how long running jobs may finish (default 10000)"},
    {CLI_U32, "poll-ms", .metavar = "N", .offset = C(poll_max_ms), .max = 60000,
     .help = "longest pause between claims when idle (default 500)"},
    {CLI_U32, "retry-base-ms", .metavar = "N", .offset = C(retry_base_ms), .max = 86400000,
     .help = "first retry delay of a failed job, doubling (default 1000)"},
    {CLI_U32, "retry-max-ms", .metavar = "N", .offset = C(retry_max_ms), .max = 86400000,
     .help = "longest retry delay (default 300000)"},
    {CLI_FLAG, "exit-when-idle", .offset = C(exit_when_idle),
     .help = "stop once no job is ready, waiting for a retry, or running"},
    {CLI_CALL, "metrics-port", .metavar = "PORT", .call = metrics_port,
     .help = "serve Prometheus metrics on http://127.0.0.1:PORT/metrics"},
    {CLI_STR, "sink", .metavar = "URL", .offset = C(sink_url),
     .help = "POST each ok result's NormalizerResults to URL (\"{tenant}\" in URL is replaced "
             "by the job's tenant); deliveries wait in the store (an outbox) until the sink has "
             "them: any worker with a sink delivers them"},
    {CLI_U32, "sink-attempts", .metavar = "N", .offset = C(sink_attempts), .max = 1000,
     .help = "tries per result (default 5); then the delivery is \"failed\", kept: whiskers "
             "results --undelivered lists, --redeliver re-queues"},
    {CLI_U32, "sink-backoff-ms", .metavar = "N", .offset = C(sink_backoff_ms), .max = 3600000,
     .help = "first retry delay, doubling (default 200)"},
    {CLI_U32, "sink-backoff-max-ms", .metavar = "N", .offset = C(sink_backoff_max_ms),
     .max = 3600000, .help = "longest retry delay (default 10000)"},
    {CLI_U32, "sink-timeout-ms", .metavar = "N", .offset = C(sink_timeout_ms), .max = 3600000,
     .help = "per request (default 10000)"},
    {CLI_U32, "statement-timeout-ms", .metavar = "N", .offset = C(statement_timeout_ms),
     .max = 86400000,
     .help = "PostgreSQL cancels a statement running longer; it is retried like after a lost "
             "connection (default 30000; 0 keeps the default)"},
    {CLI_FLAG, "reuse-across-tenants", .offset = C(reuse_across_tenants),
     .help = "reuse an earlier result of ANY tenant for the same input, meta, normaliser and "
             "policy (default: only the job's own tenant's: a reuse tells one tenant about "
             "another's work)"},
    {CLI_STR, "id", .metavar = "NAME", .offset = C(worker_id),
     .help = "this worker's name (default HOST:PID)"},
    {CLI_STR, "log-level", .metavar = "debug|info|warn|error", .offset = AT(level),
     .help = "how much to log (default info)"},
    {CLI_FLAG, "allow-unenforced-limits", .offset = C(allow_unenforced_limits),
     .help = "run even where cgroup limits cannot be enforced"},
    {CLI_STR, "cgroup-driver", .metavar = "auto|v1|v2|none", .offset = C(cgroup_driver),
     .help = "which cgroups enforce the limits (default auto)"},
    {CLI_STR, "cgroup-parent", .metavar = "PATH", .offset = C(cgroup_parent), .complete = CLI_DIR,
     .help = "create each run's cgroup under PATH (a delegated cgroup, e.g. the systemd "
             "unit's; default: the worker's own)"},
    {CLI_STR, "work-dir", .metavar = "DIR", .offset = C(work_dir), .complete = CLI_DIR,
     .help = "where each slot stages its input for the sandbox (default $TMPDIR, else "
             "/dev/shm, else /tmp)"},
    {CLI_FLAG, "warm", .offset = AT(warm),
     .help = "warm runs (the default) where the normaliser can: one kept sandbox per "
             "normaliser and tenant, a fork per job (docs/warm.md)"},
    {CLI_FLAG, "cold", .offset = C(cold), .help = "a fresh sandbox per job"},
    {CLI_U32, "warm-max", .metavar = "N", .offset = C(warm_max), .max = 100000,
     .help = "kept warm sandboxes (default 8; least recently used go)"},
    {CLI_U32, "warm-max-per-tenant", .metavar = "N", .offset = C(warm_max_per_tenant),
     .max = 100000,
     .help = "kept warm sandboxes of one tenant (default: --warm-max); above it the tenant's own "
             "least recently used goes"},
    {CLI_U32, "warm-idle-s", .metavar = "N", .offset = C(warm_idle_s), .max = 86400,
     .help = "unload one idle this long (default 300)"},
    {CLI_U32, "warm-recycle", .metavar = "N", .offset = C(warm_recycle), .max = 1000000000,
     .help = "unload one after N jobs (default 1000)"},
    {CLI_SIZE, "warm-max-mem", .metavar = "SIZE", .offset = C(warm_max_mem),
     .help = "unload least recently used ones while their memory (zygotes' and inits' RSS) is "
             "above SIZE (e.g. 512M)"},
    {CLI_SIZE, "warm-recycle-rss", .metavar = "SIZE", .offset = C(warm_recycle_rss),
     .help = "unload one whose zygote's and init's RSS is above SIZE after a job (e.g. 256M; "
             "default: never)"},
    {CLI_STR, "isolation", .metavar = "fork|persistent", .offset = AT(isolation),
     .help = "fork (default): a fresh fork of the zygote per job; persistent: one process "
             "serves up to the manifest's max_inputs jobs of one tenant (only normalisers that "
             "declare \"warm\": \"persistent\"; others stay fork)"},
    {CLI_STR, "isolation-for", .metavar = "RULES", .offset = C(isolation_for),
     .help = "per tenant or normaliser, first match wins: "
             "'acme=persistent,normaliser:kat_dns=fork'"},
    {0},
};

/* Blank the password of a URL (scheme://user:PASSWORD@host/..., or a
 * password=... parameter) in place. */
static void blank_password(char *url)
{
        char *scheme = strstr(url, "://");
        if (scheme) {
                char *host = scheme + 3, *end = host + strcspn(host, "/?#"), *at = NULL;
                for (char *p = host; p < end; p++)
                        if (*p == '@')
                                at = p;
                char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
                if (colon)
                        memset(colon + 1, '*', (size_t)(at - colon - 1));
        }
        for (char *p = strstr(url, "password="); p; p = strstr(p, "password="))
                for (p += 9; *p && *p != '&' && *p != ' '; p++)
                        *p = '*';
}

/* The command line is readable in /proc/PID/cmdline, and in every
 * sandbox as /proc/1/cmdline (its init is a copy of this process): keep
 * the secrets in copies and blank them in argv. */
static int hide_secrets(int argc, char **argv, struct wh_worker_config *c)
{
        char *db = strdup(c->db_url), *sink = c->sink_url ? strdup(c->sink_url) : NULL;
        if (!db || (c->sink_url && !sink)) {
                free(db);
                free(sink);
                fprintf(stderr, "whiskers worker: out of memory\n");
                return -1;
        }
        for (int i = 1; i < argc; i++) {
                const char *opt[] = {"--db", "--sink"};
                for (size_t k = 0; k < 2; k++) {
                        size_t n = strlen(opt[k]);
                        if (strncmp(argv[i], opt[k], n) != 0)
                                continue;
                        if (argv[i][n] == '=')
                                blank_password(argv[i] + n + 1);
                        else if (!argv[i][n] && i + 1 < argc)
                                blank_password(argv[++i]);
                }
        }
        c->db_url = db;
        c->sink_url = sink;
        return 0;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
        stop = sig;
}

static int install_handlers(void)
{
        struct sigaction sa = {.sa_handler = on_stop};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
            sigaction(SIGHUP, &sa, NULL) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
                fprintf(stderr, "whiskers worker: cannot install signal handlers: %s\n",
                        strerror(errno));
                return -1;
        }
        return 0;
}

/* The worker parses its own command line: hide_secrets blanks it. */
static int cmd_worker(int argc, char **argv)
{
        struct args a = {
            .c = {.db_url = QUEUE_DB_DEFAULT, .log_fd = 2}, .level = "info", .isolation = "fork"};
        struct wh_worker_config *c = &a.c;
        cleanup_cli struct cli_parsed p = {0};
        int rc = cli_parse(&cmd_worker_cli, &a, argc, argv, &p);
        if (rc != CLI_PARSED)
                return rc;
        const char *level = a.level, *isolation = a.isolation;
        int lvl = wh_log_level_parse(level);
        if (lvl < 0) {
                fprintf(stderr, "whiskers worker: --log-level wants debug, info, warn or error\n");
                return WH_EXIT_USAGE;
        }
        c->log_level = (enum wh_log_level)lvl;
        if (a.warm && c->cold) {
                fprintf(stderr, "whiskers worker: --warm and --cold exclude each other\n");
                return WH_EXIT_USAGE;
        }
        enum wh_isolation iso;
        if (wh_isolation_parse(isolation, &c->isolation) < 0 ||
            wh_worker_isolation(c, NULL, NULL, &iso) < 0) {
                fprintf(stderr, "whiskers worker: --isolation wants fork or persistent, "
                                "--isolation-for WHO=MODE[,WHO=MODE...] with WHO a tenant or "
                                "normaliser:REF\n");
                return WH_EXIT_USAGE;
        }
        if (install_handlers() < 0 || hide_secrets(argc, argv, c) < 0)
                return WH_EXIT_USAGE;
        struct wh_worker_summary sum;
        struct wh_err err;
        rc = wh_worker_run(c, &stop, &sum, &err);
        free((char *)c->db_url);
        free((char *)c->sink_url);
        if (rc < 0) {
                fprintf(stderr, "whiskers worker: %s\n", err.msg);
                /* A stop while waiting for the database is still a clean stop. */
                if (err.kind == WH_ERR_CANCELLED)
                        return WH_EXIT_OK;
                return err.kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        }
        return WH_EXIT_OK;
}

const struct cli_command cmd_worker_cli = {
    .name = "worker",
    .head = "Usage: whiskers worker [OPTIONS]\n"
            "\n"
            "Claim queued jobs, run each normaliser or boefje in the sandbox, store the\n"
            "results (a boefje's raw files become normaliser jobs). Any number of workers\n"
            "may share one store (PostgreSQL across machines). Stops on SIGTERM, SIGINT or\n"
            "SIGHUP: no more claims, running jobs get --grace-ms to finish, the rest go\n"
            "back to the queue. A killed worker's jobs come back when their leases expire.\n"
            "Logs are JSON lines on stderr (docs/worker.md).\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Exit status: 0 stopped cleanly; 1 the store became unusable (corrupt file,\n"
            "login refused, newer schema: the log says what to do); 2 bad usage.\n",
    .options = options,
    .dispatch = cmd_worker,
};
