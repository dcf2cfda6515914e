/*
 * pem.h - certificate bundles in PEM: strict parsing of outside input, and
 * encoding. A returned STACK_OF(X509) belongs to the caller
 * (pki_certs_free).
 */
#ifndef PKI_PEM_H
#define PKI_PEM_H

#include <openssl/x509.h>

#include "buf.h"
#include "err.h"

#define PKI_PEM_CERTS_MAX 64            /* certificates in one bundle */
#define PKI_PEM_FILE_MAX (1024 * 1024)  /* bytes in one PEM file */

/* Parses every certificate in pem, in order. Fails unless there is at least
 * one, every "-----BEGIN" block is a well-formed CERTIFICATE whose DER is
 * exactly one certificate, and there are at most PKI_PEM_CERTS_MAX. */
PKI_MUST_CHECK STACK_OF(X509) *pki_pem_read_certs(const unsigned char *pem, size_t len,
                                                  struct pki_err *err);

/* Frees a stack of certificates and the certificates in it; NULL is fine. */
void pki_certs_free(STACK_OF(X509) *certs);

/* 1 if certs holds a certificate equal to x (X509_cmp), else 0. */
int pki_certs_contain(STACK_OF(X509) *certs, X509 *x);

#define PKI_PEM_LABEL_MAX 40 /* characters in a label we write */

/* Appends der as PEM with label ("CERTIFICATE") to out: 64-character base64
 * lines (RFC 7468), no decoder or X509 object involved. */
PKI_MUST_CHECK int pki_pem_encode(const char *label, const unsigned char *der, size_t len,
                                  struct pki_buf *out, struct pki_err *err);

/* The same text written straight into out, each line ended by eol instead
 * of "\n" ("\\n" puts PEM inside a JSON string with no escaping pass: the
 * server's hot path writes every leaf this way). out must have room for
 * pki_pem_text_len(label, len, strlen(eol)) bytes; no NUL is added. label is
 * the caller's constant of at most PKI_PEM_LABEL_MAX characters. Returns
 * the bytes written. */
size_t pki_pem_text(const char *label, const unsigned char *der, size_t len, const char *eol,
                    char *out);
size_t pki_pem_text_len(const char *label, size_t len, size_t eol_len);

/* Appends cert as PEM to out. */
PKI_MUST_CHECK int pki_pem_append_cert(X509 *cert, struct pki_buf *out, struct pki_err *err);

#endif
