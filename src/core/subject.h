/*
 * subject.h - distinguished names: parsing "/C=US/O=Example/CN=db" from
 * users, checking names that arrive in CSRs, and printing them.
 *
 * X509_NAME pointers returned here belong to the caller (X509_NAME_free).
 */
#ifndef PKI_SUBJECT_H
#define PKI_SUBJECT_H

#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"

#define PKI_SUBJECT_VALUE_MAX 64 /* RFC 5280 appendix A.1: ub-common-name and friends */
#define PKI_SUBJECT_TEXT_MAX 1024

/* Parses "/ATTR=VALUE/..." with ATTR one of C, ST, L, O, OU, CN, each at most
 * once; C two letters; values 1..64 printable characters, "\/" for a slash. */
PKI_MUST_CHECK X509_NAME *pki_subject_parse(const char *text, struct pki_err *err);

/* PKI_OK if every attribute value of name is at most 64 characters of UTF-8
 * without control characters, and there are at most 16 attributes. */
PKI_MUST_CHECK int pki_subject_check(const X509_NAME *name, struct pki_err *err);

/* 1 if name has a commonName. */
int pki_subject_has_cn(const X509_NAME *name);

/* Writes name as an RFC 2253 string ("CN=node,O=pkictl"), with bytes that are
 * not printable ASCII shown as '?'. */
void pki_subject_format(const X509_NAME *name, char *buf, size_t len);

#endif
