/* buf.c - owned byte buffers that are wiped when freed. */
#include "buf.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <string.h>

int pki_buf_set(struct pki_buf *out, const void *data, size_t len, struct pki_err *err)
{
    pki_buf_free(out);
    return pki_buf_append(out, data, len, err);
}

int pki_buf_append(struct pki_buf *b, const void *data, size_t len, struct pki_err *err)
{
    unsigned char *p;

    if (len > SIZE_MAX - b->len - 1)
        return pki_err_set(err, PKI_ERR_INTERNAL, "buffer too large");
    /* Allocate anew rather than realloc, so no unwiped copy is left behind. */
    p = OPENSSL_malloc(b->len + len + 1);
    if (p == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (b->len > 0)
        memcpy(p, b->data, b->len);
    if (len > 0)
        memcpy(p + b->len, data, len);
    p[b->len + len] = '\0'; /* convenient for text; not counted in len */
    len += b->len;
    pki_buf_free(b);
    b->data = p;
    b->len = len;
    return PKI_OK;
}

int pki_buf_append_bio(struct pki_buf *b, BIO *bio, const char *what, struct pki_err *err)
{
    char *data;
    long len = BIO_get_mem_data(bio, &data);

    if (len <= 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "encoding the %s produced nothing", what);
    return pki_buf_append(b, data, (size_t)len, err);
}

void pki_buf_free(struct pki_buf *b)
{
    if (b->data != NULL)
        OPENSSL_clear_free(b->data, b->len + 1);
    b->data = NULL;
    b->len = 0;
}
