/* keywrap.c - CA private keys sealed with AES-256-GCM under the store key. */
#include "keywrap.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <string.h>

#define MAGIC "PKW1"
#define MAGIC_LEN 4
#define NONCE_LEN 12
#define TAG_LEN 16
#define KEY_ID_MAX 256
#define PLAIN_MAX (64 * 1024) /* an RSA 8192 PKCS#8 key is ~4.8 KiB */

/* A context initialised for one direction, with the key id as AAD. */
static EVP_CIPHER_CTX *gcm_init(int enc, const unsigned char key[PKI_STORE_KEY_LEN],
                                const unsigned char nonce[NONCE_LEN], const char *key_id)
{
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0, ok = 0;

    /* GCM's default IV length is the 12 bytes used here (SP 800-38D 8.2.1). */
    if (cipher != NULL && ctx != NULL &&
        (enc ? EVP_EncryptInit_ex2(ctx, cipher, key, nonce, NULL)
             : EVP_DecryptInit_ex2(ctx, cipher, key, nonce, NULL)) == 1)
        ok = (enc ? EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)key_id,
                                      (int)strlen(key_id))
                  : EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)key_id,
                                      (int)strlen(key_id))) == 1;
    EVP_CIPHER_free(cipher);
    if (!ok) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int check_args(const char *key_id, size_t len, size_t max, struct pki_err *err)
{
    if (key_id == NULL || key_id[0] == '\0' || strlen(key_id) > KEY_ID_MAX)
        return pki_err_set(err, PKI_ERR_USAGE, "key wrap: the key id is missing or too long");
    if (len > max)
        return pki_err_set(err, PKI_ERR_INPUT, "key wrap: %zu bytes is too large (at most %zu)",
                           len, max);
    return PKI_OK;
}

int pki_keywrap_seal(const unsigned char store_key[PKI_STORE_KEY_LEN], const char *key_id,
                     const unsigned char *plain, size_t len, struct pki_buf *out,
                     struct pki_err *err)
{
    size_t total = len + PKI_KEYWRAP_OVERHEAD;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *blob = NULL, *ct;
    OSSL_PARAM params[2];
    int n = 0, fin = 0, rc;

    if ((rc = check_args(key_id, len, PLAIN_MAX, err)) != PKI_OK)
        return rc;
    /* One byte more than used: pki_buf's layout (a NUL after the data). */
    if ((blob = OPENSSL_zalloc(total + 1)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    ct = blob + MAGIC_LEN + NONCE_LEN;
    memcpy(blob, MAGIC, MAGIC_LEN);
    /* A fresh random nonce per seal: with 96-bit random nonces the store
     * key stays far below GCM's 2^32-message limit (SP 800-38D 8.3). */
    if (RAND_bytes(blob + MAGIC_LEN, NONCE_LEN) != 1) {
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "key wrap: no random nonce");
        goto out;
    }
    ctx = gcm_init(1, store_key, blob + MAGIC_LEN, key_id);
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                                  ct + len, TAG_LEN);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 || (size_t)(n + fin) != len ||
        EVP_CIPHER_CTX_get_params(ctx, params) != 1) {
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "key wrap: AES-256-GCM encryption failed");
        goto out;
    }
    pki_buf_free(out);
    out->data = blob;
    out->len = total;
    blob = NULL;
    rc = PKI_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_clear_free(blob, total + 1);
    return rc;
}

int pki_keywrap_open(const unsigned char store_key[PKI_STORE_KEY_LEN], const char *key_id,
                     const unsigned char *blob, size_t len, struct pki_buf *out,
                     struct pki_err *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *plain = NULL, tag[TAG_LEN];
    OSSL_PARAM params[2];
    size_t plen;
    int n = 0, fin = 0, rc;

    if ((rc = check_args(key_id, len, PLAIN_MAX + PKI_KEYWRAP_OVERHEAD, err)) != PKI_OK)
        return rc;
    if (len < PKI_KEYWRAP_OVERHEAD)
        return pki_err_set(err, PKI_ERR_INPUT, "wrapped key %s is truncated (%zu bytes)",
                           key_id, len);
    plen = len - PKI_KEYWRAP_OVERHEAD;
    if ((plain = OPENSSL_zalloc(plen + 1)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    memcpy(tag, blob + len - TAG_LEN, TAG_LEN);
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, TAG_LEN);
    params[1] = OSSL_PARAM_construct_end();
    /* The magic is compared too (not authenticated by GCM): a changed
     * version byte must not decode as some other format later. */
    if (CRYPTO_memcmp(blob, MAGIC, MAGIC_LEN) != 0 ||
        (ctx = gcm_init(0, store_key, blob + MAGIC_LEN, key_id)) == NULL ||
        EVP_DecryptUpdate(ctx, plain, &n, blob + MAGIC_LEN + NONCE_LEN, (int)plen) != 1 ||
        EVP_CIPHER_CTX_set_params(ctx, params) != 1 ||
        EVP_DecryptFinal_ex(ctx, plain + n, &fin) != 1 || (size_t)(n + fin) != plen) {
        rc = pki_err_set(err, PKI_ERR_INPUT, "wrapped key %s does not open: wrong store key "
                         "or altered data", key_id);
        ERR_clear_error();
        goto out;
    }
    pki_buf_free(out);
    out->data = plain;
    out->len = plen;
    plain = NULL;
    rc = PKI_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_clear_free(plain, plen + 1);
    return rc;
}
