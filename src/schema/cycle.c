/* Rejecting reference loops that never consume the instance. Keywords that
 * apply a subschema to the same instance location ($ref, allOf, anyOf,
 * oneOf, not, if/then/else, dependentSchemas) form a graph; a cycle in it
 * (e.g. {"$ref": "#"}, or two definitions whose allOf names the other)
 * would recurse forever on some instance, so compiling fails. A
 * $dynamicRef that resolves dynamically is left to the validator's runtime
 * loop check, since its target depends on the evaluation path. */
#include "schema/session.h"

#include <stdio.h>
#include <stdlib.h>

enum { WHITE, GRAY, BLACK };

static struct sch_node *nth_edge(const struct sch_node *n, size_t i)
{
        struct sch_node *single[] = {
            n->ref, n->dyn_bookended ? NULL : n->dynref, n->not_, n->if_, n->then_, n->else_};
        for (size_t k = 0; k < sizeof(single) / sizeof(single[0]); k++) {
                if (!single[k])
                        continue;
                if (i == 0)
                        return single[k];
                i--;
        }
        struct sch_node **lists[] = {n->all_of, n->any_of, n->one_of};
        size_t counts[] = {n->nall_of, n->nany_of, n->none_of};
        for (size_t k = 0; k < 3; k++) {
                if (i < counts[k])
                        return lists[k][i];
                i -= counts[k];
        }
        return i < n->ndep_schemas ? n->dep_schemas[i].node : NULL;
}

struct frame {
        struct sch_node *node;
        size_t next;
};

static int report(struct sch_session *s, struct frame *stack, size_t top, struct sch_node *back)
{
        char chain[1024] = "";
        size_t used = 0, start = top;
        while (start > 0 && stack[start].node != back)
                start--;
        for (size_t i = start; i <= top && used < sizeof(chain) - 1; i++) {
                int n = snprintf(chain + used, sizeof(chain) - used, "%s -> ", stack[i].node->loc);
                used += n > 0 ? (size_t)n : 0;
        }
        if (used < sizeof(chain) - 1)
                snprintf(chain + used, sizeof(chain) - used, "%s", back->loc);
        return sch_fail(s,
                        "schema loops without consuming the instance: %s (a reference cycle "
                        "must pass through a keyword that descends into the instance, such as "
                        "properties or items)",
                        chain);
}

int sch_check_cycles(struct sch_session *s)
{
        struct frame *stack = calloc(s->nnodes + 1, sizeof(*stack));
        if (!stack)
                return sch_fail(s, "out of memory");
        int r = 0;
        for (size_t i = 0; i < s->nnodes && r == 0; i++) {
                if (s->nodes[i]->color != WHITE)
                        continue;
                size_t top = 0;
                stack[0] = (struct frame){s->nodes[i], 0};
                s->nodes[i]->color = GRAY;
                for (;;) {
                        struct frame *f = &stack[top];
                        struct sch_node *next = nth_edge(f->node, f->next++);
                        if (!next) {
                                f->node->color = BLACK;
                                if (top == 0)
                                        break;
                                top--;
                        } else if (next->color == GRAY) {
                                r = report(s, stack, top, next);
                                break;
                        } else if (next->color == WHITE) {
                                next->color = GRAY;
                                stack[++top] = (struct frame){next, 0};
                        }
                }
        }
        free(stack);
        return r;
}
