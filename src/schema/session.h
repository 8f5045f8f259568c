/* The compiler's session: state for one wh_schema_compile* call, shared by
 * the registry loader, the indexer, the resolver and the keyword compiler.
 * Every node created in a session is filled before the session ends; a
 * failed session marks the registry broken (its half-built nodes must never
 * be reached by a later compile). */
#ifndef WH_SCHEMA_SESSION_H
#define WH_SCHEMA_SESSION_H

#include "schema/schema_int.h"

struct sch_session {
        struct wh_schema_registry *reg;
        struct wh_err *err;
        struct sch_node **nodes; /* created in this session, in order */
        size_t nnodes, capnodes, filled;
        char **warnings;
        size_t nwarnings, capwarnings;
};

/* A resolved reference. */
struct sch_target {
        json_t *json;
        struct sch_resource *res;
        const char *path;   /* JSON pointer from res->root */
        const char *anchor; /* the fragment when it named an anchor, else NULL */
};

/* Record a warning (out of memory while warning is ignored). */
void sch_warn(struct sch_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fill s->err; returns -1. */
int sch_fail(struct sch_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* registry.c: the root resource of the document with this absolute URI
 * (no fragment), loading and indexing it if needed; NULL with s->err set. */
struct sch_resource *sch_load(struct sch_session *s, const char *docuri);
struct sch_resource *sch_resource_new(struct sch_session *s, const char *uri, json_t *root,
                                      unsigned vocab);
int sch_keep_doc(struct wh_schema_registry *reg, json_t *doc);

/* index.c: register the document's resources, anchors and subschema
 * locations. */
int sch_index_document(struct sch_session *s, json_t *doc, const char *uri,
                       struct sch_resource **out);
int sch_index_subschema(struct sch_session *s, json_t *schema, struct sch_resource *res,
                        const char *path, unsigned depth);

/* vocab.c: the vocabularies in force for a resource root. */
int sch_vocab(struct sch_session *s, json_t *schema, unsigned inherited, unsigned *out);
/* The vocabulary bits of a draft-07 resource. */
unsigned sch_vocab_draft7(void);

/* resolve.c: resolve ref against base. */
int sch_resolve(struct sch_session *s, const char *base, const char *ref, struct sch_target *t);

/* compile.c: the node for a subschema (created and queued if new). */
struct sch_node *sch_node_for(struct sch_session *s, json_t *json, struct sch_resource *res,
                              const char *path);
uint32_t sch_intern_dyn(struct sch_session *s, const char *name);
/* Append "/" + escaped segment to a JSON pointer, in the registry arena. */
char *sch_path_join(struct sch_session *s, const char *path, const char *seg, size_t seglen);

/* compile_kw.c: compile the keywords of a created node. */
int sch_fill(struct sch_session *s, struct sch_node *n);

/* cycle.c: reject in-place reference loops among this session's nodes. */
int sch_check_cycles(struct sch_session *s);

#endif
