/* Schema validation throughput on an NDJSON file, in process: our decoder
 * alone, decode + validate with wh_schema_validate_text (what an NDJSON
 * caller does per line), and the jansson path (wh_schema_json_decode +
 * wh_schema_validate). Best and median of N runs each (default 5), the
 * modes interleaved. Not part of the
 * test suite; bench/validate builds and runs it (docs/schema.md,
 * "Performance"):
 *
 *   bench SCHEMA NDJSON [RUNS]
 *
 * Output: one line per mode, "mode: ... best_ms=X median_ms=Y MB=Z
 * invalid=N", for scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <whiskers/schema.h>

#include "base/io.h"
#include "schema/jsonval.h"

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum mode { DECODE, VALIDATE_TEXT, JANSSON, NMODES };

static void die(const struct wh_err *err)
{
        fprintf(stderr, "bench: %s\n", err->msg);
        exit(2);
}

/* One pass over the lines; returns seconds, counts invalid items. */
static double pass(const struct wh_schema *schema, const char *buf, size_t len, enum mode mode,
                   size_t *invalid)
{
        struct wh_err err;
        char stack[16384];
        *invalid = 0;
        double t0 = now();
        for (const char *p = buf; p < buf + len;) {
                const char *end = memchr(p, '\n', (size_t)(buf + len - p));
                if (!end)
                        end = buf + len;
                size_t n = (size_t)(end - p);
                if (mode == DECODE) {
                        struct arena a;
                        struct jv v;
                        arena_init_buf(&a, stack, sizeof(stack));
                        if (jv_decode(&a, p, n, &v, &err) < 0)
                                die(&err);
                        arena_free(&a);
                } else if (mode == VALIDATE_TEXT) {
                        int r = wh_schema_validate_text(schema, p, n, NULL, &err);
                        if (r < 0)
                                die(&err);
                        *invalid += r == WH_SCHEMA_INVALID;
                } else {
                        json_t *doc;
                        if (wh_schema_json_decode(p, n, &doc, &err) < 0)
                                die(&err);
                        int r = wh_schema_validate(schema, doc, NULL, &err);
                        if (r < 0)
                                die(&err);
                        *invalid += r == WH_SCHEMA_INVALID;
                        json_decref(doc);
                }
                p = end + 1;
        }
        return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        struct wh_err err;
        struct wh_schema_registry *reg;
        struct wh_schema *schema;
        char *buf;
        size_t len, lines = 0;
        int runs = argc == 4 ? atoi(argv[3]) : 5;
        if ((argc != 3 && argc != 4) || runs < 1 || runs > 100) {
                fprintf(stderr, "usage: bench SCHEMA NDJSON [RUNS]\n");
                return 2;
        }
        if (wh_schema_registry_new(0, &reg, &err) < 0 ||
            wh_schema_compile_file(reg, argv[1], &schema, &err) < 0 ||
            wh_read_file(argv[2], 1u << 30, &buf, &len, &err) < 0)
                die(&err);
        for (size_t i = 0; i < len; i++)
                lines += buf[i] == '\n';
        static const char *const names[] = {"decode only", "decode+validate (text)",
                                            "decode+validate (jansson)"};
        /* Modes interleaved, so background load spreads over all of them. */
        double t[NMODES][100];
        size_t invalid[NMODES] = {0};
        for (int rep = 0; rep < runs; rep++)
                for (int mode = 0; mode < NMODES; mode++)
                        t[mode][rep] = pass(schema, buf, len, (enum mode)mode, &invalid[mode]);
        for (int mode = 0; mode < NMODES; mode++) {
                qsort(t[mode], (size_t)runs, sizeof(t[mode][0]), cmp_double);
                double best = t[mode][0], median = t[mode][runs / 2];
                printf("%s: items=%zu MB=%.2f best_ms=%.1f median_ms=%.1f MB/s=%.1f", names[mode],
                       lines, (double)len / 1e6, best * 1e3, median * 1e3,
                       (double)len / 1e6 / best);
                if (mode != DECODE)
                        printf(" invalid=%zu", invalid[mode]);
                printf("\n");
        }
        free(buf);
        wh_schema_free(schema);
        wh_schema_registry_free(reg);
        return 0;
}
