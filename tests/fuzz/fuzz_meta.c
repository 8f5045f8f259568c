/* Meta parsing (src/contract/meta.c): the meta.json that comes with each
 * raw input, in whiskers' form or OpenKAT's NormalizerMeta. A meta the
 * check accepts must give its facts, and the facts must be consistent. */
#include "fuzz.h"

#include <whiskers/contract.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *doc = NULL;
        struct wh_err err = {0};
        if (wh_meta_check((const char *)data, size, &doc, &err) == 0) {
                struct wh_meta_facts f = {0};
                fuzz_assert(wh_meta_facts(doc, &f) == 0, "no facts from a checked meta");
                fuzz_assert(!f.mime_types || json_is_array(f.mime_types), "mime_types not a list");
                wh_meta_facts_clear(&f);
        } else {
                fuzz_assert(err.msg[0], "refused without saying why");
        }
        json_decref(doc);
        return 0;
}
