/* normalizer.json parsing, by both readers of it: the contract's manifest
 * (wh_manifest_parse: what a run obeys) and the package module's
 * (wh_package_meta_parse: what pack and the variant choice read; configs
 * too). Input: the document, decoded as whiskers decodes files. */
#include "fuzz.h"

#include <whiskers/contract.h>
#include <whiskers/package.h>
#include <whiskers/schema.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *doc = NULL;
        struct wh_err err = {0};
        if (wh_schema_json_decode((const char *)data, size, &doc, &err) < 0)
                return 0;
        struct wh_manifest m = {0};
        if (wh_manifest_parse(doc, "normalizer.json", &m, &err) == 0) {
                fuzz_assert(m.id && m.id[0], "a manifest without an id");
                wh_manifest_produces(&m, "Hostname");
                wh_manifest_clear(&m);
        } else {
                fuzz_assert(err.msg[0], "refused without saying why");
        }
        struct wh_package_meta n = {0};
        wh_err_clear(&err);
        if (wh_package_meta_parse(doc, "normalizer.json", &n, &err) == 0)
                wh_package_meta_clear(&n);
        else
                fuzz_assert(err.msg[0], "refused without saying why");
        json_decref(doc);
        return 0;
}
