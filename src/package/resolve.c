/* References to descriptors: a tag, an id alone (when one version is
 * tagged), a digest, or nothing (when the store holds one package). */
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tag_list(const struct wh_index_entry *e, size_t n, char *buf, size_t len)
{
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < n && used < len; i++) {
                if (!e[i].ref_name[0])
                        continue;
                int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", e[i].ref_name);
                if (w < 0)
                        break;
                used += (size_t)w;
        }
        if (!buf[0])
                snprintf(buf, len, "none");
}

/* An untagged manifest or index named by digest: its media type is inside. */
static int resolve_blob(struct wh_store *s, const char *digest, struct wh_descriptor *out,
                        struct wh_err *err)
{
        cleanup_free char *data = NULL;
        size_t len;
        if (wh_store_blob_read(s, digest, WH_JSON_BLOB_MAX, &data, &len, err) < 0)
                return -1;
        cleanup_json json_t *j = json_loadb(data, len, 0, NULL);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        int rc = 0;
        if (!mt || !(wh_media_type_is_manifest(mt) || wh_media_type_is_index(mt)))
                rc = wh_err_set(err, 0, "resolve", "blob %s is not a manifest or an index", digest);
        else {
                snprintf(out->media_type, sizeof(out->media_type), "%s", mt);
                memcpy(out->digest, digest, WH_DIGEST_BUF);
                out->size = len;
        }
        return rc;
}

static int pick(const struct wh_index_entry *e, size_t n, const char *ref, const char *path,
                struct wh_descriptor *out, struct wh_err *err)
{
        const struct wh_index_entry *found = NULL;
        size_t matches = 0;
        size_t reflen = ref ? strlen(ref) : 0;
        for (size_t i = 0; i < n; i++) {
                if (!e[i].ref_name[0])
                        continue;
                if (ref && strcmp(e[i].ref_name, ref) == 0) {
                        *out = e[i].desc;
                        return 0;
                }
                /* "id" alone matches "id:<version>" when it is the only one. */
                if (!ref || (strncmp(e[i].ref_name, ref, reflen) == 0 &&
                             e[i].ref_name[reflen] == ':' && !strchr(ref, ':'))) {
                        found = &e[i];
                        matches++;
                }
        }
        if (matches == 1) {
                *out = found->desc;
                return 0;
        }
        char tags[1024];
        tag_list(e, n, tags, sizeof(tags));
        if (matches > 1)
                return wh_err_set(err, 0, "resolve", "'%s' is ambiguous in %s; name one of: %s",
                                  ref ? ref : "", path, tags);
        return wh_err_setk(err, WH_ERR_NOT_FOUND, 0, "resolve",
                           "no package tagged '%s' in %s (tags: %s)", ref ? ref : "", path, tags);
}

int wh_store_resolve(struct wh_store *s, const char *ref, struct wh_descriptor *out,
                     struct wh_err *err)
{
        cleanup_json json_t *index = NULL;
        if (wh_store_index_load(s, &index, err) < 0)
                return -1;
        cleanup_free struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_index_entries(index, &e, &n, err) < 0)
                return -1;
        if (ref && !*ref)
                ref = NULL;
        if (ref && wh_digest_valid(ref)) {
                for (size_t i = 0; i < n; i++) {
                        if (strcmp(e[i].desc.digest, ref) == 0) {
                                *out = e[i].desc;
                                return 0;
                        }
                }
                return resolve_blob(s, ref, out, err);
        }
        return pick(e, n, ref, s->path, out, err);
}

int wh_store_lookup(struct wh_store *s, const char *ref, struct wh_descriptor *out, bool *found,
                    struct wh_err *err)
{
        struct wh_err e = {0};
        *found = wh_store_resolve(s, ref, out, &e) == 0;
        if (*found || e.kind == WH_ERR_NOT_FOUND)
                return 0;
        if (err)
                *err = e;
        return -1;
}
