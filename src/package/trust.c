/* The trust directory and signature checks (package.h "Trust").
 *
 * Everything is offline: trusted keys are files, revocation is a file. A
 * revoked key id is refused even while its .pub file is still present, so
 * revoking never depends on deleting the right file. Files an attacker
 * could rewrite (group/other-writable, or owned by someone other than root
 * or us) are refused rather than trusted. */
#include "package/keys.h"
#include "base/dir.h"
#include "package/store.h"
#include "base/strset.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct trusted_key {
        char id[WH_DIGEST_BUF];
        EVP_PKEY *key;
};

struct wh_trust {
        size_t n;
        struct trusted_key *keys;
        struct wh_strset revoked;
};

static int check_owner(const char *path, const struct stat *st, struct wh_err *err)
{
        if (st->st_mode & 022)
                return wh_err_set(err, 0, "trust",
                                  "%s is writable by group or others; chmod go-w %s", path, path);
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return wh_err_set(err, 0, "trust", "%s is owned by uid %u, not root or us", path,
                                  (unsigned)st->st_uid);
        return 0;
}

/* The directory is checked first and must not be writable by others, so
 * nobody else can swap a file between this check and the read. */
static int read_checked(int dirfd, const char *dir, const char *name, char **out,
                        struct wh_err *err)
{
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return wh_err_set(err, errno, "trust", "cannot read %s", path);
        if (!S_ISREG(st.st_mode))
                return wh_err_set(err, 0, "trust", "%s is not a regular file", path);
        if (check_owner(path, &st, err) < 0)
                return -1;
        return wh_read_file(path, 65536, out, NULL, err);
}

static int add_key(struct wh_trust *t, int dirfd, const char *dir, const char *name,
                   struct wh_err *err)
{
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        cleanup_free char *pem = NULL;
        if (read_checked(dirfd, dir, name, &pem, err) < 0)
                return -1;
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(k);
                return wh_err_set(err, 0, "trust", "%s is not a PEM Ed25519 public key", path);
        }
        struct trusted_key *keys = realloc(t->keys, (t->n + 1) * sizeof(*keys));
        if (!keys) {
                EVP_PKEY_free(k);
                return wh_err_set(err, ENOMEM, "trust", "loading %s", path);
        }
        t->keys = keys;
        keys[t->n].key = k;
        if (wh_key_id(k, keys[t->n].id, err) < 0) {
                EVP_PKEY_free(k);
                return -1;
        }
        t->n++;
        return 0;
}

static int load_revoked(struct wh_trust *t, int dirfd, const char *dir, struct wh_err *err)
{
        if (faccessat(dirfd, "revoked", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        cleanup_free char *text = NULL;
        if (read_checked(dirfd, dir, "revoked", &text, err) < 0)
                return -1;
        int lineno = 0;
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                char id[WH_DIGEST_BUF + 1];
                if (sscanf(line, " %72s", id) != 1)
                        continue;
                if (!wh_digest_valid(id))
                        return wh_err_set(err, 0, "trust",
                                          "%s/revoked line %d: '%s' is not a key id "
                                          "(sha256:<64 hex>)",
                                          dir, lineno, id);
                if (wh_strset_add(&t->revoked, id) < 0)
                        return wh_err_set(err, ENOMEM, "trust", "loading %s/revoked", dir);
        }
        return 0;
}

int wh_trust_load(const char *dir, struct wh_trust **out, struct wh_err *err)
{
        if (!dir) { /* trusts nothing: checks still report each key id */
                *out = calloc(1, sizeof(**out));
                return *out ? 0 : wh_err_set(err, ENOMEM, "trust", "allocating");
        }
        cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (dirfd < 0 || fstat(dirfd, &st) < 0)
                return wh_err_set(err, errno, "trust", "cannot open trust directory %s", dir);
        if (check_owner(dir, &st, err) < 0)
                return -1;
        struct wh_trust *t = calloc(1, sizeof(*t));
        if (!t)
                return wh_err_set(err, ENOMEM, "trust", "loading %s", dir);
        cleanup_closedir DIR *d = wh_dir_at(dirfd, ".");
        if (!d) {
                int e = errno;
                free(t);
                return wh_err_set(err, e, "trust", "cannot list %s", dir);
        }
        int rc = 0;
        struct dirent *de;
        while (rc == 0 && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len > 4 && de->d_name[0] != '.' && strcmp(de->d_name + len - 4, ".pub") == 0)
                        rc = add_key(t, dirfd, dir, de->d_name, err);
        }
        if (rc == 0)
                rc = load_revoked(t, dirfd, dir, err);
        if (rc < 0) {
                wh_trust_free(t);
                return -1;
        }
        *out = t;
        return 0;
}

void wh_trust_free(struct wh_trust *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                EVP_PKEY_free(t->keys[i].key);
        free(t->keys);
        wh_strset_clear(&t->revoked);
        free(t);
}

const char *wh_sig_status_name(enum wh_sig_status st)
{
        switch (st) {
        case WH_SIG_VALID:
                return "valid";
        case WH_SIG_UNTRUSTED_KEY:
                return "untrusted key";
        case WH_SIG_REVOKED_KEY:
                return "revoked key";
        case WH_SIG_BAD:
                return "bad signature";
        case WH_SIG_MALFORMED:
                return "malformed";
        }
        return "unknown";
}

static bool decode_signature(const char *b64, unsigned char sig[WH_SIG_LEN])
{
        /* 64 bytes are 88 base64 characters ending in "==". */
        unsigned char buf[WH_SIG_LEN + 3];
        if (!b64 || strlen(b64) != 88 || strcmp(b64 + 86, "==") != 0)
                return false;
        if (EVP_DecodeBlock(buf, (const unsigned char *)b64, 88) != WH_SIG_LEN + 2)
                return false;
        memcpy(sig, buf, WH_SIG_LEN);
        return true;
}

static EVP_PKEY *find_key(const struct wh_trust *t, const char *id)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->keys[i].id, id) == 0)
                        return t->keys[i].key;
        return NULL;
}

static enum wh_sig_status verify_payload(json_t *payload, const char *digest,
                                         const struct wh_trust *t, struct wh_sig_check *c)
{
        const char *signed_digest = json_string_value(json_object_get(payload, "digest"));
        const char *key_id = json_string_value(json_object_get(payload, "key_id"));
        unsigned char sig[WH_SIG_LEN];
        if (!signed_digest || strcmp(signed_digest, digest) != 0 || !wh_digest_valid(key_id))
                return WH_SIG_MALFORMED;
        memcpy(c->key_id, key_id, WH_DIGEST_BUF);
        if (wh_strset_has(&t->revoked, key_id))
                return WH_SIG_REVOKED_KEY;
        EVP_PKEY *k = find_key(t, key_id);
        if (!k)
                return WH_SIG_UNTRUSTED_KEY;
        if (!decode_signature(json_string_value(json_object_get(payload, "signature")), sig))
                return WH_SIG_MALFORMED;
        char msg[128];
        int len = snprintf(msg, sizeof(msg), "%s%s", WH_SIG_CONTEXT, digest);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
                 EVP_DigestVerify(ctx, sig, sizeof(sig), (unsigned char *)msg, (size_t)len) == 1;
        EVP_MD_CTX_free(ctx);
        return ok ? WH_SIG_VALID : WH_SIG_BAD;
}

/* The referrer manifest must name the same subject as its payload, and the
 * payload must be its only layer. Unreadable pieces make it malformed. */
static enum wh_sig_status check_one(struct wh_store *s, const struct wh_index_entry *e,
                                    const char *digest, const struct wh_trust *t,
                                    struct wh_sig_check *c)
{
        cleanup_json json_t *m = NULL, *payload = NULL;
        struct wh_descriptor layer;
        enum wh_sig_status st = WH_SIG_MALFORMED;
        if (wh_store_read_json(s, &e->desc, "signature", &m, NULL) < 0)
                return st;
        json_t *layers = json_object_get(m, "layers");
        const char *subject =
            json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
        if (subject && strcmp(subject, digest) == 0 && json_array_size(layers) == 1 &&
            wh_descriptor_from_json(json_array_get(layers, 0), "signature", &layer, NULL) == 0 &&
            strcmp(layer.media_type, WH_MT_SIGNATURE) == 0 &&
            wh_store_read_json(s, &layer, "signature payload", &payload, NULL) == 0)
                st = verify_payload(payload, digest, t, c);
        return st;
}

int wh_trust_check(struct wh_store *s, const char *digest, const struct wh_trust *t,
                   struct wh_sig_report *rep, struct wh_err *err)
{
        *rep = (struct wh_sig_report){0};
        snprintf(rep->subject, sizeof(rep->subject), "%s", digest);
        struct wh_index_entry *e = NULL;
        size_t n = 0;
        if (wh_store_list(s, &e, &n, err) < 0)
                return -1;
        rep->sigs = calloc(n ? n : 1, sizeof(*rep->sigs));
        if (!rep->sigs) {
                free(e);
                return wh_err_set(err, ENOMEM, "trust", "checking signatures");
        }
        for (size_t i = 0; i < n; i++) {
                if (strcmp(e[i].subject, digest) != 0 ||
                    strcmp(e[i].artifact_type, WH_AT_SIGNATURE) != 0)
                        continue;
                struct wh_sig_check *c = &rep->sigs[rep->n++];
                memcpy(c->signature, e[i].desc.digest, WH_DIGEST_BUF);
                c->status = check_one(s, &e[i], digest, t, c);
                rep->trusted |= c->status == WH_SIG_VALID;
        }
        free(e);
        return 0;
}

void wh_sig_report_clear(struct wh_sig_report *rep)
{
        free(rep->sigs);
        *rep = (struct wh_sig_report){0};
}
