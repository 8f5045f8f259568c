/* Schema compile and validate. Input: a schema on the first line, then one
 * instance per line (the form of the NDJSON a normaliser writes). Formats
 * assert, as the contract asks. Each instance goes both ways the validator
 * offers: from text (the NDJSON fast path) and from a jansson tree; the
 * harness checks that they give the same verdict, except where the jansson
 * front end is documented to round (fuzz_json_all_doubles). */
#include "fuzz.h"

#include <whiskers/schema.h>

#define MAX_INSTANCES 8

static void check_instance(const struct wh_schema *schema, const char *text, size_t len)
{
        struct wh_schema_errors errors;
        struct wh_err err = {0};
        wh_schema_errors_init(&errors, 4);
        int fast = wh_schema_validate_text(schema, text, len, &errors, &err);
        json_t *doc = NULL;
        if (!fuzz_json_all_doubles(text, len) &&
            wh_schema_json_decode(text, len, &doc, &err) == 0) {
                int slow = wh_schema_validate(schema, doc, &errors, &err);
                fuzz_assert(fast == slow, "validate_text says %d, validate says %d", fast, slow);
                json_decref(doc);
        }
        wh_schema_errors_reset(&errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t len;
        char *text = fuzz_next_part(&data, &size, "\n", 1, &len);
        if (!text)
                return 0;
        json_t *doc = NULL;
        struct wh_err err = {0};
        struct wh_schema_registry *reg = NULL;
        struct wh_schema *schema = NULL;
        if (wh_schema_json_decode(text, len, &doc, &err) == 0 &&
            wh_schema_registry_new(WH_SCHEMA_ASSERT_FORMAT, &reg, &err) == 0 &&
            wh_schema_compile(reg, doc, "https://fuzz.example/schema.json", &schema, &err) == 0) {
                for (size_t i = 0; i < wh_schema_warning_count(schema); i++)
                        fuzz_assert(wh_schema_warning(schema, i), "warning %zu is NULL", i);
                char *inst;
                for (int i = 0;
                     i < MAX_INSTANCES && (inst = fuzz_next_part(&data, &size, "\n", 1, &len));
                     i++) {
                        check_instance(schema, inst, len);
                        free(inst);
                }
        }
        wh_schema_free(schema);
        wh_schema_registry_free(reg);
        json_decref(doc);
        free(text);
        return 0;
}
