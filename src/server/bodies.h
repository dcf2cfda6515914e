/*
 * bodies.h - the JSON request bodies of the API other than the CA config
 * (caconfig.h): sign requests and token creation. Unknown fields, wrong
 * types, bodies over the size limit and bad values are refused with one
 * message naming the field (the API answers 400 with it).
 */
#ifndef SRV_BODIES_H
#define SRV_BODIES_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "token.h"

#define SRV_CSR_PEM_MAX (16 * 1024)
#define SRV_BODY_MAX (64 * 1024) /* sign and token bodies: the HTTP body limit */

/* {"CSR": "-----BEGIN CERTIFICATE REQUEST-----..."}: copies the PEM text
 * (1..SRV_CSR_PEM_MAX bytes, must contain the BEGIN line) into a new string
 * *csr_pem that the caller frees. The CSR itself is checked by the caller. */
PKI_MUST_CHECK int srv_body_sign_parse(const char *json, size_t len, char **csr_pem,
                                       struct pki_err *err);

/* {"Description": "...", "Policies": [{"Name": "operator"}]} or
 * {"Description": "...", "ServiceIdentities": [{"ServiceName": "web"}, ...]}
 * (exactly one of the two; Datacenters inside a ServiceIdentity is refused).
 * Description 0..PKI_TOKEN_DESC_MAX bytes of printable UTF-8, no control
 * characters. */
PKI_MUST_CHECK int srv_body_token_parse(const char *json, size_t len,
                                        struct pki_token_policy *policy,
                                        char description[PKI_TOKEN_DESC_MAX + 1],
                                        struct pki_err *err);

/* For tests (test_bodies.c, fuzz_bodies.c): the two paths of
 * srv_body_sign_parse, which tries the fast one first. err is not NULL.
 *
 * srv__body_sign_fast reads only the usual body without jansson: {"CSR":
 * "..."} with JSON whitespace between tokens and a string of bytes
 * 0x20..0x7e and the escapes \n \r \t \/ \\ \". For any other body it
 * returns SRV__BODY_NOT_FAST and touches neither *csr_pem nor err; otherwise
 * its result (code, message, string) is srv__body_sign_slow's.
 * srv__body_sign_slow is the jansson path, which reads every body. */
#define SRV__BODY_NOT_FAST 1
PKI_MUST_CHECK int srv__body_sign_fast(const char *json, size_t len, char **csr_pem,
                                       struct pki_err *err);
PKI_MUST_CHECK int srv__body_sign_slow(const char *json, size_t len, char **csr_pem,
                                       struct pki_err *err);

/* Internal to src/server: the strict JSON reading every body shares
 * (caconfig.c uses it too). Each fills err with a message naming the field.
 *
 * srv__json_body: exactly one JSON object of 1..max bytes, no duplicate keys,
 * no NUL in strings, nothing after it. A new reference, or NULL. */
PKI_MUST_CHECK json_t *srv__json_body(const char *json, size_t len, size_t max,
                                      struct pki_err *err);

/* Refuses a key of obj not in known (NULL-terminated); where names obj in
 * the message ("Config"; "" for the body itself). */
PKI_MUST_CHECK int srv__json_fields(const json_t *obj, const char *const known[],
                                    const char *where, struct pki_err *err);

/* *out = obj[key] (borrowed), or NULL when absent; PKI_ERR_INPUT if it is not
 * of type (JSON_TRUE: any boolean; JSON_REAL: any number). */
PKI_MUST_CHECK int srv__json_get(const json_t *obj, const char *key, json_type type,
                                 const char *where, json_t **out, struct pki_err *err);

/* Ends a failed parse: returns PKI_ERR_INTERNAL (out of memory) or
 * PKI_ERR_INPUT (anything else), sets err->code to it, and replaces every
 * byte of err's message that is not printable ASCII with '?' (messages quote
 * client input and go back out in JSON and into logs). err is not NULL. */
int srv__err_finish(int rc, struct pki_err *err);

#endif
