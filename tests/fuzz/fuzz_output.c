/* The contract's output checker (src/contract/check.c, refs.c, ndjson.c,
 * normalizer_results.c): a normaliser's stdout, NDJSON items checked against the
 * schema set in tests/fuzz/output/ (natural keys, references, "format":
 * "regex" on output data, the Python runtime's announcement line). The
 * input is fed in pieces, as the pipe delivers it: the first byte sets the
 * piece size, so line cutting across reads is exercised too. */
#include "fuzz.h"

#include "contract/internal.h"

static struct wh_manifest manifest;
static struct type_table types;
static struct wh_normaliser_limits limits;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc, (void)argv;
        const char *dir = WH_FUZZ_DIR "/output";
        struct wh_err err = {0};
        if (wh_manifest_load(dir, &manifest, &err) < 0 ||
            types_load(&types, dir, NULL, manifest.produces, manifest.openkat, &err) < 0) {
                fprintf(stderr, "fuzz_output: %s\n", err.msg);
                abort();
        }
        limits_effective(&manifest.limits, NULL, &limits);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        size_t piece = data[0] ? data[0] : size;
        data++, size--;
        struct wh_contract_errors errors, warnings;
        cerrs_init(&errors, 10);
        cerrs_init(&warnings, 10);
        struct checker c = {.types = &types,
                            .manifest = &manifest,
                            .limits = &limits,
                            .errors = &errors,
                            .warnings = &warnings,
                            .python = true,
                            .error_budget = CHECK_BUDGET_PER_LISTED_ERROR * 10};
        checker_init(&c);
        struct ndjson lines;
        ndjson_init(&lines, limits.max_item_bytes, checker_line, checker_too_long, &c);
        for (size_t off = 0; off < size && !c.stop; off += piece)
                ndjson_feed(&lines, (const char *)data + off,
                            size - off < piece ? size - off : piece);
        ndjson_finish(&lines);
        checker_finish(&c, "Network|internet");
        json_t *results = results_build(&c, "Network|internet");
        fuzz_assert(results || c.oom, "no results and no memory problem");
        fuzz_assert(c.items >= json_array_size(c.objects), "%zu objects kept from %llu items",
                    json_array_size(c.objects), (unsigned long long)c.items);
        json_decref(results);
        checker_clear(&c);
        cerrs_clear(&errors);
        cerrs_clear(&warnings);
        return 0;
}
