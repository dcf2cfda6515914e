/*
 * token.h - API tokens: secrets, their stored hash, and policies.
 *
 * A token has an AccessorID (public, a UUID) and a SecretID (a random UUID,
 * shown once). The store keeps only SHA-256(SecretID) in hex.
 * Policies: operator (everything) or service identities (leaves for the
 * listed services only). Default deny.
 */
#ifndef PKI_TOKEN_H
#define PKI_TOKEN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "err.h"
#include "spiffe.h"

#define PKI_TOKEN_HASH_HEX 64
#define PKI_TOKEN_SERVICES_MAX 64
#define PKI_TOKEN_SECRET_MAX 128 /* longest secret accepted in a header */
#define PKI_TOKEN_DESC_MAX 256

enum pki_token_kind { PKI_TOKEN_OPERATOR, PKI_TOKEN_SERVICE };

struct pki_token_policy {
    enum pki_token_kind kind;
    size_t nservices; /* PKI_TOKEN_SERVICE: 1..PKI_TOKEN_SERVICES_MAX */
    char services[PKI_TOKEN_SERVICES_MAX][PKI_SERVICE_MAX + 1];
};

/* Hex SHA-256 of secret into out (65 bytes). sha256 is a SHA-256 the
 * caller fetched once (EVP_MD_fetch), or NULL to fetch it on each call. */
void pki_token_hash(const EVP_MD *sha256, const char *secret, char out[PKI_TOKEN_HASH_HEX + 1]);

/* Parses "operator" or "service:web,db" (the form --policy takes and the
 * store keeps). Names are checked with pki_label_check; duplicates refused. */
PKI_MUST_CHECK int pki_token_policy_parse(const char *text, struct pki_token_policy *out,
                                          struct pki_err *err);

/* Writes the policy back in the form pki_token_policy_parse reads. */
PKI_MUST_CHECK int pki_token_policy_format(const struct pki_token_policy *p, char *out,
                                           size_t len, struct pki_err *err);

/* 1 if the policy may get leaves for service, else 0. */
int pki_token_allows_service(const struct pki_token_policy *p, const char *service);

#endif
