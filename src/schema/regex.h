/* ECMA-262 regular expressions for "pattern", "patternProperties" and the
 * "regex" format: a parser for the ECMA-262 syntax (unicode mode), compiled
 * to a small backtracking program that matches code points, not bytes.
 *
 * Supported: alternation, groups (capturing, named, non-capturing),
 * lookahead and lookbehind (also variable width), backreferences (\1,
 * \k<name>), greedy and lazy quantifiers (* + ? {n} {n,} {n,m}), classes with
 * ranges and escapes, \d \w \s (ASCII digits/word characters, Unicode white
 * space, as ECMA-262 defines them) and their negations, \b \B, ^ $ (no
 * multiline), ., \p{...}/\P{...} for General_Category values and Any, ASCII,
 * Assigned, and the escapes \t \n \v \f \r \0 \cX \xHH \uHHHH \u{H...}.
 * No flags (JSON Schema has none). Matching is "search": the pattern may
 * match anywhere unless anchored. Lenient where ECMA-262 Annex B is: a "{"
 * that starts no quantifier and a lone "]" or "}" are literals, and ASCII
 * punctuation may be escaped anywhere.
 *
 * Backtracking is bounded by a step budget per search, so a hostile pattern
 * or string cannot hang the validator: rx_search then returns -1. */
#ifndef WH_SCHEMA_REGEX_H
#define WH_SCHEMA_REGEX_H

#include <stddef.h>

struct arena;
struct rx;

/* Steps (VM instructions) one rx_search may execute before giving up. */
#define RX_STEP_BUDGET 10000000ul

/* Compile pattern[0..len) into the arena. Returns NULL with a message in
 * err (errlen bytes) for a syntax error, or when out of memory. */
struct rx *rx_compile(struct arena *a, const char *pattern, size_t len, char *err, size_t errlen);
/* 1 if the pattern matches somewhere in s[0..len), 0 if not, -1 if the step
 * budget ran out or memory did. */
int rx_search(const struct rx *re, const char *s, size_t len);

#endif
