/* Cutting output into lines with bounded memory, the depth scan, excerpts. */
#include "contract_test.h"

struct seen {
        char lines[16][64];
        uint64_t numbers[16];
        bool complete[16];
        size_t n;
        char too_long_head[WH_EXCERPT_MAX + 1];
        uint64_t too_long_line;
        size_t too_long_count;
};

static void on_line(void *ctx, const char *line, size_t len, uint64_t no, bool complete)
{
        struct seen *s = ctx;
        assert_true(s->n < 16);
        assert_int_equal(strlen(line), len); /* NUL-terminated at len */
        snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s", line);
        s->numbers[s->n] = no;
        s->complete[s->n++] = complete;
}

static void on_too_long(void *ctx, const char *head, size_t len, uint64_t no)
{
        struct seen *s = ctx;
        memcpy(s->too_long_head, head, len);
        s->too_long_head[len] = '\0';
        s->too_long_line = no;
        s->too_long_count++;
}

static void test_lines_across_chunks(void **state)
{
        (void)state;
        struct seen s = {0};
        struct ndjson nd;
        ndjson_init(&nd, 100, on_line, on_too_long, &s);
        const char *text = "{\"a\":1}\n\n{\"b\"";
        for (const char *p = text; *p; p++)
                ndjson_feed(&nd, p, 1); /* byte by byte */
        ndjson_feed(&nd, ":2}\r\nlast", 9);
        ndjson_finish(&nd);
        assert_int_equal(s.n, 4);
        assert_string_equal(s.lines[0], "{\"a\":1}");
        assert_string_equal(s.lines[1], "");
        assert_string_equal(s.lines[2], "{\"b\":2}\r");
        assert_string_equal(s.lines[3], "last");
        assert_int_equal(s.numbers[3], 4);
        assert_true(s.complete[2]);
        assert_false(s.complete[3]);
}

static void test_line_limit(void **state)
{
        (void)state;
        struct seen s = {0};
        struct ndjson nd;
        ndjson_init(&nd, 10, on_line, on_too_long, &s);
        ndjson_feed(&nd, "0123456789\n", 11); /* exactly the limit: kept */
        ndjson_feed(&nd, "abcdef", 6);
        ndjson_feed(&nd, "ghijklmnop", 10); /* over: reported once, skipped */
        ndjson_feed(&nd, "qrstuvwxyz\nok\n", 14);
        assert_true(nd.cap <= 10); /* never grew past the limit */
        ndjson_finish(&nd);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.lines[0], "0123456789");
        assert_string_equal(s.lines[1], "ok");
        assert_int_equal(s.numbers[1], 3);
        assert_int_equal(s.too_long_count, 1);
        assert_int_equal(s.too_long_line, 2);
        assert_string_equal(s.too_long_head, "abcdefghijklmnop");
}

static void test_depth(void **state)
{
        (void)state;
        assert_int_equal(json_depth("1", 1, 10), 0);
        assert_int_equal(json_depth("{\"a\":[1]}", 9, 10), 2);
        const char *strings = "{\"a\":\"[[[{{{\\\"[[\"}";
        assert_int_equal(json_depth(strings, strlen(strings), 10), 1);
        size_t n = 20000;
        char *deep = malloc(n);
        memset(deep, '[', n / 2);
        memset(deep + n / 2, ']', n / 2);
        assert_int_equal(json_depth(deep, n, 64), 65); /* stops at the limit */
        free(deep);
}

static void test_excerpt(void **state)
{
        (void)state;
        char *e = utf8_excerpt("ok \xc3\xa9 \xff\xfe \xed\xa0\x80 \x00!", 15, 100);
        assert_string_equal(e, "ok \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef"
                               "\xbf\xbd \xef\xbf\xbd!");
        free(e);
        e = utf8_excerpt("abcdefgh", 8, 4);
        assert_string_equal(e, "abcd...");
        free(e);
}

static void test_error_list_bounds(void **state)
{
        (void)state;
        struct wh_contract_errors e;
        cerrs_init(&e, 3);
        for (int i = 1; i <= 10; i++)
                cerr_add(&e, "invalid_json", (uint64_t)i, "x", 1, "line %d", i);
        assert_int_equal(e.n, 3);
        assert_int_equal(e.dropped, 7);
        /* How the run ended is kept even when the list is full. */
        assert_non_null(cerr_add(&e, "timeout_wall", 0, NULL, 0, "stopped"));
        assert_non_null(cerr_add(&e, "too_many_items", 11, NULL, 0, "more"));
        assert_int_equal(e.n, 5);
        json_t *j = wh_contract_errors_json(&e);
        assert_int_equal(json_array_size(j), 5);
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, 3), "code")),
                            "timeout_wall");
        assert_null(json_object_get(json_array_get(j, 3), "line"));
        assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "line")), 1);
        json_decref(j);
        cerrs_clear(&e);
        assert_int_equal(e.n, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_lines_across_chunks),
            cmocka_unit_test(test_line_limit),
            cmocka_unit_test(test_depth),
            cmocka_unit_test(test_excerpt),
            cmocka_unit_test(test_error_list_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
