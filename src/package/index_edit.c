/* Changes to index.json: adding tags and referrers, each checked complete
 * (its closure is in the store) before the index is locked, and untagging.
 * Apart from index.c because the check walks the closure, which lists the
 * index's referrers (closure.c): index.c stays below both. */
#include "package/store.h"
#include "base/cleanup.h"

#include <errno.h>
#include <string.h>

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

static void apply_entry(json_t *arr, const struct wh_index_entry *e, json_t *item)
{
        for (size_t i = json_array_size(arr); i-- > 0;) {
                json_t *old = json_array_get(arr, i);
                const char *ref = json_string_value(
                    json_object_get(json_object_get(old, "annotations"), WH_OCI_REF_NAME));
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
                json_t *item = wh_index_entry_to_json(&e[i]);
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
                    json_object_get(json_array_get(arr, i), "annotations"), WH_OCI_REF_NAME));
                if (ref && strcmp(ref, ref_name) == 0 && json_array_remove(arr, i) == 0)
                        removed++;
        }
        return removed
                   ? wh_store_index_save(s, index, err)
                   : wh_err_set(err, 0, "index", "no package tagged '%s' in %s", ref_name, s->path);
}
