/* Internal to the pattern parser (regex_lex.c, regex_parse.c). */
#ifndef WH_SCHEMA_REGEX_PARSER_H
#define WH_SCHEMA_REGEX_PARSER_H

#include "schema/regex_int.h"

#define MAX_NESTING 256
#define MAX_COUNT   100000u /* larger {n,m} counts are clamped, then fail the size limit */

struct gname {
        const char *s;
        size_t len;
        uint32_t group;
};

struct parser {
        struct arena *a;
        const char *s;
        size_t len, pos;
        char *err;
        size_t errlen;
        bool failed;
        unsigned depth;
        uint32_t ngroups;
        uint32_t max_backref;
        bool has_backrefs;
        struct rx_class *classes;
        size_t nclasses, capclasses;
        struct gname *names;
        size_t nnames, capnames;
        struct rx_node **named_refs;
        size_t nnamed, capnamed;
};

struct esc {
        enum { E_CHAR, E_SET, E_PROP, E_WORDB, E_NWORDB, E_BACKREF, E_NAMEDREF } kind;
        uint32_t cp;
        enum rx_set set;
        bool neg;
        const char *name;
        size_t name_len;
};

/* Record a syntax error (the first one wins); returns NULL. */
void *rxp_fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append one element to an arena-backed array; NULL when out of memory. */
void *rxp_push(struct parser *p, void **arr, size_t *n, size_t *cap, size_t elem);
struct rx_node *rxp_node(struct parser *p, enum rx_kind kind);
bool rxp_at(const struct parser *p, char c);
bool rxp_eat(struct parser *p, const char *lit);
/* Parse what follows a backslash. */
int rxp_escape(struct parser *p, bool in_class, struct esc *e);
/* After "[": a class, to the closing "]". */
struct rx_node *rxp_class(struct parser *p);
/* After a backslash outside classes. */
struct rx_node *rxp_atom_escape(struct parser *p);

#endif
