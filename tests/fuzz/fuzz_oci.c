/* OCI index and manifest parsing: the store reading a layout someone else
 * wrote (a pulled, imported or copied one). Input: index.json, then blobs,
 * separated by lines "----". Digests cannot be guessed, so the harness
 * fills them in: "@N" in a part becomes "sha256:<hex>" of blob N and "#N"
 * its size (N = 1..9, a part may name only later parts). The layout is
 * written to a scratch directory and read through the public API: list the
 * entries, resolve, check each closure (sizes, digests, layer rules), list
 * its variants and load it as a package, as `whiskers run` would. */
#include "fuzz.h"

#include <whiskers/package.h>

#include "package/digest.h"

#define MAX_PARTS 10
#define SEP       "\n----\n"

struct part {
        char *text;
        size_t len;
        char digest[WH_DIGEST_BUF];
};

/* Replace "@N" and "#N" of later parts in p (which owns its text). */
static void fill_in(struct part *p, const struct part *parts, size_t n)
{
        size_t cap = p->len * 2 + 1, len = 0;
        char *out = malloc(cap);
        for (size_t i = 0; i < p->len; i++) {
                char c = p->text[i], d = i + 1 < p->len ? p->text[i + 1] : 0;
                size_t k = (size_t)(d - '0');
                if ((c == '@' || c == '#') && d >= '1' && d <= '9' && k < n && parts[k].digest[0]) {
                        char num[32];
                        const char *s = c == '@' ? parts[k].digest : num;
                        snprintf(num, sizeof(num), "%zu", parts[k].len);
                        size_t sl = strlen(s);
                        if (len + sl + (p->len - i) >= cap) {
                                cap = (len + sl + (p->len - i)) * 2;
                                out = realloc(out, cap);
                        }
                        memcpy(out + len, s, sl);
                        len += sl;
                        i++;
                        continue;
                }
                if (len + 1 >= cap)
                        out = realloc(out, cap *= 2);
                out[len++] = c;
        }
        free(p->text);
        p->text = out;
        p->len = len;
}

static void put_file(const char *path, const char *text, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0)
                abort();
}

static void read_layout(const char *dir)
{
        struct wh_store *s = NULL;
        struct wh_err err = {0};
        if (wh_store_open(dir, WH_STORE_READ, &s, &err) < 0) {
                fuzz_debug("open", err.msg);
                return;
        }
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_store_list(s, &e, &n, &err) == 0) {
                for (size_t i = 0; i < n && i < 4; i++) {
                        struct wh_desc_list closure = {0};
                        if (wh_store_closure(s, &e[i].desc, true, &closure, &err) == 0)
                                wh_desc_list_clear(&closure);
                        else
                                fuzz_debug("closure", err.msg);
                        if (wh_store_check(s, &e[i].desc, &err) < 0)
                                fuzz_debug("check", err.msg);
                        struct wh_variant_choice choice = {0};
                        if (wh_variants_read(s, &e[i].desc, &choice, &err) == 0)
                                wh_variant_choice_clear(&choice);
                        else
                                fuzz_debug("variants", err.msg);
                        if (e[i].ref_name[0]) {
                                static const struct wh_host host = {
                                    .os = "linux",
                                    .arch = "amd64",
                                    .arch_level = 3,
                                    .nruntimes = 2,
                                    .runtimes = {"exec", "python3"}};
                                struct wh_load_options o = {.host = &host, .allow_unsigned = true};
                                struct wh_package pkg = {0};
                                if (wh_package_load(s, e[i].ref_name, &o, &pkg, &err) == 0)
                                        wh_package_clear(&pkg);
                                else
                                        fuzz_debug("load", err.msg);
                        }
                }
                free(e);
        } else {
                fuzz_debug("list", err.msg);
        }
        wh_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct part parts[MAX_PARTS] = {0};
        size_t n = 0;
        struct wh_err err = {0};
        while (n < MAX_PARTS &&
               (parts[n].text = fuzz_next_part(&data, &size, SEP, strlen(SEP), &parts[n].len)))
                n++;
        for (size_t k = n; k-- > 0;) {
                fill_in(&parts[k], parts, n);
                if (k > 0 &&
                    wh_digest_buffer(parts[k].text, parts[k].len, parts[k].digest, &err) < 0)
                        abort();
        }
        char dir[PATH_MAX], path[PATH_MAX + 100];
        snprintf(dir, sizeof(dir), "%s/layout", fuzz_scratch());
        fuzz_rm_tree(dir);
        if (mkdir(dir, 0755) < 0)
                abort();
        snprintf(path, sizeof(path), "%s/blobs", dir);
        if (mkdir(path, 0755) < 0)
                abort();
        snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
        if (mkdir(path, 0755) < 0)
                abort();
        snprintf(path, sizeof(path), "%s/oci-layout", dir);
        put_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
        snprintf(path, sizeof(path), "%s/index.json", dir);
        if (n > 0)
                put_file(path, parts[0].text, parts[0].len);
        for (size_t k = 1; k < n; k++) {
                snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir,
                         wh_digest_hex(parts[k].digest));
                put_file(path, parts[k].text, parts[k].len);
        }
        read_layout(dir);
        for (size_t k = 0; k < n; k++)
                free(parts[k].text);
        return 0;
}
