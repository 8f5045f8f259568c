/* Bundle reading (src/package/bundle_read.c, bundle_import.c): a bundle
 * carried in from elsewhere is imported into a fresh store, unsigned
 * packages allowed so the reader, the index and the closure checks all run
 * (signatures are not the subject here). All or nothing: a refused bundle
 * must leave the store's index.json without entries. */
#include "fuzz.h"

#include <whiskers/package.h>

static size_t index_entries(struct wh_store *s)
{
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        struct wh_err err = {0};
        fuzz_assert(wh_store_list(s, &e, &n, &err) == 0, "cannot list the store: %s", err.msg);
        free(e);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char dir[PATH_MAX], path[PATH_MAX + 16];
        snprintf(dir, sizeof(dir), "%s/store", fuzz_scratch());
        snprintf(path, sizeof(path), "%s/in.bundle", fuzz_scratch());
        fuzz_rm_tree(dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
                abort();

        struct wh_store *s = NULL;
        struct wh_err err = {0};
        fuzz_assert(wh_store_open(dir, WH_STORE_CREATE, &s, &err) == 0, "%s", err.msg);
        const struct wh_bundle_import_options o = {.allow_unsigned = true, .max_bytes = 1u << 20};
        struct wh_index_entry *added = NULL;
        size_t nadded = 0;
        int rc = wh_bundle_import(s, path, &o, &added, &nadded, &err);
        fuzz_assert(rc == 0 || err.msg[0], "the import failed without saying why");
        if (rc < 0)
                fuzz_debug("import", err.msg);
        fuzz_assert(rc == 0 || index_entries(s) == 0, "a refused bundle left entries: %s", err.msg);
        free(added);
        wh_store_close(s);
        fuzz_rm_tree(dir);
        return 0;
}
