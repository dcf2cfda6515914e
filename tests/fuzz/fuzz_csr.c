/* fuzz_csr.c - pki_csr_read (PEM or DER requests), then pki_csr_sans on
 * what it accepts.
 *
 * Random mutations almost never keep a request's signature valid, so the
 * SAN and subject checks behind the signature check would stay out of reach.
 * Each input is therefore run twice: as given, and (when OpenSSL's own
 * parser takes it) re-signed with a key of ours, so that mutated extensions
 * and subjects get past the signature check to the code that reads them. */
#include "fuzz_common.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "csr.h"
#include "key.h"
#include "subject.h"

static struct pki_host sans[PKI_NAME_HOSTS_MAX];

static void check_failure(const struct pki_err *err)
{
    FUZZ_CHECK(err->code < 0);
    FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
    FUZZ_CHECK(err->msg[0] != '\0');
}

static int der_of(X509_REQ *req, unsigned char **der)
{
    int len;

    *der = NULL;
    len = i2d_X509_REQ(req, der);
    FUZZ_CHECK(len > 0);
    return len;
}

/* The invariants for one input to pki_csr_read. */
static void check_read(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    struct pki_buf pem = {0};
    struct pki_host h;
    X509_REQ *req, *req2;
    unsigned char *copy = malloc(size ? size : 1), *der1, *der2;
    EVP_PKEY *pub;
    size_t i, n = 0;
    int len1, len2;

    /* An exact-size heap copy so ASan catches any read past the end. */
    if (copy == NULL)
        abort();
    if (size > 0)
        memcpy(copy, data, size);
    req = pki_csr_read(copy, size, &err);
    free(copy);
    if (req == NULL) {
        check_failure(&err);
        return;
    }
    FUZZ_CHECK(size > 0 && size <= PKI_CSR_MAX);
    pub = X509_REQ_get0_pubkey(req);
    FUZZ_CHECK(pub != NULL);
    FUZZ_CHECK(X509_REQ_verify(req, pub) == 1);
    FUZZ_CHECK(pki_key_check_supported(pub, &err) == PKI_OK);
    /* An EC key names its curve: RFC 5480 section 2.1.1 forbids explicit
     * parameters (specifiedCurve) in PKIX, and the issued certificate would
     * carry them. */
    if (EVP_PKEY_is_a(pub, "EC")) {
        char enc[32] = "";

        FUZZ_CHECK(EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_EC_ENCODING, enc,
                                                  sizeof(enc), NULL) == 1);
        FUZZ_CHECK(strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) == 0);
    }
    FUZZ_CHECK(pki_subject_check(X509_REQ_get_subject_name(req), &err) == PKI_OK);

    memset(&err, 0, sizeof(err));
    if (pki_csr_sans(req, sans, PKI_NAME_HOSTS_MAX, &n, &err) == PKI_OK) {
        FUZZ_CHECK(n <= PKI_NAME_HOSTS_MAX);
        for (i = 0; i < n; i++) {
            memset(&err, 0, sizeof(err));
            FUZZ_CHECK(pki_san_check(sans[i].kind, sans[i].text, &h, &err) == PKI_OK);
            FUZZ_CHECK(h.kind == sans[i].kind);
            FUZZ_CHECK(strcmp(h.text, sans[i].text) == 0);
            FUZZ_CHECK(h.ip_len == sans[i].ip_len);
            FUZZ_CHECK(memcmp(h.ip, sans[i].ip, h.ip_len) == 0);
        }
    } else {
        check_failure(&err);
    }

    /* An accepted request written out as PEM is accepted again, unchanged. */
    memset(&err, 0, sizeof(err));
    FUZZ_CHECK(pki_csr_to_pem(req, &pem, &err) == PKI_OK);
    req2 = pki_csr_read(pem.data, pem.len, &err);
    if (req2 == NULL)
        fprintf(stderr, "re-read failed: %s\n", err.msg);
    FUZZ_CHECK(req2 != NULL);
    len1 = der_of(req, &der1);
    len2 = der_of(req2, &der2);
    FUZZ_CHECK(len1 == len2 && memcmp(der1, der2, (size_t)len1) == 0);
    OPENSSL_free(der1);
    OPENSSL_free(der2);
    X509_REQ_free(req2);
    pki_buf_free(&pem);
    X509_REQ_free(req);
}

/* OpenSSL's lenient reading of the input as a request (PEM or DER), or NULL. */
static X509_REQ *lax_read(const uint8_t *data, size_t size)
{
    const unsigned char *p = data;
    X509_REQ *req = NULL;
    BIO *bio;

    if (memmem(data, size, "-----BEGIN", 10) == NULL)
        return d2i_X509_REQ(NULL, &p, (long)size);
    bio = BIO_new_mem_buf(data, (int)size);
    if (bio != NULL)
        req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static EVP_PKEY *keys[2];
    EVP_PKEY *key;
    X509_REQ *req;
    unsigned char *der = NULL;
    int len;

    if (size > PKI_CSR_MAX)
        return 0;
    if (keys[0] == NULL) {
        keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        FUZZ_CHECK(keys[0] != NULL && keys[1] != NULL);
    }

    check_read(data, size);
    ERR_clear_error();

    req = lax_read(data, size);
    if (req != NULL) {
        key = keys[size > 0 && (data[size - 1] & 1)];
        if (X509_REQ_set_pubkey(req, key) == 1 &&
            X509_REQ_sign(req, key, pki_key_sign_digest(key)) > 0 &&
            (len = i2d_X509_REQ(req, &der)) > 0)
            check_read(der, (size_t)len);
        OPENSSL_free(der);
        X509_REQ_free(req);
    }
    ERR_clear_error();
    return 0;
}
