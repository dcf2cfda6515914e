/*
 * leaf.h - the fast path that issues short-lived leaf certificates.
 *
 * pki_leaf_issuer holds everything fixed per issuer, prepared once: the
 * issuer's subject DER, its key identifier (for the AKI), the signature
 * AlgorithmIdentifier DER, the key and a fetched digest. pki_leaf_issue then
 * writes the TBSCertificate with a small DER writer (no X509 object, no
 * decoders), signs it and returns the certificate DER.
 *
 * A leaf: version 3, random positive 128-bit serial, subject CN (optional),
 * SANs (one URI and/or DNS names/IPs), basicConstraints CA:FALSE (critical),
 * keyUsage (critical; see pki_leaf_profile), extKeyUsage, SKI (SHA-1 of the
 * subjectPublicKey bits, RFC 5280 4.2.1.2 method 1), AKI keyid.
 */
#ifndef PKI_LEAF_H
#define PKI_LEAF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "err.h"

#define PKI_LEAF_SERIAL_LEN 16
#define PKI_LEAF_DNS_MAX 16
#define PKI_LEAF_SPKI_MAX 2048 /* RSA 4096 SPKI is ~550 bytes */

enum pki_leaf_profile {
    PKI_LEAF_SERVICE,    /* EKU serverAuth+clientAuth (Connect leaves) */
    PKI_LEAF_SERVER_TLS, /* EKU serverAuth (the API's own certificate) */
};

struct pki_leaf_req {
    enum pki_leaf_profile profile;
    const unsigned char *spki; /* SubjectPublicKeyInfo DER (checked: ec, rsa, ed25519) */
    size_t spki_len;
    const char *common_name;   /* subject CN, 1..64 bytes; NULL: empty subject */
    const char *uri;           /* one URI SAN, or NULL */
    const char *const *dns;    /* DNS SANs (already validated names) */
    size_t ndns;               /* 0..PKI_LEAF_DNS_MAX */
    const unsigned char (*ips)[16]; /* IP SANs, network order */
    const size_t *ip_lens;     /* 4 or 16 each */
    size_t nips;               /* 0..PKI_LEAF_DNS_MAX */
    time_t not_before, not_after;
};

struct pki_leaf_issuer;

/* Prepares an issuer from its certificate and key (which must match). Takes
 * its own references; the caller keeps and frees its own. */
PKI_MUST_CHECK struct pki_leaf_issuer *pki_leaf_issuer_new(X509 *cert, EVP_PKEY *key,
                                                           struct pki_err *err);
void pki_leaf_issuer_free(struct pki_leaf_issuer *iss);

/* The issuer certificate's notAfter: leaves are capped there by the caller. */
time_t pki_leaf_issuer_not_after(const struct pki_leaf_issuer *iss);

/* Checks req (SPKI structure and algorithm, names, times) and issues. On
 * success out holds the certificate DER and serial its serial number. */
PKI_MUST_CHECK int pki_leaf_issue(struct pki_leaf_issuer *iss, const struct pki_leaf_req *req,
                                  struct pki_buf *out,
                                  unsigned char serial[PKI_LEAF_SERIAL_LEN],
                                  struct pki_err *err);

/* Checks that der is a SubjectPublicKeyInfo of a supported algorithm
 * (id-ecPublicKey with P-256/384/521, rsaEncryption 2048..8192, Ed25519)
 * by walking its DER; no decoder is called. */
PKI_MUST_CHECK int pki_leaf_spki_check(const unsigned char *der, size_t len,
                                       struct pki_err *err);

/* Colon hex ("3a:0f:...") of len bytes into out (3*len bytes). */
void pki_hex_colon(const unsigned char *data, size_t len, char *out);

#endif
