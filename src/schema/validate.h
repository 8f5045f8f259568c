/* Internal to the validator (validate.c: nodes and in-place applicators;
 * validate_obj.c, validate_arr.c, validate_val.c: keywords by instance
 * type; verrors.c: error records).
 *
 * Locations are chains of small structs on the C stack, turned into JSON
 * pointers only when an error is recorded, so a valid instance costs no
 * string work. Annotation sets (which properties/items were evaluated, for
 * unevaluated*) are bitsets in a scratch arena that starts on the stack. */
#ifndef WH_SCHEMA_VALIDATE_H
#define WH_SCHEMA_VALIDATE_H

#include "schema/schema_int.h"

#include "schema/jsonval.h"

#define SCH_MAX_EVAL_DEPTH 2048       /* nested node evaluations, whatever the cause */
#define SCH_MAX_EVALS      10000000ul /* node evaluations per instance */

struct ipath { /* instance location */
        const struct ipath *up;
        const char *key; /* NULL: array index */
        size_t len;
        size_t index;
};

struct kpath { /* evaluation path: keyword, plus a property name or index */
        const struct kpath *up;
        const char *kw;
        const char *key; /* NULL: no second segment, unless has_index */
        size_t len;
        size_t index;
        bool has_index;
};

struct scope { /* dynamic scope: resources entered, innermost first */
        const struct scope *up;
        const struct sch_resource *res;
};

struct refvisit { /* references followed at the current instance location */
        const struct refvisit *up;
        const struct sch_node *node;
};

struct vctx {
        const struct ipath *ip;
        const struct kpath *kp;
        const struct scope *sc;
        const struct refvisit *rv;
        bool quiet; /* errors are not wanted: stop at the first failure */
};

struct vstate {
        struct wh_schema_errors *out; /* NULL: verdict only */
        struct arena scratch;
        unsigned depth;
        unsigned inst_depth;
        unsigned long evals;
        bool oom;
        bool stop;    /* error limit reached, or aborted: finish as if quiet */
        bool aborted; /* a limit stopped evaluation: the verdict is invalid */
};

struct ann {
        uint64_t *bits;
        size_t n;
};

bool v_node(struct vstate *st, const struct sch_node *n, const struct jv *inst,
            const struct vctx *c, struct ann *ann);
/* Evaluate sub against a child of the instance (property key or index). */
bool v_descend(struct vstate *st, const struct sch_node *sub, const struct jv *child,
               const struct vctx *c, const struct kpath *kp, const char *key, size_t len,
               size_t index, bool quiet);

bool v_object(struct vstate *st, const struct sch_node *n, const struct jv *inst,
              const struct vctx *c, struct ann *ann);
bool v_array(struct vstate *st, const struct sch_node *n, const struct jv *inst,
             const struct vctx *c, struct ann *ann);
/* Non-applicator keywords: type, enum, const, numbers, strings, limits. */
bool v_assertions(struct vstate *st, const struct sch_node *n, const struct jv *inst,
                  unsigned types, const struct vctx *c);

/* Record an error at c's instance location and evaluation path + kw
 * (kw may be NULL: the schema itself). Always returns false. */
bool v_fail(struct vstate *st, const struct vctx *c, const struct sch_node *n, const char *kw,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A limit stopped evaluation (backtracking, nesting, a reference loop, the
 * evaluation budget): the instance is invalid whatever encloses this point
 * ("not" must not turn it into a pass). Records the error even in quiet
 * contexts. Always returns false. */
bool v_abort(struct vstate *st, const struct vctx *c, const struct sch_node *n, const char *kw,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool v_quiet(const struct vstate *st, const struct vctx *c)
{
        return c->quiet || st->stop;
}

int ann_init(struct vstate *st, struct ann *a, size_t n);
static inline void ann_set(struct ann *a, size_t i)
{
        if (a && i < a->n)
                a->bits[i >> 6] |= 1ull << (i & 63);
}
static inline bool ann_has(const struct ann *a, size_t i)
{
        return a && i < a->n && ((a->bits[i >> 6] >> (i & 63)) & 1);
}
void ann_merge(struct ann *dst, const struct ann *src);

#endif
