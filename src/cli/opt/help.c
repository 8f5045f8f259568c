/* cli_help: a command's --help, its option list made from its table. */
#include "cli/opt/options.h"

#include <string.h>

#define HELP_COLUMN 26 /* where an option's text starts */
#define HELP_WIDTH  80

/* text from column `col` on, wrapped at spaces to HELP_WIDTH, each further
 * line indented to HELP_COLUMN; '\n' in text breaks a line. */
static void wrap(FILE *out, const char *text, int col)
{
        while (*text) {
                size_t room = HELP_WIDTH > col ? (size_t)(HELP_WIDTH - col) : 1;
                size_t n = strcspn(text, "\n");
                if (n > room) {
                        size_t cut = room;
                        while (cut > 0 && text[cut] != ' ')
                                cut--;
                        n = cut ? cut : n;
                }
                fprintf(out, "%.*s\n", (int)n, text);
                text += n;
                text += *text == ' ' || *text == '\n';
                if (*text)
                        fprintf(out, "%*s", HELP_COLUMN, "");
                col = HELP_COLUMN;
        }
}

/* "--name METAVAR" (with "-x, " before it when it has a short name). */
static void name(char *buf, size_t size, const struct cli_option *o)
{
        char short_name[8] = "";
        if (o->short_name)
                snprintf(short_name, sizeof(short_name), "-%c, ", o->short_name);
        snprintf(buf, size, "%s--%s%s%s", short_name, o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
}

/* The kinds after CLI_GROUP are options (options.h). */
static bool is_option(const struct cli_option *o)
{
        return o->kind > CLI_GROUP;
}

static void list(FILE *out, const struct cli_option *o)
{
        for (; o->kind != CLI_END; o++) {
                if (o->kind == CLI_GROUP) {
                        list(out, o->group);
                        continue;
                }
                if (o->kind == CLI_SECTION) {
                        fputs(o->help, out);
                        continue;
                }
                /* Options sharing a line: a new line when the names fill it. */
                char buf[128];
                int col = fprintf(out, "  ");
                for (bool first = true;; o++, first = false) {
                        name(buf, sizeof(buf), o);
                        if (!first && col + 2 + (int)strlen(buf) > HELP_WIDTH) {
                                fputs(",\n  ", out);
                                col = 2;
                        } else if (!first) {
                                col += fprintf(out, ", ");
                        }
                        col += fprintf(out, "%s", buf);
                        if (o->help || !is_option(&o[1]))
                                break;
                }
                if (!o->help) {
                        fputc('\n', out);
                        continue;
                }
                int pad = col + 2 <= HELP_COLUMN ? HELP_COLUMN - col : 2;
                fprintf(out, "%*s", pad, "");
                wrap(out, o->help, col + pad);
        }
}

void cli_help(const struct cli_command *cmd, FILE *out)
{
        fputs(cmd->head, out);
        list(out, cmd->options);
        fputs("  -h, --help              show this help\n", out);
        if (cmd->tail)
                fputs(cmd->tail, out);
}
