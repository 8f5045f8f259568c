/* JSON documents in the store: descriptors, the canonical serialisation, and
 * reading/writing whole documents as blobs. */
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool wh_media_type_is_manifest(const char *mt)
{
        /* Docker's schema 2 has the same shape; accepting it keeps gc and
         * verify correct on layouts other tools wrote. */
        return strcmp(mt, WH_MT_MANIFEST) == 0 ||
               strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") == 0;
}

bool wh_media_type_is_index(const char *mt)
{
        return strcmp(mt, WH_MT_INDEX) == 0 ||
               strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0;
}

int wh_descriptor_from_json(json_t *j, const char *what, struct wh_descriptor *d,
                            struct wh_err *err)
{
        if (!json_is_object(j))
                return wh_err_set(err, 0, "descriptor", "%s: descriptor is not an object", what);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        const char *digest = json_string_value(json_object_get(j, "digest"));
        json_t *size = json_object_get(j, "size");
        if (!mt || !*mt || strlen(mt) >= WH_MEDIA_TYPE_MAX)
                return wh_err_set(err, 0, "descriptor", "%s: missing or bad mediaType", what);
        if (!wh_digest_valid(digest))
                return wh_err_set(err, 0, "descriptor",
                                  "%s: digest '%s' is not sha256:<64 lowercase hex>", what,
                                  digest ? digest : "(missing)");
        if (!json_is_integer(size) || json_integer_value(size) < 0)
                return wh_err_set(err, 0, "descriptor", "%s: size missing or negative", what);
        snprintf(d->media_type, sizeof(d->media_type), "%s", mt);
        memcpy(d->digest, digest, WH_DIGEST_BUF);
        d->size = (uint64_t)json_integer_value(size);
        return 0;
}

json_t *wh_descriptor_to_json(const struct wh_descriptor *d)
{
        return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
                         (json_int_t)d->size);
}

char *wh_json_canonical(json_t *doc)
{
        return json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

static int parse_object(const char *data, size_t len, const char *what, const char *digest,
                        json_t **out, struct wh_err *err)
{
        json_error_t jerr;
        cleanup_json json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return wh_err_set(err, 0, "json", "%s %s is not valid JSON: %s (line %d)", what,
                                  digest, jerr.text, jerr.line);
        if (!json_is_object(j))
                return wh_err_set(err, 0, "json", "%s %s is not a JSON object", what, digest);
        *out = steal_pointer(&j);
        return 0;
}

int wh_store_read_json(struct wh_store *s, const struct wh_descriptor *d, const char *what,
                       json_t **out, struct wh_err *err)
{
        cleanup_free char *data = NULL;
        size_t len;
        if (wh_store_blob_read_desc(s, d, WH_JSON_BLOB_MAX, &data, &len, err) < 0)
                return wh_err_prefix(err, "reading %s", what);
        return parse_object(data, len, what, d->digest, out, err);
}

int wh_store_put_json(struct wh_store *s, json_t *doc, const char *media_type,
                      struct wh_descriptor *out, struct wh_err *err)
{
        cleanup_free char *text = wh_json_canonical(doc);
        if (!text)
                return wh_err_set(err, ENOMEM, "json", "serialising a %s", media_type);
        size_t len = strlen(text);
        if (wh_store_put(s, text, len, out->digest, err) < 0)
                return -1;
        snprintf(out->media_type, sizeof(out->media_type), "%s", media_type);
        out->size = len;
        return 0;
}

json_t *wh_store_annotations(struct wh_store *s, const char *digest)
{
        cleanup_free char *data = NULL;
        size_t len;
        cleanup_json json_t *doc = NULL;
        if (wh_store_blob_read(s, digest, WH_JSON_BLOB_MAX, &data, &len, NULL) < 0 ||
            parse_object(data, len, "document", digest, &doc, NULL) < 0)
                return NULL;
        json_t *ann = json_incref(json_object_get(doc, "annotations"));
        return ann;
}
