/* JSON Schema draft 2020-12 validation (docs/schema.md).
 *
 * A registry maps URI prefixes to directories, so "$ref"s across schema
 * files resolve offline (nothing is ever fetched from the network), and owns
 * every loaded document and compiled subschema. Compile a schema once, then
 * validate many instances:
 *
 *   wh_schema_registry_new(0, &reg, &err);
 *   wh_schema_registry_map(reg, "https://example.com/schemas/", "/usr/share/x", &err);
 *   wh_schema_compile_file(reg, "item.json", &schema, &err);
 *   wh_schema_errors_init(&errors, 10);
 *   r = wh_schema_validate(schema, instance, &errors, &err);  // VALID/INVALID/-1
 *   r = wh_schema_validate_text(schema, line, len, &errors, &err);  // the same from text
 *   ...
 *   wh_schema_errors_reset(&errors); wh_schema_free(schema); wh_schema_registry_free(reg);
 *
 * Compiling resolves every reference, compiles every pattern, and rejects a
 * schema that is not valid to use: a reference that does not resolve, an
 * invalid pattern, a malformed keyword value, a "$ref" loop that can never
 * consume the instance ({"$ref": "#"}), nesting deeper than 512. Keywords
 * the compiler does not know are ignored, as the specification says, and
 * listed as warnings (wh_schema_warning).
 *
 * Validation only reads the compiled form, so one compiled schema may be
 * used by several threads at once; compiling (and freeing) is not
 * thread-safe per registry. The registry lives until it and every schema
 * compiled from it are freed. */
#ifndef WHISKERS_SCHEMA_H
#define WHISKERS_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <whiskers/error.h>

struct wh_schema_registry;
struct wh_schema;

enum wh_schema_flags {
        /* "format" asserts (fails invalid values) for the formats listed in
         * docs/schema.md, whatever the meta-schema's vocabularies say. */
        WH_SCHEMA_ASSERT_FORMAT = 1 << 0,
        /* The draft of a document without "$schema" (default: 2020-12);
         * "$schema" always wins. At most one of these. */
        WH_SCHEMA_DEFAULT_DRAFT7 = 1 << 1,
        WH_SCHEMA_DEFAULT_DRAFT2019_09 = 1 << 2,
};

int wh_schema_registry_new(unsigned flags, struct wh_schema_registry **out, struct wh_err *err);
/* Drops the caller's reference; memory goes when the last schema goes too. */
void wh_schema_registry_free(struct wh_schema_registry *reg);
/* Serve URIs that start with uri_prefix from files under dir: the rest of
 * the URI is a relative path (no "..", no query); "X" is looked up as the
 * file X, then X.json. Longer prefixes win. */
int wh_schema_registry_map(struct wh_schema_registry *reg, const char *uri_prefix, const char *dir,
                           struct wh_err *err);
/* Make a schema document known under an absolute URI (takes a reference). */
int wh_schema_registry_add(struct wh_schema_registry *reg, const char *uri, json_t *doc,
                           struct wh_err *err);

/* Compile a schema document. base_uri (may be NULL) is its retrieval URI,
 * used to resolve relative references when the schema has no absolute $id.
 * The registry keeps a reference to the JSON and points into it: do not
 * modify it afterwards (true of documents given to registry_add too). */
int wh_schema_compile(struct wh_schema_registry *reg, json_t *schema, const char *base_uri,
                      struct wh_schema **out, struct wh_err *err);
/* Compile the schema at an absolute URI, loaded through the mappings (or
 * registered with wh_schema_registry_add); a fragment selects a subschema. */
int wh_schema_compile_uri(struct wh_schema_registry *reg, const char *uri, struct wh_schema **out,
                          struct wh_err *err);
/* Compile a schema file; its base URI is file://<absolute path>, and its
 * directory is served under the matching file:// prefix, so relative
 * references to files beside it (or below) resolve. */
int wh_schema_compile_file(struct wh_schema_registry *reg, const char *path, struct wh_schema **out,
                           struct wh_err *err);
void wh_schema_free(struct wh_schema *schema);

/* Warnings from compiling (unknown keywords, unsupported $schema...), each
 * naming the schema location. A subschema shared with an earlier compile of
 * the same registry is reported by that compile only. */
size_t wh_schema_warning_count(const struct wh_schema *schema);
const char *wh_schema_warning(const struct wh_schema *schema, size_t i);

struct wh_schema_error {
        char *instance; /* JSON pointer into the instance, "" for the root: "/items/3/port" */
        char *keyword;  /* evaluation path of the failing keyword: "/properties/port/maximum" */
        char *schema; /* absolute location of that keyword: "file:///s.json#/$defs/port/maximum" */
        char *message;
};

struct wh_schema_errors {
        size_t max;     /* record at most this many; 0 = only the verdict */
        size_t count;   /* recorded */
        bool truncated; /* recording stopped at max: more errors may exist */
        struct wh_schema_error *items;
        size_t cap;
};

void wh_schema_errors_init(struct wh_schema_errors *errors, size_t max);
/* Free the recorded errors (keeps max). wh_schema_validate calls it first. */
void wh_schema_errors_reset(struct wh_schema_errors *errors);

#define WH_SCHEMA_VALID   0
#define WH_SCHEMA_INVALID 1

/* Validate an instance. Returns WH_SCHEMA_VALID, WH_SCHEMA_INVALID (details
 * in errors, which may be NULL), or -1 when memory ran out. Instances
 * nested deeper than 512 levels are invalid ("nesting too deep"). */
int wh_schema_validate(const struct wh_schema *schema, const json_t *instance,
                       struct wh_schema_errors *errors, struct wh_err *err);

/* Decode one JSON text and validate it: the fast path for NDJSON (no
 * jansson tree is built; a typical item allocates nothing). The text is
 * strict RFC 8259 plus any value at top level, "\u0000" in strings and
 * integers beyond 64 bits (as doubles); invalid UTF-8 and nesting deeper
 * than 2048 are refused. Returns WH_SCHEMA_VALID, WH_SCHEMA_INVALID, or -1:
 * err->stage is "json" and err->errnum 0 when the text is not JSON (the
 * message names line and column), errnum ENOMEM when memory ran out. */
int wh_schema_validate_text(const struct wh_schema *schema, const char *text, size_t len,
                            struct wh_schema_errors *errors, struct wh_err *err);

/* Decode JSON as the validator expects it: any value at top level, "\u0000"
 * allowed in strings, and integers beyond 64 bits accepted (the document is
 * then decoded with every integer as a double, so they stay numbers). */
int wh_schema_json_decode(const char *buf, size_t len, json_t **out, struct wh_err *err);
/* Read and decode a JSON file (at most 64 MiB). */
int wh_schema_json_load(const char *path, json_t **out, struct wh_err *err);

#endif
