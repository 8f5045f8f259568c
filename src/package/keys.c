#include "package/keys.h"
#include "package/digest.h"
#include "base/cleanup.h"
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 65536

static int load_pem(const char *path, bool private_key, EVP_PKEY **out, struct wh_err *err)
{
        cleanup_free char *pem = NULL;
        size_t len;
        if (wh_read_file(path, KEY_FILE_MAX, &pem, &len, err) < 0)
                return -1;
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        if (!bio)
                return wh_err_set(err, ENOMEM, "key", "reading %s", path);
        EVP_PKEY *k = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                                  : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!k)
                return wh_err_set(err, 0, "key", "%s is not a PEM %s key", path,
                                  private_key ? "private" : "public");
        if (EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(k);
                return wh_err_set(err, 0, "key", "%s is not an Ed25519 key", path);
        }
        *out = k;
        return 0;
}

int wh_key_load_public(const char *path, EVP_PKEY **out, struct wh_err *err)
{
        return load_pem(path, false, out, err);
}

int wh_key_load_private(const char *path, EVP_PKEY **out, struct wh_err *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return wh_err_set(err, errno, "key", "cannot read %s", path);
        if (st.st_mode & 077)
                return wh_err_set(err, 0, "key",
                                  "%s is accessible by group or others; chmod 600 %s", path, path);
        return load_pem(path, true, out, err);
}

int wh_key_id(EVP_PKEY *key, char id[WH_DIGEST_BUF], struct wh_err *err)
{
        unsigned char raw[32];
        size_t len = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw))
                return wh_err_set(err, 0, "key", "cannot read the raw Ed25519 public key");
        return wh_digest_buffer(raw, len, id, err);
}

int wh_key_id_file(const char *public_path, char key_id[WH_DIGEST_BUF], struct wh_err *err)
{
        EVP_PKEY *k;
        if (wh_key_load_public(public_path, &k, err) < 0)
                return -1;
        int rc = wh_key_id(k, key_id, err);
        EVP_PKEY_free(k);
        return rc;
}

/* New files only: overwriting a key by accident cannot be undone. */
static int write_new(const char *path, BIO *bio, mode_t mode, struct wh_err *err)
{
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        cleanup_close int fd =
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return wh_err_set(err, errno, "key", "cannot create %s%s", path,
                                  errno == EEXIST ? " (remove it or choose another name)" : "");
        if (len < 0 || wh_write_all(fd, data, (size_t)len) < 0 || fsync(fd) < 0) {
                int e = errno;
                unlink(path);
                return wh_err_set(err, e, "key", "cannot write %s", path);
        }
        return 0;
}

int wh_key_generate(const char *private_path, const char *public_path, char key_id[WH_DIGEST_BUF],
                    struct wh_err *err)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!k)
                return wh_err_set(err, 0, "key", "libcrypto cannot generate an Ed25519 key");
        BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
        int rc = 0;
        if (!priv || !pub || PEM_write_bio_PrivateKey(priv, k, NULL, NULL, 0, NULL, NULL) != 1 ||
            PEM_write_bio_PUBKEY(pub, k) != 1)
                rc = wh_err_set(err, ENOMEM, "key", "cannot encode the new key");
        if (rc == 0)
                rc = wh_key_id(k, key_id, err);
        if (rc == 0)
                rc = write_new(private_path, priv, 0600, err);
        if (rc == 0 && write_new(public_path, pub, 0644, err) < 0) {
                unlink(private_path);
                rc = -1;
        }
        BIO_free(priv);
        BIO_free(pub);
        EVP_PKEY_free(k);
        return rc;
}
