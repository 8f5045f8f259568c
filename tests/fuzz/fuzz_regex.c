/* The regex engine: compile a pattern (from untrusted schemas and, through
 * "format": "regex", from untrusted data) and search subjects with it.
 * Input: the pattern, then a NUL, then subjects separated by NULs (none:
 * the empty string is searched). Compile
 * work and each search are bounded (regex.h), so a slow input here is a
 * bug, reported by libFuzzer's -timeout. */
#include "fuzz.h"

#include "schema/arena.h"
#include "schema/regex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t plen, slen;
        char *pattern = fuzz_next_part(&data, &size, "", 1, &plen);
        if (!pattern)
                return 0;
        struct arena a;
        arena_init(&a);
        char msg[256] = "";
        const struct rx *re = rx_compile(&a, pattern, plen, msg, sizeof(msg));
        fuzz_assert(re || msg[0], "rx_compile failed without saying why");
        if (re && !data) {
                int r = rx_search(re, "", 0);
                fuzz_assert(r >= -1 && r <= 1, "rx_search returned %d", r);
        }
        char *subject;
        for (int i = 0; re && i < 8 && (subject = fuzz_next_part(&data, &size, "", 1, &slen));
             i++) {
                int r = rx_search(re, subject, slen);
                fuzz_assert(r >= -1 && r <= 1, "rx_search returned %d", r);
                free(subject);
        }
        free(pattern);
        arena_free(&a);
        return 0;
}
