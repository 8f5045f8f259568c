/* cli_parse: argv and the environment into a command's args struct, as its
 * option table says (options.h). */
#include "cli/opt/options.h"
#include "cli/exit_codes.h"
#include "base/size.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "whiskers %s: ", cmd);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'whiskers %s --help'.\n", cmd);
        va_end(ap);
        return WH_EXIT_USAGE;
}

int cli_parse_number(const char *cmd, const char *opt, const char *text, uint64_t *out, bool size)
{
        struct wh_err err;
        if ((size ? wh_parse_size(text, out, &err) : wh_parse_u64(text, out, &err)) < 0)
                return cli_usage_error(cmd, "%s: %s", opt, err.msg);
        return 0;
}

static bool takes_value(const struct cli_option *o)
{
        return o->kind != CLI_FLAG && o->kind != CLI_CALL_FLAG;
}

/* The option named by name[0..len) (long) or short_name, searching groups;
 * *base becomes the struct its offset is in. */
static const struct cli_option *find(const struct cli_option *o, const char *name, size_t len,
                                     char short_name, char *args, char **base)
{
        for (; o->kind != CLI_END; o++) {
                if (o->kind == CLI_GROUP) {
                        const struct cli_option *g =
                            find(o->group, name, len, short_name, args + o->offset, base);
                        if (g)
                                return g;
                } else if (o->kind != CLI_SECTION &&
                           (name ? strlen(o->name) == len && memcmp(o->name, name, len) == 0
                                 : short_name && o->short_name == short_name)) {
                        *base = args;
                        return o;
                }
        }
        return NULL;
}

static int list_add(const char *cmd, const struct cli_option *o, struct cli_list *l, const char *v)
{
        if (o->max && l->n == o->max)
                return cli_usage_error(cmd, "at most %llu --%s", (unsigned long long)o->max,
                                       o->name);
        const char **grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
        if (!grown)
                return cli_usage_error(cmd, "out of memory");
        l->v = grown;
        l->v[l->n++] = v;
        return 0;
}

static int set_number(const char *cmd, const struct cli_option *o, void *field, const char *v)
{
        char opt[80];
        snprintf(opt, sizeof(opt), "--%s", o->name);
        if (o->kind == CLI_INT) {
                char *end;
                errno = 0;
                long x = strtol(v, &end, 10);
                if (!*v || *end || errno || x < -(long)o->max || x > (long)o->max)
                        return cli_usage_error(cmd, "%s wants a number from -%llu to %llu", opt,
                                               (unsigned long long)o->max,
                                               (unsigned long long)o->max);
                *(int *)field = (int)x;
                return 0;
        }
        uint64_t n;
        struct wh_err err;
        if (o->kind == CLI_U32) {
                if (wh_parse_u64(v, &n, &err) < 0 || n > o->max)
                        return cli_usage_error(cmd, "%s wants a number from 0 to %llu, not '%s'",
                                               opt, (unsigned long long)o->max, v);
                *(uint32_t *)field = (uint32_t)n;
                return 0;
        }
        if (cli_parse_number(cmd, opt, v, &n, o->kind == CLI_SIZE) != 0)
                return WH_EXIT_USAGE;
        if (o->max && n > o->max)
                return cli_usage_error(cmd, "%s: at most %llu", opt, (unsigned long long)o->max);
        *(uint64_t *)field = n;
        return 0;
}

static int set(const char *cmd, const struct cli_option *o, char *base, const char *v)
{
        void *field = base + o->offset;
        switch (o->kind) {
        case CLI_FLAG:
                *(bool *)field = true;
                return 0;
        case CLI_STR:
                *(const char **)field = v;
                return 0;
        case CLI_LIST:
                return list_add(cmd, o, field, v);
        case CLI_U32:
        case CLI_INT:
        case CLI_U64:
        case CLI_SIZE:
                return set_number(cmd, o, field, v);
        case CLI_CALL:
        case CLI_CALL_FLAG:
                return o->call(base, v, cmd);
        case CLI_END:
        case CLI_SECTION:
        case CLI_GROUP:
                break;
        }
        return cli_usage_error(cmd, "--%s: not an option", o->name);
}

/* The defaults from the environment, before the command line overrides them. */
static int apply_env(const char *cmd, const struct cli_option *o, char *base)
{
        for (; o->kind != CLI_END; o++) {
                const char *v = o->env ? getenv(o->env) : NULL;
                int rc = 0;
                if (o->kind == CLI_GROUP)
                        rc = apply_env(cmd, o->group, base + o->offset);
                else if (v && *v)
                        rc = set(cmd, o, base, v);
                if (rc != 0)
                        return rc;
        }
        return 0;
}

/* Every required option is given (on the command line or by its .env). */
static int check_required(const char *cmd, const struct cli_option *o, char *base)
{
        for (; o->kind != CLI_END; o++) {
                int rc = o->kind == CLI_GROUP ? check_required(cmd, o->group, base + o->offset) : 0;
                if (rc != 0)
                        return rc;
                if (o->required && !*(const char **)(base + o->offset))
                        return cli_usage_error(cmd, "--%s %s is required", o->name, o->metavar);
        }
        return 0;
}

/* One option word (and maybe the next word, its value) at argv[*i]. */
static int option(const struct cli_command *cmd, char *args, int argc, char **argv, int *i)
{
        const char *a = argv[*i], *value = NULL;
        const struct cli_option *o;
        char *base = NULL;
        size_t len = strlen(a);
        if (a[1] == '-') {
                const char *eq = strchr(a + 2, '=');
                len = eq ? (size_t)(eq - a) : len;
                value = eq ? eq + 1 : NULL;
                o = find(cmd->options, a + 2, len - 2, 0, args, &base);
        } else {
                len = 2;
                value = a[2] ? a + 2 : NULL;
                o = find(cmd->options, NULL, 0, a[1], args, &base);
        }
        /* Only the option's name: a value may be a secret. */
        if (!o)
                return cli_usage_error(cmd->name, "unknown option '%.*s'", (int)len, a);
        if (!takes_value(o) && value)
                return cli_usage_error(cmd->name, "%.*s takes no value", (int)len, a);
        if (takes_value(o) && !value) {
                if (*i + 1 == argc)
                        return cli_usage_error(cmd->name, "%s needs a value", a);
                value = argv[++*i];
        }
        return set(cmd->name, o, base, value);
}

int cli_parse(const struct cli_command *cmd, void *args, int argc, char **argv,
              struct cli_parsed *out)
{
        *out = (struct cli_parsed){.cmd = cmd, .args = args};
        out->argv = calloc((size_t)argc + 1, sizeof(*out->argv));
        if (!out->argv)
                return cli_usage_error(cmd->name, "out of memory");
        int rc = apply_env(cmd->name, cmd->options, args);
        bool only_args = false;
        for (int i = 1; rc == 0 && i < argc; i++) {
                const char *a = argv[i];
                if (only_args || a[0] != '-' || a[1] == '\0') {
                        if (out->argc == cmd->max_args)
                                return cli_usage_error(cmd->name, "unexpected argument '%s'", a);
                        out->argv[out->argc++] = argv[i];
                        only_args = cmd->options_first;
                } else if (strcmp(a, "--") == 0) {
                        only_args = true;
                } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        cli_help(cmd, stdout);
                        return WH_EXIT_OK;
                } else {
                        rc = option(cmd, args, argc, argv, &i);
                }
        }
        if (rc == 0 && out->argc < cmd->min_args)
                rc = cli_usage_error(cmd->name, "give %s", cmd->args);
        if (rc == 0)
                rc = check_required(cmd->name, cmd->options, args);
        return rc == 0 ? CLI_PARSED : rc;
}

static void free_lists(const struct cli_option *o, char *base)
{
        for (; o->kind != CLI_END; o++) {
                if (o->kind == CLI_GROUP)
                        free_lists(o->group, base + o->offset);
                if (o->kind != CLI_LIST)
                        continue;
                struct cli_list *l = (struct cli_list *)(base + o->offset);
                free(l->v);
                *l = (struct cli_list){0};
        }
}

void cli_parsed_free(struct cli_parsed *p)
{
        if (p->cmd)
                free_lists(p->cmd->options, p->args);
        free(p->argv);
        *p = (struct cli_parsed){0};
}

int cli_run(const struct cli_command *cmd, int argc, char **argv)
{
        if (cmd->dispatch)
                return cmd->dispatch(argc, argv);
        void *args = cmd->args_size ? calloc(1, cmd->args_size) : NULL;
        if (cmd->args_size && !args)
                return cli_usage_error(cmd->name, "out of memory");
        if (cmd->defaults)
                memcpy(args, cmd->defaults, cmd->args_size);
        struct cli_parsed p = {0};
        int rc = cmd->init ? cmd->init(args) : 0;
        if (rc == 0)
                rc = cli_parse(cmd, args, argc, argv, &p);
        if (rc == CLI_PARSED)
                rc = cmd->run(args, p.argc, p.argv);
        if (cmd->done)
                cmd->done(args);
        cli_parsed_free(&p);
        free(args);
        return rc;
}
