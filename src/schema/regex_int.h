/* Internal to the regex engine: the parse tree (regex_parse.c), the program
 * it compiles to (regex_compile.c) and what the VM (regex_exec.c) runs. */
#ifndef WH_SCHEMA_REGEX_INT_H
#define WH_SCHEMA_REGEX_INT_H

#include "schema/arena.h"
#include "schema/regex.h"

#include <stdbool.h>
#include <stdint.h>

#define RX_INF UINT32_MAX

enum rx_kind {
        N_EMPTY,
        N_CHAR,
        N_ANY,
        N_CLASS,
        N_BOL,
        N_EOL,
        N_WORDB,
        N_NWORDB,
        N_GROUP, /* idx: capture number, 0 for (?:...) */
        N_LOOK,  /* neg, behind */
        N_BACKREF,
        N_CAT,
        N_ALT,
        N_REPEAT, /* min, max (RX_INF), greedy */
};

struct rx_node {
        enum rx_kind kind;
        uint32_t cp;
        uint32_t idx;
        uint32_t min, max;
        bool neg, behind, greedy;
        const char *name; /* \k<name> until resolved */
        size_t name_len;
        struct rx_node **kids;
        size_t nkids;
};

/* A character class: an ASCII bitmap (negation applied) and, for the rest,
 * sorted disjoint [lo, hi] pairs tested by binary search (then negated). */
struct rx_class {
        uint64_t ascii[2];
        const uint32_t *ranges; /* 2 * n values */
        size_t n;
        bool neg;
};

struct rx_parsed {
        struct rx_node *root;
        struct rx_class *classes;
        size_t nclasses;
        uint32_t ngroups;
        bool has_backrefs;
};

int rx_parse(struct arena *a, const char *pattern, size_t len, struct rx_parsed *out, char *err,
             size_t errlen);

enum rx_op {
        OP_CHAR,
        OP_ANY,
        OP_CLASS,
        OP_BOL,
        OP_EOL,
        OP_WORDB,
        OP_NWORDB,
        OP_SPLIT,   /* try a, then b */
        OP_JMP,     /* to a */
        OP_SAVE,    /* capture slot a = position */
        OP_RESET,   /* capture slots a..b = unset (a new loop iteration) */
        OP_MARK,    /* loop register a = position */
        OP_CHECK,   /* fail if position == loop register a (empty iteration) */
        OP_LOOK,    /* sub-program follows, ends in OP_MATCH; continue at a */
        OP_BACKREF, /* group a */
        OP_REPEAT,  /* greedy: the one-character matcher at pc+1, a..b times */
        OP_MATCH,
};

struct rx_inst {
        uint8_t op;
        bool back; /* consume leftwards (inside lookbehind) */
        bool neg;  /* OP_LOOK: negative */
        uint32_t a, b;
};

struct rx {
        const struct rx_inst *prog;
        size_t nprog;
        const struct rx_class *classes;
        uint32_t nslots; /* capture slots, 0 without backreferences */
        uint32_t nregs;
        bool anchored;  /* starts with ^: try position 0 only */
        int first_byte; /* every match starts with this ASCII byte, or -1 */
};

bool rx_class_has(const struct rx_class *c, uint32_t cp);

/* Building a class (regex_class.c): a growable list of ranges. */
struct rx_ranges {
        uint32_t *r; /* lo, hi pairs */
        size_t n;
        size_t cap;
};

enum rx_set { SET_DIGIT, SET_WORD, SET_SPACE };

/* Each returns 0, or -1 when out of memory. */
int rx_ranges_add(struct rx_ranges *v, uint32_t lo, uint32_t hi);
int rx_ranges_add_set(struct rx_ranges *v, enum rx_set set, bool neg);
/* -1: unknown property name, -2: out of memory. */
int rx_ranges_add_prop(struct rx_ranges *v, const char *name, size_t len, bool neg);
/* Sort, merge and store v as a class in the arena; frees v. */
int rx_class_finish(struct arena *a, struct rx_ranges *v, bool neg, struct rx_class *out);
void rx_ranges_free(struct rx_ranges *v);
bool rx_is_word(uint32_t cp);

#endif
