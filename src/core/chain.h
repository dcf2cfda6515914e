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

/* The index in cas of the first certificate whose public key is key's, or -1. */
int pki_chain_find_by_key(STACK_OF(X509) *cas, EVP_PKEY *key);

#endif
