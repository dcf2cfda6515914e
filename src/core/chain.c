/* chain.c - verifying a leaf against a bundle of CA certificates. */
#include "chain.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "key.h"
#include "pem.h"
#include "subject.h"

#include <string.h>

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

int pki_chain_verify_with(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *anchors,
                          struct pki_err *err)
{
    X509_STORE *store = store_of(anchors);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = PKI_OK;

    if (store == NULL || ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        rc = pki_err_set_ssl(err, PKI_ERR_INTERNAL, "cannot set up chain verification");
    } else if (X509_verify_cert(ctx) != 1) {
        rc = pki_err_set(err, PKI_ERR_POLICY, "not signed by any CA in the CA bundle (%s)",
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

int pki_chain_verify(X509 *leaf, STACK_OF(X509) *cas, struct pki_err *err)
{
    return pki_chain_verify_with(leaf, cas, cas, err);
}

int pki_chain_find_by_key(STACK_OF(X509) *cas, EVP_PKEY *key)
{
    int i;

    for (i = 0; i < sk_X509_num(cas); i++)
        if (pki_key_matches_cert(key, sk_X509_value(cas, i)))
            return i;
    return -1;
}

int pki_chain_is_root(X509 *cert)
{
    int ss = X509_self_signed(cert, 1);

    ERR_clear_error();
    return ss == 1;
}

/* 1 if candidate issued cert: names and key identifiers agree
 * (X509_check_issued), and candidate's key verifies cert's signature. */
int pki_chain_issued_by(X509 *cert, X509 *candidate)
{
    EVP_PKEY *pub = X509_get0_pubkey(candidate);
    int ok = X509_check_issued(candidate, cert) == X509_V_OK && pub != NULL &&
             X509_verify(cert, pub) == 1;

    ERR_clear_error();
    return ok;
}

static X509 *find_issuer(X509 *cert, STACK_OF(X509) *pool, STACK_OF(X509) *chain)
{
    int i;

    for (i = 0; i < sk_X509_num(pool); i++) {
        X509 *c = sk_X509_value(pool, i);

        if (!pki_certs_contain(chain, c) && pki_chain_issued_by(cert, c))
            return c;
    }
    return NULL;
}

static int push_ref(STACK_OF(X509) *chain, X509 *x, struct pki_err *err)
{
    if (X509_up_ref(x) != 1 || sk_X509_push(chain, x) <= 0) {
        X509_free(x);
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    return PKI_OK;
}

/* In strict mode: the chain must end in a root and hold every pool member. */
static int check_complete(STACK_OF(X509) *chain, STACK_OF(X509) *pool, struct pki_err *err)
{
    X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);
    char name[256], issuer[256];
    int i;

    if (!pki_chain_is_root(top)) {
        pki_subject_format(X509_get_subject_name(top), name, sizeof(name));
        pki_subject_format(X509_get_issuer_name(top), issuer, sizeof(issuer));
        return pki_err_set(err, PKI_ERR_POLICY, "the chain has a gap: no certificate given "
                           "issued \"%.200s\" (its issuer is \"%.200s\")", name, issuer);
    }
    for (i = 0; i < sk_X509_num(pool); i++) {
        if (!pki_certs_contain(chain, sk_X509_value(pool, i))) {
            pki_subject_format(X509_get_subject_name(sk_X509_value(pool, i)), name, sizeof(name));
            return pki_err_set(err, PKI_ERR_POLICY, "certificate \"%s\" is not part of the "
                               "chain", name);
        }
    }
    return PKI_OK;
}

int pki_chain_build(X509 *leaf, STACK_OF(X509) *pool, int strict, STACK_OF(X509) **out,
                    struct pki_err *err)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *cur = leaf, *next;
    int rc;

    if (chain == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = push_ref(chain, leaf, err);
    while (rc == PKI_OK && !pki_chain_is_root(cur) && (next = find_issuer(cur, pool, chain))) {
        if (sk_X509_num(chain) >= PKI_CHAIN_DEPTH_MAX) {
            rc = pki_err_set(err, PKI_ERR_POLICY, "the chain is longer than %d certificates",
                             PKI_CHAIN_DEPTH_MAX);
            break;
        }
        rc = push_ref(chain, next, err);
        cur = next;
    }
    if (rc == PKI_OK && strict)
        rc = check_complete(chain, pool, err);
    if (rc != PKI_OK) {
        pki_certs_free(chain);
        return rc;
    }
    *out = chain;
    return PKI_OK;
}
