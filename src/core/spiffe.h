/*
 * spiffe.h - service identities: service names, trust domains, SPIFFE URIs
 * of the form spiffe://<trust domain>/ns/default/dc/<dc>/svc/<service>
 * (Consul Connect's layout), and random UUIDs for cluster ids and tokens.
 */
#ifndef PKI_SPIFFE_H
#define PKI_SPIFFE_H

#include <stddef.h>

#include "err.h"

#define PKI_SERVICE_MAX 63       /* a DNS label */
#define PKI_DC_MAX 63            /* a DNS label */
#define PKI_TRUST_DOMAIN_MAX 253 /* a DNS name */
#define PKI_SPIFFE_URI_MAX 512
#define PKI_UUID_LEN 36          /* 8-4-4-4-12 hex digits and dashes */

/* A service name or datacenter: 1..63 of [a-z0-9-], first and last a letter
 * or digit. what ("service", "datacenter") names the value in the message. */
PKI_MUST_CHECK int pki_label_check(const char *what, const char *name, struct pki_err *err);

/* A trust domain: a lower-case DNS name of labels as above, 1..253 bytes. */
PKI_MUST_CHECK int pki_trust_domain_check(const char *td, struct pki_err *err);

/* Writes spiffe://td/ns/default/dc/dc/svc/service into out (len bytes,
 * at least PKI_SPIFFE_URI_MAX + 1); checks all three parts. */
PKI_MUST_CHECK int pki_spiffe_service_uri(const char *td, const char *dc, const char *service,
                                          char *out, size_t len, struct pki_err *err);

/* Parses a service URI and checks it names trust domain td and datacenter
 * dc; copies the service name into service (PKI_SERVICE_MAX + 1 bytes). */
PKI_MUST_CHECK int pki_spiffe_parse_service(const char *uri, const char *td, const char *dc,
                                            char *service, struct pki_err *err);

/* spiffe://td, the trust domain's own URI (for the root's SAN). */
PKI_MUST_CHECK int pki_spiffe_domain_uri(const char *td, char *out, size_t len,
                                         struct pki_err *err);

/* A random (version 4) UUID, lower-case, NUL-terminated (37 bytes). */
PKI_MUST_CHECK int pki_uuid_random(char out[PKI_UUID_LEN + 1], struct pki_err *err);

/* 1 if text is a UUID in the lower-case 8-4-4-4-12 form, else 0. */
int pki_uuid_check(const char *text);

#endif
