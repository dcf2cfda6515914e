/*
 * key.h - private keys: the supported types and sizes, generation, PEM and
 * PKCS#8 encoding, decoding, and matching a key to a certificate.
 *
 * EVP_PKEY pointers returned here belong to the caller (EVP_PKEY_free).
 * Encoded keys are returned in a struct pki_buf, wiped by pki_buf_free.
 */
#ifndef PKI_KEY_H
#define PKI_KEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "err.h"

enum pki_key_type {
    PKI_KEY_RSA,
    PKI_KEY_ECDSA,
    PKI_KEY_ED25519,
};

struct pki_key_spec {
    enum pki_key_type type;
    int bits; /* RSA modulus bits, or the ECDSA curve size; 0 for Ed25519 */
};

/* Reads a key type name ("rsa", "ecdsa", "ed25519") and a size (NULL for the
 * type's default: RSA 2048, ECDSA 256) into out, refusing sizes the type does
 * not support (RSA 2048/3072/4096/8192, ECDSA 256/384/521, none for Ed25519). */
PKI_MUST_CHECK int pki_key_spec_parse(const char *type, const char *size,
                                      struct pki_key_spec *out, struct pki_err *err);

/* Generates a new key. */
PKI_MUST_CHECK EVP_PKEY *pki_key_generate(const struct pki_key_spec *spec,
                                          struct pki_err *err);

/* Encodes key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") into out. */
PKI_MUST_CHECK int pki_key_to_pem(EVP_PKEY *key, struct pki_buf *out, struct pki_err *err);

/* Encodes key as unencrypted PKCS#8 DER into out (what Java's PKCS8EncodedKeySpec reads). */
PKI_MUST_CHECK int pki_key_to_pkcs8_der(EVP_PKEY *key, struct pki_buf *out,
                                        struct pki_err *err);

/* Decodes the first private key in PEM text: PKCS#8 ("PRIVATE KEY") holding
 * an RSA, EC or Ed25519 key, or the traditional "RSA PRIVATE KEY" and "EC
 * PRIVATE KEY" forms. Encrypted keys are refused: nothing prompts for a
 * passphrase. */
PKI_MUST_CHECK EVP_PKEY *pki_key_from_pem(const unsigned char *pem, size_t len,
                                          struct pki_err *err);

/* Decodes every key of a PEM key list (k3s's service.key holds several):
 * each block must be an unencrypted private key, at most max of them; a
 * truncated block is an error. out[0..*n) belong to the caller. */
PKI_MUST_CHECK int pki_keys_from_pem(const unsigned char *pem, size_t len, EVP_PKEY **out,
                                     size_t max, size_t *n, struct pki_err *err);

/* PKI_OK for the keys pkictl signs with: RSA of 2048 bits or more, EC on
 * P-256, P-384 or P-521, and Ed25519; PKI_ERR_POLICY naming the problem
 * otherwise (SM2, brainpool, short RSA, ...). */
PKI_MUST_CHECK int pki_key_check_supported(EVP_PKEY *key, struct pki_err *err);

/* 1 if key is the private half of cert's public key, else 0. */
int pki_key_matches_cert(EVP_PKEY *key, X509 *cert);

/* Describes a key for people: "RSA 2048", "ECDSA P-256", "Ed25519". */
void pki_key_describe(EVP_PKEY *key, char *buf, size_t len);

/* The digest to sign with for this key: SHA-256, SHA-384 for P-384, SHA-512
 * for P-521, and NULL for Ed25519, which hashes by its own scheme. */
const EVP_MD *pki_key_sign_digest(EVP_PKEY *key);

#endif
