/*
 * csrfast.h - the fast path that reads the CSRs `pkictl server` signs
 * (POST /v1/connect/ca/sign): PEM decoded by hand, the PKCS#10 DER walked
 * in place (RFC 2986, no X509_REQ, no decoders), the signature checked with
 * a key built from the SPKI's own fields (EC: the curve's parameters copied
 * from a key made once, then the point; RSA: EVP_PKEY_fromdata of n and e;
 * Ed25519: the raw 32 bytes) and digests fetched once. For a P-256 CSR,
 * pki_csr_read + pki_csr_sans + i2d_PUBKEY took ~3.1M instructions; this
 * path takes ~0.94M, of which ~0.83M is the ECDSA verify itself
 * (bench/bench_csr.c).
 *
 * What is read, and what is refused:
 *   - exactly one PEM block "CERTIFICATE REQUEST" (or "NEW CERTIFICATE
 *     REQUEST"), nothing but whitespace around it, no headers, padded
 *     canonical base64; at most PKI_CSR_FAST_DER_MAX bytes of DER;
 *   - DER only (minimal lengths, no indefinite forms, no trailing bytes at
 *     any level); version 0; the subject is walked (RDNs of OID and a
 *     UTF8String, PrintableString or IA5String value) but not interpreted:
 *     the issued leaf's subject is set by the server;
 *   - the SPKI passes pki_leaf_spki_check (EC P-256/384/521 uncompressed,
 *     RSA 2048..8192, Ed25519); its bytes go into the leaf verbatim;
 *   - attributes: one extensionRequest at most (PKCS#9, or Microsoft's
 *     1.3.6.1.4.1.311.2.1.14 as OpenSSL reads it); others (challengePassword
 *     ...) are walked and skipped. Of the requested extensions only
 *     subjectAltName is read: a CSR's extensions are requests, the leaf's
 *     are fixed by policy. SANs: at most one URI (printable ASCII, at most
 *     PKI_SPIFFE_URI_MAX; the caller checks it is a SPIFFE service URI) and
 *     up to PKI_LEAF_DNS_MAX DNS names (pki_san_check); any other name type
 *     is refused by name;
 *   - the signature: ecdsa-with-SHA256/384/512 for EC keys,
 *     sha256/384/512WithRSAEncryption for RSA, Ed25519 for Ed25519, over the
 *     exact CertificationRequestInfo bytes. SHA-1 and MD5 are refused.
 *
 * Errors: PKI_ERR_INPUT with a message a client can act on ("the CSR is not
 * DER: subjectPublicKeyInfo expected at offset 61", "the CSR's signature
 * does not verify ..."); PKI_ERR_POLICY for a well-formed key pkictl does
 * not sign for (from pki_leaf_spki_check); PKI_ERR_INTERNAL when out of
 * memory, PKI_ERR_CRYPTO when OpenSSL fails on a valid key.
 *
 * A verifier is a context for one thread at a time (it owns a digest
 * context); give each thread its own. Usage:
 *
 *     struct pki_csr_verifier *v = pki_csr_verifier_new(&err);   // once
 *     struct pki_csr_fast *csr = malloc(sizeof(*csr));           // ~4.6 KiB
 *
 *     if (pki_csr_fast_read(v, pem, strlen(pem), csr, &err) != PKI_OK)
 *         return 400 with err.msg;
 *     if (!csr->has_uri) refuse; pki_spiffe_parse_service(csr->uri, ...);
 *     req.spki = csr->spki; req.spki_len = csr->spki_len;
 *     for (i = 0; i < csr->ndns; i++) dns[i] = csr->dns[i];
 *     ... pki_leaf_issue ...
 *     pki_csr_fast_clear(csr);
 *     ...
 *     pki_csr_verifier_free(v);                                  // at exit
 */
#ifndef PKI_CSRFAST_H
#define PKI_CSRFAST_H

#include <stddef.h>

#include "err.h"
#include "leaf.h"
#include "name.h"
#include "spiffe.h"

#define PKI_CSR_FAST_DER_MAX 16384
/* The PEM text: 16 KiB of DER is ~21.9 KiB of base64, plus line breaks. */
#define PKI_CSR_FAST_PEM_MAX 32768

struct pki_csr_verifier;

struct pki_csr_fast {
    unsigned char *der;        /* owned: the request's DER, decoded from the PEM */
    size_t der_len;
    const unsigned char *spki; /* into der: the SubjectPublicKeyInfo TLV */
    size_t spki_len;
    char uri[PKI_SPIFFE_URI_MAX + 1]; /* the URI SAN, if has_uri */
    int has_uri;
    size_t ndns;               /* 0..PKI_LEAF_DNS_MAX, in the CSR's order */
    char dns[PKI_LEAF_DNS_MAX][PKI_NAME_DNS_MAX + 1]; /* validated, canonical */
};

/* Fetches SHA-256/384/512 and prepares the key-building contexts once.
 * Free with pki_csr_verifier_free. */
PKI_MUST_CHECK struct pki_csr_verifier *pki_csr_verifier_new(struct pki_err *err);
void pki_csr_verifier_free(struct pki_csr_verifier *v);

/* Reads, checks and verifies one PEM CSR of len bytes (pem need not be
 * NUL-terminated). *out is overwritten, not freed: clear one that holds a
 * CSR first. On success *out is filled and its der is the caller's (freed by
 * pki_csr_fast_clear); on failure *out is left empty (der NULL), so
 * pki_csr_fast_clear is harmless either way. */
PKI_MUST_CHECK int pki_csr_fast_read(struct pki_csr_verifier *v, const char *pem, size_t len,
                                     struct pki_csr_fast *out, struct pki_err *err);

/* Frees c's DER and empties c. */
void pki_csr_fast_clear(struct pki_csr_fast *c);

#endif
