/*
 * keywrap.h - CA private keys encrypted for storage ("wrapped") under a
 * 32-byte store key with AES-256-GCM.
 *
 * Blob layout: "PKW1" || nonce (12 random bytes) || ciphertext || tag (16).
 * The key id (its SubjectKeyIdentifier in colon hex) is the additional
 * authenticated data, so a blob moved onto another key id fails to open.
 */
#ifndef PKI_KEYWRAP_H
#define PKI_KEYWRAP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define PKI_STORE_KEY_LEN 32
#define PKI_KEYWRAP_OVERHEAD (4 + 12 + 16)

/* Encrypts len bytes at plain into out (empty on entry; the caller frees). */
PKI_MUST_CHECK int pki_keywrap_seal(const unsigned char store_key[PKI_STORE_KEY_LEN],
                                    const char *key_id, const unsigned char *plain,
                                    size_t len, struct pki_buf *out, struct pki_err *err);

/* Decrypts a blob into out (wiped by pki_buf_free). A wrong store key, a
 * changed byte or another key id: PKI_ERR_INPUT, "wrapped key ... does not
 * open: wrong store key or altered data". */
PKI_MUST_CHECK int pki_keywrap_open(const unsigned char store_key[PKI_STORE_KEY_LEN],
                                    const char *key_id, const unsigned char *blob,
                                    size_t len, struct pki_buf *out, struct pki_err *err);

#endif
