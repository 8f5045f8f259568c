/* Bash completion made from the option tables: `whiskers completion bash`
 * prints it (docs/design.md, "Options"). The script is data (each
 * command's options, what their values are) and one function reading it. */
#include "cli/opt/options.h"

#include <string.h>

void cli_complete_head(FILE *out)
{
        fputs("# bash completion for whiskers, whiskers-queue and whiskers-package, made from\n"
              "# their option tables by 'whiskers completion bash' (README, \"Shell "
              "completion\").\n"
              "declare -gA _whiskers_cmds _whiskers_opts _whiskers_values _whiskers_subs\n",
              out);
}

static void names(FILE *out, const struct cli_option *o, const char **sep)
{
        for (; o->kind != CLI_END; o++) {
                if (o->kind == CLI_GROUP)
                        names(out, o->group, sep);
                else if (o->kind != CLI_SECTION) {
                        fprintf(out, "%s--%s", *sep, o->name);
                        *sep = " ";
                }
        }
}

/* What an option's value completes to: @file, @dir, its choices (a
 * metavar a|b|c), or nothing (free text). */
static void values(FILE *out, const char *cmd, const struct cli_option *o)
{
        for (; o->kind != CLI_END; o++) {
                if (o->kind == CLI_GROUP)
                        values(out, cmd, o->group);
                if (o->kind == CLI_SECTION || o->kind == CLI_GROUP || o->kind == CLI_FLAG ||
                    o->kind == CLI_CALL_FLAG)
                        continue;
                fprintf(out, "_whiskers_values['%s --%s']='", cmd, o->name);
                if (o->complete != CLI_TEXT)
                        fputs(o->complete == CLI_FILE ? "@file" : "@dir", out);
                else if (o->metavar && strchr(o->metavar, '|'))
                        for (const char *m = o->metavar; *m; m++)
                                fputc(*m == '|' ? ' ' : *m, out);
                fputs("'\n", out);
        }
}

void cli_complete_data(FILE *out, const char *binary, const struct cli_command *const *cmds,
                       size_t n, const char *const *other_names, size_t n_other)
{
        fprintf(out, "_whiskers_cmds[%s]='", binary);
        for (size_t i = 0; i < n; i++)
                fprintf(out, "%s%s", i ? " " : "", cmds[i]->name);
        for (size_t i = 0; i < n_other; i++)
                fprintf(out, " %s", other_names[i]);
        fputs("'\n", out);
        for (size_t i = 0; i < n; i++) {
                const char *sep = "";
                fprintf(out, "_whiskers_opts[%s]='", cmds[i]->name);
                names(out, cmds[i]->options, &sep);
                fputs("'\n", out);
                values(out, cmds[i]->name, cmds[i]->options);
                if (cmds[i]->subcmds)
                        fprintf(out, "_whiskers_subs[%s]='%s'\n", cmds[i]->name, cmds[i]->subcmds);
        }
}

void cli_complete_tail(FILE *out, const char *const *binaries, size_t n)
{
        fputs("_whiskers() {\n"
              "\tlocal bin=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]} prev= i\n"
              "\tlocal cmd=${COMP_WORDS[1]}\n"
              "\tCOMPREPLY=()\n"
              "\tif ((COMP_CWORD == 1)); then\n"
              "\t\tCOMPREPLY=($(compgen -W \"${_whiskers_cmds[$bin]-} --help --version\" -- "
              "\"$cur\"))\n"
              "\t\treturn 0\n"
              "\tfi\n"
              "\tprev=${COMP_WORDS[COMP_CWORD - 1]}\n"
              "\t# --opt=VALUE: bash splits the word at '='.\n"
              "\tif [[ $cur == = ]]; then\n"
              "\t\tcur=\n"
              "\telif [[ $prev == = ]]; then\n"
              "\t\tprev=${COMP_WORDS[COMP_CWORD - 2]}\n"
              "\tfi\n"
              "\tfor ((i = 2; i < COMP_CWORD; i++)); do\n"
              "\t\tif [[ ${COMP_WORDS[i]} == -- ]]; then\n"
              "\t\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
              "\t\t\treturn 0\n"
              "\t\tfi\n"
              "\tdone\n"
              "\tlocal key=\"$cmd $prev\"\n"
              "\tif [[ $prev == -* && -n ${_whiskers_values[$key]+set} ]]; then\n"
              "\t\tcase ${_whiskers_values[$key]} in\n"
              "\t\t@file) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
              "\t\t@dir) COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
              "\t\t*) COMPREPLY=($(compgen -W \"${_whiskers_values[$key]}\" -- \"$cur\")) ;;\n"
              "\t\tesac\n"
              "\telif [[ $cur == -* ]]; then\n"
              "\t\tCOMPREPLY=($(compgen -W \"${_whiskers_opts[$cmd]-} --help\" -- \"$cur\"))\n"
              "\telif ((COMP_CWORD == 2)) && [[ -n ${_whiskers_subs[$cmd]-} ]]; then\n"
              "\t\tCOMPREPLY=($(compgen -W \"${_whiskers_subs[$cmd]-}\" -- \"$cur\"))\n"
              "\telse\n"
              "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
              "\tfi\n"
              "\treturn 0\n"
              "}\n"
              "complete -o filenames -F _whiskers",
              out);
        for (size_t i = 0; i < n; i++)
                fprintf(out, " %s", binaries[i]);
        fputc('\n', out);
}
