/*
 * buf.h - an owned byte buffer. The owner frees it with pki_buf_free, which
 * wipes the bytes first: buffers routinely hold private keys.
 */
#ifndef PKI_BUF_H
#define PKI_BUF_H

#include <stddef.h>

#include <openssl/types.h>

#include "err.h"

struct pki_buf {
    unsigned char *data; /* owned; NULL when empty */
    size_t len;
};

/* Takes a copy of len bytes at data into out (out must be empty). */
PKI_MUST_CHECK int pki_buf_set(struct pki_buf *out, const void *data, size_t len,
                               struct pki_err *err);

/* Appends len bytes at data to b. */
PKI_MUST_CHECK int pki_buf_append(struct pki_buf *b, const void *data, size_t len,
                                  struct pki_err *err);

/* Appends everything a memory BIO holds (BIO_s_mem or BIO_s_secmem) to b;
 * what names the content for the error message. */
PKI_MUST_CHECK int pki_buf_append_bio(struct pki_buf *b, BIO *bio, const char *what,
                                      struct pki_err *err);

/* Wipes and frees b's bytes and leaves b empty; b may be empty already. */
void pki_buf_free(struct pki_buf *b);

#endif
