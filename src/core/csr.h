/*
 * csr.h - PKCS#10 certificate signing requests: making them, and reading
 * them strictly (as outside input) before anything is signed.
 *
 * X509_REQ pointers returned here belong to the caller (X509_REQ_free).
 */
#ifndef PKI_CSR_H
#define PKI_CSR_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "err.h"
#include "name.h"

#define PKI_CSR_MAX (1024 * 1024)

enum pki_usage {
    PKI_USAGE_SERVER, /* asks for serverAuth */
    PKI_USAGE_CLIENT, /* asks for clientAuth */
    PKI_USAGE_BOTH,   /* asks for both */
};

struct pki_csr_params {
    EVP_PKEY *key;             /* signs the request; its public half is requested */
    const X509_NAME *subject;  /* copied; may have no attributes if there are SANs */
    const struct pki_host *sans;
    size_t nsans;
    enum pki_usage usage;
};

/* Reads "server", "client" or "both". */
PKI_MUST_CHECK int pki_usage_parse(const char *text, enum pki_usage *out, struct pki_err *err);

/* Builds and signs a request. Needs a CN or at least one SAN. */
PKI_MUST_CHECK X509_REQ *pki_csr_create(const struct pki_csr_params *p, struct pki_err *err);

/* Appends req as PEM ("CERTIFICATE REQUEST") to out. */
PKI_MUST_CHECK int pki_csr_to_pem(X509_REQ *req, struct pki_buf *out, struct pki_err *err);

/* Reads one request from PEM or DER (at most PKI_CSR_MAX bytes) and accepts
 * it only if its DER is exactly one request, its signature verifies with its
 * own key, that key is one pkictl signs for (pki_key_check_supported), and
 * its subject passes pki_subject_check. */
PKI_MUST_CHECK X509_REQ *pki_csr_read(const unsigned char *data, size_t len, struct pki_err *err);

/* The SANs req asks for, validated (san.h), at most max, count in *n. */
PKI_MUST_CHECK int pki_csr_sans(X509_REQ *req, struct pki_host *out, size_t max, size_t *n,
                                struct pki_err *err);

#endif
