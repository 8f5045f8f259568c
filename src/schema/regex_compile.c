/* Turns a parsed pattern into the backtracking program run by
 * regex_exec.c. Loops whose body can match the empty string get a
 * MARK/CHECK pair so an empty iteration fails, as ECMA-262 requires (and so
 * the VM cannot spin). Counted repetition is unrolled; the program size is
 * capped, and so is the work of compiling, which an empty body repeated
 * (`(?:(?:){99999}){99999}`) makes unbounded while emitting nothing. */
#include "schema/regex_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROGRAM 65536
/* Parse-tree nodes visited while generating: room for every program under
 * MAX_PROGRAM, and a bound on the time a hostile pattern can take. */
#define MAX_WORK (16 * MAX_PROGRAM)

struct gen {
        struct rx_inst *prog;
        size_t n, cap;
        uint32_t nregs;
        bool captures;
        size_t work;
        bool too_large;
        bool too_complex;
        bool oom;
};

static uint32_t emit(struct gen *g, uint8_t op, uint32_t a, uint32_t b, bool back)
{
        if (g->n >= MAX_PROGRAM) {
                g->too_large = true;
                return 0;
        }
        if (g->n == g->cap) {
                size_t ncap = g->cap ? g->cap * 2 : 64;
                struct rx_inst *np = realloc(g->prog, ncap * sizeof(*np));
                if (!np) {
                        g->oom = true;
                        return 0;
                }
                g->prog = np;
                g->cap = ncap;
        }
        g->prog[g->n] = (struct rx_inst){.op = op, .back = back, .a = a, .b = b};
        return (uint32_t)g->n++;
}

static bool failed(const struct gen *g)
{
        return g->too_large || g->too_complex || g->oom;
}

/* Counts one node visited; false once over the budget (or failed). */
static bool charge(struct gen *g)
{
        if (++g->work > MAX_WORK)
                g->too_complex = true;
        return !failed(g);
}

static bool nullable(struct gen *g, const struct rx_node *n)
{
        if (!charge(g))
                return false;
        switch (n->kind) {
        case N_CHAR:
        case N_ANY:
        case N_CLASS:
                return false;
        case N_GROUP:
                return nullable(g, n->kids[0]);
        case N_CAT:
                for (size_t i = 0; i < n->nkids; i++)
                        if (!nullable(g, n->kids[i]))
                                return false;
                return true;
        case N_ALT:
                for (size_t i = 0; i < n->nkids; i++)
                        if (nullable(g, n->kids[i]))
                                return true;
                return false;
        case N_REPEAT:
                return n->min == 0 || nullable(g, n->kids[0]);
        default:
                return true; /* empty, assertions, lookaround, backreference */
        }
}

/* The capture groups inside n: numbered consecutively, so a range
 * (*lo > *hi when there are none). */
static void group_range(struct gen *g, const struct rx_node *n, uint32_t *lo, uint32_t *hi)
{
        if (!charge(g))
                return;
        if (n->kind == N_GROUP && n->idx > 0) {
                *lo = n->idx < *lo ? n->idx : *lo;
                *hi = n->idx > *hi ? n->idx : *hi;
        }
        for (size_t i = 0; i < n->nkids; i++)
                group_range(g, n->kids[i], lo, hi);
}

static void gen_node(struct gen *g, const struct rx_node *n, bool back);

/* What every iteration of a quantified atom needs to know. */
struct loop {
        const struct rx_node *kid;
        bool back;
        bool guard;      /* the body can match empty */
        uint32_t lo, hi; /* the capture groups it clears (lo > hi: none) */
};

/* One iteration: ECMA-262 (RepeatMatcher) clears the captures inside it
 * first, so a backreference never sees a group from an earlier iteration
 * that this one did not enter. */
static void gen_iteration(struct gen *g, const struct loop *l)
{
        if (l->lo <= l->hi)
                emit(g, OP_RESET, 2 * l->lo, 2 * l->hi + 1, l->back);
        gen_node(g, l->kid, l->back);
}

/* One optional or repeated iteration guarded against matching empty. */
static void gen_body(struct gen *g, const struct loop *l)
{
        uint32_t reg = 0;
        if (l->guard) {
                reg = g->nregs++;
                emit(g, OP_MARK, reg, 0, l->back);
        }
        gen_iteration(g, l);
        if (l->guard)
                emit(g, OP_CHECK, reg, 0, l->back);
}

static void gen_repeat(struct gen *g, const struct rx_node *n, bool back)
{
        const struct rx_node *kid = n->kids[0];
        /* A greedy loop over one character runs as a tight loop that gives
         * characters back one at a time when backtracking. */
        if (!back && n->greedy &&
            (kid->kind == N_CHAR || kid->kind == N_ANY || kid->kind == N_CLASS)) {
                emit(g, OP_REPEAT, n->min, n->max, false);
                gen_node(g, kid, false);
                return;
        }
        struct loop l = {.kid = kid, .back = back, .lo = UINT32_MAX, .hi = 0};
        l.guard = nullable(g, kid);
        if (g->captures)
                group_range(g, kid, &l.lo, &l.hi);
        for (uint32_t i = 0; i < n->min && !failed(g); i++)
                gen_iteration(g, &l);
        if (n->max == RX_INF) {
                uint32_t split = emit(g, OP_SPLIT, 0, 0, back);
                gen_body(g, &l);
                emit(g, OP_JMP, split, 0, back);
                if (failed(g))
                        return;
                uint32_t body = split + 1, out = (uint32_t)g->n;
                g->prog[split].a = n->greedy ? body : out;
                g->prog[split].b = n->greedy ? out : body;
                return;
        }
        /* x{min,max}: max - min nested optional copies, all exiting to one
         * place. */
        uint32_t nsplits = n->max - n->min;
        if (nsplits > MAX_PROGRAM) {
                g->too_large = true;
                return;
        }
        uint32_t *splits = calloc(nsplits ? nsplits : 1, sizeof(*splits));
        if (!splits) {
                g->oom = true;
                return;
        }
        for (uint32_t i = 0; i < nsplits && !failed(g); i++) {
                splits[i] = emit(g, OP_SPLIT, 0, 0, back);
                gen_body(g, &l);
        }
        uint32_t out = (uint32_t)g->n;
        for (uint32_t i = 0; i < nsplits && !failed(g); i++) {
                g->prog[splits[i]].a = n->greedy ? splits[i] + 1 : out;
                g->prog[splits[i]].b = n->greedy ? out : splits[i] + 1;
        }
        free(splits);
}

static void gen_alt(struct gen *g, const struct rx_node *n, bool back)
{
        uint32_t *jumps = calloc(n->nkids, sizeof(*jumps));
        if (!jumps) {
                g->oom = true;
                return;
        }
        for (size_t i = 0; i < n->nkids && !failed(g); i++) {
                uint32_t split = 0;
                if (i + 1 < n->nkids)
                        split = emit(g, OP_SPLIT, 0, 0, back);
                gen_node(g, n->kids[i], back);
                if (i + 1 < n->nkids) {
                        jumps[i] = emit(g, OP_JMP, 0, 0, back);
                        if (failed(g))
                                break;
                        g->prog[split].a = split + 1;
                        g->prog[split].b = (uint32_t)g->n;
                }
        }
        for (size_t i = 0; i + 1 < n->nkids && !failed(g); i++)
                g->prog[jumps[i]].a = (uint32_t)g->n;
        free(jumps);
}

static void gen_node(struct gen *g, const struct rx_node *n, bool back)
{
        if (!charge(g))
                return;
        switch (n->kind) {
        case N_EMPTY:
                return;
        case N_CHAR:
                emit(g, OP_CHAR, n->cp, 0, back);
                return;
        case N_ANY:
                emit(g, OP_ANY, 0, 0, back);
                return;
        case N_CLASS:
                emit(g, OP_CLASS, n->idx, 0, back);
                return;
        case N_BOL:
                emit(g, OP_BOL, 0, 0, back);
                return;
        case N_EOL:
                emit(g, OP_EOL, 0, 0, back);
                return;
        case N_WORDB:
        case N_NWORDB:
                emit(g, n->kind == N_WORDB ? OP_WORDB : OP_NWORDB, 0, 0, back);
                return;
        case N_BACKREF:
                emit(g, OP_BACKREF, n->idx, 0, back);
                return;
        case N_GROUP: {
                bool save = g->captures && n->idx > 0;
                /* Matching leftwards meets a group's end before its start. */
                if (save)
                        emit(g, OP_SAVE, 2 * n->idx + (back ? 1 : 0), 0, back);
                gen_node(g, n->kids[0], back);
                if (save)
                        emit(g, OP_SAVE, 2 * n->idx + (back ? 0 : 1), 0, back);
                return;
        }
        case N_LOOK: {
                uint32_t look = emit(g, OP_LOOK, 0, n->behind, back);
                gen_node(g, n->kids[0], n->behind);
                emit(g, OP_MATCH, 0, 0, n->behind);
                if (!failed(g)) {
                        g->prog[look].neg = n->neg;
                        g->prog[look].a = (uint32_t)g->n;
                }
                return;
        }
        case N_CAT:
                for (size_t i = 0; i < n->nkids; i++)
                        gen_node(g, n->kids[back ? n->nkids - 1 - i : i], back);
                return;
        case N_ALT:
                gen_alt(g, n, back);
                return;
        case N_REPEAT:
                gen_repeat(g, n, back);
                return;
        }
}

static const struct rx_node *first_term(const struct rx_node *n)
{
        while (n->kind == N_CAT || (n->kind == N_GROUP && n->nkids == 1))
                n = n->kids[0];
        return n;
}

struct rx *rx_compile(struct arena *a, const char *pattern, size_t len, char *err, size_t errlen)
{
        struct rx_parsed parsed;
        if (rx_parse(a, pattern, len, &parsed, err, errlen) < 0)
                return NULL;
        struct gen g = {.captures = parsed.has_backrefs};
        gen_node(&g, parsed.root, false);
        emit(&g, OP_MATCH, 0, 0, false);
        struct rx *re = NULL;
        struct rx_inst *prog = NULL;
        if (g.too_large)
                snprintf(err, errlen,
                         "pattern too large (over %d instructions once repetition "
                         "counts are expanded)",
                         MAX_PROGRAM);
        else if (g.too_complex)
                snprintf(err, errlen,
                         "pattern too complex to compile (its repetition counts expand to "
                         "over %d steps)",
                         MAX_WORK);
        else if (g.oom || !(re = arena_zalloc(a, sizeof(*re))) ||
                 !(prog = arena_alloc(a, g.n * sizeof(*prog))))
                snprintf(err, errlen, "out of memory");
        if (failed(&g) || !re || !prog) {
                free(g.prog);
                return NULL;
        }
        memcpy(prog, g.prog, g.n * sizeof(*prog));
        free(g.prog);
        re->prog = prog;
        re->nprog = g.n;
        re->classes = parsed.classes;
        re->nslots = parsed.has_backrefs ? 2 * (parsed.ngroups + 1) : 0;
        re->nregs = g.nregs;
        const struct rx_node *first = first_term(parsed.root);
        re->anchored = first->kind == N_BOL;
        re->first_byte = first->kind == N_CHAR && first->cp < 0x80 ? (int)first->cp : -1;
        return re;
}
