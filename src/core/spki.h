/*
 * spki.h - a certificate's subjectPublicKeyInfo and key identifiers, set
 * directly from a key's parameters.
 *
 * Why: on OpenSSL 3.0, X509_set_pubkey round-trips the key through the
 * encoder and decoder machinery, and the key identifier extensions do it
 * again for the issuer's key. Measured with callgrind, that was a fifth of a
 * whole create-node run (docs/benchmarks.md). The encodings here are the
 * standard ones (RFC 5280 section 4.1.2.7, RFC 3279, RFC 5480, RFC 8410).
 */
#ifndef PKI_SPKI_H
#define PKI_SPKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

/* Sets x's public key to key's (RSA, EC or Ed25519). */
PKI_MUST_CHECK int pki_spki_set(X509 *x, EVP_PKEY *key, struct pki_err *err);

/* Adds subjectKeyIdentifier (RFC 5280 section 4.2.1.2, method 1: SHA-1 of
 * the subjectPublicKey bits) and authorityKeyIdentifier (the issuer's
 * subjectKeyIdentifier; x's own when issuer is NULL). */
PKI_MUST_CHECK int pki_spki_add_key_ids(X509 *x, X509 *issuer, struct pki_err *err);

#endif
