/* A package made ready to run: loaded under the signature policy
 * (wh_package_load), its chosen variant's layer unpacked once into a cache
 * named by the layer digest, and the provenance that says exactly what was
 * chosen and why; a runtime image the variant carries is unpacked the same
 * way and becomes the sandbox's root, and so are its Python layers (bound at
 * /whiskers/python/<i>). The runner binds the unpacked directory read-only; the
 * directory's name is the digest its content was checked against, so an
 * entry never goes stale and racing checkouts share one copy (wh_unpack_tar
 * renames a complete tree into place, first one wins). */
#define _GNU_SOURCE
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <whiskers/package.h>

int wh_package_cache_default(char *out, size_t cap, struct wh_err *err)
{
        const char *env = getenv("WHISKERS_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        int n;
        if (env && *env)
                n = snprintf(out, cap, "%s", env);
        else if (geteuid() == 0)
                n = snprintf(out, cap, "/var/cache/whiskers");
        else if (xdg && *xdg)
                n = snprintf(out, cap, "%s/whiskers", xdg);
        else if (home && *home)
                n = snprintf(out, cap, "%s/.cache/whiskers", home);
        else
                return wh_err_set(err, 0, "cache", "no cache directory: set WHISKERS_CACHE");
        return n < 0 || (size_t)n >= cap ? wh_err_set(err, ENAMETOOLONG, "cache", "cache path") : 0;
}

/* mkdir -p with mode 0755: the sandbox's user must be able to reach what is
 * bound from below (the content is the package's, not a secret; only the
 * owner may write). */
static int make_dirs(char *path, struct wh_err *err)
{
        for (char *p = path + 1;; p++) {
                if (*p != '/' && *p)
                        continue;
                char c = *p;
                *p = '\0';
                int rc = mkdir(path, 0755);
                *p = c;
                if (rc < 0 && errno != EEXIST)
                        return wh_err_set(err, errno, "cache", "cannot create %s", path);
                if (!c)
                        return 0;
        }
}

/* Root's runs map to an unprivileged host id (docs/sandbox.md), which must
 * be able to walk down to the unpacked tree to bind it: say so before the
 * run rather than with a bare "permission denied" from inside the sandbox. */
static int check_reachable(const char *dir, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s", dir);
        for (char *p = path + strlen(path); p > path; p = strrchr(path, '/')) {
                *p = '\0';
                struct stat st;
                if (path[0] && stat(path, &st) == 0 && !(st.st_mode & S_IXOTH))
                        return wh_err_set(err, EACCES, "cache",
                                          "the sandbox's user cannot reach the cache %s: %s is "
                                          "not searchable by others (chmod o+x %s, or use "
                                          "another --cache)",
                                          dir, path, path);
        }
        return 0;
}

static int unpack_layer(struct wh_store *s, const struct wh_descriptor *layer,
                        const char *cache_dir, char *dir, size_t cap, struct wh_err *err)
{
        cleanup_free char *parent = NULL;
        if (asprintf(&parent, "%s/layers", cache_dir) < 0)
                return wh_err_set(err, ENOMEM, "cache", "out of memory");
        if (snprintf(dir, cap, "%s/%s", parent, layer->digest + 7) >= (int)cap)
                return wh_err_set(err, ENAMETOOLONG, "cache", "%s", cache_dir);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                return geteuid() == 0 ? check_reachable(dir, err) : 0;
        if (make_dirs(parent, err) < 0 || (geteuid() == 0 && check_reachable(dir, err) < 0))
                return -1;
        cleanup_close int fd = -1;
        if (wh_store_blob_open_desc(s, layer, &fd, err) < 0)
                return -1;
        return wh_unpack_tar(fd, layer->digest, dir, NULL, err);
}

static json_t *provenance(const char *ref, const struct wh_package *p)
{
        const struct wh_variant_option *v = &p->choice.options[p->choice.chosen];
        const char *image = p->meta.variant.runtime_image;
        json_t *python = p->n_python_layers ? json_array() : NULL;
        for (size_t i = 0; python && i < p->n_python_layers; i++)
                json_array_append_new(python, json_string(p->python_layers[i].digest));
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o*}", "ref",
                         ref ? ref : "", "root", p->root.digest, "manifest", p->manifest.digest,
                         "layer", p->layer.digest, "variant", v->variant.name, "variant_reason",
                         p->choice.reason, "runtime", p->meta.runtime, "runtime_image",
                         image[0] ? image : NULL, "signed_by",
                         p->signed_by[0] ? p->signed_by : NULL, "python_layers", python);
}

int wh_package_checkout(struct wh_store *s, const char *ref, const struct wh_load_options *o,
                        const char *cache_dir, struct wh_checkout *out, struct wh_err *err)
{
        memset(out, 0, sizeof(*out));
        out->pkg.choice.chosen = -1;
        if (wh_package_load(s, ref, o, &out->pkg, err) < 0)
                return -1;
        struct wh_package *p = &out->pkg;
        if (unpack_layer(s, &p->layer, cache_dir, out->dir, sizeof(out->dir), err) < 0)
                goto fail;
        if (p->runtime_layer.digest[0]) {
                if (unpack_layer(s, &p->runtime_layer, cache_dir, out->rootfs, sizeof(out->rootfs),
                                 err) < 0)
                        goto fail;
                out->interpreter =
                    json_string_value(json_object_get(p->meta.runtime_image, "interpreter"));
        }
        /* A Python layer shared by several packages is unpacked once. */
        for (; out->n_python_dirs < p->n_python_layers; out->n_python_dirs++) {
                char dir[4096];
                if (unpack_layer(s, &p->python_layers[out->n_python_dirs], cache_dir, dir,
                                 sizeof(dir), err) < 0)
                        goto fail;
                if (!(out->python_dirs[out->n_python_dirs] = strdup(dir))) {
                        wh_err_set(err, ENOMEM, "checkout", "out of memory");
                        goto fail;
                }
        }
        if (!(out->provenance = provenance(ref, &out->pkg))) {
                wh_err_set(err, ENOMEM, "checkout", "out of memory");
                goto fail;
        }
        return 0;
fail:
        wh_checkout_clear(out);
        return -1;
}

void wh_checkout_clear(struct wh_checkout *c)
{
        for (size_t i = 0; i < c->n_python_dirs; i++)
                free(c->python_dirs[i]);
        c->n_python_dirs = 0;
        wh_package_clear(&c->pkg);
        json_decref(c->provenance);
        c->provenance = NULL;
}

static int checkout_source(const struct wh_package_source *src, struct wh_store *s, const char *ref,
                           struct wh_checkout *co, struct wh_err *err)
{
        char cache[4096];
        if (src->cache_dir)
                snprintf(cache, sizeof(cache), "%s", src->cache_dir);
        else if (wh_package_cache_default(cache, sizeof(cache), err) < 0)
                return -1;
        struct wh_trust *trust = NULL;
        if (src->trust_dir && wh_trust_load(src->trust_dir, &trust, err) < 0)
                return -1;
        struct wh_load_options lo = {
            .trust = trust, .allow_unsigned = src->allow_unsigned, .variant = src->variant};
        int rc = wh_package_checkout(s, ref, &lo, cache, co, err);
        wh_trust_free(trust);
        return rc;
}

int wh_package_normaliser_load(const struct wh_package_source *src, const char *ref,
                               struct wh_normaliser_options *opts, struct wh_normaliser **out,
                               bool *found, struct wh_err *err)
{
        struct wh_store *s;
        struct wh_checkout co;
        *found = false;
        if (wh_store_open(src->store, WH_STORE_READ, &s, err) < 0)
                return -1;
        struct wh_descriptor d;
        int rc = wh_store_lookup(s, ref, &d, found, err);
        if (rc == 0 && *found)
                rc = checkout_source(src, s, ref, &co, err);
        wh_store_close(s);
        if (rc < 0 || !*found)
                return rc;
        struct wh_normaliser_origin origin = {.digest = co.pkg.manifest.digest,
                                              .package = co.provenance,
                                              .rootfs = co.rootfs[0] ? co.rootfs : NULL,
                                              .interpreter = co.interpreter,
                                              .python_layers = (const char *const *)co.python_dirs,
                                              .n_python_layers = co.n_python_dirs};
        const struct wh_normaliser_origin *saved = opts->origin;
        opts->origin = &origin;
        rc = wh_normaliser_load(co.dir, opts, out, err);
        opts->origin = saved;
        wh_checkout_clear(&co);
        return rc;
}
