/* pem.c - strict parsing and encoding of PEM certificate bundles. */
#include "pem.h"

#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"
#define PEM_LINE_BYTES 48 /* 64 base64 characters */

/* RFC 4648 section 4, with padding. */
static size_t b64_line(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    uint32_t v;

    for (i = 0; i + 3 <= n; i += 3) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (i < n) {
        v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

static size_t put(char *out, const char *s, size_t n)
{
    memcpy(out, s, n);
    return n;
}

size_t pki_pem_text_len(const char *label, size_t len, size_t eol_len)
{
    size_t edges = strlen(PEM_BEGIN) + strlen(PEM_END) + 2 * (strlen(label) +
                   strlen(PEM_DASHES) + eol_len);

    return edges + (len + 2) / 3 * 4 + (len + PEM_LINE_BYTES - 1) / PEM_LINE_BYTES * eol_len;
}

size_t pki_pem_text(const char *label, const unsigned char *der, size_t len, const char *eol,
                    char *out)
{
    size_t o = 0, off, n, ll = strlen(label), el = strlen(eol);

    o += put(out + o, PEM_BEGIN, strlen(PEM_BEGIN));
    o += put(out + o, label, ll);
    o += put(out + o, PEM_DASHES, strlen(PEM_DASHES));
    o += put(out + o, eol, el);
    for (off = 0; off < len; off += n) {
        n = len - off < PEM_LINE_BYTES ? len - off : PEM_LINE_BYTES;
        o += b64_line(der + off, n, out + o);
        o += put(out + o, eol, el);
    }
    o += put(out + o, PEM_END, strlen(PEM_END));
    o += put(out + o, label, ll);
    o += put(out + o, PEM_DASHES, strlen(PEM_DASHES));
    return o + put(out + o, eol, el);
}

int pki_pem_encode(const char *label, const unsigned char *der, size_t len,
                   struct pki_buf *out, struct pki_err *err)
{
    size_t n;
    char *text;
    int rc;

    if (strlen(label) > PKI_PEM_LABEL_MAX)
        return pki_err_set(err, PKI_ERR_USAGE, "PEM label is too long");
    if (len > PKI_PEM_FILE_MAX)
        return pki_err_set(err, PKI_ERR_USAGE, "PEM input is larger than %d bytes",
                           PKI_PEM_FILE_MAX);
    n = pki_pem_text_len(label, len, 1);
    if ((text = OPENSSL_malloc(n)) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    (void)pki_pem_text(label, der, len, "\n", text);
    rc = pki_buf_append(out, text, n, err);
    OPENSSL_clear_free(text, n);
    return rc;
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
