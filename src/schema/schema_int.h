/* Internal structures of the schema module: the registry (documents,
 * resources, URI mappings) and the compiled node graph validation walks
 * (session.h has the compiler's per-compile state). See
 * include/whiskers/schema.h for the contract. */
#ifndef WH_SCHEMA_INT_H
#define WH_SCHEMA_INT_H

#include "schema/arena.h"
#include "schema/hmap.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <whiskers/schema.h>

#define SCH_MAX_DEPTH 512 /* schema nesting and instance nesting */
/* 2019-09's "$recursiveAnchor": true is kept as a dynamic anchor with this
 * name, which no $dynamicAnchor can have, so $recursiveRef is resolved as
 * $dynamicRef is. */
#define SCH_RECURSIVE_ANCHOR ""

/* Vocabularies (draft 2020-12 section 8.1.2 and the validation spec). */
enum {
        VOC_CORE = 1 << 0,
        VOC_APPLICATOR = 1 << 1,
        VOC_UNEVALUATED = 1 << 2,
        VOC_VALIDATION = 1 << 3,
        VOC_META_DATA = 1 << 4,
        VOC_FORMAT_ANNOTATION = 1 << 5,
        VOC_FORMAT_ASSERTION = 1 << 6,
        VOC_CONTENT = 1 << 7,
        VOC_DEFAULT = VOC_CORE | VOC_APPLICATOR | VOC_UNEVALUATED | VOC_VALIDATION | VOC_META_DATA |
                      VOC_FORMAT_ANNOTATION | VOC_CONTENT,
        /* The draft whose keyword semantics apply (neither bit: 2020-12). */
        VOC_DRAFT7 = 1 << 8,
        VOC_DRAFT2019 = 1 << 9,
};

/* One bit per draft, for tables saying where a keyword exists. */
enum { D7 = 1, D19 = 2, D20 = 4, D_ALL = D7 | D19 | D20 };

static inline unsigned sch_draft(unsigned vocab)
{
        return vocab & VOC_DRAFT7 ? D7 : vocab & VOC_DRAFT2019 ? D19 : D20;
}

struct sch_node;
struct jv;

struct sch_anchor {
        const char *name;
        json_t *target;
        bool dynamic;
        struct sch_anchor *next;
};

/* A dynamic anchor once compiled: what $dynamicRef resolution looks up. */
struct sch_dynanchor {
        uint32_t id; /* interned name */
        const struct sch_node *node;
};

/* A schema resource: a document root or a subschema with $id. */
struct sch_resource {
        const char *uri; /* absolute, without fragment */
        json_t *root;
        unsigned vocab;
        struct sch_anchor *anchors;
        struct sch_dynanchor *dyn;
        size_t ndyn, capdyn;
        bool dyn_queued; /* its dynamic anchors were queued for compilation */
};

/* Where a subschema sits: its resource and JSON pointer from the resource
 * root. Recorded for every schema object found while indexing. */
struct sch_loc {
        struct sch_resource *res;
        const char *path;
        struct sch_node *node; /* once compiled */
};

struct sch_map {
        const char *prefix;
        const char *dir;
        struct sch_map *next;
};

struct wh_schema_registry {
        struct arena arena; /* everything below, and every compiled node */
        unsigned flags;
        unsigned refs; /* the caller's reference + one per compiled schema */
        struct sch_map *maps;
        struct strmap resources; /* absolute URI -> struct sch_resource */
        struct strmap pending;   /* URI -> json_t * added but not yet indexed */
        struct ptrmap locs;      /* json_t * (schema object) -> struct sch_loc */
        struct strmap dyn_names; /* dynamic anchor name -> id + 1 */
        uint32_t ndyn_names;
        json_t **docs; /* owned references */
        size_t ndocs, capdocs;
        unsigned anon; /* counter for anonymous base URIs */
        bool broken;   /* a compile failed half-way: refuse further compiles */
};

struct sch_str {
        const char *s;
        size_t len;
};

struct sch_prop {
        const char *name;
        size_t len;
        struct sch_node *node;
};

struct sch_patprop {
        const struct rx *re;
        const char *src;
        struct sch_node *node;
};

struct sch_depreq {
        const char *name;
        size_t len;
        struct sch_str *req;
        size_t nreq;
};

/* Keyword presence bits, so validation skips absent keywords in one test. */
enum {
        K_TYPE = 1ull << 0,
        K_ENUM = 1ull << 1,
        K_CONST = 1ull << 2,
        K_NUMERIC = 1ull << 3, /* any of multipleOf, (exclusive)maximum/minimum */
        K_STRING = 1ull << 4,  /* any of maxLength, minLength, pattern, format */
        K_ARRAY = 1ull << 5,   /* maxItems, minItems, uniqueItems */
        K_OBJECT = 1ull << 6,  /* maxProperties, minProperties, required, dependentRequired */
        K_REF = 1ull << 7,
        K_DYNREF = 1ull << 8,
        K_INPLACE = 1ull << 9, /* allOf anyOf oneOf not if dependentSchemas */
        K_PROPS = 1ull << 10,  /* properties, patternProperties, additionalProperties */
        K_PROPNAMES = 1ull << 11,
        K_ITEMS = 1ull << 12, /* prefixItems, items */
        K_CONTAINS = 1ull << 13,
        K_UNEVAL_PROPS = 1ull << 14,
        K_UNEVAL_ITEMS = 1ull << 15,
};

struct sch_node {
        uint32_t kw;
        uint8_t types; /* jv_type bits allowed by "type" */
        bool is_bool, bool_value;
        bool unique_items;
        bool dyn_bookended; /* $dynamicRef resolves dynamically */
        uint8_t format;     /* enum sch_format; 0 = none or not asserted */
        uint8_t color;      /* cycle check */
        const struct sch_resource *res;
        const char *loc;  /* absolute URI of this subschema, for errors */
        const char *path; /* JSON pointer from the resource root */
        json_t *src;      /* the schema JSON (owned by the registry) */

        const struct jv *multiple_of, *maximum, *exclusive_maximum, *minimum, *exclusive_minimum;
        size_t max_length, min_length, max_items, min_items, max_props, min_props;
        size_t max_contains, min_contains;
        bool has_max_length, has_min_length, has_max_items, has_min_items;
        bool has_max_props, has_min_props, has_max_contains;
        const struct jv *const_value;
        const struct jv *enum_values; /* an array */
        const struct rx *pattern;
        const char *pattern_src;
        const char *format_name;
        struct sch_str *required;
        size_t nrequired;
        uint64_t required_props; /* when every required name is among the first 64
                                    properties: their bits, checked in the properties pass */
        struct sch_depreq *dep_required;
        size_t ndep_required;

        struct sch_node *ref;
        struct sch_node *dynref; /* static target */
        uint32_t dyn_anchor;     /* interned name when dyn_bookended */
        struct sch_node **all_of, **any_of, **one_of;
        size_t nall_of, nany_of, none_of;
        struct sch_node *not_, *if_, *then_, *else_;
        struct sch_prop *dep_schemas;
        size_t ndep_schemas;

        struct sch_prop *props;
        size_t nprops;
        struct strmap *prop_map; /* for many properties */
        struct sch_patprop *pattern_props;
        size_t npattern_props;
        struct sch_node *additional_props, *property_names, *uneval_props;
        struct sch_node **prefix_items;
        size_t nprefix_items;
        struct sch_node *items, *contains, *uneval_items;
};

struct wh_schema {
        struct wh_schema_registry *reg;
        const struct sch_node *root;
        char **warnings;
        size_t nwarnings;
};

void sch_registry_unref(struct wh_schema_registry *reg);

#endif
