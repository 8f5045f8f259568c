/* libwhiskers boefje: run an OpenKAT boefje (a scanner: boefje.json and
 * main.py with run(boefje_meta) -> [(mime_types, raw)]) unchanged in the
 * sandbox, check the pairs it returns, and store its raw files
 * content-addressed with their MIME types (docs/boefjes.md is the manual).
 *
 *   wh_boefje_load(dir, &opts, &b, &err)       manifest, settings schema
 *   wh_boefje_run(b, &input, &res, &err)       one job: BoefjeMeta in, raw files out
 *   wh_boefje_store(dir, &res, &err)           keep them (only when res.ok)
 *   wh_boefje_result_clear(&res); wh_boefje_free(b)
 *
 * As with normalisers, whatever the boefje does, wh_boefje_run() returns 0
 * with res.ok false and one error (res.error_code, res.error_message); it
 * returns < 0 only when nothing could be attempted. A failed run holds no
 * raw file: every pair is checked before any is kept. */
#ifndef WHISKERS_BOEFJE_H
#define WHISKERS_BOEFJE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <whiskers/digest.h>
#include <whiskers/error.h>
#include <whiskers/sandbox.h>

/* The boefje's directory inside the sandbox: the mount point runtime images
 * already hold for code (WH_SANDBOX_NORMALISER_DIR). */
#define WH_SANDBOX_BOEFJE_DIR "/normaliser"
#define WH_BOEFJE_RAW_MAX     (16ull << 20) /* default limit of one raw file */
#define WH_BOEFJE_FILES_MAX   64u           /* raw files per run */
#define WH_BOEFJE_TYPES_MAX   32u           /* MIME types a boefje gives one raw file */
#define WH_BOEFJE_WALL_MS     300000ull     /* scans take longer than normalisers */

/* boefje.json, checked. Strings and arrays borrow from json. */
struct wh_boefje_manifest {
        json_t *json;
        const char *id, *name, *description;
        json_t *consumes;      /* object types (array of strings) */
        json_t *produces;      /* MIME types it declares, or NULL */
        json_t *oci_arguments; /* array of strings, or NULL */
        const char *oci_image; /* recorded, not pulled: the runtime image replaces it */
        int scan_level;        /* 0..4; -1 when absent */
        json_t *settings;      /* schema.json beside it, or NULL */
};

int wh_boefje_manifest_load(const char *dir, struct wh_boefje_manifest *out, struct wh_err *err);
void wh_boefje_manifest_clear(struct wh_boefje_manifest *m);

struct wh_boefje_options {
        const char *runtime_root; /* an unpacked runtime image; NULL: the host's /usr */
        const char *python;       /* interpreter inside it; NULL: /usr/bin/python3 */
        const char *work_dir;     /* where the input directory is made; NULL: $TMPDIR or /tmp */
        const struct wh_sandbox_config *sandbox; /* cgroups, ids; NULL: defaults */
        uint64_t raw_max;                        /* bytes of one raw file; 0: WH_BOEFJE_RAW_MAX */
        struct wh_limits limits;                 /* 0 fields: defaults (wall WH_BOEFJE_WALL_MS) */
};

/* Where boefje ids are looked up when no directory is given:
 * $WHISKERS_BOEFJES, else "examples/boefjes". */
const char *wh_boefjes_dir_default(void);
/* A reference is a path to a boefje directory (it contains a '/') or the
 * "id" of a boefje.json in a direct subdirectory of dir (NULL: the
 * default). *path: the directory, absolute (malloc'd). Not found when
 * there is none. */
int wh_boefje_find(const char *dir, const char *ref, char **path, struct wh_err *err);

struct wh_boefje;
int wh_boefje_load(const char *dir, const struct wh_boefje_options *opts, struct wh_boefje **out,
                   struct wh_err *err);
const struct wh_boefje_manifest *wh_boefje_manifest(const struct wh_boefje *b);
void wh_boefje_free(struct wh_boefje *b);

/* The input object as OpenKAT's scheduler serialises it into
 * boefje_meta.arguments.input, from its primary key:
 * "Hostname|internet|example.org" -> {"object_type": "Hostname",
 * "primary_key": ..., "network": {"name": "internet"}, "name": "example.org"}.
 * Known: Hostname, IPAddressV4/V6, IPPort, Network; others get
 * object_type and primary_key only. NULL with err set when ref is not a
 * primary key. */
json_t *wh_boefje_input_ooi(const char *ref, struct wh_err *err);

/* A run's own limits, such as a boefje job's (docs/boefjes.md "A job's
 * limits"), each 0 when not given: each lowers the load's limit (or the
 * allowlist's default) where it is smaller, and never raises one. */
struct wh_boefje_limits {
        uint64_t wall_ms, memory_bytes, output_bytes;
        uint64_t net_max_conns, net_max_bytes, net_max_rate;
};
#define WH_BOEFJE_MAX_CONNS 1000000u /* the largest net_max_conns, as --net-max-conns */

struct wh_boefje_input {
        json_t *input_ooi;        /* serialised input object (wh_boefje_input_ooi) */
        json_t *settings;         /* object of setting name -> string/number/bool, or NULL */
        const char *task_id;      /* NULL: a random UUID */
        const char *organization; /* BoefjeMeta's organization; NULL: "" */
        /* The network (docs/boefjes.md "Network"): the input object's address
         * unless net_no_input, the manifest's "x-whiskers-network", and
         * these items (--net-allow syntax, "${SETTING}" expanded). */
        const char *const *net_allow;
        size_t n_net_allow;
        bool net_no_input;
        struct wh_boefje_limits limits;
        /* When *cancel becomes non-zero the run stops (wh_run_spec.cancel):
         * the result is sandbox_error at stage "cancelled". NULL: never. */
        const volatile int *cancel;
};

/* A settings file: a JSON object of setting name -> value (at most 1 MiB).
 * NULL with err set (not found, or invalid: never quoting the text, which
 * holds secrets). */
json_t *wh_boefje_settings_read(const char *path, struct wh_err *err);

struct wh_boefje_raw {
        char digest[WH_DIGEST_BUF]; /* "sha256:<hex>" of the bytes */
        char *data;
        size_t len;
        json_t *mime_types; /* sorted array: "boefje/<id>" and what the boefje declared */
};

struct wh_boefje_result {
        bool ok;
        const char *error_code; /* static, NULL when ok (docs/boefjes.md "Errors") */
        char *error_message, *error_detail;
        struct wh_boefje_raw *raws;
        size_t n_raws;
        json_t *boefje_meta; /* what run() received (settings are not in it) */
        json_t *provenance;
        json_t *runtime; /* the runtime's announcement, or NULL */
        bool ran;        /* the sandbox ran: report is its status record */
        struct wh_report report;
        char *stderr_text; /* the first 64 KiB, as UTF-8 (bad bytes U+FFFD) */
        size_t stderr_len;
};

int wh_boefje_run(struct wh_boefje *b, const struct wh_boefje_input *in,
                  struct wh_boefje_result *res, struct wh_err *err);
void wh_boefje_result_clear(struct wh_boefje_result *res);
/* {"ok", "error", "raw_files": [{"digest", "size", "mime_types"}],
 * "boefje_meta", "stderr", "status" (null when nothing ran), "provenance"}. */
json_t *wh_boefje_result_json(const struct wh_boefje_result *res);

/* OpenKAT's NormalizerMeta for raw file r of an ok run, handed to the
 * normaliser (its id) consuming it; n numbers the run's normaliser jobs
 * (the meta's id is "<task id>-n<n>"). JSON text, malloc'd; NULL: no memory. */
char *wh_boefje_normalizer_meta(const struct wh_boefje_result *res, const struct wh_boefje_raw *r,
                                const char *normaliser, size_t n);

/* Keep an ok run's raw files in store_dir: each file once by content,
 * store_dir/sha256/<hex>, and the job's record store_dir/jobs/<task id>.json
 * (wh_boefje_result_json without stderr) written last, by rename: a job
 * whose record exists is whole. Refuses a failed run. */
int wh_boefje_store(const char *store_dir, const struct wh_boefje_result *res, struct wh_err *err);

#endif
