/*
 * inspect.h - the facts `cert show` reports about a certificate, read into
 * plain strings and numbers so front ends only format them.
 */
#ifndef PKI_INSPECT_H
#define PKI_INSPECT_H

#include <time.h>

#include <openssl/x509.h>

#include "err.h"
#include "name.h"

#define PKI_INSPECT_LIST_MAX 16

struct pki_san_text {
    char type[12]; /* dns, ip, uri, email, dirname, othername, rid, x400, edi */
    char value[PKI_NAME_SAN_MAX + 1];
};

struct pki_cert_info {
    char subject[512], issuer[512]; /* RFC 2253, printable ASCII */
    char serial[130];               /* upper-case hex */
    time_t not_before, not_after;
    char key_type[16];              /* RSA, ECDSA, Ed25519, or OpenSSL's name */
    int key_bits;
    char key_desc[64];              /* "ECDSA P-256" */
    char sig_alg[64];               /* "ecdsa-with-SHA256" */
    const char *key_usage[9];       /* static names, e.g. "digitalSignature" */
    size_t nkey_usage;
    char eku[PKI_INSPECT_LIST_MAX][64]; /* "serverAuth", or a dotted OID */
    size_t neku;
    int has_basic_constraints, is_ca;
    long path_len;                  /* -1 when there is none */
    struct pki_san_text *sans;      /* owned; free with pki_cert_info_free */
    size_t nsans;
    char sha256[96], sha1[60];      /* "AB:CD:..." */
};

/* Fills out from cert. Free with pki_cert_info_free (also after a failure). */
PKI_MUST_CHECK int pki_cert_inspect(X509 *cert, struct pki_cert_info *out, struct pki_err *err);

void pki_cert_info_free(struct pki_cert_info *info);

#endif
