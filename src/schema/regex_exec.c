/* The regex VM: a backtracking interpreter with an explicit stack (no
 * recursion per character, so long strings cannot overflow the C stack)
 * and a step budget. Lookaround runs as a nested, atomic sub-match. */
#include "schema/regex_int.h"
#include "schema/utf8.h"

#include <stdlib.h>
#include <string.h>

#define UNSET      SIZE_MAX
#define LOCAL_BT   64
#define LOCAL_REGS 32

enum { BT_BRANCH, BT_SLOT, BT_REG, BT_REPEAT };

struct bt {
        uint32_t tag;
        uint32_t idx;
        size_t val;
        size_t val2; /* BT_REPEAT: the position after the minimum count */
};

struct vm {
        const struct rx *re;
        const unsigned char *s;
        size_t len;
        size_t *slots;
        size_t *regs;
        struct bt *stack;
        size_t sp, cap;
        bool heap;
        unsigned long steps;
};

static int push2(struct vm *m, uint32_t tag, uint32_t idx, size_t val, size_t val2)
{
        if (m->sp == m->cap) {
                size_t ncap = m->cap * 2;
                struct bt *ns =
                    m->heap ? realloc(m->stack, ncap * sizeof(*ns)) : malloc(ncap * sizeof(*ns));
                if (!ns)
                        return -1;
                if (!m->heap)
                        memcpy(ns, m->stack, m->sp * sizeof(*ns));
                m->stack = ns;
                m->cap = ncap;
                m->heap = true;
        }
        m->stack[m->sp++] = (struct bt){tag, idx, val, val2};
        return 0;
}

static int push(struct vm *m, uint32_t tag, uint32_t idx, size_t val)
{
        return push2(m, tag, idx, val, 0);
}

/* Read the next code point in the instruction's direction. */
static inline bool next_cp(const struct vm *m, bool back, size_t *pos, uint32_t *cp)
{
        if (back) {
                if (*pos == 0)
                        return false;
                *cp = utf8_prev(m->s, m->len, pos);
        } else {
                if (*pos >= m->len)
                        return false;
                *cp = utf8_next(m->s, m->len, pos);
        }
        return true;
}

static bool is_line_terminator(uint32_t cp)
{
        return cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029;
}

/* A lookaround that matched is atomic: drop the alternatives it left on the
 * stack (branches, and characters a loop could give back: either would
 * resume inside the lookaround's sub-program) but keep the capture and
 * register restores, so outer backtracking undoes them. */
static void keep_restores(struct vm *m, size_t base)
{
        size_t o = base;
        for (size_t i = base; i < m->sp; i++)
                if (m->stack[i].tag == BT_SLOT || m->stack[i].tag == BT_REG)
                        m->stack[o++] = m->stack[i];
        m->sp = o;
}

/* Does the one-character matcher `in` accept the code point at *pos
 * (moving past it)? */
static inline bool match_one(const struct vm *m, const struct rx_inst *in, size_t *pos)
{
        uint32_t cp;
        if (*pos >= m->len)
                return false;
        if (m->s[*pos] < 0x80)
                cp = m->s[(*pos)++];
        else
                cp = utf8_next(m->s, m->len, pos);
        switch (in->op) {
        case OP_CHAR:
                return cp == in->a;
        case OP_ANY:
                return !is_line_terminator(cp);
        default:
                return rx_class_has(&m->re->classes[in->a], cp);
        }
}

/* OP_REPEAT: take as many characters as allowed; remember the range to
 * give back. */
static int repeat(struct vm *m, uint32_t pc, size_t *pos)
{
        const struct rx_inst *in = &m->re->prog[pc];
        size_t count = 0, min_pos = *pos;
        while (count < in->b) {
                size_t p = *pos;
                if (!match_one(m, in + 1, &p))
                        break;
                *pos = p;
                if (++count == in->a)
                        min_pos = p;
        }
        m->steps += count;
        if (count < in->a)
                return 0;
        if (*pos > min_pos && push2(m, BT_REPEAT, pc, *pos, min_pos) < 0)
                return -1;
        return 1;
}

static bool backref(const struct vm *m, const struct rx_inst *in, size_t *pos)
{
        size_t s0 = m->slots[2 * in->a], s1 = m->slots[2 * in->a + 1];
        if (s0 == UNSET || s1 == UNSET || s1 < s0)
                return true; /* an unset group matches the empty string */
        size_t n = s1 - s0;
        if (!in->back) {
                if (m->len - *pos < n || memcmp(m->s + *pos, m->s + s0, n) != 0)
                        return false;
                *pos += n;
        } else {
                if (*pos < n || memcmp(m->s + *pos - n, m->s + s0, n) != 0)
                        return false;
                *pos -= n;
        }
        return true;
}

/* 1: matched (end position in *end), 0: no match, -1: budget or memory. */
static int run(struct vm *m, uint32_t pc, size_t pos, size_t *end)
{
        size_t base = m->sp;
        for (;;) {
                if (++m->steps > RX_STEP_BUDGET)
                        return -1;
                const struct rx_inst *in = &m->re->prog[pc];
                uint32_t cp;
                switch (in->op) {
                case OP_CHAR:
                        if (!next_cp(m, in->back, &pos, &cp) || cp != in->a)
                                goto fail;
                        pc++;
                        continue;
                case OP_ANY:
                        if (!next_cp(m, in->back, &pos, &cp) || is_line_terminator(cp))
                                goto fail;
                        pc++;
                        continue;
                case OP_CLASS:
                        if (!next_cp(m, in->back, &pos, &cp) ||
                            !rx_class_has(&m->re->classes[in->a], cp))
                                goto fail;
                        pc++;
                        continue;
                case OP_BOL:
                case OP_EOL:
                        if (pos != (in->op == OP_BOL ? 0 : m->len))
                                goto fail;
                        pc++;
                        continue;
                case OP_WORDB:
                case OP_NWORDB: {
                        bool before = pos > 0 && rx_is_word(m->s[pos - 1]);
                        bool after = pos < m->len && rx_is_word(m->s[pos]);
                        if ((before != after) != (in->op == OP_WORDB))
                                goto fail;
                        pc++;
                        continue;
                }
                case OP_SPLIT:
                        if (push(m, BT_BRANCH, in->b, pos) < 0)
                                return -1;
                        pc = in->a;
                        continue;
                case OP_JMP:
                        pc = in->a;
                        continue;
                case OP_SAVE:
                case OP_MARK: {
                        size_t *cell = in->op == OP_SAVE ? &m->slots[in->a] : &m->regs[in->a];
                        if (push(m, in->op == OP_SAVE ? BT_SLOT : BT_REG, in->a, *cell) < 0)
                                return -1;
                        *cell = pos;
                        pc++;
                        continue;
                }
                case OP_RESET:
                        for (uint32_t i = in->a; i <= in->b; i++) {
                                if (m->slots[i] == UNSET)
                                        continue;
                                if (push(m, BT_SLOT, i, m->slots[i]) < 0)
                                        return -1;
                                m->slots[i] = UNSET;
                        }
                        pc++;
                        continue;
                case OP_CHECK:
                        if (m->regs[in->a] == pos)
                                goto fail;
                        pc++;
                        continue;
                case OP_LOOK: {
                        size_t sub_base = m->sp, sub_end;
                        int r = run(m, pc + 1, pos, &sub_end);
                        if (r < 0)
                                return -1;
                        if (r == 1)
                                keep_restores(m, sub_base);
                        if ((r == 1) == in->neg)
                                goto fail;
                        pc = in->a;
                        continue;
                }
                case OP_BACKREF:
                        if (!backref(m, in, &pos))
                                goto fail;
                        pc++;
                        continue;
                case OP_REPEAT: {
                        int r = repeat(m, pc, &pos);
                        if (r < 0)
                                return -1;
                        if (r == 0)
                                goto fail;
                        pc += 2;
                        continue;
                }
                case OP_MATCH:
                        *end = pos;
                        return 1;
                }
        fail:
                for (;;) {
                        if (m->sp == base)
                                return 0;
                        struct bt e = m->stack[--m->sp];
                        if (e.tag == BT_BRANCH) {
                                pc = e.idx;
                                pos = e.val;
                                break;
                        }
                        if (e.tag == BT_REPEAT) {
                                /* Give back one character of the loop. */
                                pos = e.val;
                                utf8_prev(m->s, m->len, &pos);
                                if (pos > e.val2 && push2(m, BT_REPEAT, e.idx, pos, e.val2) < 0)
                                        return -1;
                                pc = e.idx + 2;
                                break;
                        }
                        if (e.tag == BT_SLOT)
                                m->slots[e.idx] = e.val;
                        else
                                m->regs[e.idx] = e.val;
                }
        }
}

int rx_search(const struct rx *re, const char *s, size_t len)
{
        struct bt local_bt[LOCAL_BT];
        size_t local_regs[LOCAL_REGS];
        size_t ncells = (size_t)re->nslots + re->nregs;
        size_t *cells = ncells <= LOCAL_REGS ? local_regs : malloc(ncells * sizeof(*cells));
        if (!cells)
                return -1;
        for (size_t i = 0; i < ncells; i++)
                cells[i] = UNSET;
        struct vm m = {.re = re,
                       .s = (const unsigned char *)s,
                       .len = len,
                       .slots = cells,
                       .regs = cells + re->nslots,
                       .stack = local_bt,
                       .cap = LOCAL_BT};
        size_t pos = 0, end;
        int r = 0;
        for (;;) {
                if (re->first_byte >= 0) {
                        const char *hit = memchr(s + pos, re->first_byte, len - pos);
                        if (!hit)
                                break;
                        pos = (size_t)(hit - s);
                }
                r = run(&m, 0, pos, &end);
                if (r != 0 || re->anchored || pos >= len)
                        break;
                utf8_next(m.s, len, &pos);
        }
        if (m.heap)
                free(m.stack);
        if (cells != local_regs)
                free(cells);
        return r;
}
