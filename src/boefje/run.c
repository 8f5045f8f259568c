/* Loading a boefje and running one job of it:
 *
 *   load: boefje.json (+ schema.json) -> tree digest -> interpreter in the
 *         runtime image -> input directory
 *   run:  settings checked -> BoefjeMeta -> boefje_meta.json and
 *         settings.json staged -> the job's allowlist (net.c) -> a sandbox
 *         with it -> wh_sandbox_run (python3 -c <boefje shim>
 *         main.py; stdout collected up to the output limit) -> how it ended
 *         or what it printed becomes the result -> provenance
 *
 * Inside the sandbox: the boefje's directory read-only at /normaliser and
 * the input directory read-only at /input. Settings reach the shim as a
 * file, never as the sandbox's environment or argv (docs/boefjes.md). */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"
#include "base/io.h"
#include "base/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STDERR_KEEP (64u << 10)

static const char *const files[] = {"boefje_meta.json", "settings.json"};

static int prepare(struct wh_boefje *b, const struct wh_boefje_options *o, struct wh_err *err)
{
        const char *python = o->python ? o->python : "/usr/bin/python3";
        char path[PATH_MAX];
        if (o->runtime_root && !(b->rootfs = realpath(o->runtime_root, NULL)))
                return wh_err_set(err, errno, "runtime", "runtime root %s", o->runtime_root);
        snprintf(path, sizeof(path), "%s%s", b->rootfs ? b->rootfs : "", python);
        if (python[0] != '/' || access(path, X_OK) < 0)
                return wh_err_set(err, errno ? errno : ENOENT, "runtime", "no interpreter %s%s%s",
                                  python, b->rootfs ? " in " : "", b->rootfs ? b->rootfs : "");
        if (!(b->program = strdup(python)))
                return wh_err_set(err, ENOMEM, "runtime", "out of memory");
        snprintf(path, sizeof(path), "%s/main.py", b->dir);
        if (access(path, R_OK) < 0)
                return wh_err_set(err, errno, "manifest", "%s: the boefje has no main.py", b->dir);
        const char *argv[] = {b->program, "-I", "-S", "-B", "-c", wh_boefje_shim, "main.py", NULL};
        memcpy(b->argv, argv, sizeof(argv));
        sha256_prefixed(wh_boefje_shim, wh_boefje_shim_len, b->shim_digest);
        return 0;
}

static int compile_settings(struct wh_boefje *b, struct wh_err *err)
{
        if (!b->manifest.settings)
                return 0;
        char base[PATH_MAX + 16];
        snprintf(base, sizeof(base), "file://%s/schema.json", b->dir);
        if (wh_schema_registry_new(0, &b->reg, err) < 0 ||
            wh_schema_compile(b->reg, b->manifest.settings, base, &b->settings_schema, err) < 0)
                return wh_err_prefix(err, "%s/schema.json: ", b->dir);
        return 0;
}

static int prepare_sandbox(struct wh_boefje *b, const struct wh_boefje_options *o,
                           struct wh_err *err)
{
        b->config = o->sandbox
                        ? *o->sandbox
                        : (struct wh_sandbox_config){.host_uid = (uid_t)-1, .host_gid = (gid_t)-1};
        uid_t uid;
        gid_t gid;
        host_ids(&b->config, &uid, &gid);
        if (stage_create(&b->stage, o->work_dir, uid, gid, err) < 0)
                return -1;
        b->binds[0] = (struct wh_bind){b->dir, WH_SANDBOX_BOEFJE_DIR, false};
        b->binds[1] = (struct wh_bind){b->stage.dir, WH_SANDBOX_INPUT_DIR, false};
        b->config.binds = b->binds;
        b->config.n_binds = 2;
        b->config.rootfs = b->rootfs;
        return 0;
}

static void limits_default(struct wh_boefje *b, const struct wh_boefje_options *o)
{
        b->raw_max = o->raw_max ? o->raw_max : WH_BOEFJE_RAW_MAX;
        b->limits = o->limits;
        if (!b->limits.wall_ms)
                b->limits.wall_ms = WH_BOEFJE_WALL_MS;
        /* The raw files travel base64-encoded: room for a few of the largest. */
        if (!b->limits.output_bytes)
                b->limits.output_bytes = (b->raw_max / 3 + 1) * 4 * 4 + (1u << 20);
}

int wh_boefje_load(const char *dir, const struct wh_boefje_options *opts, struct wh_boefje **out,
                   struct wh_err *err)
{
        static const struct wh_boefje_options none;
        const struct wh_boefje_options *o = opts ? opts : &none;
        struct wh_boefje *b = calloc(1, sizeof(*b));
        if (!b)
                return wh_err_set(err, ENOMEM, "load", "%s", dir);
        b->stage.dir_fd = -1;
        if (!(b->dir = realpath(dir, NULL))) {
                wh_err_set(err, errno, "load", "boefje directory %s", dir);
                goto fail;
        }
        limits_default(b, o);
        if (wh_boefje_manifest_load(b->dir, &b->manifest, err) < 0 ||
            wh_tree_digest(b->dir, b->digest, err) < 0 || prepare(b, o, err) < 0 ||
            compile_settings(b, err) < 0 || prepare_sandbox(b, o, err) < 0)
                goto fail;
        *out = b;
        return 0;
fail:
        wh_boefje_free(b);
        return -1;
}

const struct wh_boefje_manifest *wh_boefje_manifest(const struct wh_boefje *b)
{
        return &b->manifest;
}

static void unstage(struct wh_boefje *b)
{
        for (size_t i = 0; b->stage.dir_fd >= 0 && i < sizeof(files) / sizeof(files[0]); i++)
                unlinkat(b->stage.dir_fd, files[i], 0);
}

void wh_boefje_free(struct wh_boefje *b)
{
        if (!b)
                return;
        unstage(b);
        stage_destroy(&b->stage);
        wh_schema_free(b->settings_schema);
        if (b->reg)
                wh_schema_registry_free(b->reg);
        wh_boefje_manifest_clear(&b->manifest);
        free(b->rootfs);
        free(b->program);
        free(b->dir);
        free(b);
}

/* A file of the input directory: readable by the sandbox's root only (the
 * directory is its, 0700), replaced whole for every job. */
static int stage_json(struct wh_boefje *b, const char *name, json_t *doc, struct wh_err *err)
{
        cleanup_free char *text = json_dumps(doc, JSON_COMPACT);
        if (!text)
                return wh_err_set(err, ENOMEM, "stage", "out of memory");
        unlinkat(b->stage.dir_fd, name, 0);
        cleanup_close int fd =
            openat(b->stage.dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0 || fchmod(fd, 0444) < 0 || wh_write_all(fd, text, strlen(text)) < 0)
                return wh_err_set(err, errno, "stage", "cannot write %s/%s", b->stage.dir, name);
        return 0;
}

static int on_stdout(void *ctx, const char *data, size_t len)
{
        struct wh_strbuf *out = ctx;
        wh_strbuf_put(out, data, len);
        return out->oom ? -1 : 0;
}

static uint64_t tighter(uint64_t have, uint64_t asked)
{
        return asked && (!have || asked < have) ? asked : have;
}

/* The load's limits lowered by the run's own (wh_boefje_input.limits). */
static struct wh_limits run_limits(const struct wh_boefje *b, const struct wh_boefje_limits *own)
{
        struct wh_limits l = b->limits;
        l.wall_ms = tighter(l.wall_ms, own->wall_ms);
        l.memory_bytes = tighter(l.memory_bytes, own->memory_bytes);
        l.output_bytes = tighter(l.output_bytes, own->output_bytes);
        return l;
}

static void status_error(const struct wh_boefje *b, const struct wh_limits *limits,
                         struct wh_boefje_result *res)
{
        const struct wh_report *r = &res->report;
        const char *name = wh_status_name(r->status);
        switch (r->status) {
        case WH_STATUS_OK:
        case WH_STATUS_EXIT_NONZERO:
                result_fail(res, name, NULL, "the boefje exited with status %d", r->exit_code);
                return;
        case WH_STATUS_OUTPUT_LIMIT:
                result_fail(res, name, NULL,
                            "the boefje's output passed %llu bytes: its raw files together are "
                            "too large (--raw-max %llu per file)",
                            (unsigned long long)limits->output_bytes,
                            (unsigned long long)b->raw_max);
                return;
        case WH_STATUS_TIMEOUT_WALL:
                result_fail(res, name, NULL, "stopped after %llu ms of wall-clock time",
                            (unsigned long long)limits->wall_ms);
                return;
        case WH_STATUS_SECCOMP_KILL:
                result_fail(res, name, NULL, "killed for the forbidden system call %s (%d)",
                            r->syscall_name, r->syscall_nr);
                return;
        case WH_STATUS_SANDBOX_ERROR:
                result_fail(res, name, NULL, "the sandbox could not run it: stage %s: %s", r->stage,
                            r->message);
                return;
        default:
                result_fail(res, name, NULL, "the run ended: %s (signal %d)", name, r->signal);
        }
}

/* The first STDERR_KEEP bytes of the boefje's stderr as valid UTF-8
 * without NULs: they go into JSON (the job's record, --json), which a byte
 * that is not UTF-8, or a character cut by the limit, would make fail. */
static void take_stderr(int fd, struct wh_boefje_result *res)
{
        off_t size = lseek(fd, 0, SEEK_END);
        size_t keep = size > 0 ? ((size_t)size < STDERR_KEEP ? (size_t)size : STDERR_KEEP) : 0;
        cleanup_free char *bytes = calloc(1, keep + 1);
        ssize_t n = bytes ? pread(fd, bytes, keep, 0) : -1;
        if (!bytes || !(res->stderr_text = utf8_excerpt(bytes, n > 0 ? (size_t)n : 0, keep * 3)))
                return;
        res->stderr_len = strlen(res->stderr_text);
}

static json_t *provenance(const struct wh_boefje *b, json_t *runtime, json_t *settings,
                          json_t *network)
{
        const struct wh_boefje_manifest *m = &b->manifest;
        json_t *names = json_array();
        const char *name;
        json_t *v;
        json_object_foreach(settings, name, v) json_array_append_new(names, json_string(name));
        return json_pack("{s:{s:s, s:s, s:s, s:s?, s:i}, s:o?, s:{s:s}, s:s?, s:o, s:{s:O?}, s:I, "
                         "s:s}",
                         "boefje", "id", m->id, "path", b->dir, "digest", b->digest, "oci_image",
                         m->oci_image, "scan_level", m->scan_level, "runtime", json_incref(runtime),
                         "shim", "digest", b->shim_digest, "runtime_root", b->rootfs, "settings",
                         names, "network", "allow", network, "raw_max", (json_int_t)b->raw_max,
                         "whiskers_version", WH_VERSION);
}

static int run_sandboxed(struct wh_boefje *b, struct wh_sandbox *sb, const struct wh_limits *limits,
                         const volatile int *cancel, struct wh_boefje_result *res,
                         struct wh_err *err)
{
        struct wh_strbuf out = {0};
        cleanup_close int err_fd = memfd_create("boefje-stderr", MFD_CLOEXEC);
        if (err_fd < 0)
                return wh_err_set(err, errno, "run", "memfd_create");
        static const char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                                           "HOME=/tmp", "WHISKERS_BOEFJE=1", NULL};
        struct wh_run_spec spec = {.argv = b->argv,
                                   .envp = envp,
                                   .cwd = WH_SANDBOX_BOEFJE_DIR,
                                   .stdin_fd = -1,
                                   .stdout_fd = -1,
                                   .stderr_fd = err_fd,
                                   .limits = *limits,
                                   .cancel = cancel,
                                   .on_stdout = on_stdout,
                                   .stdout_ctx = &out};
        int rc = wh_sandbox_run(sb, &spec, &res->report, err);
        if (rc < 0) {
                free(out.s);
                return -1;
        }
        res->ran = true;
        take_stderr(err_fd, res);
        json_t *runtime = NULL;
        enum wh_status st = res->report.status;
        if (st == WH_STATUS_OK || st == WH_STATUS_EXIT_NONZERO)
                output_parse(b, out.s ? out.s : "", out.len, res, &runtime);
        if (st != WH_STATUS_OK) {
                output_drop(res);
                status_error(b, limits, res);
        }
        free(out.s);
        res->runtime = runtime;
        return 0;
}

/* The job's sandbox: the load's configuration with this job's network.
 * An allowlist that cannot be made (a forbidden address, a name that does
 * not resolve) is the job's error: nothing runs. */
static int run_job(struct wh_boefje *b, const struct wh_boefje_input *in, json_t *env,
                   json_t **network, struct wh_boefje_result *res, struct wh_err *err)
{
        struct wh_net_policy *policy = NULL;
        struct wh_sandbox *sb = NULL;
        struct wh_err why = {0};
        if (boefje_net_policy(b, in, env, &policy, network, &why) < 0) {
                result_fail(res, "network_refused", NULL, "%s", why.msg);
                return 0;
        }
        if (policy) {
                struct wh_net_limits *n = &policy->limits;
                n->max_connections =
                    (uint32_t)tighter(n->max_connections, in->limits.net_max_conns);
                n->max_bytes = tighter(n->max_bytes, in->limits.net_max_bytes);
                n->max_rate = tighter(n->max_rate, in->limits.net_max_rate);
        }
        struct wh_sandbox_config c = b->config;
        c.net = policy ? WH_NET_ALLOW : WH_NET_NONE;
        c.net_policy = policy;
        struct wh_limits limits = run_limits(b, &in->limits);
        int rc = wh_sandbox_new(&c, &sb, err);
        if (rc == 0)
                rc = run_sandboxed(b, sb, &limits, in->cancel, res, err);
        wh_sandbox_free(sb);
        wh_net_policy_free(policy);
        return rc;
}

int wh_boefje_run(struct wh_boefje *b, const struct wh_boefje_input *in,
                  struct wh_boefje_result *res, struct wh_err *err)
{
        *res = (struct wh_boefje_result){.ok = true};
        json_t *env = settings_check(b, in->settings, err);
        if (!env)
                return -1;
        res->boefje_meta = boefje_meta_build(b, in->input_ooi, in->task_id, in->organization, err);
        int rc = -1;
        json_t *network = NULL;
        if (res->boefje_meta && stage_json(b, files[0], res->boefje_meta, err) == 0 &&
            stage_json(b, files[1], env, err) == 0)
                rc = run_job(b, in, env, &network, res, err);
        unstage(b);
        if (rc == 0)
                res->provenance = provenance(b, res->runtime, env, network);
        json_decref(network);
        json_decref(env);
        if (rc == 0) {
                char now[32];
                time_t t = time(NULL);
                struct tm tm;
                strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
                json_object_set_new(res->boefje_meta, "ended_at", json_string(now));
        }
        return rc;
}

void wh_boefje_result_clear(struct wh_boefje_result *res)
{
        output_drop(res);
        json_decref(res->boefje_meta);
        json_decref(res->provenance);
        json_decref(res->runtime);
        free(res->error_message);
        free(res->error_detail);
        free(res->stderr_text);
        *res = (struct wh_boefje_result){0};
}
