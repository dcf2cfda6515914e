/* test_chain.c - verifying leaves against CA bundles; finding a CA by key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "chain.h"
#include "unit_util.h"

static EVP_PKEY *ka, *kb, *kleaf;
static X509 *ca_a, *ca_b, *leaf_a;

static int group_setup(void **state)
{
    (void)state;
    ka = ut_ec();
    kb = ut_ec();
    kleaf = ut_ec();
    /* ut_ca gives every CA the same subject, "O=test, CN=test CA". */
    ca_a = ut_ca(ka, T0, 10 * YEAR);
    ca_b = ut_ca(kb, T0, 10 * YEAR);
    leaf_a = ut_leaf(PKI_ROLE_NODE, "node", kleaf, ca_a, ka, T0, YEAR);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(leaf_a);
    X509_free(ca_a);
    X509_free(ca_b);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    EVP_PKEY_free(kleaf);
    return 0;
}

static void expect_verified(X509 *leaf, STACK_OF(X509) *cas)
{
    struct pki_err err = {0, ""};
    int rc = pki_chain_verify(leaf, cas, &err);

    if (rc != PKI_OK)
        fail_msg("verification failed: rc %d (%s)", rc, err.msg);
}

static void expect_rejected(X509 *leaf, STACK_OF(X509) *cas)
{
    struct pki_err err = {0, ""};

    assert_err(pki_chain_verify(leaf, cas, &err), err, PKI_ERR_POLICY,
               "not signed by any CA in the CA bundle");
}

static void right_ca(void **state)
{
    STACK_OF(X509) *cas = ut_stack(ca_a, NULL);

    (void)state;
    expect_verified(leaf_a, cas);
    expect_verified(ca_a, cas); /* a CA verifies against itself */
    sk_X509_free(cas);
}

static void wrong_ca(void **state)
{
    STACK_OF(X509) *cas = ut_stack(ca_b, NULL);

    (void)state;
    expect_rejected(leaf_a, cas);
    sk_X509_free(cas);
}

static void empty_bundle(void **state)
{
    STACK_OF(X509) *cas = sk_X509_new_null();

    (void)state;
    expect_rejected(leaf_a, cas);
    sk_X509_free(cas);
}

static void any_ca_in_bundle(void **state)
{
    STACK_OF(X509) *cas = ut_stack(ca_b, ca_a);

    (void)state;
    expect_verified(leaf_a, cas); /* the right CA second, behind a same-named one */
    sk_X509_free(cas);
    cas = ut_stack(ca_a, ca_b);
    expect_verified(leaf_a, cas);
    sk_X509_free(cas);
}

/* A leaf signed by another CA that has the right CA's name. */
static void forged_by_same_named_ca(void **state)
{
    X509 *forged = ut_leaf(PKI_ROLE_NODE, "node", kleaf, ca_b, kb, T0, YEAR);
    STACK_OF(X509) *cas = ut_stack(ca_a, NULL);

    (void)state;
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(forged), X509_get_subject_name(ca_a)), 0);
    expect_rejected(forged, cas);
    sk_X509_free(cas);
    X509_free(forged);
}

/* The genuine leaf's exact contents (issuer name, AKI and all) re-signed
 * with another key. */
static void forged_by_resigning(void **state)
{
    X509 *forged = X509_dup(leaf_a);
    EVP_PKEY *mallory = ut_ec();
    STACK_OF(X509) *cas = ut_stack(ca_a, NULL);

    (void)state;
    assert_non_null(forged);
    assert_true(X509_sign(forged, mallory, EVP_sha256()) > 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(forged), X509_get_issuer_name(leaf_a)),
                     0);
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(forged),
                                           X509_get0_authority_key_id(leaf_a)), 0);
    expect_rejected(forged, cas);

    /* Even a bundle that includes the forger's own (same-named) CA does not
     * help unless that CA is the real signer: here ca_b's key is not mallory. */
    sk_X509_push(cas, ca_b);
    expect_rejected(forged, cas);
    sk_X509_free(cas);
    X509_free(forged);
    EVP_PKEY_free(mallory);
}

/* A certificate signed by a non-CA certificate's key does not chain. */
static void signed_by_non_ca(void **state)
{
    EVP_PKEY *nk = ut_ec();
    X509 *node = ut_leaf(PKI_ROLE_NODE, "rogue", nk, ca_a, ka, T0, YEAR);
    X509 *x = X509_dup(leaf_a);
    STACK_OF(X509) *cas = ut_stack(node, ca_a);
    int i;

    (void)state;
    assert_non_null(x);
    i = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1);
    assert_true(i >= 0);
    X509_EXTENSION_free(X509_delete_ext(x, i));
    assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(node)), 1);
    assert_true(X509_sign(x, nk, EVP_sha256()) > 0);
    assert_int_equal(X509_verify(x, nk), 1); /* the signature itself is fine */
    expect_rejected(x, cas);
    sk_X509_free(cas);
    X509_free(x);
    X509_free(node);
    EVP_PKEY_free(nk);
}

static void intermediate_counts_as_anchor(void **state)
{
    EVP_PKEY *ik = ut_ec();
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *inter, *leaf;
    STACK_OF(X509) *cas;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.role = PKI_ROLE_CA;
    p.common_name = "intermediate";
    p.lifetime = 5 * YEAR;
    p.now = T0;
    p.subject_key = ik;
    p.issuer = ca_a;
    p.issuer_key = ka;
    inter = pki_cert_issue(&p, &err);
    if (inter == NULL)
        fail_msg("intermediate: %s", err.msg);
    inter = ut_reparse(inter);
    leaf = ut_leaf(PKI_ROLE_CLIENT, "alice", kleaf, inter, ik, T0, YEAR);

    cas = ut_stack(inter, NULL);
    expect_verified(leaf, cas);
    sk_X509_free(cas);
    cas = ut_stack(ca_a, inter);
    expect_verified(leaf, cas);
    sk_X509_free(cas);
    cas = ut_stack(ca_a, NULL); /* the intermediate is missing */
    expect_rejected(leaf, cas);
    sk_X509_free(cas);
    X509_free(leaf);
    X509_free(inter);
    EVP_PKEY_free(ik);
}

/* Dates are the caller's business: an expired or future CA still verifies. */
static void dates_not_checked(void **state)
{
    X509 *old_ca = ut_ca(ka, T0, DAY);
    X509 *old_leaf = ut_leaf(PKI_ROLE_NODE, "n", kleaf, old_ca, ka, T0, HOUR);
    time_t future = T0 + 200 * YEAR;
    X509 *new_ca = ut_ca(kb, future, YEAR);
    X509 *new_leaf = ut_leaf(PKI_ROLE_NODE, "n", kleaf, new_ca, kb, future, DAY);
    STACK_OF(X509) *cas = ut_stack(old_ca, new_ca);

    (void)state;
    expect_verified(old_leaf, cas);
    expect_verified(new_leaf, cas);
    sk_X509_free(cas);
    X509_free(old_leaf);
    X509_free(old_ca);
    X509_free(new_leaf);
    X509_free(new_ca);
}

static void other_key_types(void **state)
{
    EVP_PKEY *ed = ut_key(PKI_KEY_ED25519, 0), *p521 = ut_key(PKI_KEY_ECDSA, 521);
    X509 *ca = ut_ca(ed, T0, YEAR);
    X509 *leaf = ut_leaf(PKI_ROLE_CLIENT, "bob", p521, ca, ed, T0, DAY);
    STACK_OF(X509) *cas = ut_stack(ca, NULL), *wrong = ut_stack(ca_a, NULL);

    (void)state;
    expect_verified(leaf, cas);
    expect_rejected(leaf, wrong);
    sk_X509_free(cas);
    sk_X509_free(wrong);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(p521);
}

/* Certificates straight from pki_cert_issue, never encoded, verify too. */
static void fresh_certs_verify(void **state)
{
    EVP_PKEY *k = ut_ec();
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *ca, *leaf;
    STACK_OF(X509) *cas;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.role = PKI_ROLE_CA;
    p.common_name = "fresh";
    p.lifetime = YEAR;
    p.now = T0;
    p.subject_key = k;
    p.issuer_key = k;
    ca = pki_cert_issue(&p, &err);
    assert_non_null(ca);
    cas = ut_stack(ca, NULL);
    /* A leaf issued by the reparsed twin, checked against the fresh CA. */
    {
        X509 *twin = X509_dup(ca);

        assert_non_null(twin);
        twin = ut_reparse(twin);
        leaf = ut_leaf(PKI_ROLE_NODE, "n", kleaf, twin, k, T0, DAY);
        X509_free(twin);
    }
    expect_verified(leaf, cas);
    assert_int_equal(pki_chain_find_by_key(cas, k), 0);
    sk_X509_free(cas);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(k);
}

static void find_by_key(void **state)
{
    EVP_PKEY *other = ut_ec(), *ed = ut_key(PKI_KEY_ED25519, 0);
    X509 *ca_a2 = ut_ca(ka, T0 + DAY, YEAR); /* a second certificate for ka */
    STACK_OF(X509) *cas = ut_stack(ca_b, ca_a), *empty = sk_X509_new_null();

    (void)state;
    assert_int_equal(pki_chain_find_by_key(cas, kb), 0);
    assert_int_equal(pki_chain_find_by_key(cas, ka), 1);
    assert_int_equal(pki_chain_find_by_key(cas, other), -1);
    assert_int_equal(pki_chain_find_by_key(cas, ed), -1);
    assert_int_equal(pki_chain_find_by_key(cas, kleaf), -1);
    assert_int_equal(pki_chain_find_by_key(empty, ka), -1);
    sk_X509_push(cas, ca_a2);
    assert_int_equal(pki_chain_find_by_key(cas, ka), 1); /* the first match */
    sk_X509_free(cas);
    sk_X509_free(empty);
    X509_free(ca_a2);
    EVP_PKEY_free(other);
    EVP_PKEY_free(ed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(right_ca),
        cmocka_unit_test(wrong_ca),
        cmocka_unit_test(empty_bundle),
        cmocka_unit_test(any_ca_in_bundle),
        cmocka_unit_test(forged_by_same_named_ca),
        cmocka_unit_test(forged_by_resigning),
        cmocka_unit_test(signed_by_non_ca),
        cmocka_unit_test(intermediate_counts_as_anchor),
        cmocka_unit_test(dates_not_checked),
        cmocka_unit_test(other_key_types),
        cmocka_unit_test(fresh_certs_verify),
        cmocka_unit_test(find_by_key),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
