/* libwhiskers jobs: what goes into the job store and where raw files go
 * (docs/worker.md "Submitting", "Routing"). Sits above queue/, package/,
 * contract/ and boefje/, below the worker and the CLI, which both use it:
 * `whiskers submit`, `whiskers scan --db` and the worker's boefje jobs
 * queue through the same calls.
 *
 * Submission: wh_submit() stores each raw file in the job store and queues
 * one job per (file, normaliser) in one transaction: either the normaliser
 * named by a reference, or, OpenKAT-style, every normaliser whose
 * normalizer.json "consumes" lists the file's MIME type.
 *
 * Boefje jobs: wh_submit_boefje() queues one boefje run on an input
 * object; the worker runs it and routes its raw files
 * (wh_route_raw_files) into normaliser jobs queued with its result
 * (wh_job_completion.follow_ups). `whiskers scan --db` routes a boefje run
 * on this machine through the same call. */
#ifndef WHISKERS_JOBS_H
#define WHISKERS_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/boefje.h>
#include <whiskers/contract.h>
#include <whiskers/error.h>
#include <whiskers/package.h>
#include <whiskers/queue.h>

/* --- normaliser references ---------------------------------------------- */

/* Where normaliser ids are looked up when no directory is given:
 * $WHISKERS_NORMALISERS, else "examples/normalisers" (relative to the
 * current directory). */
const char *wh_normalisers_dir_default(void);

/* A reference is either a path to a normaliser directory (it contains a
 * '/': "./nmap", "/srv/normalisers/nmap") or an id, the "id" field of a
 * normalizer.json in a direct subdirectory of `dir`. *path receives the
 * directory (malloc'd). ENOENT when there is no such normaliser, EINVAL
 * when a normalizer.json is unreadable or two of them claim the same id.
 * With a package store, packages are looked up first (wh_package_source). */
int wh_normaliser_find(const char *dir, const char *ref, char **path, struct wh_err *err);

/* The ids of every normaliser under `dir` whose "consumes" lists `mime`,
 * sorted; *n may be 0. Free with wh_strv_free() (src/base/strv.h). */
int wh_normalisers_for_mime(const char *dir, const char *mime, char ***ids, size_t *n,
                            struct wh_err *err);

/* Packages (docs/packages.md): with a store (struct wh_package_source), a
 * reference without '/' is first looked up there (a tag, an id naming its
 * only version, a digest) and run as the package it names, checked out
 * under the signature policy; otherwise as above. */

/* The tags of the store's packages whose consumes annotation lists mime,
 * sorted; *n may be 0. Free with wh_strv_free() (src/base/strv.h). */
int wh_packages_for_mime(const char *store, const char *mime, char ***tags, size_t *n,
                         struct wh_err *err);

/* --- submission --------------------------------------------------------- */

struct wh_submission {
        const char *tenant;          /* required */
        const char *normaliser;      /* a reference; NULL: route by mime */
        const char *mime;            /* the raw files' type; recorded on the jobs */
        const char *normalisers_dir; /* NULL: wh_normalisers_dir_default() */
        const char *meta_json;       /* a JSON object; NULL: {} */
        int priority;                /* higher first */
        uint32_t max_attempts;       /* 0: the store's default */
        /* References that name packages. */
        struct wh_package_source packages;
};

struct wh_submit_input {
        const void *data;
        size_t len;
};

struct wh_submitted {
        int64_t job_id;
        size_t input;     /* index into the inputs */
        char *normaliser; /* as stored: an id, or an absolute directory path */
        char raw_digest[WH_DIGEST_BUF];
};

/* Store the inputs and queue their jobs: with a normaliser reference one
 * job per input, else one per input and per normaliser consuming `mime`
 * (none is ENOENT). A path reference is stored absolute, so any worker on
 * this machine finds it; an id is stored as given and looked up by the
 * worker in its own directory. All jobs are queued in one transaction. */
int wh_submit(struct wh_queue *q, const struct wh_submission *s,
              const struct wh_submit_input *inputs, size_t ninputs, struct wh_submitted **jobs,
              size_t *njobs, struct wh_err *err);
void wh_submitted_free(struct wh_submitted *jobs, size_t n);

/* Where raw files go: normalisers under normalisers_dir (NULL: the
 * default), or that directory itself when it is one normaliser; with a
 * package store, its packages instead (as the worker loads them). */
struct wh_route {
        const char *normalisers_dir;
        const struct wh_package_source *packages;
};

/* The references of every normaliser consuming mime: ids under dir, or
 * tags of packages->store when there is one. Sorted; *n may be 0. */
int wh_route_mime(const char *dir, const struct wh_package_source *packages, const char *mime,
                  char ***refs, size_t *n, struct wh_err *err);
/* The references of every normaliser of r consuming one of mime_types (a
 * JSON array of strings), each once: ids or tags as wh_route_mime, or the
 * absolute path of the one normaliser r names. *n may be 0. Free with
 * wh_strv_free(). */
int wh_route_mime_types(const struct wh_route *r, json_t *mime_types, char ***refs, size_t *n,
                        struct wh_err *err);

/* Normaliser jobs, their strings owned here. */
struct wh_routed_jobs {
        struct wh_job_spec *specs;
        size_t n;
};
void wh_routed_jobs_clear(struct wh_routed_jobs *r);

/* The normaliser jobs an ok boefje run makes for tenant: for each raw file
 * and each route, one job per normaliser consuming one of its MIME types
 * (wh_route_mime_types), with OpenKAT's NormalizerMeta
 * (wh_boefje_normalizer_meta) and the file's first MIME type. Every raw
 * file is stored in q (content-addressed, whether or not a normaliser
 * wants it; q NULL: the caller has). Nothing is queued here: submit the
 * specs, or pass them as a completion's follow-ups. */
int wh_route_raw_files(struct wh_queue *q, const struct wh_route *routes, size_t nroutes,
                       const char *tenant, const struct wh_boefje_result *res,
                       struct wh_routed_jobs *out, struct wh_err *err);

/* --- boefje jobs -------------------------------------------------------- */

struct wh_boefje_job {
        const char *tenant;           /* required; also the BoefjeMeta's organization */
        const char *boefje;           /* a directory (with '/') or an id under boefjes_dir */
        const char *boefjes_dir;      /* NULL: wh_boefjes_dir_default() */
        const char *input_ooi;        /* the input object's primary key */
        const char *const *net_allow; /* extra allowlist items (--net-allow syntax) */
        size_t n_net_allow;
        bool net_no_input;              /* do not allow the input object's own address */
        struct wh_boefje_limits limits; /* the job's own (docs/boefjes.md) */
        int priority;
        uint32_t max_attempts;
};

/* Queue one boefje job (kind WH_JOB_BOEFJE): the boefje must exist (its
 * reference, an id, is stored as given, a path absolute), the input
 * object must be a primary key. *ref: the stored reference (malloc'd).
 * Settings are not part of a job. */
int wh_submit_boefje(struct wh_queue *q, const struct wh_boefje_job *j, int64_t *job_id, char **ref,
                     struct wh_err *err);

/* A claimed boefje job's arguments, read back from its raw input and meta.
 * net_allow's strings borrow from meta. */
struct wh_boefje_job_args {
        json_t *input_ooi, *meta;
        const char **net_allow;
        size_t n_net_allow;
        bool net_no_input;
        struct wh_boefje_limits limits; /* the job's own (docs/boefjes.md) */
};
/* Invalid when the job was not written by wh_submit_boefje(). */
int wh_boefje_job_args(const char *meta_json, const void *raw, size_t len,
                       struct wh_boefje_job_args *out, struct wh_err *err);
void wh_boefje_job_args_clear(struct wh_boefje_job_args *a);

/* Whether ref names a package of src's store (never for a path with '/',
 * nor without a store). *found false and 0 when it does not. */
int wh_package_ref_exists(const struct wh_package_source *src, const char *ref, bool *found,
                          struct wh_err *err);
/* Check the package out (signature policy, variant, unpacked layer) and
 * load it with opts; *found false and 0 when ref names no package. */
int wh_package_ref_load(const struct wh_package_source *src, const char *ref,
                        struct wh_normaliser_options *opts, struct wh_normaliser **out, bool *found,
                        struct wh_err *err);

#endif
