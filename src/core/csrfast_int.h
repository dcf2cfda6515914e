/*
 * csrfast_int.h - internals of the CSR fast path shared by csrfast.c (the
 * DER walk), csrfast_pem.c (the PEM text) and csrfast_verify.c (the
 * signature).
 */
#ifndef PKI_CSRFAST_INT_H
#define PKI_CSRFAST_INT_H

#include <stddef.h>

#include "csrfast.h"
#include "leaf_der.h"

enum pki__csr_md {
    PKI__CSR_SHA256,
    PKI__CSR_SHA384,
    PKI__CSR_SHA512,
    PKI__CSR_MD_COUNT,
    PKI__CSR_MD_NONE = PKI__CSR_MD_COUNT, /* Ed25519 hashes by its own scheme */
};

/* What the signature check needs, all pointing into the request's DER. */
struct pki__csr_sig {
    enum pki__spki_kind kind;  /* from the SPKI walk */
    const unsigned char *key;  /* subjectPublicKey bits (the unused-bits byte dropped) */
    size_t key_len;
    const unsigned char *tbs;  /* the CertificationRequestInfo TLV, as signed */
    size_t tbs_len;
    const unsigned char *sig;  /* signature bits */
    size_t sig_len;
    enum pki__csr_md md;       /* from the signature algorithm */
};

/* Decodes the only PEM block of text (CERTIFICATE REQUEST) into a new
 * buffer of at most PKI_CSR_FAST_DER_MAX bytes; the caller frees *der. */
PKI_MUST_CHECK int pki__csr_pem_decode(const char *text, size_t len, unsigned char **der,
                                       size_t *der_len, struct pki_err *err);

/* Reads the signatureAlgorithm's contents (OID and parameters) into s->md,
 * checking it suits s->kind. */
PKI_MUST_CHECK int pki__csr_sig_alg(const unsigned char *alg, size_t len,
                                    struct pki__csr_sig *s, struct pki_err *err);

/* Checks s's signature with the key of spki (already walked). */
PKI_MUST_CHECK int pki__csr_sig_verify(struct pki_csr_verifier *v, const struct pki__csr_sig *s,
                                       const unsigned char *spki, size_t spki_len,
                                       struct pki_err *err);

#endif
