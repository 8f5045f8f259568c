/* Decoding JSON the way the validator wants it. jansson refuses integers
 * beyond 64 bits unless told to decode every integer as a double; we decode
 * exactly first and fall back to that only for such documents, so ordinary
 * integers keep their exact value. */
#include "base/io.h"

#include <stdlib.h>
#include <string.h>
#include <whiskers/schema.h>

#define MAX_JSON_FILE (64u << 20)

/* A raw NUL byte is never JSON (in a string it must be written \u0000), but
 * jansson takes one right after a top-level number or literal as the end of
 * the text: "1\0" would decode as 1 (found by tests/fuzz, fuzz_json). */
static int refuse_nul(const char *buf, const char *nul, struct wh_err *err)
{
        int line = 1;
        const char *start = buf;
        for (const char *p = buf; p < nul; p++)
                if (*p == '\n')
                        line++, start = p + 1;
        return wh_err_set(err, 0, "json",
                          "invalid JSON at line %d column %d: a NUL byte (write it as \\u0000 in "
                          "a string)",
                          line, (int)(nul - start) + 1);
}

int wh_schema_json_decode(const char *buf, size_t len, json_t **out, struct wh_err *err)
{
        const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
        const char *nul = memchr(buf, '\0', len);
        if (nul)
                return refuse_nul(buf, nul, err);
        json_error_t jerr;
        json_t *v = json_loadb(buf, len, flags, &jerr);
        if (!v && json_error_code(&jerr) == json_error_numeric_overflow)
                v = json_loadb(buf, len, flags | JSON_DECODE_INT_AS_REAL, &jerr);
        if (!v)
                return wh_err_set(err, 0, "json", "invalid JSON at line %d column %d: %s",
                                  jerr.line, jerr.column, jerr.text);
        *out = v;
        return 0;
}

int wh_schema_json_load(const char *path, json_t **out, struct wh_err *err)
{
        char *buf = NULL;
        size_t len = 0;
        if (wh_read_file(path, MAX_JSON_FILE, &buf, &len, err) < 0)
                return -1;
        int r = wh_schema_json_decode(buf, len, out, err);
        free(buf);
        if (r < 0)
                return wh_err_prefix(err, "%s", path);
        return 0;
}
