/* chain.c - verifying a leaf against a bundle of CA certificates. */
#include "chain.h"

#include <openssl/x509_vfy.h>

#include "key.h"

static X509_STORE *store_of(STACK_OF(X509) *cas)
{
    X509_STORE *store = X509_STORE_new();
    int i;

    if (store == NULL)
        return NULL;
    for (i = 0; i < sk_X509_num(cas); i++) {
        if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1) {
            X509_STORE_free(store);
            return NULL;
        }
    }
    X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
    return store;
}

int pki_chain_verify(X509 *leaf, STACK_OF(X509) *cas, struct pki_err *err)
{
    X509_STORE *store = store_of(cas);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = PKI_OK;

    if (store == NULL || ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, cas) != 1) {
        rc = pki_err_set_ssl(err, PKI_ERR_INTERNAL, "cannot set up chain verification");
    } else if (X509_verify_cert(ctx) != 1) {
        rc = pki_err_set(err, PKI_ERR_POLICY, "not signed by any CA in the CA bundle (%s)",
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

int pki_chain_find_by_key(STACK_OF(X509) *cas, EVP_PKEY *key)
{
    int i;

    for (i = 0; i < sk_X509_num(cas); i++)
        if (pki_key_matches_cert(key, sk_X509_value(cas, i)))
            return i;
    return -1;
}
