/* pem.c - strict parsing and encoding of PEM certificate bundles. */
#include "pem.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static size_t count_begin_lines(const unsigned char *pem, size_t len)
{
    static const char marker[] = "-----BEGIN ";
    const unsigned char *p = pem, *end = pem + len, *hit;
    size_t n = 0;

    while (p < end && (hit = memmem(p, (size_t)(end - p), marker, sizeof(marker) - 1)) != NULL) {
        n++;
        p = hit + sizeof(marker) - 1;
    }
    return n;
}

/* Decodes one PEM block's DER as exactly one certificate. */
static X509 *decode_block(const char *name, const char *header, const unsigned char *der,
                          long len, size_t index, struct pki_err *err)
{
    const unsigned char *p = der;
    X509 *x;

    if (strcmp(name, "CERTIFICATE") != 0) {
        pki_err_set(err, PKI_ERR_INPUT, "PEM block %zu is a \"%.40s\", not a CERTIFICATE",
                    index + 1, name);
        return NULL;
    }
    if (header[0] != '\0') {
        pki_err_set(err, PKI_ERR_INPUT, "PEM block %zu has unexpected headers", index + 1);
        return NULL;
    }
    x = d2i_X509(NULL, &p, len);
    if (x == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INPUT, "certificate %zu is malformed", index + 1);
        return NULL;
    }
    if (p != der + len) {
        X509_free(x);
        pki_err_set(err, PKI_ERR_INPUT, "certificate %zu has trailing bytes", index + 1);
        return NULL;
    }
    return x;
}

static int read_blocks(BIO *bio, size_t expected, STACK_OF(X509) *certs, struct pki_err *err)
{
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long len = 0;
    size_t i;
    X509 *x;

    for (i = 0; i < expected; i++) {
        if (PEM_read_bio(bio, &name, &header, &der, &len) != 1)
            return pki_err_set_ssl(err, PKI_ERR_INPUT,
                                   "PEM block %zu is malformed or truncated", i + 1);
        x = decode_block(name, header, der, len, i, err);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        if (x == NULL)
            return err ? err->code : PKI_ERR_INPUT;
        if (sk_X509_push(certs, x) <= 0) {
            X509_free(x);
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        }
    }
    return PKI_OK;
}

STACK_OF(X509) *pki_pem_read_certs(const unsigned char *pem, size_t len, struct pki_err *err)
{
    STACK_OF(X509) *certs = NULL;
    size_t expected;
    BIO *bio = NULL;

    if (len > PKI_PEM_FILE_MAX) {
        pki_err_set(err, PKI_ERR_INPUT, "PEM input is larger than %d bytes", PKI_PEM_FILE_MAX);
        return NULL;
    }
    expected = count_begin_lines(pem, len);
    if (expected == 0) {
        pki_err_set(err, PKI_ERR_INPUT, "no PEM certificate found (not a PEM file?)");
        return NULL;
    }
    if (expected > PKI_PEM_CERTS_MAX) {
        pki_err_set(err, PKI_ERR_INPUT, "more than %d PEM blocks", PKI_PEM_CERTS_MAX);
        return NULL;
    }
    certs = sk_X509_new_null();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (certs == NULL || bio == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
    } else if (read_blocks(bio, expected, certs, err) == PKI_OK) {
        BIO_free(bio);
        return certs;
    }
    BIO_free(bio);
    pki_certs_free(certs);
    return NULL;
}

int pki_pem_append_cert(X509 *cert, struct pki_buf *out, struct pki_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;

    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot encode the certificate as PEM");
    else
        rc = pki_buf_append_bio(out, bio, "certificate", err);
    BIO_free(bio);
    return rc;
}

int pki_pem_encode(const char *label, const unsigned char *der, size_t len,
                   struct pki_buf *out, struct pki_err *err)
{
    unsigned char line[64 + 2];
    char edge[80];
    size_t off, n;
    int w;

    if (strlen(label) > 40)
        return pki_err_set(err, PKI_ERR_USAGE, "PEM label is too long");
    snprintf(edge, sizeof(edge), "-----BEGIN %s-----\n", label);
    if (pki_buf_append(out, edge, strlen(edge), err) != 0)
        return err->code;
    for (off = 0; off < len; off += n) {
        n = len - off < 48 ? len - off : 48;
        w = EVP_EncodeBlock(line, der + off, (int)n);
        line[w] = '\n';
        if (pki_buf_append(out, line, (size_t)w + 1, err) != 0)
            return err->code;
    }
    snprintf(edge, sizeof(edge), "-----END %s-----\n", label);
    return pki_buf_append(out, edge, strlen(edge), err);
}

int pki_certs_contain(STACK_OF(X509) *certs, X509 *x)
{
    int i;

    for (i = 0; i < sk_X509_num(certs); i++)
        if (X509_cmp(sk_X509_value(certs, i), x) == 0)
            return 1;
    return 0;
}

void pki_certs_free(STACK_OF(X509) *certs)
{
    sk_X509_pop_free(certs, X509_free);
}
