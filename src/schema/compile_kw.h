/* Internal to the keyword compiler (compile_kw.c: dispatch, core and
 * applicator keywords; compile_val.c: validation, format and content). */
#ifndef WH_SCHEMA_COMPILE_KW_H
#define WH_SCHEMA_COMPILE_KW_H

#include "schema/session.h"

typedef int (*kw_fn)(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);

/* The node for subschema v found at n's path + "/" + seg1 [+ "/" + seg2]. */
struct sch_node *kw_child(struct sch_session *s, struct sch_node *n, json_t *v, const char *seg1,
                          const char *seg2, size_t seg2len);
/* "<location>/<kw>: <what>" as the compile error; returns -1. Inline so
 * that compile_val.c, whose keywords compile_kw.c dispatches to, does not
 * call back into compile_kw.c. */
static inline int kw_bad(struct sch_session *s, const struct sch_node *n, const char *kw,
                         const char *what)
{
        return sch_fail(s, "%s/%s: %s", n->loc, kw, what);
}

int kw_type(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_enum(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_const(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_number(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_count(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_pattern(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_format(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_unique(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_required(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);
int kw_dep_required(struct sch_session *s, struct sch_node *n, const char *kw, json_t *v);

#endif
