/* whiskers schema check: validate JSON (one document, or NDJSON lines)
 * against a JSON Schema (draft 2020-12, 2019-09 or 07). Thin: parse arguments, compile,
 * validate, print. Exit 0 valid, 1 invalid, 2 bad usage/schema/input. */
#include "base/io.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/opt/options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <whiskers/schema.h>

#define MAX_INSTANCE (256u << 20)

struct opts {
        bool json, ndjson, assert_format;
        size_t max_errors;
        unsigned draft_flag; /* the draft of a schema without $schema */
        const char *schema, *instance;
        const char *maps[64];
        size_t nmaps;
};

static int draft(void *base, const char *v, const char *cmd)
{
        unsigned *flag = &((struct opts *)base)->draft_flag;
        if (strcmp(v, "7") == 0)
                *flag = WH_SCHEMA_DEFAULT_DRAFT7;
        else if (strcmp(v, "2019-09") == 0)
                *flag = WH_SCHEMA_DEFAULT_DRAFT2019_09;
        else if (strcmp(v, "2020-12") == 0)
                *flag = 0;
        else
                return cli_usage_error(cmd, "--draft wants 7, 2019-09 or 2020-12, not '%s'", v);
        return 0;
}

static int map(void *base, const char *v, const char *cmd)
{
        struct opts *o = base;
        /* The prefix is copied into a PATH_MAX buffer: a longer one would be
         * cut, and map other URIs. */
        if (o->nmaps == sizeof(o->maps) / sizeof(o->maps[0]) || !strchr(v, '=') ||
            strchr(v, '=') - v >= PATH_MAX)
                return cli_usage_error(cmd, "--map wants URI-PREFIX=DIR (at most 64, prefixes "
                                            "under 4096 bytes)");
        o->maps[o->nmaps++] = v;
        return 0;
}

static int max_errors(void *base, const char *v, const char *cmd)
{
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || *end || !*v || n == 0 || n > 100000)
                return cli_usage_error(cmd, "--max-errors wants a number from 1 to 100000");
        ((struct opts *)base)->max_errors = n;
        return 0;
}

#define AT(field) offsetof(struct opts, field)
static const struct cli_option options[] = {
    {CLI_CALL, "draft", .metavar = "7|2019-09|2020-12", .call = draft,
     .help = "the draft of a schema document without \"$schema\" (default 2020-12); a "
             "\"$schema\" always wins"},
    {CLI_CALL, "map", .metavar = "URI-PREFIX=DIR", .call = map,
     .help = "serve URIs starting with URI-PREFIX from files under DIR (\"X\" is looked up as "
             "DIR/X, then DIR/X.json); repeatable"},
    {CLI_FLAG, "ndjson", .offset = AT(ndjson),
     .help = "INSTANCE holds one JSON value per line; each line is validated and reported on "
             "its own (empty lines skipped)"},
    {CLI_FLAG, "json", .offset = AT(json),
     .help = "print results as JSON: {\"valid\":false,\"errors\":[{\n\"instance\":\"/a\","
             "\"keyword\":\"/properties/a/type\",\n\"schema\":\"file:///s.json#/properties/a/"
             "type\",\n\"message\":\"...\"}]}\n(with --ndjson, one such object per line, plus "
             "\"line\")"},
    {CLI_FLAG, "assert-format", .offset = AT(assert_format),
     .help = "make \"format\" fail invalid values (date-time, email, ipv4, uri, uuid...; "
             "docs/schema.md lists them); by default \"format\" is an annotation, as draft "
             "2020-12 specifies"},
    {CLI_CALL, "max-errors", .metavar = "N", .call = max_errors,
     .help = "report at most N errors per instance (default 20)"},
    {0},
};

static void print_errors(const char *label, int verdict, const struct wh_schema_errors *e,
                         bool json, long line)
{
        if (!json) {
                printf("%s: %s\n", label, verdict == WH_SCHEMA_VALID ? "valid" : "invalid");
                for (size_t i = 0; i < e->count; i++)
                        printf("  %s: %s (keyword %s)\n",
                               e->items[i].instance[0] ? e->items[i].instance : "(root)",
                               e->items[i].message,
                               e->items[i].keyword[0] ? e->items[i].keyword : "(root)");
                if (e->truncated)
                        printf("  (stopped after %zu errors)\n", e->count);
                return;
        }
        json_t *out = json_object(), *arr = json_array();
        if (line > 0)
                json_object_set_new(out, "line", json_integer(line));
        json_object_set_new(out, "valid", json_boolean(verdict == WH_SCHEMA_VALID));
        for (size_t i = 0; i < e->count; i++)
                json_array_append_new(
                    arr, json_pack("{s:s, s:s, s:s, s:s}", "instance", e->items[i].instance,
                                   "keyword", e->items[i].keyword, "schema", e->items[i].schema,
                                   "message", e->items[i].message));
        json_object_set_new(out, "errors", arr);
        if (e->truncated)
                json_object_set_new(out, "truncated", json_true());
        char *text = json_dumps(out, JSON_COMPACT);
        if (text)
                printf("%s\n", text);
        free(text);
        json_decref(out);
}

static void print_bad_line(long line, const char *msg, bool json)
{
        if (!json) {
                printf("line %ld: %s\n", line, msg);
                return;
        }
        json_t *out = json_pack("{s:I, s:s}", "line", (json_int_t)line, "error", msg);
        char *text = json_dumps(out, JSON_COMPACT);
        if (text)
                printf("%s\n", text);
        free(text);
        json_decref(out);
}

/* Decode and validate one JSON text (no jansson tree: the schema
 * module's own decoder); returns its exit code. */
static int check_one(const struct wh_schema *schema, const char *buf, size_t len,
                     const struct opts *o, const char *label, long line)
{
        struct wh_err err;
        struct wh_schema_errors errors;
        wh_schema_errors_init(&errors, o->max_errors);
        int verdict = wh_schema_validate_text(schema, buf, len, &errors, &err);
        if (verdict < 0) {
                wh_schema_errors_reset(&errors);
                bool not_json = err.errnum == 0;
                if (not_json && line > 0)
                        print_bad_line(line, err.msg, o->json);
                else if (not_json)
                        fprintf(stderr, "whiskers schema: %s: %s\n", label, err.msg);
                else
                        fprintf(stderr, "whiskers schema: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        print_errors(label, verdict, &errors, o->json, line);
        wh_schema_errors_reset(&errors);
        return verdict == WH_SCHEMA_VALID ? WH_EXIT_OK : WH_EXIT_FAILED;
}

static int check_ndjson(const struct wh_schema *schema, const struct opts *o)
{
        bool is_stdin = strcmp(o->instance, "-") == 0;
        FILE *in = is_stdin ? stdin : fopen(o->instance, "re");
        if (!in) {
                fprintf(stderr, "whiskers schema: cannot open %s: %s\n", o->instance,
                        strerror(errno));
                return WH_EXIT_USAGE;
        }
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n;
        long line = 0;
        int worst = WH_EXIT_OK;
        while ((n = getline(&buf, &cap, in)) >= 0) {
                line++;
                while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                        n--;
                if (n == 0)
                        continue;
                char label[32];
                snprintf(label, sizeof(label), "line %ld", line);
                int r = check_one(schema, buf, (size_t)n, o, label, line);
                if (r == WH_EXIT_USAGE || (r == WH_EXIT_FAILED && worst == WH_EXIT_OK))
                        worst = r;
        }
        if (ferror(in)) {
                fprintf(stderr, "whiskers schema: reading %s failed\n", o->instance);
                worst = WH_EXIT_USAGE;
        }
        free(buf);
        if (!is_stdin)
                fclose(in);
        return worst;
}

static int check_document(const struct wh_schema *schema, const struct opts *o)
{
        bool is_stdin = strcmp(o->instance, "-") == 0;
        char *buf;
        size_t len;
        struct wh_err err;
        if (wh_read_file(is_stdin ? "/dev/stdin" : o->instance, MAX_INSTANCE, &buf, &len, &err) <
            0) {
                fprintf(stderr, "whiskers schema: %s\n", err.msg);
                return WH_EXIT_USAGE;
        }
        int r = check_one(schema, buf, len, o, is_stdin ? "stdin" : o->instance, 0);
        free(buf);
        return r;
}

static int compile(const struct opts *o, struct wh_schema_registry **reg, struct wh_schema **schema)
{
        struct wh_err err;
        unsigned flags = o->draft_flag | (o->assert_format ? WH_SCHEMA_ASSERT_FORMAT : 0);
        if (wh_schema_registry_new(flags, reg, &err) < 0)
                goto fail;
        for (size_t i = 0; i < o->nmaps; i++) {
                char prefix[PATH_MAX];
                const char *eq = strchr(o->maps[i], '=');
                snprintf(prefix, sizeof(prefix), "%.*s", (int)(eq - o->maps[i]), o->maps[i]);
                if (wh_schema_registry_map(*reg, prefix, eq + 1, &err) < 0)
                        goto fail;
        }
        /* An absolute URI (not a file here) names a schema served by a map. */
        bool uri = strstr(o->schema, "://") || strncmp(o->schema, "urn:", 4) == 0;
        if (uri && access(o->schema, F_OK) != 0) {
                if (wh_schema_compile_uri(*reg, o->schema, schema, &err) < 0)
                        goto fail;
        } else if (wh_schema_compile_file(*reg, o->schema, schema, &err) < 0) {
                goto fail;
        }
        for (size_t i = 0; i < wh_schema_warning_count(*schema); i++)
                fprintf(stderr, "whiskers schema: warning: %s\n", wh_schema_warning(*schema, i));
        return 0;
fail:
        fprintf(stderr, "whiskers schema: cannot use schema %s: %s\n", o->schema, err.msg);
        return -1;
}

static int cmd_schema(void *args, int argc, char **argv)
{
        struct opts *o = args;
        if (argc == 0) {
                cli_help(&cmd_schema_cli, stderr);
                return WH_EXIT_USAGE;
        }
        if (strcmp(argv[0], "check") != 0)
                return cli_usage_error("schema", "unknown subcommand '%s'", argv[0]);
        if (argc != 3)
                return cli_usage_error("schema", "expected SCHEMA and INSTANCE");
        o->schema = argv[1];
        o->instance = argv[2];
        struct wh_schema_registry *reg = NULL;
        struct wh_schema *schema = NULL;
        int r = WH_EXIT_USAGE;
        if (compile(o, &reg, &schema) == 0)
                r = o->ndjson ? check_ndjson(schema, o) : check_document(schema, o);
        wh_schema_free(schema);
        wh_schema_registry_free(reg);
        if (fflush(stdout) != 0) {
                fprintf(stderr, "whiskers schema: writing the results failed: %s\n",
                        strerror(errno));
                return WH_EXIT_USAGE;
        }
        return r;
}

const struct cli_command cmd_schema_cli = {
    .name = "schema",
    .head = "Usage: whiskers schema check [OPTIONS] SCHEMA INSTANCE\n"
            "\n"
            "Validate INSTANCE (a JSON file, or - for stdin) against SCHEMA (a JSON Schema\n"
            "file, or an absolute URI served by a --map). Nothing is fetched from the\n"
            "network: $ref to other documents resolve through --map, and files next to\n"
            "SCHEMA resolve by their file:// URI.\n"
            "\n"
            "Options:\n",
    .tail = "\n"
            "Errors name the instance location (a JSON pointer such as /items/3/port), the\n"
            "keyword's evaluation path (such as /properties/items/items/properties/port/\n"
            "maximum) and a message. Schema warnings (unknown keywords...) go to stderr.\n"
            "\n"
            "Exit status: 0 valid, 1 invalid (some line invalid, with --ndjson), 2 bad\n"
            "usage, an unusable schema, or input that cannot be read or is not JSON.\n",
    .options = options,
    .max_args = 3,
    .subcmds = "check",
    .args_size = sizeof(struct opts),
    .defaults = &(const struct opts){.max_errors = 20},
    .run = cmd_schema,
};
