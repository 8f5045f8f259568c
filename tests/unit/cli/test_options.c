/* Unit tests for the CLI's option parser (src/cli/opt): the syntax it
 * accepts, its errors, environment defaults, and that --help and the
 * completion data list every option of a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli/exit_codes.h"
#include "cli/opt/options.h"

struct args {
        const char *name, *store;
        bool flag;
        uint32_t count;
        uint64_t size;
        struct cli_list items;
        int called;
};

static int call(void *base, const char *value, const char *cmd)
{
        (void)cmd;
        struct args *a = base;
        a->called += value && strcmp(value, "bad") == 0 ? 100 : 1;
        return value && strcmp(value, "bad") == 0 ? WH_EXIT_USAGE : 0;
}

#define AT(field) offsetof(struct args, field)
static const struct cli_option group[] = {
    {CLI_STR, "store", .metavar = "LAYOUT", .offset = AT(store), .env = "WH_TEST_STORE",
     .complete = CLI_DIR, .help = "a store"},
    {0},
};
static const struct cli_option options[] = {
    {CLI_STR, "name", 'n', .metavar = "NAME", .offset = AT(name), .help = "a name"},
    {CLI_FLAG, "flag", .offset = AT(flag), .help = "a flag"},
    {CLI_SECTION, .help = "Numbers:\n"},
    {CLI_U32, "count", .metavar = "N", .offset = AT(count), .max = 10},
    {CLI_SIZE, "size", .metavar = "SIZE", .offset = AT(size), .help = "numbers"},
    {CLI_LIST, "item", .metavar = "a|b", .offset = AT(items), .max = 3, .help = "an item"},
    {CLI_CALL, "call", .metavar = "V", .call = call, .help = "a call"},
    {CLI_GROUP, .group = group},
    {0},
};
static const struct cli_command cmd = {
    .name = "t", .head = "Usage: whiskers t\n", .options = options, .max_args = 2};

/* Parse the words after "t"; the exit code, or CLI_PARSED. */
static int parse(const struct cli_command *c, struct args *a, struct cli_parsed *p, ...)
{
        char *argv[32] = {"t"};
        int argc = 1;
        va_list ap;
        va_start(ap, p);
        for (char *w; (w = va_arg(ap, char *));)
                argv[argc++] = w;
        va_end(ap);
        *a = (struct args){0};
        return cli_parse(c, a, argc, argv, p);
}

static void test_syntax(void **state)
{
        (void)state;
        struct args a;
        cleanup_cli struct cli_parsed p = {0};
        assert_int_equal(
            parse(&cmd, &a, &p, "--name", "x", "pos", "--flag", "--count=3", "--size=4K", NULL),
            CLI_PARSED);
        assert_string_equal(a.name, "x");
        assert_true(a.flag);
        assert_int_equal(a.count, 3);
        assert_int_equal(a.size, 4096);
        assert_int_equal(p.argc, 1);
        assert_string_equal(p.argv[0], "pos");
        cli_parsed_free(&p);
        /* Short options, joined or apart; --opt= is the empty value. */
        assert_int_equal(parse(&cmd, &a, &p, "-ny", NULL), CLI_PARSED);
        assert_string_equal(a.name, "y");
        cli_parsed_free(&p);
        assert_int_equal(parse(&cmd, &a, &p, "-n", "z", "--store=", NULL), CLI_PARSED);
        assert_string_equal(a.name, "z");
        assert_string_equal(a.store, "");
        cli_parsed_free(&p);
        /* Repeated: the last value wins; a list keeps all, in order. */
        assert_int_equal(parse(&cmd, &a, &p, "--name", "1", "--name=2", "--item", "a", "--item=b",
                               "--call", "v", "--call", "w", NULL),
                         CLI_PARSED);
        assert_string_equal(a.name, "2");
        assert_int_equal(a.items.n, 2);
        assert_string_equal(a.items.v[0], "a");
        assert_string_equal(a.items.v[1], "b");
        assert_int_equal(a.called, 2);
        cli_parsed_free(&p);
        assert_null(a.items.v); /* freed with the parse */
        /* "--" ends the options; "-" alone is an argument. */
        assert_int_equal(parse(&cmd, &a, &p, "--", "--flag", "-", NULL), CLI_PARSED);
        assert_false(a.flag);
        assert_int_equal(p.argc, 2);
        assert_string_equal(p.argv[0], "--flag");
        assert_string_equal(p.argv[1], "-");
}

static void test_errors(void **state)
{
        (void)state;
        struct args a;
        struct cli_parsed p = {0};
        /* Unknown, missing value, value to a flag, out of range, not a
         * number, refused by its function, unknown short, a prefix (never
         * matched), one argument too many. */
        const char *bad[][3] = {
            {"--nope"},       {"--name"},         {"--flag=1"},      {"--count", "11"},
            {"--count", "x"}, {"--size", "12XB"}, {"--call", "bad"}, {"-x"},
            {"--nam", "x"},   {"a", "b", "c"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(parse(&cmd, &a, &p, bad[i][0], bad[i][1], bad[i][2], NULL),
                                 WH_EXIT_USAGE);
                cli_parsed_free(&p);
        }
        /* A list holds at most .max values. */
        assert_int_equal(parse(&cmd, &a, &p, "--item=a", "--item=a", "--item=a", "--item=a", NULL),
                         WH_EXIT_USAGE);
        cli_parsed_free(&p);
        /* --help prints and asks the caller to stop with success. */
        assert_int_equal(parse(&cmd, &a, &p, "--name", "x", "-h", NULL), WH_EXIT_OK);
        cli_parsed_free(&p);
}

static void test_required(void **state)
{
        (void)state;
        static const struct cli_option need[] = {
            {CLI_STR, "name", .metavar = "NAME", .offset = AT(name), .required = true},
            {CLI_GROUP, .group = group},
            {0},
        };
        const struct cli_command c = {
            .name = "t", .options = need, .min_args = 1, .max_args = 1, .args = "X"};
        struct args a;
        cleanup_cli struct cli_parsed p = {0};
        assert_int_equal(parse(&c, &a, &p, "--name", "n", NULL), WH_EXIT_USAGE); /* no X */
        cli_parsed_free(&p);
        assert_int_equal(parse(&c, &a, &p, "x", NULL), WH_EXIT_USAGE); /* no --name */
        cli_parsed_free(&p);
        assert_int_equal(parse(&c, &a, &p, "x", "--name=", NULL), CLI_PARSED); /* given, empty */
        assert_string_equal(a.name, "");
}

static void test_env(void **state)
{
        (void)state;
        struct args a;
        cleanup_cli struct cli_parsed p = {0};
        setenv("WH_TEST_STORE", "/from/env", 1);
        assert_int_equal(parse(&cmd, &a, &p, NULL), CLI_PARSED);
        assert_string_equal(a.store, "/from/env");
        cli_parsed_free(&p);
        assert_int_equal(parse(&cmd, &a, &p, "--store", "/flag", NULL), CLI_PARSED);
        assert_string_equal(a.store, "/flag");
        cli_parsed_free(&p);
        setenv("WH_TEST_STORE", "", 1); /* empty: no default */
        assert_int_equal(parse(&cmd, &a, &p, NULL), CLI_PARSED);
        assert_null(a.store);
        unsetenv("WH_TEST_STORE");
}

static void test_options_first(void **state)
{
        (void)state;
        const struct cli_command first = {.name = "t",
                                          .head = "",
                                          .options = options,
                                          .max_args = CLI_ANY_ARGS,
                                          .options_first = true};
        struct args a;
        cleanup_cli struct cli_parsed p = {0};
        assert_int_equal(parse(&first, &a, &p, "--flag", "prog", "--name", "x", NULL), CLI_PARSED);
        assert_true(a.flag);
        assert_null(a.name);
        assert_int_equal(p.argc, 3);
        assert_string_equal(p.argv[1], "--name");
}

static char *capture(void (*fn)(FILE *))
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        fn(f);
        fclose(f);
        return text;
}

static void help(FILE *f)
{
        cli_help(&cmd, f);
}

static void data(FILE *f)
{
        const struct cli_command *cmds[] = {&cmd};
        const char *other[] = {"other"};
        cli_complete_data(f, "bin", cmds, 1, other, 1);
}

static void test_help_and_completion(void **state)
{
        (void)state;
        char *h = capture(help), *d = capture(data);
        const char *want_help[] = {
            "Usage: whiskers t", "-n, --name NAME", "--flag",   "Numbers:",       "--count N",
            "--size SIZE",       "--item a|b",      "--call V", "--store LAYOUT", "-h, --help"};
        for (size_t i = 0; i < sizeof(want_help) / sizeof(want_help[0]); i++)
                assert_non_null(strstr(h, want_help[i]));
        /* --count has no text of its own: it shares --size's line. */
        assert_non_null(strstr(h, "\n  --count N, --size SIZE  numbers\n"));
        const char *want_data[] = {
            "_whiskers_cmds[bin]='t other'",
            "_whiskers_opts[t]='--name --flag --count --size --item --call --store'",
            "_whiskers_values['t --store']='@dir'", "_whiskers_values['t --item']='a b'",
            "_whiskers_values['t --name']=''"};
        for (size_t i = 0; i < sizeof(want_data) / sizeof(want_data[0]); i++)
                assert_non_null(strstr(d, want_data[i]));
        assert_null(strstr(d, "'t --flag'")); /* a flag has no value to complete */
        free(h);
        free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_syntax),        cmocka_unit_test(test_errors),
            cmocka_unit_test(test_required),      cmocka_unit_test(test_env),
            cmocka_unit_test(test_options_first), cmocka_unit_test(test_help_and_completion),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
