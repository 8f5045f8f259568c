/* The shim's output, checked outside the sandbox (the shim runs beside the
 * boefje and is trusted no more than it): line 1 the runtime's
 * announcement, then either one {"type": "raw", "mime_types", "data"} line
 * per raw file or one {"type": "error"} line. Any other shape, a MIME type
 * that is not type/subtype, data that is not base64 or decodes to more than
 * the raw-file limit fails the whole run: nothing is kept half-way. */
#define _GNU_SOURCE
#include "boefje/internal.h"
#include "base/cleanup.h"
#include "base/sha256.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIME_MAX 255

void result_fail(struct wh_boefje_result *res, const char *code, const char *detail,
                 const char *fmt, ...)
{
        if (res->error_code)
                return; /* the first error is the run's */
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&res->error_message, fmt, ap) < 0)
                res->error_message = NULL;
        va_end(ap);
        res->error_code = code;
        res->error_detail = detail ? strdup(detail) : NULL;
        res->ok = false;
}

/* RFC 6838's restricted-name characters. */
static bool mime_token(const char *s, size_t n)
{
        if (n == 0 || n > 127)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-",
                        s[i]) ||
                    !s[i])
                        return false;
        return true;
}

static bool mime_valid(const char *s)
{
        const char *slash = strchr(s, '/');
        size_t n = strlen(s);
        return slash && n <= MIME_MAX && mime_token(s, (size_t)(slash - s)) &&
               mime_token(slash + 1, n - (size_t)(slash - s) - 1);
}

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Strict base64 (padded, no whitespace) into a malloc'd buffer. */
static char *b64_decode(const char *s, size_t n, size_t *out_len)
{
        if (n % 4)
                return NULL;
        size_t pad = n && s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
        char *out = malloc(n / 4 * 3 + 1);
        if (!out)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < n; i += 4) {
                uint32_t v = 0;
                for (size_t j = 0; j < 4; j++) {
                        int d = (i + j >= n - pad) ? 0 : b64_value(s[i + j]);
                        if (d < 0) {
                                free(out);
                                return NULL;
                        }
                        v = v << 6 | (uint32_t)d;
                }
                out[o++] = (char)(v >> 16);
                out[o++] = (char)(v >> 8);
                out[o++] = (char)v;
        }
        *out_len = o - pad;
        return out;
}

/* The MIME types a raw file is stored with: "boefje/<id>" and the boefje's. */
static json_t *mime_types(const struct wh_boefje *b, json_t *declared, struct wh_boefje_result *res,
                          size_t file)
{
        /* Each type is compared with the others and routed on its own (a
         * scan of the normalisers): thousands would hold the supervisor. */
        if (json_array_size(declared) > WH_BOEFJE_TYPES_MAX) {
                result_fail(res, "invalid_output", NULL,
                            "raw file %zu has %zu MIME types, more than %u", file,
                            json_array_size(declared), WH_BOEFJE_TYPES_MAX);
                return NULL;
        }
        char own[96];
        snprintf(own, sizeof(own), "boefje/%s", b->manifest.id);
        json_t *all = json_array(), *v;
        json_array_append_new(all, json_string(own));
        size_t i;
        json_array_foreach(declared, i, v)
        {
                const char *s = json_string_value(v);
                if (!s || strlen(s) != json_string_length(v) || !mime_valid(s)) {
                        cleanup_free char *q = json_dumps(v, JSON_ENCODE_ANY);
                        result_fail(res, "invalid_output", NULL,
                                    "raw file %zu: MIME type %.200s is not type/subtype (letters, "
                                    "digits and !#$&^_.+-, at most %d bytes)",
                                    file, q ? q : "?", MIME_MAX);
                        json_decref(all);
                        return NULL;
                }
                bool seen = false;
                for (size_t j = 0; j < json_array_size(all); j++)
                        seen |= strcmp(json_string_value(json_array_get(all, j)), s) == 0;
                if (!seen)
                        json_array_append(all, v);
        }
        return all;
}

static int add_raw(const struct wh_boefje *b, json_t *line, struct wh_boefje_result *res)
{
        size_t file = res->n_raws + 1;
        json_t *mimes = json_object_get(line, "mime_types"), *data = json_object_get(line, "data");
        if (json_object_size(line) != 3 || !json_is_array(mimes) || !json_is_string(data)) {
                result_fail(res, "invalid_output", NULL,
                            "raw file %zu: not {\"type\": \"raw\", \"mime_types\": [...], "
                            "\"data\": base64}",
                            file);
                return -1;
        }
        if (file > WH_BOEFJE_FILES_MAX) {
                result_fail(res, "too_many_raw_files", NULL,
                            "the boefje returned more than %u raw files", WH_BOEFJE_FILES_MAX);
                return -1;
        }
        size_t n = json_string_length(data);
        if (n / 4 * 3 > b->raw_max + 2) {
                result_fail(res, "raw_too_large", NULL,
                            "raw file %zu is about %zu bytes, over the limit of %llu bytes "
                            "(--raw-max)",
                            file, n / 4 * 3, (unsigned long long)b->raw_max);
                return -1;
        }
        json_t *types = mime_types(b, mimes, res, file);
        if (!types)
                return -1;
        struct wh_boefje_raw r = {.mime_types = types};
        r.data = b64_decode(json_string_value(data), n, &r.len);
        if (!r.data || r.len > b->raw_max) {
                result_fail(res, r.data ? "raw_too_large" : "invalid_output", NULL,
                            r.data ? "raw file %zu is %zu bytes, over the limit of %llu bytes"
                                   : "raw file %zu: \"data\" is not base64 (%zu)",
                            file, r.len, (unsigned long long)b->raw_max);
                free(r.data);
                json_decref(types);
                return -1;
        }
        struct wh_boefje_raw *grown = realloc(res->raws, file * sizeof(*grown));
        if (!grown) {
                result_fail(res, "out_of_memory", NULL, "whiskers ran out of memory");
                free(r.data);
                json_decref(types);
                return -1;
        }
        memcpy(r.digest, "sha256:", 7);
        wh_sha256_hex(r.data, r.len, r.digest + 7);
        res->raws = grown;
        res->raws[res->n_raws++] = r;
        return 0;
}

/* The shim's error line: the boefje's exception, or a pair it refused. */
static void boefje_error(json_t *line, struct wh_boefje_result *res)
{
        const char *phase = json_string_value(json_object_get(line, "phase"));
        const char *error = json_string_value(json_object_get(line, "error"));
        const char *message = json_string_value(json_object_get(line, "message"));
        const char *tb = json_string_value(json_object_get(line, "traceback"));
        bool bad_pair = error && strcmp(error, "InvalidReturnValueBoefje") == 0;
        result_fail(res, bad_pair ? "invalid_output" : "boefje_error", tb, "%s: %s: %.2000s",
                    phase ? phase : "run", error ? error : "Error", message ? message : "");
}

void output_drop(struct wh_boefje_result *res)
{
        for (size_t i = 0; i < res->n_raws; i++) {
                free(res->raws[i].data);
                json_decref(res->raws[i].mime_types);
        }
        free(res->raws);
        res->raws = NULL;
        res->n_raws = 0;
}

void output_parse(const struct wh_boefje *b, const char *out, size_t len,
                  struct wh_boefje_result *res, json_t **runtime)
{
        size_t lineno = 0;
        for (const char *p = out, *end = out + len; p < end && !res->error_code; lineno++) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl) {
                        result_fail(res, "invalid_output", NULL,
                                    "output line %zu does not end (the run was cut short?)",
                                    lineno + 1);
                        break;
                }
                json_t *line = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, NULL);
                const char *type = json_string_value(json_object_get(line, "type"));
                p = nl + 1;
                if (!type)
                        result_fail(res, "invalid_output", NULL,
                                    "output line %zu is not a JSON object with a \"type\"",
                                    lineno + 1);
                else if (lineno == 0 && strcmp(type, "runtime") == 0)
                        *runtime = json_incref(line);
                else if (lineno > 0 && strcmp(type, "raw") == 0)
                        add_raw(b, line, res);
                else if (lineno > 0 && strcmp(type, "error") == 0)
                        boefje_error(line, res);
                else
                        result_fail(res, "invalid_output", NULL,
                                    "output line %zu: unexpected \"type\": \"%.40s\"", lineno + 1,
                                    type);
                json_decref(line);
        }
        if (!res->error_code && !*runtime)
                result_fail(res, "invalid_output", NULL,
                            "the runtime did not announce itself (no output at all)");
        if (res->error_code)
                output_drop(res);
}
