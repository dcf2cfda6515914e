/* ca_util.c - small certificate helpers of ca stage, rotate and prune
 * (docs/rotation.md). */


#include <string.h>

#include <openssl/evp.h>

#include "ca_int.h"
#include "cluster_int.h"
#include "pem.h"

int ca_push_up(STACK_OF(X509) *s, X509 *x)
{
    if (X509_up_ref(x) != 1)
        return PKI_ERR_INTERNAL;
    if (sk_X509_push(s, x) <= 0) {
        X509_free(x);
        return PKI_ERR_INTERNAL;
    }
    return PKI_OK;
}

int ca_stack_pem(STACK_OF(X509) *s, struct pki_buf *out, struct pki_err *err)
{
    int k, rc = PKI_OK;

    for (k = 0; rc == PKI_OK && k < sk_X509_num(s); k++)
        rc = pki_pem_append_cert(sk_X509_value(s, k), out, err);
    return rc;
}

int ca_valid_at(X509 *x, time_t now)
{
    time_t nb, na;

    return pki_cert_validity(x, &nb, &na, NULL) == PKI_OK && now >= nb && now < na;
}

time_t ca_not_after(X509 *x)
{
    time_t nb, na = 0;

    return pki_cert_validity(x, &nb, &na, NULL) == PKI_OK ? na : 0;
}

/* The top CA (no parent) above CA a. */
int ca_top_of(const struct pki_manifest *m, int a)
{
    while (m->cas[a].parent >= 0)
        a = m->cas[a].parent;
    return a;
}

void ca_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 32;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        memset(md, 0, sizeof(md));
    cl_hex(md, 32, out);
}

int ca_cert_hex(X509 *x, char out[65])
{
    unsigned char md[32];

    if (cl_cert_sha256(x, md) != PKI_OK)
        return PKI_ERR_CRYPTO;
    cl_hex(md, 32, out);
    return PKI_OK;
}

void ca_free_keys(EVP_PKEY **keys, size_t n)
{
    while (n > 0)
        EVP_PKEY_free(keys[--n]);
}

/* The PEM of every certificate of certs that is not in gone, appended to out;
 * *changed says if one was left out. */
int ca_without(STACK_OF(X509) *certs, STACK_OF(X509) *gone, struct pki_buf *out,
               struct pki_err *err, int *changed)
{
    int k, rc = PKI_OK;

    *changed = 0;
    for (k = 0; rc == PKI_OK && k < sk_X509_num(certs); k++) {
        X509 *x = sk_X509_value(certs, k);

        if (pki_certs_contain(gone, x))
            *changed = 1;
        else
            rc = pki_pem_append_cert(x, out, err);
    }
    return rc;
}
