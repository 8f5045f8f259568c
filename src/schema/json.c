/* Decoding JSON the way the validator wants it. jansson refuses integers
 * beyond 64 bits unless told to decode every integer as a double; we decode
 * exactly first and fall back to that only for such documents, so ordinary
 * integers keep their exact value. */
#include "base/io.h"

#include <stdlib.h>
#include <whiskers/schema.h>

#define MAX_JSON_FILE (64u << 20)

int wh_schema_json_decode(const char *buf, size_t len, json_t **out, struct wh_err *err)
{
        const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
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
