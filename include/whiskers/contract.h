/* libwhiskers contract: run a normaliser on one raw file, check what it
 * printed, and get OpenKAT's NormalizerResults, a provenance record and the
 * sandbox's status record back (docs/contract.md is the manual; this header
 * is the API).
 *
 *   wh_normaliser_load(dir, &opts, &n, &err)        once: manifest, schemas,
 *                                                  sandbox, input directory
 *   wh_normaliser_run(n, &input, &ropts, &res, &err) many times
 *   wh_run_result_clear(&res)
 *   wh_normaliser_free(n)
 *
 * Whatever the normaliser does (garbage, floods, exceptions, timeouts,
 * forbidden system calls), wh_normaliser_run() returns 0 with res.ok false
 * and every problem listed in res.errors. It returns < 0 only when the run
 * could not be attempted at all (bad arguments, the input could not be
 * staged, out of memory). Output is read and checked as it arrives with
 * bounded memory: no item is kept beyond the limits.
 *
 * One wh_normaliser runs one input at a time (its input directory is
 * shared by its runs): a second concurrent wh_normaliser_run() on the same
 * handle fails with EBUSY. Load one handle per worker thread. */
#ifndef WHISKERS_CONTRACT_H
#define WHISKERS_CONTRACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <whiskers/digest.h>
#include <whiskers/error.h>
#include <whiskers/sandbox.h>
#include <whiskers/warm.h>

/* The contract version this library implements (docs/contract.md). */
#define WH_CONTRACT_VERSION 1

/* Paths inside the sandbox. */
#define WH_SANDBOX_NORMALISER_DIR "/normaliser"
#define WH_SANDBOX_INPUT_DIR      "/input"
#define WH_SANDBOX_RAW_PATH       "/input/raw"
#define WH_SANDBOX_META_PATH      "/input/meta.json"
/* The Python shim puts every entry of this directory on sys.path, sorted by
 * name, after the standard library: a package's Python layers are bound at
 * "<dir>/0", "<dir>/1"... and a Debian runtime image links "<dir>/debian"
 * to its dist-packages. An image holds the empty mount points. */
#define WH_SANDBOX_PYTHON_DIR "/whiskers/python"
#define WH_PYTHON_LAYERS_MAX  8

/* Defaults when normalizer.json and the caller say nothing. */
#define WH_DEFAULT_WALL_MS        30000ull
#define WH_DEFAULT_OUTPUT_BYTES   (16ull << 20)
#define WH_DEFAULT_MAX_ITEMS      100000ull
#define WH_DEFAULT_MAX_ITEM_BYTES (1ull << 20)
#define WH_DEFAULT_MAX_DEPTH      64ull
#define WH_MAX_DEPTH_LIMIT        1000ull /* the highest "depth" a manifest may ask for */
#define WH_META_MAX_BYTES         (1u << 20)

/* Every limit of a run. In a manifest, 0 fields mean "the default"; as
 * overrides (wh_normaliser_options.overrides), 0 fields mean "keep". */
struct wh_normaliser_limits {
        struct wh_limits run;    /* sandbox limits; run.output_bytes caps stdout (and stderr) */
        uint64_t tmp_bytes;      /* size of the sandbox's /tmp */
        uint64_t max_items;      /* items per run */
        uint64_t max_item_bytes; /* bytes of one output line */
        uint64_t max_depth;      /* nesting of one item: {"a":[1]} is 2 deep */
};

/* normalizer.json, checked. The strings and arrays borrow from json.
 * OpenKAT's form (neither "runtime" nor "entrypoint"): runtime "python3",
 * entrypoint "normalize.py", version NULL when absent; openkat is set. */
struct wh_manifest {
        json_t *json;
        const char *id, *version, *runtime, *entrypoint;
        bool openkat;
        const char *name, *description;     /* NULL when absent */
        const char *warm;                   /* "fork", "persistent" (docs/warm.md) or NULL */
        uint32_t max_inputs;                /* persistent: inputs per process; else 0 */
        json_t *consumes, *produces;        /* arrays of strings */
        json_t *external_types;             /* array of strings, or NULL */
        struct wh_normaliser_limits limits; /* "limits", 0 where absent */
};

#define WH_MAX_INPUTS_DEFAULT 100 /* "max_inputs" when "warm" is "persistent" */
#define WH_MAX_INPUTS_LIMIT   1000000

/* Check a normalizer.json object (takes its own reference). origin names
 * the file in messages; every message names the field. */
int wh_manifest_parse(json_t *obj, const char *origin, struct wh_manifest *out, struct wh_err *err);
/* Read DIR/normalizer.json and parse it. */
int wh_manifest_load(const char *dir, struct wh_manifest *out, struct wh_err *err);
void wh_manifest_clear(struct wh_manifest *m);
bool wh_manifest_produces(const struct wh_manifest *m, const char *object_type);

/* ---- Loading ----------------------------------------------------------- */

struct wh_normaliser_options {
        const char *schema_dir; /* more schemas: DIR/<ObjectType>.json; NULL: only the
                                   normaliser's own schemas/ */
        const char *python;     /* interpreter for runtime "python3"; NULL: /usr/bin/python3
                                   (inside runtime_root when that is given) */
        /* An unpacked runtime image (a root file system, docs/packages.md
         * "Runtimes as images") to run a plain directory on, instead of the
         * host's /usr; ignored for packages (their origin says). NULL: none. */
        const char *runtime_root;
        const char *work_dir; /* where the input directory is made; NULL: $TMPDIR, else
                                 /dev/shm when it is a writable tmpfs, else /tmp */
        /* The sandbox to build on (cgroups, seccomp policy, host ids); NULL:
         * the defaults. Its binds and tmp_bytes are replaced. */
        const struct wh_sandbox_config *sandbox;
        struct wh_normaliser_limits overrides;     /* non-zero fields replace the manifest's */
        const struct wh_normaliser_origin *origin; /* NULL: a plain directory */
};

/* A normaliser that came out of a package: whiskers-package checked the
 * package (signature, variant, layer digest) and unpacked it; the contract
 * records this instead of hashing the directory again. */
struct wh_normaliser_origin {
        const char *digest; /* "sha256:<hex>": the chosen variant's manifest digest */
        json_t *package;    /* provenance "normaliser"."package" (a reference is taken) */
        /* A runtime image the package carries, unpacked: the sandbox's root
         * (instead of the host's /usr) and, for python3*, the interpreter's
         * path inside it. NULL: the host runtime. */
        const char *rootfs, *interpreter;
        /* Unpacked Python layers, bound read-only at WH_SANDBOX_PYTHON_DIR/<i>
         * (at most WH_PYTHON_LAYERS_MAX; copied by the load). */
        const char *const *python_layers;
        size_t n_python_layers;
};

struct wh_normaliser;

int wh_normaliser_load(const char *dir, const struct wh_normaliser_options *opts,
                       struct wh_normaliser **out, struct wh_err *err);
void wh_normaliser_free(struct wh_normaliser *n);
/* Remove input directories that killed processes left in work_dir (as
 * wh_normaliser_options.work_dir; NULL: the default): unlocked, ours (or
 * the sandbox's host id's), older than a minute. Loading a normaliser does
 * it too; a long-lived caller that loads rarely calls it now and then. */
void wh_normaliser_sweep_inputs(const char *work_dir, const struct wh_sandbox_config *sandbox);
const struct wh_manifest *wh_normaliser_manifest(const struct wh_normaliser *n);
/* "sha256:<hex>": the tree digest of the directory at load time, or the
 * package's manifest digest (wh_normaliser_origin). */
const char *wh_normaliser_digest(const struct wh_normaliser *n);
const struct wh_normaliser_limits *wh_normaliser_limits(const struct wh_normaliser *n);
/* Warnings from loading (e.g. a schema "format" whiskers does not check). */
size_t wh_normaliser_warning_count(const struct wh_normaliser *n);
const char *wh_normaliser_warning(const struct wh_normaliser *n, size_t i);

/* ---- Running ----------------------------------------------------------- */

struct wh_run_input {
        const void *raw; /* the raw file's bytes... */
        size_t raw_len;
        const char *raw_path; /* ...or its path, used when raw is NULL */
        const char *meta;     /* the meta document (docs/contract.md); NULL: {} */
        size_t meta_len;
};

struct wh_run_options {
        const volatile int *cancel; /* as wh_run_spec.cancel; NULL: never */
        size_t max_errors;          /* errors kept (more are counted); 0: 100 */
        size_t stderr_keep;         /* bytes of the normaliser's stderr kept; 0: 64 KiB */
        /* Pin the wall clock the normaliser reads (datetime.now()) to this
         * ISO 8601 instant (Python runtime only), or to the scan's time with
         * WH_CLOCK_SCAN (the meta's boefje_meta.ended_at); NULL: the host's
         * clock. */
        const char *clock;
};
#define WH_CLOCK_MAX  64
#define WH_CLOCK_SCAN "scan"

struct wh_contract_error {
        const char *code; /* static: "invalid_json", "schema", ... (docs/contract.md) */
        uint64_t line;    /* 1-based output line; 0 when not about one line */
        char *message;
        char *item;          /* the offending item (at most 512 bytes), or NULL */
        char *instance_path; /* JSON pointer into the item, or NULL */
        char *schema_path;   /* the failing schema keyword's location, or NULL */
        char *detail;        /* more text (a traceback), or NULL */
};

struct wh_contract_errors {
        size_t n, cap, max;
        size_t dropped; /* found beyond max: counted, not kept */
        struct wh_contract_error *items;
};

struct wh_run_result {
        bool ok;                 /* no errors: the results may be stored */
        json_t *results;         /* NormalizerResults (also on error: what was valid) */
        json_t *provenance;      /* docs/contract.md "Provenance" */
        struct wh_report report; /* the sandbox's status record */
        struct wh_contract_errors errors;
        struct wh_contract_errors warnings;
        char *stderr_text; /* the first stderr_keep bytes of stderr, NUL-terminated */
        size_t stderr_len;
        uint64_t stderr_bytes; /* all of it */
        uint64_t items;        /* items read (valid or not) */
};

int wh_normaliser_run(struct wh_normaliser *n, const struct wh_run_input *in,
                      const struct wh_run_options *opts, struct wh_run_result *res,
                      struct wh_err *err);
void wh_run_result_clear(struct wh_run_result *res);

/* Warm mode (docs/warm.md): the runs of n that follow go through one kept
 * sandbox whose zygote loaded the normaliser once; each input is a fork of
 * it, with the limits, checks and results of a cold run (the status record
 * says "mode": "warm"). Python normalisers can always; exec ones when
 * normalizer.json says "warm": "fork" or "persistent". Persistent isolation
 * (one process serves up to "max_inputs" inputs) only when it says
 * "persistent". If the zygote cannot start, inputs run cold (a warning says
 * why). Fails (nothing changes) when n cannot run warm with iso. */
bool wh_normaliser_can_warm(const struct wh_normaliser *n);
bool wh_normaliser_can_persist(const struct wh_normaliser *n);
int wh_normaliser_warm(struct wh_normaliser *n, enum wh_isolation iso, struct wh_err *err);
/* The resident memory of n's warm sandbox (wh_warm_rss); 0 when cold. */
uint64_t wh_normaliser_warm_rss(const struct wh_normaliser *n);
/* True when the output check stopped the run while it ran (error
 * "stopped_early"; the sandbox reports sandbox_error at stage "output"):
 * the normaliser's output broke the contract, the host did not fail. */
bool wh_run_stopped_early(const struct wh_run_result *res);
/* {"ok", "results", "errors", "warnings", "stderr", "status", "provenance"}
 * (docs/contract.md "Run report"); NULL when memory ran out. */
json_t *wh_run_result_json(const struct wh_run_result *res);
json_t *wh_contract_errors_json(const struct wh_contract_errors *e);

/* ---- Inputs ------------------------------------------------------------ */

/* A meta document for a run from its parts: input_ooi_ref (may be NULL) is
 * a primary key such as "Hostname|internet|example.org"; mime_types may be
 * NULL; task_id NULL makes a random UUID. Result malloc'd, NUL-terminated. */
int wh_meta_build(const char *input_ooi_ref, const char *const *mime_types, size_t n_mime,
                  const char *task_id, char **out, struct wh_err *err);
/* Check a meta document (docs/contract.md "Meta"): whiskers' own form or
 * OpenKAT's NormalizerMeta; decoded into *out when out is not NULL. */
int wh_meta_check(const char *meta, size_t len, json_t **out, struct wh_err *err);
/* What whiskers reads from a checked meta, whichever its form. The strings
 * borrow from doc; mime_types (an array of strings, or NULL) is a reference
 * of its own. < 0 only when memory ran out. */
struct wh_meta_facts {
        const char *task_id, *input_pk; /* NULL when absent */
        const char *scan_time;          /* boefje_meta.ended_at, or NULL */
        json_t *mime_types;
        bool openkat; /* OpenKAT's NormalizerMeta */
};
int wh_meta_facts(json_t *doc, struct wh_meta_facts *out);
void wh_meta_facts_clear(struct wh_meta_facts *f);

/* A raw-file ZIP (docs/contract.md "Raw-file ZIP"): exactly the entries
 * "raw" and "meta.json", stored or deflated. raw is at most max_raw bytes
 * (0: 256 MiB). Both outputs malloc'd and NUL-terminated. */
int wh_raw_zip_read(const char *path, uint64_t max_raw, char **raw, size_t *raw_len, char **meta,
                    size_t *meta_len, struct wh_err *err);

/* "sha256:<hex>" of a directory tree (docs/contract.md "Tree digest"). */
int wh_tree_digest(const char *dir, char out[WH_DIGEST_BUF], struct wh_err *err);

/* ---- Developer tools --------------------------------------------------- */

/* A short human summary of a run: objects by type, findings, warnings,
 * errors with the offending item and schema path, stderr; ANSI colours when
 * color is true. */
void wh_run_summary(FILE *out, const struct wh_normaliser *n, const struct wh_run_result *res,
                    bool color);

/* Differences between two JSON values, as JSON pointers: cb is called per
 * difference with want or got NULL when the value is missing on that side.
 * Stops after max differences (0: no cap); returns how many were reported. */
typedef void (*wh_json_diff_cb)(const char *pointer, const json_t *want, const json_t *got,
                                void *ctx);
size_t wh_json_diff(const json_t *want, const json_t *got, size_t max, wh_json_diff_cb cb,
                    void *ctx);

/* Make a working normaliser in DIR (which must not exist) named after its
 * last component: normalizer.json, normalize.py, schemas/, fixtures/. */
int wh_normaliser_scaffold(const char *dir, struct wh_err *err);

/* The fixtures of a normaliser: subdirectories of DIR/fixtures holding raw,
 * meta.json and expected.json, sorted by name. */
struct wh_fixture {
        char *name, *raw_path, *meta_path, *expected_path;
};
int wh_fixtures_list(const char *dir, struct wh_fixture **out, size_t *n, struct wh_err *err);
void wh_fixtures_free(struct wh_fixture *f, size_t n);

#endif
