/* Schema validation throughput on an NDJSON file: decode only, decode +
 * validate (what a worker does per item), and validate only (documents
 * decoded beforehand). Best of 5 runs each. Not part of the test suite;
 * build and run it as docs/schema.md ("Performance") shows:
 *
 *   bench SCHEMA NDJSON                                                   */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <whiskers/schema.h>

#include "base/io.h"

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum mode { DECODE, DECODE_VALIDATE, VALIDATE };

/* One pass over the lines; returns seconds, counts invalid items. */
static double pass(const struct wh_schema *schema, char *buf, size_t len, json_t **docs,
                   enum mode mode, size_t *invalid)
{
        struct wh_err err;
        size_t k = 0;
        *invalid = 0;
        double t0 = now();
        for (char *p = buf; p < buf + len;) {
                char *end = memchr(p, '\n', (size_t)(buf + len - p));
                if (!end)
                        end = buf + len;
                json_t *doc = docs[k];
                if (mode != VALIDATE &&
                    wh_schema_json_decode(p, (size_t)(end - p), &doc, &err) < 0) {
                        fprintf(stderr, "bench: %s\n", err.msg);
                        exit(2);
                }
                if (mode != DECODE &&
                    wh_schema_validate(schema, doc, NULL, &err) != WH_SCHEMA_VALID)
                        (*invalid)++;
                if (mode != VALIDATE)
                        json_decref(doc);
                k++;
                p = end + 1;
        }
        return now() - t0;
}

int main(int argc, char **argv)
{
        struct wh_err err;
        struct wh_schema_registry *reg;
        struct wh_schema *schema;
        char *buf;
        size_t len, lines = 0;
        if (argc != 3) {
                fprintf(stderr, "usage: bench SCHEMA NDJSON\n");
                return 2;
        }
        if (wh_schema_registry_new(0, &reg, &err) < 0 ||
            wh_schema_compile_file(reg, argv[1], &schema, &err) < 0 ||
            wh_read_file(argv[2], 1u << 30, &buf, &len, &err) < 0) {
                fprintf(stderr, "bench: %s\n", err.msg);
                return 2;
        }
        for (size_t i = 0; i < len; i++)
                lines += buf[i] == '\n';
        json_t **docs = calloc(lines + 1, sizeof(*docs));
        size_t k = 0;
        for (char *p = buf; docs && p < buf + len; k++) {
                char *end = memchr(p, '\n', (size_t)(buf + len - p));
                if (!end)
                        end = buf + len;
                if (wh_schema_json_decode(p, (size_t)(end - p), &docs[k], &err) < 0) {
                        fprintf(stderr, "bench: %s\n", err.msg);
                        return 2;
                }
                p = end + 1;
        }
        static const char *const names[] = {"decode only", "decode+validate",
                                            "validate only (pre-decoded)"};
        for (int mode = DECODE; mode <= VALIDATE; mode++) {
                double best = 1e9;
                size_t invalid = 0;
                for (int rep = 0; rep < 5; rep++) {
                        double t = pass(schema, buf, len, docs, (enum mode)mode, &invalid);
                        best = t < best ? t : best;
                }
                printf("whiskers %s: %zu items, %.1f MB in %.1f ms = %.1f MB/s, %.0fk items/s",
                       names[mode], k, (double)len / 1e6, best * 1e3, (double)len / 1e6 / best,
                       (double)k / best / 1e3);
                if (mode != DECODE)
                        printf(", %zu invalid", invalid);
                printf("\n");
        }
        for (size_t i = 0; i < k; i++)
                json_decref(docs[i]);
        free(docs);
        free(buf);
        wh_schema_free(schema);
        wh_schema_registry_free(reg);
        return 0;
}
