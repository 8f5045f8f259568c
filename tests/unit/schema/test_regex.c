/* The ECMA-262 regex engine and the format checkers: matching semantics
 * (unicode code points, \d \w \s, lookaround, backreferences, lazy and
 * counted repetition), syntax errors, the backtracking budget, and format
 * edge cases the specification calls out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "schema/arena.h"
#include "schema/format.h"
#include "schema/regex.h"

#define NO_COMPILE (-2)

/* 1 match, 0 no match, -1 budget, NO_COMPILE syntax error. */
static int search(const char *pattern, const char *s)
{
        struct arena a;
        char err[256];
        arena_init(&a);
        struct rx *re = rx_compile(&a, pattern, strlen(pattern), err, sizeof(err));
        int r = re ? rx_search(re, s, strlen(s)) : NO_COMPILE;
        arena_free(&a);
        return r;
}

static const struct {
        const char *pattern, *subject;
        int want;
} cases[] = {
    {"^abc$", "abc", 1},
    {"^abc$", "abc\n", 0}, /* $ is end of input only */
    {"abc", "xxabcx", 1},
    {"a.c", "a\nc", 0},
    {"^[a-z]+$", "Hello", 0},
    {"^[^a-z]+$", "HELLO", 1},
    {"^\\d{3}-\\d{4}$", "555-1234", 1},
    {"^\\d{3}-\\d{4}$", "555-123", 0},
    {"^(a|b)*c$", "ababc", 1},
    {"^(a*)*b$", "aaaab", 1},
    {"^(a{0,3})*$", "aaaaaaa", 1},
    {"^(\\w+)\\s\\1$", "hello hello", 1},
    {"^(\\w+)\\s\\1$", "hello world", 0},
    {"^(?<x>a)\\k<x>$", "aa", 1},
    {"\\1(a)", "a", 1}, /* a backreference before its group matches empty */
    {"foo(?=bar)", "foobar", 1},
    {"foo(?=bar)", "foobaz", 0},
    {"foo(?!bar)", "foobaz", 1},
    {"(?<=a+)b", "aab", 1},
    {"(?<=a+)b", "cb", 0},
    {"(?<!a)b", "cb", 1},
    {"(?<=(\\d)\\1)x", "11x", 1},
    {"^a*?b$", "aaab", 1},
    {"^(a|ab)(c|bcd)(d*)$", "abcd", 1},
    {"^a{2,3}$", "aaaa", 0},
    {"^a{2,}$", "aaaa", 1},
    {"x{", "x{", 1}, /* Annex B: a "{" that is no quantifier is literal */
    {"a]", "a]", 1},
    {"^[\\d\\-a-c]+$", "12-abc", 1},
    {"\\bfoo\\b", "a foo b", 1},
    {"\\Bfoo", "afoo", 1},
    {"", "abc", 1},
    {"a|", "x", 1},
    {"[]", "a", 0},
    {"[^]", "\n", 1},
    /* Unicode: code points, not bytes; ASCII-only \d and \w. */
    {"^.$", "\xf0\x9f\x90\xb2", 1},
    {"^\\u{1F432}+$", "\xf0\x9f\x90\xb2\xf0\x9f\x90\xb2", 1},
    {"^\\ud83d\\udc32$", "\xf0\x9f\x90\xb2", 1},
    {"^\\w$", "\xc3\xa9", 0},
    {"^\\W$", "\xc3\xa9", 1},
    {"^\\d$", "\xdf\x80", 0},
    {"^\\s$", "\xe2\x80\x83", 1}, /* EM SPACE */
    {"^\\s$", "\xef\xbb\xbf", 1}, /* BOM */
    {"^\\S$", "\xe2\x80\x93", 1}, /* EN DASH */
    {"^\\p{L}+$", "\xc3\xa9t\xc3\xa9", 1},
    {"^\\p{Letter}+$", "abc1", 0},
    {"^\\p{digit}+$", "\xe0\xa7\xaa\xe0\xa7\xa8", 1},
    {"^\\P{Lu}+$", "abc", 1},
    {"^\\p{gc=Lu}$", "A", 1},
    {"^\\cC$", "\x03", 1},
    {"^\\x41\\u0042$", "AB", 1},
    /* A lookahead is atomic: once it matched, backtracking into the rest of
     * the pattern must not re-enter its quantifiers (issue 9). */
    {"(?=a+)x", "aaa!", 0},
    {"(?=a+)b", "aaa!", 0},
    {"(?=(a+))a*b", "aaa!", 0},
    {"(?=(a+))\\1*b", "aaaaaaaaaa!", 0},
    {"^(?=.*[0-9])[a-z]+$", "12345", 0},
    {"^(?=.*[0-9])[a-z0-9]+$", "abc1", 1},
    {"^(?=.*[A-Z])(?=.*[0-9]).{8,}$", "ABC!", 0},
    {"^(?=.*[A-Z])(?=.*[0-9]).{8,}$", "Abcdefg1", 1},
    {"(?=(a+))a*b\\1", "baaabac", 1}, /* ECMA-262's own example, at "aba" */
    {"(?!a+b)a+", "aab", 0},
    {"(?!a+b)a+", "aac", 1},
    /* Each iteration of a loop starts with its captures unset (ECMA-262
     * RepeatMatcher), so a backreference does not see an earlier one's. */
    {"^(?:(a)|b)*\\1$", "aba", 0},
    {"^(?:(a)|b)*\\1$", "ab", 1},
    {"^(z)((a+)?(b+)?(c))*\\4$", "zaacbbbcac", 1},
    {"^(z)((a+)?(b+)?(c))*\\4$", "zaacbbbcacbbb", 0},
    {"^(?:(a)|\\1b)*$", "abb", 1},
    /* Syntax errors. */
    {"\\a", "", NO_COMPILE},
    {"(?P<n>x)", "", NO_COMPILE},
    {"(?i)abc", "", NO_COMPILE},
    {"(?#c)a", "", NO_COMPILE},
    {"*a", "", NO_COMPILE},
    {"a**", "", NO_COMPILE},
    {"(", "", NO_COMPILE},
    {")", "", NO_COMPILE},
    {"[z-a]", "", NO_COMPILE},
    {"[\\d-z]", "", NO_COMPILE},
    {"\\2(a)", "", NO_COMPILE},
    {"\\k<nope>(?<x>a)", "", NO_COMPILE},
    {"\\p{NoSuchProperty}", "", NO_COMPILE},
    {"a{3,2}", "", NO_COMPILE},
    {"^*", "", NO_COMPILE},
    {"(?=a)*", "", NO_COMPILE},
    {"(ab){1,100000}", "", NO_COMPILE}, /* too large once expanded */
    {"^a{2,100000}$", "aaa", 1},        /* one-character loops are not expanded */
    /* Catastrophic backtracking stops at the budget. */
    {"^(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", -1},
};

static void test_regex_cases(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int got = search(cases[i].pattern, cases[i].subject);
                if (got != cases[i].want)
                        fail_msg("/%s/ on \"%s\": got %d, want %d", cases[i].pattern,
                                 cases[i].subject, got, cases[i].want);
        }
}

/* Compile work is bounded even where nothing is emitted: the empty body
 * below made rx_compile loop 10^10 times (issue 9). */
static void test_regex_compile_budget(void **state)
{
        (void)state;
        static const char *const hostile[] = {"(?:(?:){99999}){99999}", "(?:(?:){99999}){99999}$",
                                              "(?:(?:(?:){999}){999}){999}",
                                              "((?:){99999}){99999}"};
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                struct arena a;
                char err[256] = "";
                arena_init(&a);
                struct rx *re = rx_compile(&a, hostile[i], strlen(hostile[i]), err, sizeof(err));
                arena_free(&a);
                assert_null(re);
                if (!strstr(err, "too complex"))
                        fail_msg("/%s/: want a 'too complex' error, got \"%s\"", hostile[i], err);
        }
        /* Within the budget, the same shapes still compile. */
        assert_int_equal(search("^(?:(?:){99}){99}a$", "a"), 1);
}

static void test_regex_long_input(void **state)
{
        (void)state;
        /* A greedy loop over 1 MB must not recurse or run out of budget. */
        static char big[1 << 20];
        memset(big, 'a', sizeof(big) - 1);
        assert_int_equal(search("^a*$", big), 1);
        assert_int_equal(search("^[a-z]+b$", big), 0);
        big[sizeof(big) - 2] = 'b';
        assert_int_equal(search("^(a|b)*b$", big), 1);
}

static void test_formats(void **state)
{
        (void)state;
        static const struct {
                const char *format, *value;
                bool valid;
        } f[] = {
            {"date-time", "1998-12-31T23:59:60Z", true},
            {"date-time", "1998-12-31T15:59:60.123-08:00", true},
            {"date-time", "1998-12-31T23:58:60Z", false},
            {"date-time", "1990-02-31T15:59:59Z", false},
            {"date", "2020-02-29", true},
            {"date", "2100-02-29", false},
            {"time", "08:30:06z", true},
            {"time", "12:00:00", false},
            {"duration", "P1Y2M3DT4H5M6S", true},
            {"duration", "P1Y2D", false},
            {"duration", "P2W", true},
            {"ipv4", "192.168.0.1", true},
            {"ipv4", "192.168.0.01", false},
            {"ipv6", "::ffff:192.168.0.1", true},
            {"ipv6", "1::d6::42", false},
            {"hostname", "xn--9n2bp8q.xn--9t4b11yi5a", true},
            {"hostname", "xn--X", false},
            {"hostname", "-a.example", false},
            {"idn-hostname", "\xec\x8b\xa4\xeb\xa1\x80.\xed\x85\x8c\xec\x8a\xa4\xed\x8a\xb8", true},
            {"email", "\"joe bloggs\"@example.com", true},
            {"email", "te..st@example.com", false},
            {"email", "joe.bloggs@[IPv6:::1]", true},
            {"uri", "http://[2001:db8::7]/c=GB?objectClass?one", true},
            {"uri", "//foo.bar/", false},
            {"uri-reference", "1:b", false},
            {"iri", "http://\xc6\x92\xc3\xb8\xc3\xb8.com/", true},
            {"uri-template", "http://example.com/{term:1}/{term}", true},
            {"uri-template", "{v:0}", false},
            {"json-pointer", "/a~1b", true},
            {"json-pointer", "/~2", false},
            {"relative-json-pointer", "0#", true},
            {"relative-json-pointer", "01#", false},
            {"regex", "([abc])+\\s+$", true},
            {"regex", "^(abc]", false},
            {"uuid", "2eb8aa08-AA98-11ea-B4Aa-73B441D16380", true},
            {"uuid", "2eb8aa08aa9811eab4aa73b441d16380", false},
        };
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
                int id = sch_format_id(f[i].format);
                assert_true(id > 0);
                if (sch_format_check(id, f[i].value, strlen(f[i].value)) != f[i].valid)
                        fail_msg("format %s on \"%s\": want %s", f[i].format, f[i].value,
                                 f[i].valid ? "valid" : "invalid");
        }
        assert_int_equal(sch_format_id("no-such-format"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_regex_cases),
            cmocka_unit_test(test_regex_compile_budget),
            cmocka_unit_test(test_regex_long_input),
            cmocka_unit_test(test_formats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
