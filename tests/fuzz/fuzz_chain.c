/* fuzz_chain.c - pki_chain_build over the certificates of a PEM bundle.
 *
 * Input: one mode byte (odd: strict, as for a bundle the user assembles;
 * even: lenient), then PEM for pki_pem_read_certs. The first certificate is
 * the leaf, the others are the pool. Seeds start with 'S' (strict) or 'L'. */
#include "fuzz_common.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "chain.h"
#include "pem.h"

static int count_in(STACK_OF(X509) *certs, X509 *x)
{
    int i, n = 0;

    for (i = 0; i < sk_X509_num(certs); i++)
        n += X509_cmp(sk_X509_value(certs, i), x) == 0;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    STACK_OF(X509) *certs, *pool, *chain = NULL;
    unsigned char *pem;
    X509 *leaf;
    int i, n, strict, rc;

    if (size < 1)
        return 0;
    strict = data[0] & 1;
    /* An exact-size heap copy so ASan catches any read past the end. */
    pem = malloc(size);
    if (pem == NULL)
        abort();
    memcpy(pem, data + 1, size - 1);
    certs = pki_pem_read_certs(pem, size - 1, &err);
    free(pem);
    if (certs == NULL) {
        ERR_clear_error();
        return 0; /* fuzz_pem_certs covers the PEM reader */
    }
    leaf = sk_X509_value(certs, 0);
    pool = sk_X509_new_null();
    FUZZ_CHECK(pool != NULL);
    for (i = 1; i < sk_X509_num(certs); i++)
        FUZZ_CHECK(sk_X509_push(pool, sk_X509_value(certs, i)) > 0);

    memset(&err, 0, sizeof(err));
    rc = pki_chain_build(leaf, pool, strict, &chain, &err);
    if (rc == PKI_OK) {
        FUZZ_CHECK(chain != NULL);
        n = sk_X509_num(chain);
        FUZZ_CHECK(n >= 1 && n <= PKI_CHAIN_DEPTH_MAX);
        FUZZ_CHECK(sk_X509_value(chain, 0) == leaf);
        for (i = 0; i < n; i++) {
            X509 *x = sk_X509_value(chain, i);

            FUZZ_CHECK(x != NULL);
            /* Every member is the leaf or comes from the pool, and appears once. */
            FUZZ_CHECK(i == 0 || count_in(pool, x) > 0);
            FUZZ_CHECK(count_in(chain, x) == 1);
            /* Each member is issued by the next, and only the top may be a root. */
            if (i + 1 < n) {
                FUZZ_CHECK(X509_check_issued(sk_X509_value(chain, i + 1), x) == X509_V_OK);
                FUZZ_CHECK(X509_verify(x, X509_get0_pubkey(sk_X509_value(chain, i + 1))) == 1);
                FUZZ_CHECK(!pki_chain_is_root(x));
            }
        }
        if (strict) {
            FUZZ_CHECK(pki_chain_is_root(sk_X509_value(chain, n - 1)));
            /* Strict: every certificate given is part of the chain. */
            for (i = 0; i < sk_X509_num(pool); i++)
                FUZZ_CHECK(count_in(chain, sk_X509_value(pool, i)) == 1);
        }
        pki_certs_free(chain);
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
        /* Lenient mode stops where the pool ends; only depth can fail it. */
        if (!strict)
            FUZZ_CHECK(rc == PKI_ERR_POLICY || rc == PKI_ERR_INTERNAL);
    }
    sk_X509_free(pool);
    pki_certs_free(certs);
    ERR_clear_error();
    return 0;
}
