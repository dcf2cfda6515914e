/*
 * signer_test_util.h - helpers shared by the signer's unit tests
 * (test_signer.c, test_signer_pipe.c): start a signer, make a root and an
 * intermediate in it, build leaf requests and verify what comes back.
 * Header-only and static inline, as unit_util.h.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h>, <stdint.h> and <cmocka.h>.
 */
#ifndef PKI_SIGNER_TEST_UTIL_H
#define PKI_SIGNER_TEST_UTIL_H

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "leaf.h"
#include "signer.h"
#include "unit_util.h"

#define TD "11111111-2222-3333-4444-555555555555.consul"
#define TD_URI "spiffe://" TD
#define WEB_URI TD_URI "/ns/default/dc/dc1/svc/web"

static inline struct srv_signer *start_ok(const char *path)
{
    struct pki_err err = {0, ""};
    struct srv_signer *s = srv_signer_start(path, 1, &err);

    if (s == NULL)
        fail_msg("signer start: %s", err.msg);
    return s;
}

static inline void ca_req(struct srv_ca_req *r, const char *cn, int64_t ttl)
{
    memset(r, 0, sizeof(*r));
    r->spec.type = PKI_KEY_ECDSA;
    r->spec.bits = 256;
    r->common_name = cn;
    r->trust_domain = TD;
    r->ttl = ttl;
    r->now = T0;
}

/* One whole DER certificate, nothing after it. */
static inline X509 *der_x509(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);

    assert_non_null(x);
    assert_ptr_equal(p, der + len);
    return x;
}

static inline X509 *gen_root(struct srv_signer *s, const char *cn, struct srv_ca_made *m)
{
    struct pki_err err = {0, ""};
    struct srv_ca_req r;

    ca_req(&r, cn, 10 * YEAR);
    assert_ok(srv_signer_gen_root(s, &r, m, &err), err);
    return der_x509(m->cert.data, m->cert.len);
}

static inline X509 *gen_inter(struct srv_signer *s, const struct srv_ca_made *parent,
                              const char *cn, int64_t ttl, struct srv_ca_made *m)
{
    struct pki_err err = {0, ""};
    struct srv_ca_req r;

    ca_req(&r, cn, ttl);
    assert_ok(srv_signer_gen_intermediate(s, parent->key_id, parent->cert.data,
                                          parent->cert.len, &r, m, &err), err);
    return der_x509(m->cert.data, m->cert.len);
}

/* X509_V_OK, or why leaf does not verify under root (+ inter) at T0. */
static inline int verify(X509 *root, X509 *inter, X509 *leaf, int purpose)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = ut_stack(inter, NULL);
    int ok, e;

    assert_int_equal(X509_STORE_add_cert(store, root), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, chain), 1);
    X509_STORE_CTX_set_time(ctx, 0, T0);
    if (purpose != 0)
        assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
    ok = X509_verify_cert(ctx);
    e = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    sk_X509_free(chain);
    X509_STORE_free(store);
    return ok == 1 ? X509_V_OK : e;
}

/* k's SubjectPublicKeyInfo; the caller frees it with OPENSSL_free. */
static inline unsigned char *spki_der(EVP_PKEY *k, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);

    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

/* A service leaf for "web" of TD, valid 72 hours from T0 (backdated 60 s). */
static inline void leaf_req(struct pki_leaf_req *q, const unsigned char *spki, size_t len)
{
    memset(q, 0, sizeof(*q));
    q->profile = PKI_LEAF_SERVICE;
    q->spki = spki;
    q->spki_len = len;
    q->common_name = "web";
    q->uri = WEB_URI;
    q->not_before = T0 - 60;
    q->not_after = T0 + 72 * HOUR;
}

#endif
