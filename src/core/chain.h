/*
 * chain.h - relating certificates to the CA certificates that signed them.
 */
#ifndef PKI_CHAIN_H
#define PKI_CHAIN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

/* 0 if leaf's signature chains to one of cas (any of them may serve as the
 * anchor, so an intermediate in a bundle counts). Validity dates are not
 * checked here: callers report expiry separately, with their own clock. */
PKI_MUST_CHECK int pki_chain_verify(X509 *leaf, STACK_OF(X509) *cas, struct pki_err *err);

#define PKI_CHAIN_DEPTH_MAX 10

/* 1 if cert is self-signed: its own issuer, and its own key verifies it. */
int pki_chain_is_root(X509 *cert);

/* Builds the chain from leaf upwards through pool: each next certificate is
 * one whose subject is the current one's issuer and whose key verifies its
 * signature. *out gets leaf first (up-referenced; free with pki_certs_free).
 * strict != 0 (a bundle the user assembles): the chain must end in a
 * self-signed root and use every certificate of pool (duplicates of a chain
 * member aside); errors say which certificate is a gap or does not belong.
 * strict == 0: follows issuers as far as pool allows, ignoring the rest. */
PKI_MUST_CHECK int pki_chain_build(X509 *leaf, STACK_OF(X509) *pool, int strict,
                                   STACK_OF(X509) **out, struct pki_err *err);

/* Like pki_chain_verify, with the certificates that may serve as
 * intermediates (untrusted) apart from the anchors. */
PKI_MUST_CHECK int pki_chain_verify_with(X509 *leaf, STACK_OF(X509) *untrusted,
                                         STACK_OF(X509) *anchors, struct pki_err *err);

/* 1 if issuer issued cert: names and key identifiers agree and issuer's key
 * verifies cert's signature. */
int pki_chain_issued_by(X509 *cert, X509 *issuer);

/* The index in cas of the first certificate whose public key is key's, or -1. */
int pki_chain_find_by_key(STACK_OF(X509) *cas, EVP_PKEY *key);

#endif
