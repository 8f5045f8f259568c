/* Internals of the contract module, shared between its files.
 *
 * One run: stage.c puts the input where the sandbox sees it; reader.c
 * takes the normaliser's stdout while it runs and its stderr after;
 * ndjson.c cuts stdout into lines; check.c checks each line as an item,
 * keeps the valid ones and says when the run is not worth continuing;
 * refs.c resolves references once the stream ended;
 * normalizer_results.c and provenance.c build the documents, run_result.c the
 * run report; run.c ties it together. */
#ifndef WH_CONTRACT_INTERNAL_H
#define WH_CONTRACT_INTERNAL_H

#include "base/sha256.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <whiskers/contract.h>

#include "base/strset.h"
#include <whiskers/schema.h>
#include <whiskers/warm.h>

#define WH_EXCERPT_MAX 512

/* ---- errors.c ---- */
void cerrs_init(struct wh_contract_errors *e, size_t max);
void cerrs_clear(struct wh_contract_errors *e);
/* Record an error; item (may be NULL) is excerpted and made valid UTF-8.
 * Returns the new entry to add paths to, or NULL when it was only counted. */
struct wh_contract_error *cerr_add(struct wh_contract_errors *e, const char *code, uint64_t line,
                                   const char *item, size_t item_len, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A copy of s (len bytes) as valid UTF-8 without NULs, at most max bytes
 * (plus "..." when cut). */
char *utf8_excerpt(const char *s, size_t len, size_t max);

/* ---- types.c: what the schemas say about each object type ---- */
struct ref_field {
        char *name;
        json_t *allowed; /* array of type names; NULL: any type */
};
struct key_part {
        char *field;
        bool whole; /* a reference taken whole, not its natural key */
};
struct object_type {
        char *name;
        struct wh_schema *schema; /* NULL: no schema (OpenKAT's form), structure only */
        struct ref_field *refs;
        size_t n_refs;
        struct key_part *key; /* "x-natural-key"; NULL: items must carry primary_key */
        size_t n_key;
};
struct type_table {
        struct wh_schema_registry *reg;
        struct object_type *types;
        size_t n;
        char **warnings;
        size_t n_warnings;
};
/* optional: a type may have no schema (OpenKAT's form); one warning names them. */
int types_load(struct type_table *t, const char *dir, const char *schema_dir, json_t *produces,
               bool optional, struct wh_err *err);
const struct object_type *types_find(const struct type_table *t, const char *name);
void types_clear(struct type_table *t);

/* ---- primary keys (keys.c) ---- */
/* "Type|rest" with a non-empty type of letters and digits and a non-empty rest. */
bool pk_valid(const char *s);
/* The object's primary key (malloc'd) from "primary_key" or the type's
 * natural key; NULL with *why set when it has none or it is malformed. */
char *pk_of(const struct object_type *t, json_t *obj, char *why, size_t whylen);

/* ---- ndjson.c: cut a byte stream into lines, bounded ---- */
typedef void (*line_fn)(void *ctx, const char *line, size_t len, uint64_t lineno, bool complete);
typedef void (*too_long_fn)(void *ctx, const char *head, size_t head_len, uint64_t lineno);
struct ndjson {
        char *buf;
        size_t len, cap, max;
        uint64_t lineno;
        bool skipping;
        line_fn on_line;
        too_long_fn on_too_long;
        void *ctx;
};
void ndjson_init(struct ndjson *s, size_t max, line_fn on_line, too_long_fn on_too_long, void *ctx);
void ndjson_feed(struct ndjson *s, const char *data, size_t n);
void ndjson_finish(struct ndjson *s);
/* Nesting depth of a JSON text, counting only brackets outside strings;
 * stops counting past limit (returns limit + 1). */
size_t json_depth(const char *s, size_t n, size_t limit);

/* ---- check.c: one item at a time ---- */
struct pending_ref {
        uint64_t line;
        char *field, *value, *from;
};
struct checker {
        const struct type_table *types;
        const struct wh_manifest *manifest;
        const struct wh_normaliser_limits *limits;
        struct wh_contract_errors *errors, *warnings;
        json_t *objects, *declarations, *affirmations, *scan_profiles; /* valid items */
        json_t *runtime;             /* the runtime's first-line announcement, or NULL */
        bool python;                 /* the runtime may announce itself */
        struct wh_strset keys;       /* primary keys of objects in the output */
        struct wh_strset undeclared; /* types warned about as not in produces */
        struct pending_ref *refs;
        size_t n_refs, cap_refs;
        uint64_t items;
        uint64_t error_budget; /* errors (listed + counted) that stop the run; 0: none */
        bool oom;
        /* Why reading on is pointless, or NULL: "too_many_items",
         * "too_many_errors" or "out_of_memory". Set once; the checker still
         * accepts lines after it (they are counted, not kept). */
        const char *stop;
};
/* error_budget per error kept in the list (docs/contract.md § 4). */
#define CHECK_BUDGET_PER_LISTED_ERROR 1000
void checker_init(struct checker *c);
void checker_line(void *ctx, const char *line, size_t len, uint64_t lineno, bool complete);
void checker_too_long(void *ctx, const char *head, size_t head_len, uint64_t lineno);
/* After the stream: references, the input object. input_pk may be NULL. */
void checker_finish(struct checker *c, const char *input_pk);
void checker_clear(struct checker *c);
/* refs.c */
int checker_note_refs(struct checker *c, const struct object_type *t, json_t *obj, uint64_t line,
                      const char *pk);
void checker_resolve(struct checker *c, const char *input_pk);

/* ---- reader.c: the normaliser's stdout and stderr ---- */
struct reader {
        int err_fd;                    /* memory file the sandbox writes stderr to */
        struct ndjson lines;           /* stdout, cut for the checker */
        const struct checker *checker; /* asked after each line whether to go on */
        bool stopped;                  /* the checker had enough: no more lines fed */
        struct wh_sha256 out_hash;     /* of every stdout byte received */
        uint64_t out_bytes;
        char *err_buf; /* the first err_keep bytes of stderr, NUL-terminated */
        size_t err_len, err_keep;
        uint64_t err_bytes;
};
/* Before the run; r->lines must be initialised and r->checker, r->err_keep set. */
int reader_open(struct reader *r, struct wh_err *err);
/* wh_run_spec.on_stdout: hash, cut and check; non-zero once the checker
 * says stop (then the rest of the chunk is not fed). */
int reader_on_stdout(void *ctx, const char *data, size_t len);
/* After the run: ends the last line, keeps the start of stderr. */
int reader_collect(struct reader *r, struct wh_err *err);
void reader_close(struct reader *r);

/* ---- meta.c ---- */
/* A random (version 4) UUID, for task ids. */
int random_uuid(char out[37], struct wh_err *err);

/* ---- normaliser.c ---- */
/* The host ids the sandbox's root maps to, as wh_sandbox_new decides them:
 * the input directory must be theirs. */
void host_ids(const struct wh_sandbox_config *c, uid_t *uid, gid_t *gid);

/* ---- stage.c: the input directory bound at /input ---- */
/* The environment of every run, cold or warm: where the normaliser and the
 * staged input are, among others. Here, below both run.c and warm.c. */
#define RUN_N_ENV 7
extern const char *const run_base_env[RUN_N_ENV];
struct stage {
        char *dir;
        int dir_fd;
        uid_t uid;
        gid_t gid;
        bool chown;
};
int stage_create(struct stage *s, const char *work_dir, uid_t uid, gid_t gid, struct wh_err *err);
/* Writes raw and meta.json; digests as "sha256:<hex>"; *raw_fd is raw, open
 * for reading (the normaliser's stdin). */
int stage_write(struct stage *s, const struct wh_run_input *in, const char *meta, size_t meta_len,
                char raw_digest[WH_DIGEST_BUF], uint64_t *raw_bytes, int *raw_fd,
                struct wh_err *err);
void stage_destroy(struct stage *s);
/* Remove whiskers-input-* directories in base whose process is gone. */
void stage_sweep(const char *base, uid_t host_uid);
/* Where inputs are staged: work_dir, else $TMPDIR, /dev/shm or /tmp. */
const char *stage_base(const char *work_dir);

/* ---- normaliser.c: what load prepared ---- */
struct wh_normaliser {
        char *dir; /* absolute */
        struct wh_manifest manifest;
        struct wh_normaliser_limits limits; /* effective */
        struct type_table types;
        char digest[WH_DIGEST_BUF];
        char *schema_dir; /* --schema-dir (absolute), or NULL */
        char schema_digest[WH_DIGEST_BUF];
        json_t *package; /* wh_normaliser_origin's provenance, or NULL */
        char *rootfs;    /* the runtime image's root, or NULL for the host's /usr */
        struct stage stage;
        char *python_dirs[WH_PYTHON_LAYERS_MAX]; /* a package's Python layers */
        size_t n_python_dirs;
        struct wh_bind binds[2 + WH_PYTHON_LAYERS_MAX];
        struct wh_sandbox_config config;
        struct wh_sandbox *sandbox;
        char *interpreter; /* realpath of the Python interpreter; NULL for exec */
        char *program;     /* argv[0] */
        char *entry;       /* exec: the path inside the sandbox */
        const char *argv[8];
        char shim_digest[WH_DIGEST_BUF];
        struct wh_warm *warm;           /* warm mode (warm.c), or NULL */
        struct wh_run_spec warm_zygote; /* what the warm sandbox keeps running */
        const char *warm_envp[16];
        bool busy;
};

/* ---- run.c, warm.c ---- */
/* One input through the warm sandbox, or cold (wh_sandbox_run) when n is
 * not warm, the input's clock is pinned (the zygote's environment is fixed),
 * or its zygote cannot start (then a warning says why). */
int run_warm_or_cold(struct wh_normaliser *n, const struct wh_run_spec *spec, bool pinned_clock,
                     struct wh_report *report, struct wh_contract_errors *warnings,
                     struct wh_err *err);

/* ---- provenance.c ---- */
struct run_facts {
        const char *task_id, *input_pk;
        json_t *mime_types;
        char raw_digest[WH_DIGEST_BUF], meta_digest[WH_DIGEST_BUF];
        char out_digest[WH_DIGEST_BUF];
        uint64_t raw_bytes, meta_bytes, out_bytes, err_bytes, items;
        json_t *runtime;      /* the runtime's announcement, or NULL */
        const char *clock;    /* the pinned clock, or NULL */
        bool clock_from_scan; /* taken from the meta's scan time ("scan") */
        char started_at[32];
        uint64_t stage_us, sandbox_us, check_us, total_us;
};
json_t *provenance_build(const struct wh_normaliser *n, const struct run_facts *f,
                         const json_t *results, const struct wh_report *report);

/* ---- limits.c ---- */
int limits_parse(json_t *limits, const char *origin, struct wh_normaliser_limits *out,
                 struct wh_err *err);
/* manifest values, overridden by non-zero overrides, defaults for the rest */
void limits_effective(const struct wh_normaliser_limits *manifest,
                      const struct wh_normaliser_limits *overrides,
                      struct wh_normaliser_limits *out);
json_t *limits_json(const struct wh_normaliser_limits *l);

/* ---- normalizer_results.c, provenance.c ---- */
json_t *results_build(struct checker *c, const char *input_pk);
json_t *canonical_digest(const json_t *doc); /* "sha256:..." of its canonical form */
char *canonical_dump(const json_t *doc);
void sha256_prefixed(const void *data, size_t len, char out[WH_DIGEST_BUF]);

/* The embedded runtimes/python/shim.py (python_shim.c, generated). */
extern const char wh_python_shim[];
extern const size_t wh_python_shim_len;

#endif
