/* Reading a raw-file ZIP (docs/contract.md "Raw-file ZIP"): exactly two
 * entries, "raw" and "meta.json", stored or deflated, as a raw-file store
 * exports one raw file with its meta.
 *
 * The archive may be hostile, so the reader trusts nothing: it reads the
 * central directory from the end record, takes each entry's sizes from
 * there, checks the local header agrees, inflates into a buffer of exactly
 * the declared size (no more output is accepted) and checks the CRC-32.
 * ZIP64, encryption, multi-disk archives and other methods are refused. */
#include "contract/internal.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EOCD_SIG  0x06054b50u
#define CDIR_SIG  0x02014b50u
#define LOCAL_SIG 0x04034b50u
#define ZIP_MAX   (1ull << 31)

struct zip_entry {
        uint16_t method, flags;
        uint32_t crc, csize, usize, local_off;
};

static uint16_t le16(const unsigned char *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bad(struct wh_err *err, const char *path, const char *what)
{
        return wh_err_setk(err, WH_ERR_INVALID, EINVAL, "zip", "%s: not a raw-file ZIP: %s", path,
                           what);
}

/* The end of central directory record: the last signature whose comment
 * length reaches exactly the end of the file. */
static const unsigned char *find_eocd(const unsigned char *z, size_t len)
{
        if (len < 22)
                return NULL;
        for (size_t i = len - 22;; i--) {
                if (le32(z + i) == EOCD_SIG && i + 22 + le16(z + i + 20) == len)
                        return z + i;
                if (i == 0 || len - i > 22 + 65535)
                        return NULL;
        }
}

static int inflate_entry(const unsigned char *src, const struct zip_entry *e, char *dst,
                         const char *path, struct wh_err *err)
{
        if (e->method == 0) {
                if (e->csize != e->usize)
                        return bad(err, path, "a stored entry's sizes differ");
                memcpy(dst, src, e->usize);
                return 0;
        }
        z_stream zs = {0};
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
                return wh_err_set(err, ENOMEM, "zip", "%s: cannot start inflating", path);
        zs.next_in = (unsigned char *)src;
        zs.avail_in = e->csize;
        zs.next_out = (unsigned char *)dst;
        zs.avail_out = e->usize;
        int rc = inflate(&zs, Z_FINISH);
        bool exact = rc == Z_STREAM_END && zs.total_out == e->usize;
        inflateEnd(&zs);
        if (!exact)
                return bad(err, path, "an entry does not inflate to its declared size");
        return 0;
}

static int read_entry(const unsigned char *z, size_t len, const struct zip_entry *e, uint64_t max,
                      char **out, size_t *out_len, const char *name, const char *path,
                      struct wh_err *err)
{
        if (e->flags & 1)
                return bad(err, path, "encrypted entries are not supported");
        if (e->method != 0 && e->method != 8)
                return bad(err, path, "entries must be stored or deflated");
        if (e->usize > max)
                return wh_err_set(err, EFBIG, "zip", "%s: entry %s is larger than %llu bytes", path,
                                  name, (unsigned long long)max);
        if ((uint64_t)e->local_off + 30 > len || le32(z + e->local_off) != LOCAL_SIG)
                return bad(err, path, "a local header is missing");
        const unsigned char *lh = z + e->local_off;
        uint64_t data = (uint64_t)e->local_off + 30 + le16(lh + 26) + le16(lh + 28);
        if (le16(lh + 26) != strlen(name) || memcmp(lh + 30, name, strlen(name)) != 0 ||
            le16(lh + 8) != e->method)
                return bad(err, path, "a local header disagrees with the central directory");
        if (data + e->csize > len)
                return bad(err, path, "an entry runs past the end of the file");
        char *buf = malloc((size_t)e->usize + 1);
        if (!buf)
                return wh_err_set(err, ENOMEM, "zip", "%s: entry %s", path, name);
        if (inflate_entry(z + data, e, buf, path, err) < 0) {
                free(buf);
                return -1;
        }
        if (crc32(0, (const unsigned char *)buf, e->usize) != e->crc) {
                free(buf);
                return bad(err, path, "an entry's CRC-32 does not match");
        }
        buf[e->usize] = '\0';
        *out = buf;
        *out_len = e->usize;
        return 0;
}

static int parse_cdir(const unsigned char *z, size_t len, const unsigned char *eocd,
                      struct zip_entry ents[2], const char *path, struct wh_err *err)
{
        static const char *const names[2] = {"raw", "meta.json"};
        if (le16(eocd + 4) || le16(eocd + 6) || le16(eocd + 8) != le16(eocd + 10))
                return bad(err, path, "multi-disk archives are not supported");
        if (le16(eocd + 10) != 2)
                return bad(err, path, "it must hold exactly two entries, raw and meta.json");
        uint64_t off = le32(eocd + 16);
        if (off == 0xffffffffu || off + le32(eocd + 12) > len)
                return bad(err, path, "the central directory is out of bounds (ZIP64?)");
        bool seen[2] = {false, false};
        for (int i = 0; i < 2; i++) {
                if (off + 46 > len || le32(z + off) != CDIR_SIG)
                        return bad(err, path, "a central directory entry is missing");
                const unsigned char *c = z + off;
                size_t nlen = le16(c + 28);
                if (off + 46 + nlen > len)
                        return bad(err, path, "a name runs past the end of the file");
                int which = -1;
                for (int k = 0; k < 2; k++)
                        if (nlen == strlen(names[k]) && memcmp(c + 46, names[k], nlen) == 0)
                                which = k;
                if (which < 0 || seen[which])
                        return bad(err, path,
                                   "entries must be \"raw\" and \"meta.json\", once each");
                seen[which] = true;
                ents[which] = (struct zip_entry){le16(c + 10), le16(c + 8),  le32(c + 16),
                                                 le32(c + 20), le32(c + 24), le32(c + 42)};
                if (ents[which].csize == 0xffffffffu || ents[which].usize == 0xffffffffu ||
                    ents[which].local_off == 0xffffffffu)
                        return bad(err, path, "ZIP64 entries are not supported");
                off += 46 + nlen + le16(c + 30) + le16(c + 32);
        }
        return 0;
}

int wh_raw_zip_read(const char *path, uint64_t max_raw, char **raw, size_t *raw_len, char **meta,
                    size_t *meta_len, struct wh_err *err)
{
        cleanup_free char *z = NULL;
        size_t len;
        if (wh_read_file(path, ZIP_MAX, &z, &len, err) < 0)
                return -1;
        const unsigned char *u = (const unsigned char *)z;
        const unsigned char *eocd = find_eocd(u, len);
        if (!eocd)
                return bad(err, path, "no end of central directory record");
        struct zip_entry ents[2];
        if (parse_cdir(u, len, eocd, ents, path, err) < 0)
                return -1;
        if (read_entry(u, len, &ents[0], max_raw ? max_raw : (256ull << 20), raw, raw_len, "raw",
                       path, err) < 0)
                return -1;
        if (read_entry(u, len, &ents[1], WH_META_MAX_BYTES, meta, meta_len, "meta.json", path,
                       err) < 0) {
                free(*raw);
                *raw = NULL;
                return -1;
        }
        return 0;
}
