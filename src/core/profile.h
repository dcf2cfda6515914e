/*
 * profile.h - signing policy: what a certificate signed from a request may
 * be. The profile, not the request, decides the CA flag, key usage,
 * extended key usage and path length.
 */
#ifndef PKI_PROFILE_H
#define PKI_PROFILE_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "err.h"

enum pki_profile {
    PKI_PROFILE_SERVER,       /* serverAuth; needs a DNS or IP SAN */
    PKI_PROFILE_CLIENT,       /* clientAuth */
    PKI_PROFILE_NODE,         /* serverAuth + clientAuth; needs a DNS or IP SAN */
    PKI_PROFILE_INTERMEDIATE, /* CA:TRUE, pathlen 0; SANs are not copied */
};

/* Reads "server", "client", "node" or "intermediate". */
PKI_MUST_CHECK int pki_profile_parse(const char *text, enum pki_profile *out,
                                     struct pki_err *err);

/* 8760h (365 days) for leaves, 43920h (5 years) for an intermediate. */
int64_t pki_profile_default_lifetime(enum pki_profile profile);

/* Issues a certificate for req (already read with pki_csr_read) under
 * profile, signed by ca with ca_key. Everything the request asks for beyond
 * its subject, key and SANs is ignored. */
PKI_MUST_CHECK X509 *pki_profile_sign(X509_REQ *req, enum pki_profile profile, X509 *ca,
                                      EVP_PKEY *ca_key, int64_t lifetime, time_t now,
                                      struct pki_err *err);

#endif
