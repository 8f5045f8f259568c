/* The JSON decoders: the validator's own (jv_decode, the NDJSON fast path)
 * and the jansson front end every document goes through
 * (wh_schema_json_decode). jsonval.h promises they read JSON alike (a
 * repeated key keeps its last value, as jansson does), so the harness checks
 * that both accept the same texts and decode them to equal values. One
 * difference is jansson's and known: it cannot hold "\u0000" in an object
 * key, which the validator's decoder can (regress/json/nul-in-key); and
 * one is documented: a text with an integer beyond 64 bits is read by the
 * jansson front end with every integer as a double (regress/json/
 * big-int-rounds-others), so only acceptance is compared for those. */
#include "fuzz.h"

#include <whiskers/schema.h>

#include "schema/arena.h"
#include "schema/jsonval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *text = (const char *)data;
        struct arena a;
        arena_init(&a);
        struct jv fast;
        struct wh_err err1 = {0}, err2 = {0};
        int r1 = jv_decode(&a, text, size, &fast, &err1);
        json_t *tree = NULL;
        int r2 = wh_schema_json_decode(text, size, &tree, &err2);
        bool nul_key = r2 < 0 && strstr(err2.msg, "NUL byte in object key");
        if ((r1 == 0 || r2 == 0) && !nul_key)
                fuzz_assert(r1 == r2, "jv_decode %d (%s), wh_schema_json_decode %d (%s)", r1,
                            err1.msg, r2, err2.msg);
        if (r1 == 0 && r2 == 0 && !fuzz_json_all_doubles(text, size)) {
                struct jv slow;
                fuzz_assert(jv_from_json(&a, tree, &slow) == 0, "jv_from_json failed");
                fuzz_assert(jv_equal(&fast, &slow), "the two decoders disagree on the value");
                fuzz_assert(jv_hash(&fast) == jv_hash(&slow), "equal values, different hashes");
        }
        json_decref(tree);
        arena_free(&a);
        return 0;
}
