/* Raw-input ZIP reading (src/contract/zip.c): the raw file and meta.json
 * of a job arrive as a ZIP someone else made. On success the outputs must
 * be NUL-terminated and no longer than the limit asked for. */
#include "fuzz.h"

#include <whiskers/contract.h>

#define MAX_RAW 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        int fd = fuzz_memfd(data, size);
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        char *raw = NULL, *meta = NULL;
        size_t raw_len = 0, meta_len = 0;
        struct wh_err err = {0};
        if (wh_raw_zip_read(path, MAX_RAW, &raw, &raw_len, &meta, &meta_len, &err) == 0) {
                fuzz_assert(raw_len <= MAX_RAW, "raw is %zu bytes, over the limit", raw_len);
                fuzz_assert(raw[raw_len] == '\0' && meta[meta_len] == '\0', "not NUL-terminated");
        } else {
                fuzz_assert(err.msg[0], "refused without saying why");
        }
        free(raw);
        free(meta);
        close(fd);
        return 0;
}
