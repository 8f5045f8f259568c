/* Layer reading (src/package/layer_read.c): a tar (plain, gzip or zstd)
 * from a package someone else built goes through the layer rules twice,
 * as it does in whiskers: checked without writing (wh_layer_read, what
 * import, pull and verify run; file data read through wh_layer_data), and
 * unpacked into a scratch directory (wh_unpack_tar, what a run's checkout
 * does). The two share one set of rules, so the harness checks that the
 * unpacker never accepts a layer the check refused. Small limits keep each
 * input cheap and reach the limit paths. */
#include "fuzz.h"

#include <whiskers/package.h>

#include "package/layer_read.h"

static int read_entry(struct wh_layer_reader *r, const struct wh_layer_entry *e, void *ctx,
                      struct wh_err *err)
{
        size_t *entries = ctx;
        fuzz_assert(e->name && e->name[0] && e->name[0] != '/', "entry name '%s'",
                    e->name ? e->name : "(null)");
        fuzz_assert(!(e->perm & ~0755u), "%s: mode %o passed the rules", e->name,
                    (unsigned)e->perm);
        fuzz_assert((e->kind != WH_LAYER_SYMLINK && e->kind != WH_LAYER_HARDLINK) || e->target,
                    "%s: a link without a target", e->name);
        ++*entries;
        if (e->kind != WH_LAYER_FILE)
                return 0;
        const void *buf;
        ssize_t n;
        while ((n = wh_layer_data(r, &buf, err)) > 0)
                ;
        return n < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct wh_unpack_limits lim = {.max_bytes = 1u << 20, .max_entries = 64};
        struct wh_err err = {0};
        int fd = fuzz_memfd(data, size);
        size_t entries = 0;
        int checked = wh_layer_read(fd, NULL, &lim, read_entry, &entries, &err);
        fuzz_assert(checked == 0 || err.msg[0], "the check failed without saying why");
        if (checked < 0)
                fuzz_debug("check", err.msg);

        char dest[PATH_MAX];
        snprintf(dest, sizeof(dest), "%s/unpacked", fuzz_scratch());
        fuzz_rm_tree(dest);
        if (lseek(fd, 0, SEEK_SET) != 0)
                abort();
        struct wh_err uerr = {0};
        int unpacked = wh_unpack_tar(fd, NULL, dest, &lim, &uerr);
        fuzz_assert(checked == 0 || unpacked < 0, "unpacked a layer the check refused: %s",
                    err.msg);
        fuzz_assert(unpacked == 0 || access(dest, F_OK) != 0, "a refused layer left %s (%s)", dest,
                    uerr.msg);
        fuzz_rm_tree(dest);
        close(fd);
        return 0;
}
