/* whiskers worker: run queued jobs until SIGTERM (wh_worker_run). */
#include "cli/exit_codes.h"
#include "cli/queue/args.h"
#include "cli/queue/commands.h"
#include "base/size.h"

#include <errno.h>
#include <signal.h>
#include <whiskers/worker.h>

static void usage(FILE *out)
{
        fprintf(
            out,
            "Usage: whiskers worker [OPTIONS]\n"
            "\n"
            "Claim queued jobs, run each normaliser in the sandbox, store the results. Any\n"
            "number of workers may share one store (PostgreSQL across machines). Stops on\n"
            "SIGTERM, SIGINT or SIGHUP: no more claims, running jobs get --grace-ms to\n"
            "finish, the rest go back to the queue. A killed worker's jobs come back when\n"
            "their leases expire. Logs are JSON lines on stderr (docs/worker.md).\n"
            "\n"
            "Options:\n"
            "  --db URL              the job store (default $WHISKERS_DB, else whiskers.db)\n"
            "  --concurrency N       jobs run at once (default: the number of CPUs)\n"
            "  --normalisers DIR     where normaliser ids are looked up (default\n"
            "                        $WHISKERS_NORMALISERS, else "
            "examples/normalisers)\n" PACKAGE_SOURCE_HELP
            "  --batch N             jobs claimed per statement and held ready beyond the\n"
            "                        running ones (default: what the slots run in 100 ms\n"
            "                        at the recent run time, --concurrency to 32)\n"
            "  --batch-ms N          gather finished jobs this long into one completion\n"
            "                        transaction (default 5)\n"
            "  --lease-ms N          lease length; heartbeats every third of it (default\n"
            "                        30000). A dead worker's jobs return after this\n"
            "  --grace-ms N          on stop, how long running jobs may finish (default 10000)\n"
            "  --poll-ms N           longest pause between claims when idle (default 500)\n"
            "  --retry-base-ms N     first retry delay of a failed job, doubling (default 1000)\n"
            "  --retry-max-ms N      longest retry delay (default 300000)\n"
            "  --exit-when-idle      stop once no job is ready, waiting for a retry, or running\n"
            "  --metrics-port PORT   serve Prometheus metrics on http://127.0.0.1:PORT/metrics\n"
            "  --sink URL            POST each ok result's NormalizerResults to URL\n"
            "                        (\"{tenant}\" in URL is replaced by the job's tenant);\n"
            "                        deliveries wait in the store (an outbox) until the sink\n"
            "                        has them: any worker with a sink delivers them\n"
            "  --sink-attempts N     tries per result (default 5); then the delivery is\n"
            "                        \"failed\", kept: whiskers results --undelivered lists,\n"
            "                        --redeliver re-queues\n"
            "  --sink-backoff-ms N   first retry delay, doubling (default 200)\n"
            "  --sink-backoff-max-ms N  longest retry delay (default 10000)\n"
            "  --sink-timeout-ms N   per request (default 10000)\n"
            "  --statement-timeout-ms N  PostgreSQL cancels a statement running longer;\n"
            "                        it is retried like after a lost connection (default\n"
            "                        30000; 0 keeps the default)\n"
            "  --reuse-across-tenants  reuse an earlier result of ANY tenant for the same\n"
            "                        input, meta, normaliser and policy (default: only the\n"
            "                        job's own tenant's: a reuse tells one tenant about\n"
            "                        another's work)\n"
            "  --id NAME             this worker's name (default HOST:PID)\n"
            "  --log-level LEVEL     debug, info (default), warn or error\n"
            "  --allow-unenforced-limits  run even where cgroup limits cannot be enforced\n"
            "  --cgroup-driver D     auto (default), v1, v2 or none\n"
            "  --cgroup-parent PATH  create each run's cgroup under PATH (a delegated cgroup,\n"
            "                        e.g. the systemd unit's; default: the worker's own)\n"
            "  --warm / --cold       warm runs (default) where the normaliser can: one kept\n"
            "                        sandbox per normaliser and tenant, a fork per job\n"
            "                        (docs/warm.md); --cold: a fresh sandbox per job\n"
            "  --warm-max N          kept warm sandboxes (default 8; least recently used go)\n"
            "  --warm-idle-s N       unload one idle this long (default 300)\n"
            "  --warm-max-mem SIZE   unload least recently used ones while their memory\n"
            "                        (zygotes' and inits' RSS) is above SIZE (e.g. 512M)\n"
            "  --warm-recycle N      unload one after N jobs (default 1000)\n"
            "  --warm-recycle-rss SIZE  unload one whose zygote's and init's RSS is above\n"
            "                        SIZE after a job (e.g. 256M; default: never)\n"
            "  --isolation MODE      fork (default): a fresh fork of the zygote per job;\n"
            "                        persistent: one process serves up to the manifest's\n"
            "                        max_inputs jobs of one tenant (only normalisers that\n"
            "                        declare \"warm\": \"persistent\"; others stay fork)\n"
            "  --isolation-for RULES per tenant or normaliser, first match wins:\n"
            "                        'acme=persistent,normaliser:kat_dns=fork'\n"
            "  --work-dir DIR        where each slot stages its input for the sandbox\n"
            "                        (default $TMPDIR, else /dev/shm, else /tmp)\n"
            "  -h, --help            show this help\n"
            "\n"
            "Exit status: 0 stopped cleanly; 1 the store became unusable (corrupt file,\n"
            "login refused, newer schema: the log says what to do); 2 bad usage.\n");
}

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
        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--sink") == 0)
                        blank_password(argv[++i]);
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

int cmd_worker(int argc, char **argv)
{
        struct wh_worker_config c = {.db_url = db_url_default(), .log_fd = 2};
        const char *level = "info";
        package_source_defaults(&c.packages);
        uint32_t concurrency = 0, port = 0;
        bool warm = false;
        const char *max_mem = NULL, *recycle_rss = NULL;
        const char *isolation = "fork";
        const struct opt opts[] = {
            {"--db", OPT_STR, &c.db_url, 0},
            {"--concurrency", OPT_U32, &concurrency, 1024},
            {"--normalisers", OPT_STR, &c.normalisers_dir, 0},
            PACKAGE_SOURCE_OPTS(c.packages),
            {"--batch", OPT_U32, &c.claim_batch, 10000},
            {"--batch-ms", OPT_U32, &c.complete_batch_ms, 60000},
            {"--lease-ms", OPT_U32, &c.lease_ms, 86400000},
            {"--grace-ms", OPT_U32, &c.grace_ms, 86400000},
            {"--poll-ms", OPT_U32, &c.poll_max_ms, 60000},
            {"--retry-base-ms", OPT_U32, &c.retry_base_ms, 86400000},
            {"--retry-max-ms", OPT_U32, &c.retry_max_ms, 86400000},
            {"--exit-when-idle", OPT_FLAG, &c.exit_when_idle, 0},
            {"--metrics-port", OPT_U32, &port, 65535},
            {"--sink", OPT_STR, &c.sink_url, 0},
            {"--sink-attempts", OPT_U32, &c.sink_attempts, 1000},
            {"--sink-backoff-ms", OPT_U32, &c.sink_backoff_ms, 3600000},
            {"--sink-backoff-max-ms", OPT_U32, &c.sink_backoff_max_ms, 3600000},
            {"--sink-timeout-ms", OPT_U32, &c.sink_timeout_ms, 3600000},
            {"--statement-timeout-ms", OPT_U32, &c.statement_timeout_ms, 86400000},
            {"--reuse-across-tenants", OPT_FLAG, &c.reuse_across_tenants, 0},
            {"--id", OPT_STR, &c.worker_id, 0},
            {"--log-level", OPT_STR, &level, 0},
            {"--allow-unenforced-limits", OPT_FLAG, &c.allow_unenforced_limits, 0},
            {"--cgroup-driver", OPT_STR, &c.cgroup_driver, 0},
            {"--cgroup-parent", OPT_STR, &c.cgroup_parent, 0},
            {"--work-dir", OPT_STR, &c.work_dir, 0},
            {"--warm", OPT_FLAG, &warm, 0},
            {"--cold", OPT_FLAG, &c.cold, 0},
            {"--warm-max", OPT_U32, &c.warm_max, 100000},
            {"--warm-idle-s", OPT_U32, &c.warm_idle_s, 86400},
            {"--warm-recycle", OPT_U32, &c.warm_recycle, 1000000000},
            {"--warm-max-mem", OPT_STR, &max_mem, 0},
            {"--warm-recycle-rss", OPT_STR, &recycle_rss, 0},
            {"--isolation", OPT_STR, &isolation, 0},
            {"--isolation-for", OPT_STR, &c.isolation_for, 0},
            {NULL, OPT_FLAG, NULL, 0},
        };
        size_t npos;
        int p = parse_opts(argc, argv, opts, NULL, 0, &npos);
        if (p != 0) {
                if (p > 0)
                        usage(stdout);
                return p > 0 ? WH_EXIT_OK : WH_EXIT_USAGE;
        }
        int lvl = wh_log_level_parse(level);
        if (lvl < 0) {
                fprintf(stderr, "whiskers worker: --log-level wants debug, info, warn or error\n");
                return WH_EXIT_USAGE;
        }
        c.log_level = (enum wh_log_level)lvl;
        struct wh_err size_err;
        if (max_mem && wh_parse_size(max_mem, &c.warm_max_mem, &size_err) < 0) {
                fprintf(stderr, "whiskers worker: --warm-max-mem: %s\n", size_err.msg);
                return WH_EXIT_USAGE;
        }
        if (recycle_rss && wh_parse_size(recycle_rss, &c.warm_recycle_rss, &size_err) < 0) {
                fprintf(stderr, "whiskers worker: --warm-recycle-rss: %s\n", size_err.msg);
                return WH_EXIT_USAGE;
        }
        if (warm && c.cold) {
                fprintf(stderr, "whiskers worker: --warm and --cold exclude each other\n");
                return WH_EXIT_USAGE;
        }
        enum wh_isolation iso;
        if (wh_isolation_parse(isolation, &c.isolation) < 0 ||
            wh_worker_isolation(&c, NULL, NULL, &iso) < 0) {
                fprintf(stderr, "whiskers worker: --isolation wants fork or persistent, "
                                "--isolation-for WHO=MODE[,WHO=MODE...] with WHO a tenant or "
                                "normaliser:REF\n");
                return WH_EXIT_USAGE;
        }
        c.concurrency = concurrency;
        c.metrics_port = (uint16_t)port;
        if (install_handlers() < 0 || hide_secrets(argc, argv, &c) < 0)
                return WH_EXIT_USAGE;
        struct wh_worker_summary sum;
        struct wh_err err;
        int rc = wh_worker_run(&c, &stop, &sum, &err);
        free((char *)c.db_url);
        free((char *)c.sink_url);
        if (rc < 0) {
                fprintf(stderr, "whiskers worker: %s\n", err.msg);
                /* A stop while waiting for the database is still a clean stop. */
                if (err.kind == WH_ERR_CANCELLED)
                        return WH_EXIT_OK;
                return err.kind == WH_ERR_INVALID ? WH_EXIT_USAGE : WH_EXIT_FAILED;
        }
        return WH_EXIT_OK;
}
