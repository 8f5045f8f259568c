/* OpenKAT's NormalizerResults from the valid items, and canonical digests.
 *
 * As OpenKAT's own runner does: the objects become one observation of the
 * input object (none when there are no objects); declarations,
 * affirmations and scan profiles are listed as they came. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

json_t *results_build(struct checker *c, const char *input_pk)
{
        json_t *observations = json_array();
        if (observations && input_pk && json_array_size(c->objects))
                json_array_append_new(observations,
                                      json_pack("{s:s, s:s, s:O}", "type", "observation",
                                                "input_ooi", input_pk, "results", c->objects));
        return json_pack("{s:o, s:O, s:O, s:O}", "observations", observations, "declarations",
                         c->declarations, "affirmations", c->affirmations, "scan_profiles",
                         c->scan_profiles);
}

char *canonical_dump(const json_t *doc)
{
        return json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

void sha256_prefixed(const void *data, size_t len, char out[WH_DIGEST_BUF])
{
        memcpy(out, "sha256:", 7);
        wh_sha256_hex(data, len, out + 7);
}

json_t *canonical_digest(const json_t *doc)
{
        char *text = canonical_dump(doc);
        if (!text)
                return NULL;
        char d[WH_DIGEST_BUF];
        sha256_prefixed(text, strlen(text), d);
        free(text);
        return json_string(d);
}
