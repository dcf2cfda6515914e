/*
 * ca_int.h - what ca stage, rotate and prune share inside src/fs (ca_util.c,
 * ca_stage.c, ca_rotate.c, ca_prune.c): the staging folder's names and
 * small certificate helpers. The staged CAs are a struct cl_view that owns
 * what it points to.
 */
#ifndef PKI_CA_INT_H
#define PKI_CA_INT_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cluster_int.h"

#define STAGE_FILE "pkictl-stage.json"
#define STAGE_BUNDLE "trust-bundle.pem"
#define STAGE_MAX (1024 * 1024)
#define TOKEN_PREFIX "pkictl1:sha256:"
#define CN_MAX 64

/* Takes a reference to x and pushes it on s. */
int ca_push_up(STACK_OF(X509) *s, X509 *x);

/* Appends the PEM of every certificate of s to out. */
int ca_stack_pem(STACK_OF(X509) *s, struct pki_buf *out, struct pki_err *err);

/* 1 if x is valid at now. */
int ca_valid_at(X509 *x, time_t now);

/* x's notAfter (0 if it cannot be read). */
time_t ca_not_after(X509 *x);

/* The top CA (no parent) above CA a. */
int ca_top_of(const struct pki_manifest *m, int a);

/* SHA-256 of data as 64 lowercase hex digits. */
void ca_sha256_hex(const void *data, size_t len, char out[65]);

/* SHA-256 of x's DER as hex; PKI_OK or an error code. */
int ca_cert_hex(X509 *x, char out[65]);

/* Frees keys[0] to keys[n - 1] (not the array). */
void ca_free_keys(EVP_PKEY **keys, size_t n);

/* The PEM of every certificate of certs that is not in gone, appended to out;
 * *changed says if one was left out. */
int ca_without(STACK_OF(X509) *certs, STACK_OF(X509) *gone, struct pki_buf *out,
               struct pki_err *err, int *changed);

/* Frees what a view of staged CAs owns (cl_view_alloc, then filled by ca
 * stage: certificates, cross-signatures, keys, files) and its arrays. */
void ca_staged_free(struct cl_view *s, size_t n);

/* Every self-signed certificate of the top CAs' files, new ones first. */
int ca_bundle_pem(const struct cluster *c, const struct cl_view *s, struct pki_buf *out,
                  struct pki_err *err);

/* The staging folder's pkictl-stage.json. */
int ca_stage_json(const struct cluster *c, const struct cl_view *s, time_t now,
                  const char *token, struct pki_buf *out, struct pki_err *err);

#endif
