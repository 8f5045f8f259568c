/* index.json: the store's roots (tags and referrers).
 *
 * Every change is read-modify-write under LOCK_EX of .whiskers/index.lock,
 * written to a temporary file and renamed over index.json, so readers (who
 * never lock) always see a whole document. Entries whiskers does not know
 * are kept as they are. */
#include "package/store.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REF_ANNOTATION "org.opencontainers.image.ref.name"

static bool is_ref_separator(const char *p, size_t *len)
{
        if (p[0] == '-' && p[1] == '-') {
                *len = 2;
                return true;
        }
        *len = 1;
        return p[0] && strchr("-._:@+", p[0]) != NULL;
}

bool wh_ref_name_valid(const char *name)
{
        if (!name || !*name || strlen(name) >= WH_REF_MAX)
                return false;
        const char *p = name;
        for (;;) { /* one component: alphanum (separator alphanum)* */
                if (!isalnum((unsigned char)*p))
                        return false;
                while (isalnum((unsigned char)*p))
                        p++;
                size_t seplen;
                if (*p == '\0')
                        return true;
                if (*p == '/') {
                        p++;
                        continue;
                }
                if (!is_ref_separator(p, &seplen))
                        return false;
                p += seplen;
        }
}

int wh_store_index_load(struct wh_store *s, json_t **out, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/index.json", s->path);
        cleanup_free char *doc = NULL;
        size_t len;
        if (wh_read_file(path, WH_INDEX_MAX, &doc, &len, err) < 0)
                return -1;
        json_error_t jerr;
        json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j || !json_is_array(json_object_get(j, "manifests"))) {
                json_decref(j);
                return wh_err_set(err, 0, "index",
                                  "%s is not an image index with a manifests array%s%s", path,
                                  j ? "" : ": ", j ? "" : jerr.text);
        }
        *out = j;
        return 0;
}

int wh_store_index_save(struct wh_store *s, json_t *index, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/index.json", s->path);
        cleanup_free char *text = wh_json_canonical(index);
        if (!text)
                return wh_err_set(err, ENOMEM, "index", "serialising %s", path);
        if (wh_write_file_atomic(path, text, strlen(text), err) < 0)
                return -1;
        if (fsync(s->root_fd) < 0)
                return wh_err_set(err, errno, "index", "cannot sync %s", s->path);
        return 0;
}

int wh_index_entries(json_t *index, struct wh_index_entry **out, size_t *n, struct wh_err *err)
{
        json_t *arr = json_object_get(index, "manifests");
        size_t count = json_array_size(arr);
        struct wh_index_entry *e = calloc(count ? count : 1, sizeof(*e));
        if (!e)
                return wh_err_set(err, ENOMEM, "index", "listing index.json");
        for (size_t i = 0; i < count; i++) {
                json_t *item = json_array_get(arr, i);
                char what[64];
                snprintf(what, sizeof(what), "index.json manifests[%zu]", i);
                if (wh_descriptor_from_json(item, what, &e[i].desc, err) < 0) {
                        free(e);
                        return -1;
                }
                const char *ref = json_string_value(
                    json_object_get(json_object_get(item, "annotations"), REF_ANNOTATION));
                const char *at = json_string_value(json_object_get(item, "artifactType"));
                snprintf(e[i].ref_name, sizeof(e[i].ref_name), "%s", ref ? ref : "");
                snprintf(e[i].artifact_type, sizeof(e[i].artifact_type), "%s", at ? at : "");
        }
        *out = e;
        *n = count;
        return 0;
}

/* The subject lives in the referrer manifest itself (OCI 1.1), not in the
 * index entry; untagged manifests are read to find it. */
void wh_index_entry_fill_subject(struct wh_store *s, struct wh_index_entry *e)
{
        e->subject[0] = '\0';
        if (e->ref_name[0] || !wh_media_type_is_manifest(e->desc.media_type))
                return;
        json_t *m = NULL;
        if (wh_store_read_json(s, &e->desc, "manifest", &m, NULL) < 0)
                return;
        const char *subject =
            json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
        if (wh_digest_valid(subject))
                memcpy(e->subject, subject, WH_DIGEST_BUF);
        json_decref(m);
}

int wh_store_list(struct wh_store *s, struct wh_index_entry **entries, size_t *n,
                  struct wh_err *err)
{
        cleanup_json json_t *index = NULL;
        if (wh_store_index_load(s, &index, err) < 0)
                return -1;
        int rc = wh_index_entries(index, entries, n, err);
        if (rc == 0)
                for (size_t i = 0; i < *n; i++)
                        wh_index_entry_fill_subject(s, &(*entries)[i]);
        return rc;
}

static int check_entry(struct wh_store *s, const struct wh_index_entry *e, struct wh_err *err)
{
        if (e->ref_name[0] && !wh_ref_name_valid(e->ref_name))
                return wh_err_set(err, 0, "index",
                                  "'%s' is not a valid tag: use letters and digits joined by "
                                  "one of - . _ : @ + (e.g. kat_nmap_normalize:1.2.0)",
                                  e->ref_name);
        if (e->subject[0] && !wh_store_blob_exists(s, e->subject))
                return wh_err_set(err, 0, "index", "subject %s of %s is not in the store",
                                  e->subject, e->desc.digest);
        struct wh_desc_list closure = {0};
        if (wh_store_closure(s, &e->desc, false, &closure, err) < 0)
                return wh_err_prefix(err, "cannot add %s",
                                     e->ref_name[0] ? e->ref_name : e->desc.digest);
        wh_desc_list_clear(&closure);
        return 0;
}

static json_t *entry_to_json(const struct wh_index_entry *e)
{
        json_t *j = wh_descriptor_to_json(&e->desc);
        if (j && e->artifact_type[0])
                json_object_set_new(j, "artifactType", json_string(e->artifact_type));
        if (j && e->ref_name[0])
                json_object_set_new(j, "annotations",
                                    json_pack("{s:s}", REF_ANNOTATION, e->ref_name));
        return j;
}

static void apply_entry(json_t *arr, const struct wh_index_entry *e, json_t *item)
{
        for (size_t i = json_array_size(arr); i-- > 0;) {
                json_t *old = json_array_get(arr, i);
                const char *ref = json_string_value(
                    json_object_get(json_object_get(old, "annotations"), REF_ANNOTATION));
                const char *digest = json_string_value(json_object_get(old, "digest"));
                if (e->ref_name[0] && ref && strcmp(ref, e->ref_name) == 0)
                        json_array_remove(arr, i);
                else if (!e->ref_name[0] && !ref && digest && strcmp(digest, e->desc.digest) == 0) {
                        json_decref(item);
                        return; /* already listed */
                }
        }
        json_array_append_new(arr, item);
}

/* index.json for a change: loaded under the index lock, which *lock holds
 * until the caller closes it (cleanup_close). */
static int load_locked(struct wh_store *s, int *lock, json_t **index, struct wh_err *err)
{
        if (wh_store_lock_index(s, lock, err) < 0)
                return -1;
        return wh_store_index_load(s, index, err);
}

int wh_store_index_add_many(struct wh_store *s, const struct wh_index_entry *e, size_t n,
                            struct wh_err *err)
{
        for (size_t i = 0; i < n; i++)
                if (check_entry(s, &e[i], err) < 0)
                        return -1;
        cleanup_close int lock = -1;
        cleanup_json json_t *index = NULL;
        if (load_locked(s, &lock, &index, err) < 0)
                return -1;
        json_t *arr = json_object_get(index, "manifests");
        for (size_t i = 0; i < n; i++) {
                json_t *item = entry_to_json(&e[i]);
                if (!item)
                        return wh_err_set(err, ENOMEM, "index", "building an index entry");
                apply_entry(arr, &e[i], item);
        }
        return wh_store_index_save(s, index, err);
}

int wh_store_index_add(struct wh_store *s, const struct wh_index_entry *e, struct wh_err *err)
{
        return wh_store_index_add_many(s, e, 1, err);
}

int wh_store_untag(struct wh_store *s, const char *ref_name, struct wh_err *err)
{
        cleanup_close int lock = -1;
        cleanup_json json_t *index = NULL;
        if (load_locked(s, &lock, &index, err) < 0)
                return -1;
        json_t *arr = json_object_get(index, "manifests");
        size_t removed = 0;
        for (size_t i = json_array_size(arr); i-- > 0;) {
                const char *ref = json_string_value(json_object_get(
                    json_object_get(json_array_get(arr, i), "annotations"), REF_ANNOTATION));
                if (ref && strcmp(ref, ref_name) == 0 && json_array_remove(arr, i) == 0)
                        removed++;
        }
        return removed
                   ? wh_store_index_save(s, index, err)
                   : wh_err_set(err, 0, "index", "no package tagged '%s' in %s", ref_name, s->path);
}
