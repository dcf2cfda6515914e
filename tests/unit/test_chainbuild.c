/* test_chainbuild.c - pki_chain_build (strict bundles and lenient chains)
 * and pki_chain_is_root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain.h"
#include "pem.h"
#include "subject.h"
#include "unit_util.h"

/* root R -> I1 (CA) -> I2 (intermediate, pathlen 0) -> leaf L;
 * X: another root with R's very name ("O=test, CN=test CA");
 * S: a stranger, a client certificate under X. */
static EVP_PKEY *kR, *kI1, *kI2, *kL, *kX;
static X509 *R, *I1, *I2, *L, *X, *S;

static int group_setup(void **state)
{
    (void)state;
    kR = ut_ec();
    kI1 = ut_ec();
    kI2 = ut_ec();
    kL = ut_ec();
    kX = ut_ec();
    R = ut_ca(kR, T0, 20 * YEAR);
    I1 = ut_leaf(PKI_ROLE_CA, "I1", kI1, R, kR, T0, 15 * YEAR);
    I2 = ut_leaf(PKI_ROLE_INTERMEDIATE, "I2", kI2, I1, kI1, T0, 10 * YEAR);
    L = ut_leaf(PKI_ROLE_NODE, "leaf", kL, I2, kI2, T0, YEAR);
    X = ut_ca(kX, T0, 20 * YEAR);
    S = ut_leaf(PKI_ROLE_CLIENT, "stranger", kL, X, kX, T0, YEAR);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(S);
    X509_free(X);
    X509_free(L);
    X509_free(I2);
    X509_free(I1);
    X509_free(R);
    EVP_PKEY_free(kR);
    EVP_PKEY_free(kI1);
    EVP_PKEY_free(kI2);
    EVP_PKEY_free(kL);
    EVP_PKEY_free(kX);
    return 0;
}

/* A pool (borrowed pointers; sk_X509_free it) from a NULL-ended list. */
static STACK_OF(X509) *pool_of(X509 *const *certs)
{
    STACK_OF(X509) *s = sk_X509_new_null();

    assert_non_null(s);
    for (; *certs != NULL; certs++)
        assert_true(sk_X509_push(s, *certs) > 0);
    return s;
}

/* Builds and compares with want (NULL-ended), pointer by pointer. */
static void expect_chain(X509 *leaf, X509 *const *pool_list, int strict, X509 *const *want)
{
    STACK_OF(X509) *pool = pool_of(pool_list), *out = NULL;
    struct pki_err err = {0, ""};
    int rc = pki_chain_build(leaf, pool, strict, &out, &err);
    int i;

    if (rc != PKI_OK)
        fail_msg("pki_chain_build(strict=%d): %d %s", strict, rc, err.msg);
    assert_non_null(out);
    for (i = 0; want[i] != NULL; i++) {
        char a[128], b[128];

        if (i >= sk_X509_num(out))
            fail_msg("chain has %d certificates, want more", sk_X509_num(out));
        if (sk_X509_value(out, i) != want[i]) {
            pki_subject_format(X509_get_subject_name(sk_X509_value(out, i)), a, sizeof(a));
            pki_subject_format(X509_get_subject_name(want[i]), b, sizeof(b));
            fail_msg("chain[%d] is \"%s\", want \"%s\"", i, a, b);
        }
    }
    assert_int_equal(sk_X509_num(out), i);
    pki_certs_free(out); /* drops the references it took, not ours */
    sk_X509_free(pool);
}

static void expect_refused(X509 *leaf, X509 *const *pool_list, int strict, int code,
                           const char *word, const char *word2)
{
    STACK_OF(X509) *pool = pool_of(pool_list), *out = NULL;
    struct pki_err err = {0, ""};
    int rc = pki_chain_build(leaf, pool, strict, &out, &err);

    if (rc != code || err.code != code || strstr(err.msg, word) == NULL ||
        (word2 != NULL && strstr(err.msg, word2) == NULL))
        fail_msg("rc %d code %d \"%s\", want %d with \"%s\" and \"%s\"", rc, err.code, err.msg,
                 code, word, word2 ? word2 : "");
    assert_null(out);
    sk_X509_free(pool);
}

/* ---- strict ---------------------------------------------------------------- */

static void strict_in_order(void **state)
{
    X509 *pool[] = {I2, I1, R, NULL};
    X509 *want[] = {L, I2, I1, R, NULL};

    (void)state;
    expect_chain(L, pool, 1, want);
    expect_chain(L, pool, 1, want); /* our certificates survived the first free */
}

static void strict_shuffled(void **state)
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    X509 *members[3] = {I2, I1, R};
    X509 *want[] = {L, I2, I1, R, NULL};
    size_t i;

    (void)state;
    for (i = 0; i < 6; i++) {
        X509 *pool[] = {members[perms[i][0]], members[perms[i][1]], members[perms[i][2]], NULL};

        expect_chain(L, pool, 1, want);
    }
}

static void strict_gap(void **state)
{
    X509 *no_i1[] = {I2, R, NULL};
    X509 *root_only[] = {R, NULL};
    X509 *none[] = {NULL};

    (void)state;
    expect_refused(L, no_i1, 1, PKI_ERR_POLICY, "gap", "\"CN=I2,O=test\" (its issuer is \"CN=I1");
    expect_refused(L, root_only, 1, PKI_ERR_POLICY, "gap", "CN=leaf,O=test");
    expect_refused(L, none, 1, PKI_ERR_POLICY, "gap", "CN=leaf");
}

static void strict_no_root(void **state)
{
    X509 *pool[] = {I2, I1, NULL};

    (void)state;
    expect_refused(L, pool, 1, PKI_ERR_POLICY, "gap", "\"CN=I1,O=test\" (its issuer is \"CN=test CA");
}

static void strict_extra_cert(void **state)
{
    X509 *stranger_last[] = {I2, I1, R, S, NULL};
    X509 *stranger_first[] = {S, I2, I1, R, NULL};
    /* X has the root's name: a same-named root that signed nothing here. */
    X509 *other_root_first[] = {X, I2, I1, R, NULL};
    X509 *other_root_last[] = {I2, I1, R, X, NULL};
    X509 *lone_leaf[] = {I2, I1, R, L, S, NULL};

    (void)state;
    expect_refused(L, stranger_last, 1, PKI_ERR_POLICY, "not part of the chain", "CN=stranger");
    expect_refused(L, stranger_first, 1, PKI_ERR_POLICY, "not part of the chain", "CN=stranger");
    expect_refused(L, other_root_first, 1, PKI_ERR_POLICY, "not part of the chain",
                   "\"CN=test CA,O=test\"");
    expect_refused(L, other_root_last, 1, PKI_ERR_POLICY, "not part of the chain",
                   "\"CN=test CA,O=test\"");
    expect_refused(L, lone_leaf, 1, PKI_ERR_POLICY, "not part of the chain", "CN=stranger");
}

/* Copies (separately parsed) of chain members, the leaf included, are fine
 * and appear once. */
static void strict_duplicates_allowed(void **state)
{
    X509 *d_i1 = X509_dup(I1), *d_r = X509_dup(R), *d_i2 = X509_dup(I2), *d_l = X509_dup(L);
    X509 *pool[] = {I2, d_i1, I1, R, d_r, d_i2, d_l, NULL};
    X509 *pool2[] = {d_l, d_r, R, I1, I2, R, NULL};
    X509 *want[] = {L, I2, I1, R, NULL};
    X509 *want2[] = {L, I2, I1, d_r, NULL}; /* the first copy found serves */

    (void)state;
    assert_non_null(d_i1);
    assert_non_null(d_r);
    assert_non_null(d_i2);
    assert_non_null(d_l);
    want[2] = d_i1; /* I1's first copy in the pool */
    expect_chain(L, pool, 1, want);
    expect_chain(L, pool2, 1, want2);
    X509_free(d_i1);
    X509_free(d_r);
    X509_free(d_i2);
    X509_free(d_l);
}

/* A root alone is a complete chain. */
static void strict_root_alone(void **state)
{
    X509 *none[] = {NULL};
    X509 *itself[] = {R, NULL};
    X509 *want[] = {R, NULL};
    X509 *more[] = {R, I1, NULL};

    (void)state;
    expect_chain(R, none, 1, want);
    expect_chain(R, itself, 1, want);
    expect_refused(R, more, 1, PKI_ERR_POLICY, "not part of the chain", "CN=I1");
}

/* ---- depth ------------------------------------------------------------------- */

/* A chain of n certificates: certs[0] a root, certs[n-1] the leaf. */
static void make_chain(int n, X509 **certs, EVP_PKEY **keys)
{
    char cn[32];
    int i;

    for (i = 0; i < n; i++) {
        keys[i] = ut_ec();
        snprintf(cn, sizeof(cn), "level %d", i);
        if (i == 0)
            certs[i] = ut_ca(keys[i], T0, 30 * YEAR);
        else
            certs[i] = ut_leaf(i == n - 1 ? PKI_ROLE_CLIENT : PKI_ROLE_CA, cn, keys[i],
                               certs[i - 1], keys[i - 1], T0, (30 - i) * YEAR);
    }
}

static void free_chain(int n, X509 **certs, EVP_PKEY **keys)
{
    int i;

    for (i = 0; i < n; i++) {
        X509_free(certs[i]);
        EVP_PKEY_free(keys[i]);
    }
}

static void depth_limit(void **state)
{
    X509 *certs[12], *pool[12], *want[12];
    EVP_PKEY *keys[12];
    int i;

    (void)state;
    /* 10 certificates (leaf, 8 CAs, root): fine. */
    make_chain(10, certs, keys);
    for (i = 0; i < 9; i++)
        pool[i] = certs[8 - i]; /* issuers from the leaf's up */
    pool[9] = NULL;
    for (i = 0; i < 10; i++)
        want[i] = certs[9 - i];
    want[10] = NULL;
    expect_chain(certs[9], pool, 1, want);
    free_chain(10, certs, keys);

    /* 11: refused. */
    make_chain(11, certs, keys);
    for (i = 0; i < 10; i++)
        pool[i] = certs[i]; /* root first, for a change */
    pool[10] = NULL;
    expect_refused(certs[10], pool, 1, PKI_ERR_POLICY, "longer than 10", NULL);
    free_chain(11, certs, keys);
}

/* ---- lenient ----------------------------------------------------------------- */

static void lenient_stops_where_the_pool_ends(void **state)
{
    X509 *only_i2[] = {I2, NULL}, *want_i2[] = {L, I2, NULL};
    X509 *none[] = {NULL}, *want_leaf[] = {L, NULL};
    X509 *no_i2[] = {I1, R, NULL};
    X509 *no_root[] = {I1, I2, NULL}, *want_no_root[] = {L, I2, I1, NULL};

    (void)state;
    expect_chain(L, only_i2, 0, want_i2);
    expect_chain(L, none, 0, want_leaf);
    expect_chain(L, no_i2, 0, want_leaf);
    expect_chain(L, no_root, 0, want_no_root);
}

static void lenient_ignores_extras(void **state)
{
    X509 *pool[] = {S, X, R, I2, L, I1, X, NULL};
    X509 *want[] = {L, I2, I1, R, NULL};
    X509 *from_i2[] = {I2, I1, R, NULL};

    (void)state;
    expect_chain(L, pool, 0, want);
    /* Starting from an intermediate (as create-node does for its issuer). */
    expect_chain(I2, pool, 0, from_i2);
}

/* ---- forged issuers ------------------------------------------------------------ */

/* F: I2's name and issuer, another key, properly signed by I1. */
static void forged_same_name_other_key(void **state)
{
    EVP_PKEY *kF = ut_ec();
    X509 *F = ut_leaf(PKI_ROLE_INTERMEDIATE, "I2", kF, I1, kI1, T0, 10 * YEAR);
    X509 *forged_only[] = {F, I1, R, NULL};
    X509 *both[] = {F, I2, I1, R, NULL};
    X509 *want_leaf[] = {L, NULL};
    X509 *want[] = {L, I2, I1, R, NULL};

    (void)state;
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(F), X509_get_subject_name(I2)), 0);
    expect_refused(L, forged_only, 1, PKI_ERR_POLICY, "gap", "CN=leaf");
    expect_chain(L, forged_only, 0, want_leaf);
    expect_refused(L, both, 1, PKI_ERR_POLICY, "not part of the chain", "CN=I2");
    expect_chain(L, both, 0, want);
    X509_free(F);
    EVP_PKEY_free(kF);
}

/* G: a copy of I2 (name, SKI and all) holding another key: only the
 * signature check tells it apart. */
static void forged_same_key_identifier(void **state)
{
    EVP_PKEY *kF = ut_ec();
    X509 *G = X509_dup(I2);
    X509 *forged_only[] = {NULL, I1, R, NULL};
    X509 *both[] = {NULL, I2, I1, R, NULL};
    X509 *want_leaf[] = {L, NULL};
    X509 *want[] = {L, I2, I1, R, NULL};

    (void)state;
    assert_non_null(G);
    assert_int_equal(X509_set_pubkey(G, kF), 1);
    assert_true(X509_sign(G, kI1, EVP_sha256()) > 0);
    G = ut_reparse(G);
    forged_only[0] = both[0] = G;
    assert_int_equal(X509_check_issued(G, L), X509_V_OK); /* names and identifiers agree */
    assert_int_equal(X509_verify(G, kI1), 1);             /* and I1 really signed it */
    expect_refused(L, forged_only, 1, PKI_ERR_POLICY, "gap", "CN=leaf");
    expect_chain(L, forged_only, 0, want_leaf);
    expect_refused(L, both, 1, PKI_ERR_POLICY, "not part of the chain", "CN=I2");
    expect_chain(L, both, 0, want);
    X509_free(G);
    EVP_PKEY_free(kF);
}

/* ---- pki_chain_is_root ----------------------------------------------------------- */

static void is_root(void **state)
{
    EVP_PKEY *kF = ut_ec();
    X509 *y = X509_dup(R), *v1 = X509_new();
    X509_NAME *n = ut_name(NULL, "v1 root");
    time_t t0 = T0;

    (void)state;
    assert_int_equal(pki_chain_is_root(R), 1);
    assert_int_equal(pki_chain_is_root(X), 1);
    assert_int_equal(pki_chain_is_root(I1), 0);
    assert_int_equal(pki_chain_is_root(I2), 0);
    assert_int_equal(pki_chain_is_root(L), 0);

    /* Self-issued (issuer = subject, AKI = SKI) but signed by another key. */
    assert_non_null(y);
    assert_int_equal(X509_set_pubkey(y, kF), 1);
    assert_true(X509_sign(y, kR, EVP_sha256()) > 0);
    y = ut_reparse(y);
    ERR_clear_error();
    assert_int_equal(pki_chain_is_root(y), 0);
    assert_int_equal(ERR_peek_error(), 0); /* leaves OpenSSL's queue clean */

    /* A version 1 self-signed certificate, without extensions. */
    assert_non_null(v1);
    assert_int_equal(X509_set_version(v1, X509_VERSION_1), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(v1), 7), 1);
    assert_int_equal(X509_set_subject_name(v1, n), 1);
    assert_int_equal(X509_set_issuer_name(v1, n), 1);
    assert_non_null(X509_time_adj_ex(X509_getm_notBefore(v1), 0, 0, &t0));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(v1), 1, 0, &t0));
    assert_int_equal(X509_set_pubkey(v1, kF), 1);
    assert_true(X509_sign(v1, kF, EVP_sha256()) > 0);
    v1 = ut_reparse(v1);
    assert_int_equal(pki_chain_is_root(v1), 1);

    X509_NAME_free(n);
    X509_free(v1);
    X509_free(y);
    EVP_PKEY_free(kF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strict_in_order),
        cmocka_unit_test(strict_shuffled),
        cmocka_unit_test(strict_gap),
        cmocka_unit_test(strict_no_root),
        cmocka_unit_test(strict_extra_cert),
        cmocka_unit_test(strict_duplicates_allowed),
        cmocka_unit_test(strict_root_alone),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(lenient_stops_where_the_pool_ends),
        cmocka_unit_test(lenient_ignores_extras),
        cmocka_unit_test(forged_same_name_other_key),
        cmocka_unit_test(forged_same_key_identifier),
        cmocka_unit_test(is_root),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
