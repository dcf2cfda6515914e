/* fuzz_pem_certs.c - pki_pem_read_certs on arbitrary bytes. */
#include "fuzz_common.h"

#include <openssl/err.h>

#include "pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    struct pki_buf out = {0};
    STACK_OF(X509) *certs, *again;
    int i, n;

    /* Bytes, not a string: the parser takes a length. Use an exact-size heap
     * copy so ASan catches any read past the end. */
    unsigned char *pem = malloc(size ? size : 1);

    if (pem == NULL)
        abort();
    if (size > 0)
        memcpy(pem, data, size);
    certs = pki_pem_read_certs(pem, size, &err);
    if (certs != NULL) {
        n = sk_X509_num(certs);
        FUZZ_CHECK(n >= 1 && n <= PKI_PEM_CERTS_MAX);
        /* What was read writes back out as PEM that reads again. */
        for (i = 0; i < n; i++) {
            FUZZ_CHECK(sk_X509_value(certs, i) != NULL);
            FUZZ_CHECK(pki_pem_append_cert(sk_X509_value(certs, i), &out, &err) == PKI_OK);
        }
        again = pki_pem_read_certs(out.data, out.len, &err);
        FUZZ_CHECK(again != NULL);
        FUZZ_CHECK(sk_X509_num(again) == n);
        for (i = 0; i < n; i++)
            FUZZ_CHECK(X509_cmp(sk_X509_value(certs, i), sk_X509_value(again, i)) == 0);
        pki_certs_free(again);
        pki_buf_free(&out);
        pki_certs_free(certs);
    } else {
        FUZZ_CHECK(err.code < 0);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(pem);
    ERR_clear_error();
    return 0;
}
