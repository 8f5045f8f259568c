/* whiskers runtime build --debian: a runtime image from Debian's archive.
 *
 * mmdebstrap fills a staging root under LAYOUT/.whiskers/tmp from one
 * source, "deb MIRROR SUITE main" (runtime_mmdebstrap.c), which is then
 * pruned to what runs and written by the deterministic layer writer, so the
 * same package versions give the same digest.
 *
 * Cached: the key is the digest of {recipe, suite, sorted packages,
 * architecture, digest of the suite's InRelease}. InRelease is the signed
 * file that names every Packages index by digest, so one key means one set
 * of package versions. An image in the store that carries the key in its
 * annotations is tagged again instead of rebuilt. The mirror URL is not
 * part of the key: a local mirror of the same archive state gives the same
 * image. mmdebstrap's own copy of InRelease must be the one the key was made
 * from, else the archive changed during the build and nothing is stored. */
#define _GNU_SOURCE
#include "package/digest.h"
#include "base/dir.h"
#include "package/pack.h"
#include "package/paths.h"
#include "package/runtime.h"
#include "package/store.h"
#include "base/cleanup.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MIRROR "http://deb.debian.org/debian"
#define RELEASE_MAX    (16u << 20)
/* Bump when the tree's preparation changes: older images no longer match. */
#define RECIPE 2

/* Debian policy 5.6.1 for package names (lowercase letters, digits, + - .,
 * two or more, starting alphanumerically); suites: letters, digits, '-'.
 * Also what keeps a name from reaching mmdebstrap as an option. */
static bool debian_name_valid(const char *n, bool suite)
{
        size_t len = strlen(n);
        if (len < 2 || len > 100 || !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= '0' && n[0] <= '9')))
                return false;
        for (const char *p = n; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      (!suite && (*p == '+' || *p == '.'))))
                        return false;
        return true;
}

static int by_string(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The packages sorted, duplicates dropped, as a JSON array. */
static int package_list(const struct wh_runtime_build_options *o, json_t **out, struct wh_err *err)
{
        if (o->n_debian_packages == 0)
                return wh_err_set(err, 0, "runtime",
                                  "name at least one Debian package (--package)");
        cleanup_free const char **v = calloc(o->n_debian_packages, sizeof(*v));
        if (!v)
                return wh_err_set(err, ENOMEM, "runtime", "packages");
        for (size_t i = 0; i < o->n_debian_packages; i++) {
                if (!debian_name_valid(o->debian_packages[i], false))
                        return wh_err_set(err, 0, "runtime",
                                          "'%s' is not a Debian package name (lowercase letters, "
                                          "digits, + - .)",
                                          o->debian_packages[i]);
                v[i] = o->debian_packages[i];
        }
        qsort(v, o->n_debian_packages, sizeof(*v), by_string);
        *out = json_array();
        for (size_t i = 0; *out && i < o->n_debian_packages; i++)
                if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
                        json_array_append_new(*out, json_string(v[i]));
        return *out ? 0 : wh_err_set(err, ENOMEM, "runtime", "packages");
}

struct fetch {
        struct wh_hasher h;
        uint64_t size;
        struct wh_err *err;
        int failed;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ctx)
{
        struct fetch *f = ctx;
        f->size += sz * n;
        if (f->size > RELEASE_MAX || wh_hasher_update(&f->h, p, sz * n, f->err) < 0) {
                f->failed = 1;
                return 0;
        }
        return sz * n;
}

/* The digest of MIRROR/dists/SUITE/InRelease (http, https or file). */
static int fetch_release(const char *mirror, const char *suite, char digest[WH_DIGEST_BUF],
                         struct wh_err *err)
{
        cleanup_free char *url = NULL;
        if (asprintf(&url, "%s/dists/%s/InRelease", mirror, suite) < 0)
                return wh_err_set(err, ENOMEM, "runtime", "url");
        struct fetch f = {.err = err};
        if (wh_hasher_init(&f.h, err) < 0)
                return -1;
        CURL *c = curl_easy_init();
        CURLcode cc = CURLE_OUT_OF_MEMORY;
        long status = 0;
        if (c) {
                curl_easy_setopt(c, CURLOPT_URL, url);
                curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
                curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
                curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
                curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
                curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
                curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
                curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
                curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
                cc = curl_easy_perform(c);
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
                curl_easy_cleanup(c);
        }
        int rc = 0;
        if (f.failed)
                rc = f.size > RELEASE_MAX
                         ? wh_err_set(err, 0, "runtime", "%s is larger than 16 MiB", url)
                         : -1;
        else if (cc != CURLE_OK || (status != 0 && status != 200))
                rc = wh_err_set(err, 0, "runtime",
                                "cannot fetch %s (%s, status %ld): is the suite '%s' on this "
                                "mirror, and the mirror reachable? (--mirror URL for a local one)",
                                url, curl_easy_strerror(cc), status, suite);
        if (rc == 0)
                rc = wh_hasher_final(&f.h, digest, err);
        wh_hasher_free(&f.h);
        return rc;
}

static int cache_key(const char *suite, json_t *pkgs, const char *release, char key[WH_DIGEST_BUF],
                     struct wh_err *err)
{
        struct wh_host host;
        if (wh_host_detect(&host, err) < 0)
                return -1;
        cleanup_json json_t *doc =
            json_pack("{s:i, s:s, s:O, s:s, s:s}", "recipe", RECIPE, "suite", suite, "packages",
                      pkgs, "architecture", host.arch, "release", release);
        cleanup_free char *text = doc ? wh_json_canonical(doc) : NULL;
        if (!text)
                return wh_err_set(err, ENOMEM, "runtime", "cache key");
        return wh_digest_buffer(text, strlen(text), key, err);
}

/* A tagged image of the store built from the same inputs. */
static int find_cached(struct wh_store *s, const char *key, struct wh_descriptor *out,
                       char name[WH_NAME_MAX], bool *found, struct wh_err *err)
{
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        *found = false;
        if (wh_store_list(s, &e, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n && !*found; i++) {
                if (!e[i].ref_name[0] || !wh_media_type_is_manifest(e[i].desc.media_type))
                        continue;
                cleanup_json json_t *a = wh_store_annotations(s, e[i].desc.digest);
                const char *k = json_string_value(json_object_get(a, WH_ANN_RUNTIME_DEBIAN_KEY));
                const char *nm = json_string_value(json_object_get(a, WH_ANN_RUNTIME_NAME));
                if (k && nm && strcmp(k, key) == 0) {
                        *found = true;
                        *out = e[i].desc;
                        snprintf(name, WH_NAME_MAX, "%s", nm);
                }
        }
        free(e);
        return 0;
}

static int default_tag(const struct wh_runtime_build_options *o, const char *name,
                       char tag[WH_REF_MAX], struct wh_err *err)
{
        int n = o->tag ? snprintf(tag, WH_REF_MAX, "%s", o->tag)
                       : snprintf(tag, WH_REF_MAX, "runtime-%s:%s", name, o->debian_suite);
        if (n >= WH_REF_MAX || !wh_ref_name_valid(tag))
                return wh_err_set(err, 0, "runtime", "'%s' is not a valid tag", tag);
        return 0;
}

static int build(struct wh_store *s, const struct wh_runtime_build_options *o, const char *mirror,
                 json_t *pkgs, const char *release, json_t *ann, struct wh_descriptor *root,
                 struct wh_err *err)
{
        cleanup_free char *stage = NULL;
        if (asprintf(&stage, "%s/.whiskers/tmp/debian.XXXXXX", s->path) < 0 || !mkdtemp(stage))
                return wh_err_set(err, errno, "runtime", "cannot create a staging directory");
        struct wh_debian_recipe r = {
            .suite = o->debian_suite, .mirror = mirror, .packages = pkgs, .release = release};
        struct wh_runtime_info info = {0};
        char tag[WH_REF_MAX];
        int rc = wh_mmdebstrap_run(&r, stage, err);
        cleanup_close int root_fd = -1;
        if (rc == 0) {
                cleanup_free char *rootdir = NULL;
                rc = asprintf(&rootdir, "%s/root", stage) < 0 ||
                             (root_fd = open(rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
                         ? wh_err_set(err, errno, "runtime", "mmdebstrap left no root in %s", stage)
                         : 0;
        }
        if (rc == 0)
                rc = wh_debian_tree_finish(root_fd, &r, &info, err);
        if (rc == 0)
                rc = default_tag(o, info.name, tag, err);
        if (rc == 0)
                rc = wh_runtime_write_image(s, root_fd, o->debian_suite, o->source_date_epoch,
                                            &info, ann, tag, root, err);
        if (wh_rmtree_at(s->tmp_fd, strrchr(stage, '/') + 1) < 0 && rc == 0)
                rc = wh_err_set(err, errno, "runtime", "cannot remove the staging directory %s",
                                stage);
        return rc;
}

int wh_runtime_build_debian(struct wh_store *s, const struct wh_runtime_build_options *o,
                            struct wh_descriptor *root, struct wh_err *err)
{
        const char *mirror = o->mirror ? o->mirror : DEFAULT_MIRROR;
        if (!debian_name_valid(o->debian_suite, true))
                return wh_err_set(err, 0, "runtime",
                                  "'%s' is not a Debian suite name (e.g. trixie)", o->debian_suite);
        if ((strncmp(mirror, "http://", 7) && strncmp(mirror, "https://", 8) &&
             strncmp(mirror, "file:///", 8)) ||
            strpbrk(mirror, " \t\n\"'"))
                return wh_err_set(err, 0, "runtime",
                                  "--mirror wants an http://, https:// or file:/// URL without "
                                  "spaces or quotes, not '%s'",
                                  mirror);
        cleanup_json json_t *pkgs = NULL;
        char release[WH_DIGEST_BUF], key[WH_DIGEST_BUF], name[WH_NAME_MAX], tag[WH_REF_MAX];
        bool found = false;
        int rc = package_list(o, &pkgs, err);
        if (rc == 0)
                rc = fetch_release(mirror, o->debian_suite, release, err);
        if (rc == 0)
                rc = cache_key(o->debian_suite, pkgs, release, key, err);
        if (rc == 0)
                rc = find_cached(s, key, root, name, &found, err);
        if (rc == 0 && found) {
                struct wh_index_entry e = {.desc = *root};
                rc = default_tag(o, name, tag, err);
                snprintf(e.ref_name, sizeof(e.ref_name), "%s", tag);
                if (rc == 0)
                        rc = wh_store_index_add(s, &e, err);
                if (rc == 0 && o->reused)
                        *o->reused = true;
        } else if (rc == 0) {
                cleanup_free char *list = wh_join_names(pkgs);
                cleanup_json json_t *ann = json_pack(
                    "{s:s, s:s, s:s, s:s?}", WH_ANN_RUNTIME_DEBIAN_KEY, key,
                    WH_ANN_RUNTIME_DEBIAN_SUITE, o->debian_suite, WH_ANN_RUNTIME_DEBIAN_RELEASE,
                    release, WH_ANN_RUNTIME_DEBIAN_PACKAGES, list);
                rc = ann && list ? build(s, o, mirror, pkgs, release, ann, root, err)
                                 : wh_err_set(err, ENOMEM, "runtime", "annotations");
        }
        return rc;
}
