/*
 * cacert.h - the online CA's own certificates (docs/server.md): roots and
 * intermediates bound to one SPIFFE trust domain, and cross-signed copies
 * for root rotation.
 *
 * A CA certificate here has: a 64-bit random positive serial (Consul's
 * uint64 SerialNumber), subject CN, basicConstraints CA:TRUE (critical;
 * pathlen 0 for an intermediate), keyUsage keyCertSign, cRLSign,
 * digitalSignature (critical), SAN URI spiffe://<td>, nameConstraints
 * (critical) permitting URIs whose host is exactly <td>, SKI (SHA-1 of the
 * key bits) and AKI keyid. X509 pointers returned belong to the caller.
 */
#ifndef PKI_CACERT_H
#define PKI_CACERT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

#define PKI_CACERT_CN_MAX 64
#define PKI_KEY_ID_LEN 60 /* colon hex of a 20-byte SHA-1, with its NUL */

struct pki_cacert_params {
    const char *common_name;  /* 1..64 printable ASCII bytes */
    const char *trust_domain; /* lower-case DNS name */
    time_t not_before, not_after;
    EVP_PKEY *key;            /* the new CA's key (its public half is certified) */
    X509 *issuer;             /* NULL: a self-signed root; else an intermediate */
    EVP_PKEY *issuer_key;     /* the issuer's key; ignored for a root */
};

/* Builds and signs a root or (issuer set) an intermediate. The issuer must
 * be a CA whose key is issuer_key, not limited to pathlen 0, and valid over
 * the whole new validity (the caller caps not_after at the issuer's). */
PKI_MUST_CHECK X509 *pki_cacert_issue(const struct pki_cacert_params *p, struct pki_err *err);

/* A copy of the CA certificate cert (same subject, key, extensions and
 * notBefore) with the issuer, AKI and serial of one issued by signer, its
 * notAfter capped at signer's, signed with signer_key. Refuses a non-CA
 * cert, a signer that is not a CA, does not match its key or has expired
 * at now. */
PKI_MUST_CHECK X509 *pki_cacert_cross_sign(X509 *cert, X509 *signer, EVP_PKEY *signer_key,
                                           time_t now, struct pki_err *err);

/* The key id: SHA-1 of the key's subjectPublicKey bits (RFC 5280 4.2.1.2
 * method 1, the SKI of every certificate made here), in colon hex. */
PKI_MUST_CHECK int pki_cacert_key_id(EVP_PKEY *key, char out[PKI_KEY_ID_LEN],
                                     struct pki_err *err);

#endif
