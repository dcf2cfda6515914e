/*
 * name.h - the names a certificate carries: host names, IP addresses and
 * user names, validated before anything is built from them.
 */
#ifndef PKI_NAME_H
#define PKI_NAME_H

#include <stddef.h>

#include "err.h"

#define PKI_NAME_USER_MAX 63   /* PostgreSQL's and CockroachDB's role name limit */
#define PKI_NAME_DNS_MAX 253   /* RFC 1035 section 2.3.4, without the final dot */
#define PKI_NAME_LABEL_MAX 63
#define PKI_NAME_HOSTS_MAX 256 /* SANs in one certificate */
#define PKI_NAME_SAN_MAX 1024  /* characters in one URI SAN */
#define PKI_NAME_EMAIL_MAX 254 /* RFC 5321 section 4.5.3.1.3, as an address in a path */

enum pki_host_kind {
    PKI_HOST_DNS,
    PKI_HOST_IPV4,
    PKI_HOST_IPV6,
    PKI_HOST_URI,
    PKI_HOST_EMAIL,
};

/* One Subject Alternative Name: a host (DNS name or IP) or a URI or email. */
struct pki_host {
    enum pki_host_kind kind;
    char text[PKI_NAME_SAN_MAX + 1]; /* canonical text: IPs as inet_ntop writes them */
    unsigned char ip[16];            /* network order; 4 or 16 bytes used */
    size_t ip_len;
};

/* Classifies and validates text as an IP literal ("[::1]" allowed) or a DNS
 * name (a wildcard only as the whole leftmost label, over two labels or more). */
PKI_MUST_CHECK int pki_host_parse(const char *text, struct pki_host *out,
                                  struct pki_err *err);

/* Parses one typed SAN: "dns:NAME" (as pki_host_parse, but never an IP),
 * "ip:ADDR", "uri:URI" (a scheme, then printable ASCII without spaces, at most
 * PKI_NAME_SAN_MAX) or "email:LOCAL@DOMAIN" (a dot-atom local part and a valid
 * DNS domain). The type is case-insensitive. */
PKI_MUST_CHECK int pki_san_parse(const char *typed, struct pki_host *out, struct pki_err *err);

/* Validates an already typed value (as found in a CSR); kind says which. */
PKI_MUST_CHECK int pki_san_check(enum pki_host_kind kind, const char *value,
                                 struct pki_host *out, struct pki_err *err);

/* The SAN type's name as written in --san: "dns", "ip", "uri", "email". */
const char *pki_san_type_name(enum pki_host_kind kind);

/* Validates a client user name: 1..63 of [A-Za-z0-9_.@-], starting with a
 * letter, digit or '_', with no "..". It becomes part of a file name. */
PKI_MUST_CHECK int pki_user_check(const char *user, struct pki_err *err);

#endif
