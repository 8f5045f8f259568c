/* Loading a normaliser: everything that does not depend on the input is
 * done once here, so that a worker pays only the run itself per input.
 *
 *   manifest and limits -> tree digest -> entrypoint and runtime ->
 *   schemas compiled -> input directory -> sandbox prepared
 *
 * Inside the sandbox: the directory read-only at /normaliser, the input
 * directory read-only at /input, a package's Python layers read-only at
 * /whiskers/python/<i>; no network. */
#define _GNU_SOURCE
#include "contract/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_entrypoint(struct wh_normaliser *n, struct wh_err *err)
{
        const struct wh_manifest *m = &n->manifest;
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", n->dir, m->entrypoint);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return wh_err_setk(err, WH_ERR_NOT_FOUND, ENOENT, "manifest",
                                   "%s/normalizer.json: field \"entrypoint\": %s is not a file",
                                   n->dir, path);
        bool exec = strcmp(m->runtime, "exec") == 0;
        if (exec && !(st.st_mode & S_IXUSR))
                return wh_err_set(err, EACCES, "manifest",
                                  "%s/normalizer.json: field \"entrypoint\": runtime exec needs %s "
                                  "to be executable (chmod +x)",
                                  n->dir, path);
        return 0;
}

/* The interpreter: inside the runtime image when the package carries one,
 * else the host's, checked from here before anything runs. */
static int find_interpreter(struct wh_normaliser *n, const char *python,
                            const struct wh_normaliser_origin *origin, struct wh_err *err)
{
        const struct wh_manifest *m = &n->manifest;
        if (n->rootfs) {
                char path[PATH_MAX], fallback[64];
                snprintf(fallback, sizeof(fallback), "/usr/bin/%s", m->runtime);
                const char *in = origin ? origin->interpreter : python ? python : fallback;
                in = in ? in : "";
                snprintf(path, sizeof(path), "%s%s", n->rootfs, in);
                if (in[0] != '/' || access(path, X_OK) < 0)
                        return wh_err_setk(err, WH_ERR_NOT_FOUND, errno ? errno : ENOENT, "runtime",
                                           "the runtime image has no interpreter '%s'", in);
                n->program = strdup(in);
                n->interpreter = strdup(in);
                return n->program && n->interpreter ? 0
                                                    : wh_err_set(err, ENOMEM, "runtime", "%s", in);
        }
        char wanted[64];
        snprintf(wanted, sizeof(wanted), "/usr/bin/%s", m->runtime);
        const char *interp = python && strcmp(m->runtime, "python3") == 0 ? python : wanted;
        if (access(interp, X_OK) < 0)
                return wh_err_set(err, errno, "runtime", "runtime \"%s\" needs the interpreter %s",
                                  m->runtime, interp);
        if (!(n->program = strdup(interp)) || !(n->interpreter = realpath(interp, NULL)))
                return wh_err_set(err, errno ? errno : ENOMEM, "runtime", "%s", interp);
        return 0;
}

static int prepare_argv(struct wh_normaliser *n, const char *python,
                        const struct wh_normaliser_origin *origin, struct wh_err *err)
{
        const struct wh_manifest *m = &n->manifest;
        if (strcmp(m->runtime, "exec") == 0) {
                if (asprintf(&n->entry, WH_SANDBOX_NORMALISER_DIR "/%s", m->entrypoint) < 0)
                        return wh_err_set(err, ENOMEM, "runtime", "argv");
                n->argv[0] = n->entry;
                return 0;
        }
        if (find_interpreter(n, python, origin, err) < 0)
                return -1;
        /* -I: no user site, no environment; -S: no site-packages (a runtime
         * image's libraries come through WH_SANDBOX_PYTHON_DIR, after a
         * package's own layers); -B: no bytecode files written. */
        const char *argv[] = {n->program, "-I", "-S", "-B", "-c", wh_python_shim, m->entrypoint};
        memcpy(n->argv, argv, sizeof(argv));
        sha256_prefixed(wh_python_shim, wh_python_shim_len, n->shim_digest);
        return 0;
}

void host_ids(const struct wh_sandbox_config *c, uid_t *uid, gid_t *gid)
{
        bool root = geteuid() == 0;
        *uid = c->host_uid != (uid_t)-1 ? c->host_uid : root ? WH_DEFAULT_HOST_ID : geteuid();
        *gid = c->host_gid != (gid_t)-1 ? c->host_gid : root ? WH_DEFAULT_HOST_ID : getegid();
}

void wh_normaliser_sweep_inputs(const char *work_dir, const struct wh_sandbox_config *sandbox)
{
        uid_t uid;
        gid_t gid;
        host_ids(sandbox, &uid, &gid);
        stage_sweep(stage_base(work_dir), uid);
}

static int prepare_sandbox(struct wh_normaliser *n, const struct wh_normaliser_options *o,
                           struct wh_err *err)
{
        if (o->sandbox) {
                n->config = *o->sandbox;
        } else {
                n->config =
                    (struct wh_sandbox_config){.host_uid = (uid_t)-1, .host_gid = (gid_t)-1};
        }
        uid_t uid;
        gid_t gid;
        host_ids(&n->config, &uid, &gid);
        if (stage_create(&n->stage, o->work_dir, uid, gid, err) < 0)
                return -1;
        static const char *const python_at[] = {
            WH_SANDBOX_PYTHON_DIR "/0", WH_SANDBOX_PYTHON_DIR "/1", WH_SANDBOX_PYTHON_DIR "/2",
            WH_SANDBOX_PYTHON_DIR "/3", WH_SANDBOX_PYTHON_DIR "/4", WH_SANDBOX_PYTHON_DIR "/5",
            WH_SANDBOX_PYTHON_DIR "/6", WH_SANDBOX_PYTHON_DIR "/7"};
        _Static_assert(sizeof(python_at) / sizeof(python_at[0]) == WH_PYTHON_LAYERS_MAX,
                       "one mount point per Python layer");
        n->binds[0] = (struct wh_bind){n->dir, WH_SANDBOX_NORMALISER_DIR, false};
        n->binds[1] = (struct wh_bind){n->stage.dir, WH_SANDBOX_INPUT_DIR, false};
        for (size_t i = 0; i < n->n_python_dirs; i++)
                n->binds[2 + i] = (struct wh_bind){n->python_dirs[i], python_at[i], false};
        n->config.binds = n->binds;
        n->config.n_binds = 2 + n->n_python_dirs;
        n->config.tmp_bytes = n->limits.tmp_bytes;
        n->config.rootfs = n->rootfs;
        return wh_sandbox_new(&n->config, &n->sandbox, err);
}

/* A package was checked when it was unpacked: hashing the tree again
 * would only cost time (and say less than the manifest digest does). */
static int load_digest(struct wh_normaliser *n, const struct wh_normaliser_origin *origin,
                       const char *runtime_root, struct wh_err *err)
{
        if (!origin) {
                if (runtime_root && !(n->rootfs = realpath(runtime_root, NULL)))
                        return wh_err_set(err, errno, "runtime", "runtime root %s", runtime_root);
                return wh_tree_digest(n->dir, n->digest, err);
        }
        if (!origin->digest || strlen(origin->digest) >= sizeof(n->digest))
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "load",
                                   "a package origin needs its digest");
        strcpy(n->digest, origin->digest);
        n->package = json_incref(origin->package);
        if (origin->rootfs && !(n->rootfs = strdup(origin->rootfs)))
                return wh_err_set(err, ENOMEM, "load", "out of memory");
        if (origin->n_python_layers > WH_PYTHON_LAYERS_MAX)
                return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "load",
                                   "more than %d Python layers", WH_PYTHON_LAYERS_MAX);
        for (; n->n_python_dirs < origin->n_python_layers; n->n_python_dirs++)
                if (!(n->python_dirs[n->n_python_dirs] =
                          strdup(origin->python_layers[n->n_python_dirs])))
                        return wh_err_set(err, ENOMEM, "load", "out of memory");
        return 0;
}

/* The shared schema directory is part of what checks the output: its tree
 * digest goes into the provenance (generated schemas, docs/openkat.md). */
static int load_schema_dir(struct wh_normaliser *n, const char *schema_dir, struct wh_err *err)
{
        if (!schema_dir)
                return 0;
        if (!(n->schema_dir = realpath(schema_dir, NULL)))
                return wh_err_set(err, errno, "schema", "schema directory %s", schema_dir);
        return wh_tree_digest(n->schema_dir, n->schema_digest, err);
}

int wh_normaliser_load(const char *dir, const struct wh_normaliser_options *opts,
                       struct wh_normaliser **out, struct wh_err *err)
{
        static const struct wh_normaliser_options none;
        const struct wh_normaliser_options *o = opts ? opts : &none;
        struct wh_normaliser *n = calloc(1, sizeof(*n));
        if (!n)
                return wh_err_set(err, ENOMEM, "load", "%s", dir);
        n->stage.dir_fd = -1;
        if (!(n->dir = realpath(dir, NULL))) {
                wh_err_set(err, errno, "load", "normaliser directory %s", dir);
                goto fail;
        }
        if (wh_manifest_load(n->dir, &n->manifest, err) < 0)
                goto fail;
        limits_effective(&n->manifest.limits, &o->overrides, &n->limits);
        if (load_digest(n, o->origin, o->runtime_root, err) < 0 || check_entrypoint(n, err) < 0 ||
            prepare_argv(n, o->python, o->origin, err) < 0 ||
            load_schema_dir(n, o->schema_dir, err) < 0 ||
            types_load(&n->types, n->dir, n->schema_dir, n->manifest.produces, n->manifest.openkat,
                       err) < 0 ||
            prepare_sandbox(n, o, err) < 0)
                goto fail;
        *out = n;
        return 0;
fail:
        wh_normaliser_free(n);
        return -1;
}

void wh_normaliser_free(struct wh_normaliser *n)
{
        if (!n)
                return;
        wh_warm_free(n->warm);
        wh_sandbox_free(n->sandbox);
        stage_destroy(&n->stage);
        types_clear(&n->types);
        wh_manifest_clear(&n->manifest);
        json_decref(n->package);
        for (size_t i = 0; i < n->n_python_dirs; i++)
                free(n->python_dirs[i]);
        free(n->rootfs);
        free(n->schema_dir);
        free(n->interpreter);
        free(n->program);
        free(n->entry);
        free(n->dir);
        free(n);
}

const struct wh_manifest *wh_normaliser_manifest(const struct wh_normaliser *n)
{
        return &n->manifest;
}

const char *wh_normaliser_digest(const struct wh_normaliser *n)
{
        return n->digest;
}

const struct wh_normaliser_limits *wh_normaliser_limits(const struct wh_normaliser *n)
{
        return &n->limits;
}

size_t wh_normaliser_warning_count(const struct wh_normaliser *n)
{
        return n->types.n_warnings;
}

const char *wh_normaliser_warning(const struct wh_normaliser *n, size_t i)
{
        return i < n->types.n_warnings ? n->types.warnings[i] : NULL;
}
