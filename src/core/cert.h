/*
 * cert.h - issuing X.509 v3 certificates and reading the facts a listing
 * needs from them.
 *
 * X509 pointers returned here belong to the caller (X509_free).
 */
#ifndef PKI_CERT_H
#define PKI_CERT_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "name.h"

/* The longest lifetime: Go's largest duration (2562047h), ~292 years. */
#define PKI_CERT_LIFETIME_MAX INT64_C(9223372036)

/* notBefore is set this far before "now", for clocks that lag ours. */
#define PKI_CERT_BACKDATE_SECONDS 3600

enum pki_cert_role {
    PKI_ROLE_CA,           /* CA:TRUE, keyCertSign + cRLSign + digitalSignature */
    PKI_ROLE_INTERMEDIATE, /* as CA, with pathLenConstraint ca_path_len (0: leaves only) */
    PKI_ROLE_NODE,         /* CA:FALSE, EKU serverAuth + clientAuth */
    PKI_ROLE_CLIENT,       /* CA:FALSE, EKU clientAuth */
    PKI_ROLE_SERVER,       /* CA:FALSE, EKU serverAuth */
};

struct pki_cert_params {
    enum pki_cert_role role;
    const X509_NAME *subject;      /* the whole subject (copied); if NULL, O and CN below */
    const char *organization;      /* subject O, may be NULL */
    const char *common_name;       /* subject CN, when subject is NULL */
    const struct pki_host *hosts;  /* SANs; may be NULL when nhosts is 0 */
    size_t nhosts;
    int64_t lifetime;              /* seconds from now, 1..PKI_CERT_LIFETIME_MAX */
    time_t now;                    /* the caller's clock */
    EVP_PKEY *subject_key;         /* its public half goes in the certificate */
    X509 *issuer;                  /* NULL for a self-signed certificate */
    EVP_PKEY *issuer_key;          /* signs; subject_key when self-signed */
    int ca_path_len;               /* PKI_ROLE_INTERMEDIATE: its pathLenConstraint (0..8) */
};

/* Builds and signs a certificate. Refuses an issuer that is not a CA, not
 * valid at p->now, or that would expire before the new certificate (that
 * error names the issuer's expiry), and a CA under an issuer whose path
 * length constraint is 0. */
PKI_MUST_CHECK X509 *pki_cert_issue(const struct pki_cert_params *p, struct pki_err *err);

/* A default lifetime, shortened so the certificate ends no later than its
 * issuer: returns min(lifetime, issuer's notAfter - now) and sets *capped
 * when it shortened it. An explicit lifetime is never capped: it is refused
 * by pki_cert_issue instead. */
int64_t pki_cert_cap_lifetime(X509 *issuer, time_t now, int64_t lifetime, int *capped);

/* notBefore and notAfter as seconds since the epoch. */
PKI_MUST_CHECK int pki_cert_validity(X509 *cert, time_t *not_before, time_t *not_after,
                                     struct pki_err *err);

/* Copies the subject's first CN into buf ("" when there is none). */
void pki_cert_common_name(X509 *cert, char *buf, size_t len);

/* 1 if cert has basicConstraints CA:TRUE. */
int pki_cert_is_ca(X509 *cert);

/* The SANs that are DNS names or IP addresses, as text, in certificate order.
 * Returns the count (at most max) and fills out[i] (each len bytes). */
size_t pki_cert_hosts(X509 *cert, char (*out)[PKI_NAME_DNS_MAX + 1], size_t max);

/* Formats t as "YYYY-MM-DD HH:MM:SS UTC" (style 0), "YYYY-MM-DD" (1) or RFC 3339 (2). */
/* Adds the extension nid with value in openssl.cnf syntax ("critical,CA:TRUE")
 * to x, resolved in ctx (issuer and subject set for SKI/AKI). */
PKI_MUST_CHECK int pki_cert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
                                    struct pki_err *err);

void pki_time_format(time_t t, int style, char *buf, size_t len);

#endif
