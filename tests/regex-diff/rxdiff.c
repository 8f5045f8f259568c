/* The C side of the regex differential test: reads the pairs gen.js wrote
 * (with node's verdicts) on stdin, runs whiskers' engine on each, and
 * reports every pair where the two disagree. One process for the whole
 * run: each pattern is compiled once and searched against its subjects.
 *
 * Exit status: 0 no disagreement, 1 disagreements, 2 unreadable input.
 * The counts go to stdout; patterns node rejects but whiskers accepts
 * (Annex B leniency, documented in docs/schema.md) and searches that ran
 * out of the step budget are counted apart, not as disagreements. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/arena.h"
#include "schema/regex.h"

#define SHOW_MAX 30

struct counts {
        unsigned long patterns, pairs, disagree, lenient, too_large, gave_up;
};

/* One record: "<tag> <flag> <len>\n<len bytes>\n". Returns the bytes
 * (malloc'd, NUL-terminated), or NULL at the end of input. */
static char *read_record(char *tag, int *flag, size_t *len)
{
        if (scanf(" %c %d %zu", tag, flag, len) != 3)
                return NULL;
        if (getchar() != '\n')
                return NULL;
        char *buf = malloc(*len + 1);
        if (!buf || fread(buf, 1, *len, stdin) != *len || getchar() != '\n') {
                free(buf);
                return NULL;
        }
        buf[*len] = '\0';
        return buf;
}

static void show_text(const char *s, size_t len)
{
        putchar('"');
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void show(unsigned long *count, const char *what, const char *p, size_t plen, const char *s,
                 size_t slen)
{
        if (++*count > SHOW_MAX)
                return;
        printf("%s: pattern ", what);
        show_text(p, plen);
        if (s) {
                printf(" subject ");
                show_text(s, slen);
        }
        putchar('\n');
}

int main(void)
{
        struct counts c = {0};
        struct arena a;
        struct rx *re = NULL;
        char *pat = NULL, *text, tag, err[256];
        size_t plen = 0, len;
        int flag, node_rejects = 1;
        arena_init(&a);
        while ((text = read_record(&tag, &flag, &len))) {
                if (tag == 'P') {
                        arena_free(&a);
                        arena_init(&a);
                        free(pat);
                        pat = text;
                        plen = len;
                        node_rejects = flag;
                        c.patterns++;
                        re = rx_compile(&a, pat, plen, err, sizeof(err));
                        if (node_rejects && re)
                                c.lenient++;
                        else if (!node_rejects && !re && strstr(err, "too large"))
                                c.too_large++;
                        else if (!node_rejects && !re)
                                show(&c.disagree, "DISAGREE whiskers rejects what node accepts",
                                     pat, plen, NULL, 0);
                        continue;
                }
                if (!node_rejects && re) {
                        c.pairs++;
                        int r = rx_search(re, text, len);
                        if (r < 0)
                                show(&c.gave_up, "OVER BUDGET", pat, plen, text, len);
                        else if (r != flag)
                                show(&c.disagree,
                                     flag ? "DISAGREE node matches, whiskers does not"
                                          : "DISAGREE whiskers matches, node does not",
                                     pat, plen, text, len);
                }
                free(text);
        }
        free(pat);
        arena_free(&a);
        if (!feof(stdin)) {
                fprintf(stderr, "rxdiff: malformed input after %lu patterns\n", c.patterns);
                return 2;
        }
        printf("rxdiff: %lu patterns, %lu pairs compared, %lu disagreements; "
               "%lu patterns only whiskers accepts (Annex B), %lu too large to compile, "
               "%lu searches over the step budget\n",
               c.patterns, c.pairs, c.disagree, c.lenient, c.too_large, c.gave_up);
        return c.disagree ? 1 : 0;
}
