/* csr.c - making and strictly reading PKCS#10 requests. */
#include "csr.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "key.h"
#include "san.h"
#include "subject.h"

int pki_usage_parse(const char *text, enum pki_usage *out, struct pki_err *err)
{
    if (strcmp(text, "server") == 0)
        *out = PKI_USAGE_SERVER;
    else if (strcmp(text, "client") == 0)
        *out = PKI_USAGE_CLIENT;
    else if (strcmp(text, "both") == 0)
        *out = PKI_USAGE_BOTH;
    else
        return pki_err_set(err, PKI_ERR_INPUT, "unknown usage \"%.40s\" (use server, client or "
                           "both)", text);
    return PKI_OK;
}

static int push_ext(STACK_OF(X509_EXTENSION) *exts, X509_EXTENSION *ext, struct pki_err *err)
{
    if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0) {
        X509_EXTENSION_free(ext);
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot build the requested extensions");
    }
    return PKI_OK;
}

/* The extensionRequest attribute: subjectAltName and extendedKeyUsage. */
static int add_requested_extensions(X509_REQ *req, const struct pki_csr_params *p,
                                    struct pki_err *err)
{
    static const char *const eku[] = {"serverAuth", "clientAuth", "serverAuth,clientAuth"};
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *gens = NULL;
    int rc = exts ? PKI_OK : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");

    if (rc == PKI_OK && p->nsans > 0) {
        gens = pki_san_to_general_names(p->sans, p->nsans, err);
        rc = gens == NULL ? PKI_ERR_INTERNAL
                          : push_ext(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens), err);
    }
    if (rc == PKI_OK)
        rc = push_ext(exts, X509V3_EXT_nconf_nid(NULL, NULL, NID_ext_key_usage,
                                                 eku[p->usage]), err);
    if (rc == PKI_OK && X509_REQ_add_extensions(req, exts) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot add the requested extensions");
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rc;
}

X509_REQ *pki_csr_create(const struct pki_csr_params *p, struct pki_err *err)
{
    X509_REQ *req;

    if (p->nsans == 0 && !pki_subject_has_cn(p->subject)) {
        pki_err_set(err, PKI_ERR_INPUT, "a request needs a CN in its subject or at least one "
                    "SAN");
        return NULL;
    }
    req = X509_REQ_new();
    if (req == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_subject_name(req, p->subject) != 1 || X509_REQ_set_pubkey(req, p->key) != 1) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot build the request");
        goto fail;
    }
    if (add_requested_extensions(req, p, err) != PKI_OK)
        goto fail;
    if (X509_REQ_sign(req, p->key, pki_key_sign_digest(p->key)) <= 0) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "signing the request failed");
        goto fail;
    }
    return req;
fail:
    X509_REQ_free(req);
    return NULL;
}

int pki_csr_to_pem(X509_REQ *req, struct pki_buf *out, struct pki_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;

    if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot encode the request as PEM");
    else
        rc = pki_buf_append_bio(out, bio, "request", err);
    BIO_free(bio);
    return rc;
}

/* DER from PEM ("CERTIFICATE REQUEST" or the older "NEW CERTIFICATE
 * REQUEST"), or the input itself when it is not PEM. */
static X509_REQ *decode(const unsigned char *data, size_t len, struct pki_err *err)
{
    char *label = NULL, *header = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    long der_len = 0;
    X509_REQ *req = NULL;
    BIO *bio;

    const unsigned char *first = memmem(data, len, "-----BEGIN", 10);

    if (first != NULL &&
        memmem(first + 10, len - (size_t)(first + 10 - data), "-----BEGIN", 10) != NULL) {
        pki_err_set(err, PKI_ERR_INPUT, "more than one PEM block: give one request per file");
        return NULL;
    }
    if (first == NULL) {
        p = data;
        req = d2i_X509_REQ(NULL, &p, (long)len);
        if (req != NULL && p != data + len) {
            X509_REQ_free(req);
            req = NULL;
        }
        if (req == NULL)
            pki_err_set_ssl(err, PKI_ERR_INPUT, "not a certificate request (neither PEM nor DER)");
        return req;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL || PEM_read_bio(bio, &label, &header, &der, &der_len) != 1)
        pki_err_set_ssl(err, PKI_ERR_INPUT, "the PEM request is malformed or truncated");
    else if (strcmp(label, "CERTIFICATE REQUEST") != 0 && strcmp(label, "NEW CERTIFICATE REQUEST") != 0)
        pki_err_set(err, PKI_ERR_INPUT, "the PEM block is a \"%.40s\", not a CERTIFICATE REQUEST",
                    label);
    else if (header[0] != '\0')
        pki_err_set(err, PKI_ERR_INPUT, "the PEM request has unexpected headers");
    else if ((p = der, req = d2i_X509_REQ(NULL, &p, der_len)) == NULL || p != der + der_len) {
        X509_REQ_free(req);
        req = NULL;
        pki_err_set_ssl(err, PKI_ERR_INPUT, "the certificate request is malformed");
    }
    BIO_free(bio);
    OPENSSL_free(label);
    OPENSSL_free(header);
    OPENSSL_free(der);
    return req;
}

X509_REQ *pki_csr_read(const unsigned char *data, size_t len, struct pki_err *err)
{
    X509_REQ *req;
    EVP_PKEY *pub;

    if (len == 0 || len > PKI_CSR_MAX) {
        pki_err_set(err, PKI_ERR_INPUT, "the request is %s", len ? "too large" : "empty");
        return NULL;
    }
    req = decode(data, len, err);
    if (req == NULL)
        return NULL;
    pub = X509_REQ_get0_pubkey(req);
    if (pub == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INPUT, "the request's public key cannot be read");
    } else if (X509_REQ_verify(req, pub) != 1) {
        pki_err_set_ssl(err, PKI_ERR_INPUT, "the request's signature does not verify (it was "
                        "altered, or not signed by its own key)");
    } else if (pki_key_check_supported(pub, err) == PKI_OK &&
               pki_subject_check(X509_REQ_get_subject_name(req), err) == PKI_OK) {
        return req;
    }
    X509_REQ_free(req);
    return NULL;
}

/* The extension request: at most one attribute (PKCS#9 or Microsoft's), with
 * exactly one value that parses as Extensions; NULL *exts when there is none. */
static int requested_extensions(X509_REQ *req, STACK_OF(X509_EXTENSION) **exts,
                                struct pki_err *err)
{
    int pkcs9 = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1);
    int ms = X509_REQ_get_attr_by_NID(req, NID_ms_ext_req, -1);
    int at = pkcs9 >= 0 ? pkcs9 : ms;

    *exts = NULL;
    if (at < 0)
        return PKI_OK;
    if ((pkcs9 >= 0 && ms >= 0) || X509_REQ_get_attr_by_NID(req, NID_ext_req, pkcs9) >= 0 ||
        (ms >= 0 && X509_REQ_get_attr_by_NID(req, NID_ms_ext_req, ms) >= 0))
        return pki_err_set(err, PKI_ERR_INPUT, "the request has more than one extension request");
    if (X509_ATTRIBUTE_count(X509_REQ_get_attr(req, at)) != 1)
        return pki_err_set(err, PKI_ERR_INPUT, "the request's extension request does not have "
                           "exactly one value");
    *exts = X509_REQ_get_extensions(req);
    if (*exts == NULL)
        return pki_err_set_ssl(err, PKI_ERR_INPUT, "the request's extension request is malformed");
    return PKI_OK;
}

int pki_csr_sans(X509_REQ *req, struct pki_host *out, size_t max, size_t *n, struct pki_err *err)
{
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *gens = NULL;
    int i, rc;

    *n = 0;
    rc = requested_extensions(req, &exts, err);
    i = (rc == PKI_OK && exts) ? X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1) : -1;
    if (i >= 0) {
        if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, i) >= 0)
            rc = pki_err_set(err, PKI_ERR_INPUT, "the request has two subjectAltName extensions");
        else if ((gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i))) == NULL)
            rc = pki_err_set_ssl(err, PKI_ERR_INPUT, "the request's subjectAltName is malformed");
        else
            rc = pki_san_from_general_names(gens, out, max, n, err);
    }
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rc;
}
