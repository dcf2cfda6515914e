/*
 * ncons.h - whether a CA's name constraints (RFC 5280 4.2.1.10) permit the
 * certificates it is meant to sign, checked before it is put in use: a root
 * whose constraints leave out a name this server certifies would make every
 * such certificate fail at its peers.
 */
#ifndef PKI_NCONS_H
#define PKI_NCONS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"
#include "name.h"

/* The names of one certificate to be signed below the CA. */
struct pki_nc_cert {
    const char *what;                /* for messages: "a service leaf" */
    const char *common_name;         /* the whole subject (CN=...), or NULL for none */
    int end_entity;                  /* a CN that is a host name counts as one, as
                                      * OpenSSL checks it, when there is no DNS SAN */
    const struct pki_host *sans;     /* DNS, IP, URI or email SANs */
    size_t nsans;
};

/* PKI_OK if ca has no name constraints or they permit every name of c
 * (checked with OpenSSL's NAME_CONSTRAINTS_check, the check peers run).
 * Else PKI_ERR_POLICY, and err names the first name refused and whether the
 * constraints exclude it or do not permit it; PKI_ERR_INPUT if ca's
 * nameConstraints extension cannot be read. ca_what names ca in messages. */
PKI_MUST_CHECK int pki_nc_permits(X509 *ca, const char *ca_what, const struct pki_nc_cert *c,
                                  struct pki_err *err);

/* The same for the names certificate x already carries (its subject and
 * subjectAltName), e.g. a CA certificate to be issued again under ca. */
PKI_MUST_CHECK int pki_nc_permits_x509(X509 *ca, const char *ca_what, X509 *x,
                                       const char *what, struct pki_err *err);

#endif
