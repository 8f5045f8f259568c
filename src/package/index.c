/* index.json: the store's roots (tags and referrers), read and written
 * whole. Changes to it are index_edit.c's.
 *
 * Every change is read-modify-write under LOCK_EX of .whiskers/index.lock,
 * written to a temporary file and renamed over index.json, so readers (who
 * never lock) always see a whole document. Entries whiskers does not know
 * are kept as they are. */
#include "package/store.h"
#include "base/cleanup.h"
#include "base/dir.h"
#include "base/io.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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
        cleanup_json json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j || !json_is_array(json_object_get(j, "manifests")))
                return wh_err_set(err, 0, "index",
                                  "%s is not an image index with a manifests array%s%s", path,
                                  j ? "" : ": ", j ? "" : jerr.text);
        *out = steal_pointer(&j);
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
                    json_object_get(json_object_get(item, "annotations"), WH_OCI_REF_NAME));
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
json_t *wh_index_entry_to_json(const struct wh_index_entry *e)
{
        json_t *j = wh_descriptor_to_json(&e->desc);
        if (j && e->artifact_type[0])
                json_object_set_new(j, "artifactType", json_string(e->artifact_type));
        if (j && e->ref_name[0])
                json_object_set_new(j, "annotations",
                                    json_pack("{s:s}", WH_OCI_REF_NAME, e->ref_name));
        return j;
}

void wh_index_entry_fill_subject(struct wh_store *s, struct wh_index_entry *e)
{
        e->subject[0] = '\0';
        if (e->ref_name[0] || !wh_media_type_is_manifest(e->desc.media_type))
                return;
        cleanup_json json_t *m = NULL;
        if (wh_store_read_json(s, &e->desc, "manifest", &m, NULL) < 0)
                return;
        const char *subject =
            json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
        if (wh_digest_valid(subject))
                memcpy(e->subject, subject, WH_DIGEST_BUF);
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

/* Here, not in store.c: whether a store lists nothing is its index's to say,
 * and store.c stays below the index. */
void wh_store_abandon(struct wh_store *s)
{
        if (!s)
                return;
        /* Only a store this handle created, that nobody else has open (our
         * shared gc lock becomes exclusive only then) and that lists nothing. */
        cleanup_json json_t *index = NULL;
        if (s->created && flock(s->gc_lock_fd, LOCK_EX | LOCK_NB) == 0 &&
            wh_store_index_load(s, &index, NULL) == 0 &&
            json_array_size(json_object_get(index, "manifests")) == 0)
                wh_rmtree_at(AT_FDCWD, s->path);
        wh_store_close(s);
}
