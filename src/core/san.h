/*
 * san.h - Subject Alternative Names between our validated form (struct
 * pki_host, name.h) and OpenSSL's GENERAL_NAMES.
 */
#ifndef PKI_SAN_H
#define PKI_SAN_H

#include <openssl/x509v3.h>

#include "err.h"
#include "name.h"

/* Builds GENERAL_NAMES from n validated SANs; the caller frees the result
 * (GENERAL_NAMES_free). Built from parsed values, never from a config
 * string, so a name cannot smuggle in other names through commas. */
PKI_MUST_CHECK GENERAL_NAMES *pki_san_to_general_names(const struct pki_host *sans, size_t n,
                                                       struct pki_err *err);

/* Reads and validates every name in gens into out (at most max) and sets *n.
 * Refuses names of other types (otherName, directoryName, registeredID, ...),
 * strings with embedded NULs, and values pki_san_check rejects. */
PKI_MUST_CHECK int pki_san_from_general_names(const GENERAL_NAMES *gens, struct pki_host *out,
                                              size_t max, size_t *n, struct pki_err *err);

#endif
