/* The seccomp policy parser (src/sandbox/seccomp_parse.c, _policy.c): a
 * policy file may come with a normaliser. A policy that parses is compiled
 * to BPF (libseccomp; the on-disk cache is pointed at a path that cannot
 * exist, so every input compiles), and its canonical form, which the hash
 * and the cache are keyed by, must parse back to itself: the promise that
 * spelling, order and comments do not change the hash.
 *
 * libseccomp 2.5.4 does not return from adding two rules for one call that
 * both hold an ordered comparison (<, <=, >, >=) on different arguments
 * (open/seccomp/libseccomp-ordered-conditions-hang): such policies are
 * parsed but not compiled here, so the campaign keeps moving. */
#include "fuzz.h"

#include <linux/filter.h>

#include "sandbox/seccomp.h"

#define CANONICAL_HEADER "whiskers-seccomp-policy 1\n"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc, (void)argv;
        setenv("WHISKERS_CACHE_DIR", "/proc/self/no-such-cache", 1);
        return 0;
}

#define MAX_ORDERED 64

/* Two canonical lines ("allow NAME ..." or "errno N NAME ...") for one
 * call, each with an ordered comparison: what hangs libseccomp. */
static bool hangs_libseccomp(const char *canon)
{
        static char names[MAX_ORDERED][64];
        size_t n = 0;
        for (const char *line = canon; *line;) {
                const char *end = strchrnul(line, '\n');
                bool ordered = false;
                for (const char *p = line + 1; p < end; p++)
                        ordered |= (*p == '<' || *p == '>') && p[-1] == ' ';
                char name[64];
                if (ordered && (sscanf(line, "allow %63s", name) == 1 ||
                                sscanf(line, "errno %*d %63s", name) == 1)) {
                        for (size_t i = 0; i < n; i++)
                                if (strcmp(names[i], name) == 0)
                                        return true;
                        if (n == MAX_ORDERED)
                                return true;
                        memcpy(names[n++], name, sizeof(name));
                }
                line = *end ? end + 1 : end;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = '\0';
        struct wh_seccomp_policy *pol = NULL;
        struct wh_err err = {0};
        if (wh_seccomp_policy_parse("fuzz", text, &pol, &err) == 0) {
                const char *canon = wh_seccomp_policy_canonical(pol);
                size_t hl = strlen(CANONICAL_HEADER);
                fuzz_assert(strncmp(canon, CANONICAL_HEADER, hl) == 0, "canonical form: %s", canon);
                struct wh_seccomp_policy *again = NULL;
                fuzz_assert(wh_seccomp_policy_parse("canonical", canon + hl, &again, &err) == 0,
                            "the canonical form does not parse: %s\n%s", err.msg, canon);
                fuzz_assert(strcmp(wh_seccomp_policy_canonical(again), canon) == 0,
                            "the canonical form is not stable:\n%s---\n%s", canon,
                            wh_seccomp_policy_canonical(again));
                wh_seccomp_policy_free(again);
                const struct sock_fprog *prog = NULL;
                if (!hangs_libseccomp(canon) && wh_seccomp_policy_bpf(pol, &prog, &err) == 0)
                        fuzz_assert(prog && prog->len > 0, "an empty filter");
        } else {
                fuzz_assert(err.msg[0], "refused without saying why");
        }
        wh_seccomp_policy_free(pol);
        free(text);
        return 0;
}
