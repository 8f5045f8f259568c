/* The syntax half of the pattern parser: disjunctions, alternatives, terms,
 * groups and quantifiers (regex_lex.c has escapes and classes). */
#include "schema/regex_parser.h"
#include "schema/utf8.h"

#include <string.h>

static struct rx_node *parse_disjunction(struct parser *p);

static bool digits(struct parser *p, uint32_t *v)
{
        size_t start = p->pos;
        uint32_t n = 0;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
                if (n < MAX_COUNT)
                        n = n * 10 + (uint32_t)(p->s[p->pos] - '0');
                p->pos++;
        }
        *v = n > MAX_COUNT ? MAX_COUNT : n;
        return p->pos > start;
}

/* {n}, {n,} or {n,m} at the current position; consumed only if well formed
 * (otherwise "{" is a literal, as in ECMA-262 Annex B). */
static bool parse_braces(struct parser *p, uint32_t *min, uint32_t *max)
{
        size_t save = p->pos;
        uint32_t lo, hi;
        if (!rxp_eat(p, "{") || !digits(p, &lo))
                goto no;
        hi = lo;
        if (rxp_eat(p, ",")) {
                if (rxp_at(p, '}'))
                        hi = RX_INF;
                else if (!digits(p, &hi))
                        goto no;
        }
        if (!rxp_eat(p, "}"))
                goto no;
        *min = lo;
        *max = hi;
        return true;
no:
        p->pos = save;
        return false;
}

static struct rx_node *with_kid(struct parser *p, struct rx_node *n, struct rx_node *kid)
{
        if (!n || !kid)
                return NULL;
        n->kids = arena_alloc(p->a, sizeof(*n->kids));
        if (!n->kids)
                return rxp_fail(p, "out of memory");
        n->kids[0] = kid;
        n->nkids = 1;
        return n;
}

static int add_group_name(struct parser *p, const char *name, size_t len, uint32_t group)
{
        for (size_t i = 0; i < p->nnames; i++)
                if (p->names[i].len == len && memcmp(p->names[i].s, name, len) == 0)
                        return rxp_fail(p, "duplicate group name"), -1;
        struct gname *g = rxp_push(p, (void **)&p->names, &p->nnames, &p->capnames, sizeof(*g));
        if (!g)
                return -1;
        *g = (struct gname){name, len, group};
        return 0;
}

/* After "(". */
static struct rx_node *parse_group(struct parser *p)
{
        if (++p->depth > MAX_NESTING)
                return rxp_fail(p, "pattern nests too deeply");
        struct rx_node *n;
        if (rxp_eat(p, "?:")) {
                n = rxp_node(p, N_GROUP);
        } else if (rxp_eat(p, "?=") || rxp_eat(p, "?!")) {
                if ((n = rxp_node(p, N_LOOK)))
                        n->neg = p->s[p->pos - 1] == '!';
        } else if (rxp_eat(p, "?<=") || rxp_eat(p, "?<!")) {
                if ((n = rxp_node(p, N_LOOK))) {
                        n->neg = p->s[p->pos - 1] == '!';
                        n->behind = true;
                }
        } else if (rxp_eat(p, "?<")) {
                size_t start = p->pos;
                while (p->pos < p->len && p->s[p->pos] != '>') {
                        unsigned char c = (unsigned char)p->s[p->pos];
                        if (!(c >= 0x80 || c == '_' || c == '$' || (c >= 'a' && c <= 'z') ||
                              (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && p->pos > start)))
                                return rxp_fail(p, "invalid group name");
                        p->pos++;
                }
                if (p->pos == start || !rxp_eat(p, ">"))
                        return rxp_fail(p, "invalid group name");
                if (add_group_name(p, p->s + start, p->pos - 1 - start, p->ngroups + 1) < 0)
                        return NULL;
                if ((n = rxp_node(p, N_GROUP)))
                        n->idx = ++p->ngroups;
        } else if (rxp_at(p, '?')) {
                return rxp_fail(p, "invalid group syntax '(?%c'",
                                p->pos + 1 < p->len ? p->s[p->pos + 1] : ' ');
        } else {
                if ((n = rxp_node(p, N_GROUP)))
                        n->idx = ++p->ngroups;
        }
        if (!n)
                return NULL;
        struct rx_node *kid = parse_disjunction(p);
        if (!kid)
                return NULL;
        if (!rxp_eat(p, ")"))
                return rxp_fail(p, "missing )");
        p->depth--;
        return with_kid(p, n, kid);
}

static struct rx_node *parse_term(struct parser *p, bool *assertion)
{
        uint32_t lo, hi;
        struct rx_node *n;
        char c = p->s[p->pos];
        *assertion = false;
        switch (c) {
        case '^':
        case '$':
                p->pos++;
                *assertion = true;
                return rxp_node(p, c == '^' ? N_BOL : N_EOL);
        case '.':
                p->pos++;
                return rxp_node(p, N_ANY);
        case '(':
                p->pos++;
                n = parse_group(p);
                *assertion = n && n->kind == N_LOOK;
                return n;
        case '[':
                p->pos++;
                return rxp_class(p);
        case '\\':
                p->pos++;
                n = rxp_atom_escape(p);
                *assertion = n && (n->kind == N_WORDB || n->kind == N_NWORDB);
                return n;
        case '*':
        case '+':
        case '?':
                return rxp_fail(p, "nothing to repeat");
        case '{':
                if (parse_braces(p, &lo, &hi))
                        return rxp_fail(p, "nothing to repeat");
                break;
        default:
                break;
        }
        if ((n = rxp_node(p, N_CHAR)))
                n->cp = utf8_next((const unsigned char *)p->s, p->len, &p->pos);
        return n;
}

/* A quantifier after an atom, if any: wraps the atom in N_REPEAT. */
static struct rx_node *quantify(struct parser *p, struct rx_node *atom, bool assertion)
{
        uint32_t min, max;
        if (rxp_eat(p, "*"))
                min = 0, max = RX_INF;
        else if (rxp_eat(p, "+"))
                min = 1, max = RX_INF;
        else if (rxp_eat(p, "?"))
                min = 0, max = 1;
        else if (!parse_braces(p, &min, &max))
                return atom;
        if (assertion)
                return rxp_fail(p, "nothing to repeat (an assertion cannot be quantified)");
        if (min > max)
                return rxp_fail(p, "numbers out of order in {} quantifier");
        struct rx_node *n = rxp_node(p, N_REPEAT);
        if (!n)
                return NULL;
        n->min = min;
        n->max = max;
        n->greedy = !rxp_eat(p, "?");
        return with_kid(p, n, atom);
}

static struct rx_node *list_node(struct parser *p, enum rx_kind kind, struct rx_node **kids,
                                 size_t n)
{
        if (n == 0)
                return rxp_node(p, N_EMPTY);
        if (n == 1)
                return kids[0];
        struct rx_node *node = rxp_node(p, kind);
        if (node) {
                node->kids = kids;
                node->nkids = n;
        }
        return node;
}

static struct rx_node *parse_alternative(struct parser *p)
{
        struct rx_node **kids = NULL;
        size_t n = 0, cap = 0;
        while (p->pos < p->len && p->s[p->pos] != '|' && p->s[p->pos] != ')') {
                bool assertion;
                struct rx_node *t = parse_term(p, &assertion);
                if (t)
                        t = quantify(p, t, assertion);
                if (!t)
                        return NULL;
                struct rx_node **slot = rxp_push(p, (void **)&kids, &n, &cap, sizeof(*slot));
                if (!slot)
                        return NULL;
                *slot = t;
        }
        return list_node(p, N_CAT, kids, n);
}

static struct rx_node *parse_disjunction(struct parser *p)
{
        struct rx_node **alts = NULL;
        size_t n = 0, cap = 0;
        do {
                struct rx_node *alt = parse_alternative(p);
                if (!alt)
                        return NULL;
                struct rx_node **slot = rxp_push(p, (void **)&alts, &n, &cap, sizeof(*slot));
                if (!slot)
                        return NULL;
                *slot = alt;
        } while (rxp_eat(p, "|"));
        return list_node(p, N_ALT, alts, n);
}

static int resolve_backrefs(struct parser *p)
{
        for (size_t i = 0; i < p->nnamed; i++) {
                struct rx_node *r = p->named_refs[i];
                size_t k = 0;
                while (k < p->nnames && (p->names[k].len != r->name_len ||
                                         memcmp(p->names[k].s, r->name, r->name_len) != 0))
                        k++;
                if (k == p->nnames)
                        return rxp_fail(p, "\\k<%.*s> names no group", (int)r->name_len, r->name),
                               -1;
                r->idx = p->names[k].group;
        }
        if (p->max_backref > p->ngroups)
                return rxp_fail(p, "backreference \\%u to a group that does not exist",
                                p->max_backref),
                       -1;
        return 0;
}

int rx_parse(struct arena *a, const char *pattern, size_t len, struct rx_parsed *out, char *err,
             size_t errlen)
{
        struct parser p = {.a = a, .s = pattern, .len = len, .err = err, .errlen = errlen};
        struct rx_node *root = parse_disjunction(&p);
        if (root && p.pos < p.len)
                rxp_fail(&p, "unmatched )");
        if (!root || p.failed || resolve_backrefs(&p) < 0)
                return -1;
        out->root = root;
        out->classes = p.classes;
        out->nclasses = p.nclasses;
        out->ngroups = p.ngroups;
        out->has_backrefs = p.has_backrefs;
        return 0;
}
