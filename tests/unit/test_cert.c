/* test_cert.c - issuing certificates and reading their facts back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "unit_util.h"

static EVP_PKEY *k_ca, *k_rsa, *k_p384, *k_p521, *k_ed;

static int group_setup(void **state)
{
    (void)state;
    k_ca = ut_ec();
    k_rsa = ut_key(PKI_KEY_RSA, 2048);
    k_p384 = ut_key(PKI_KEY_ECDSA, 384);
    k_p521 = ut_key(PKI_KEY_ECDSA, 521);
    k_ed = ut_key(PKI_KEY_ED25519, 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k_ca);
    EVP_PKEY_free(k_rsa);
    EVP_PKEY_free(k_p384);
    EVP_PKEY_free(k_p521);
    EVP_PKEY_free(k_ed);
    return 0;
}

/* -1 when absent, else 0/1 for the critical flag. */
static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void params(struct pki_cert_params *p, enum pki_cert_role role, const char *cn,
                   EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, time_t now,
                   int64_t lifetime)
{
    memset(p, 0, sizeof(*p));
    p->role = role;
    p->organization = "test";
    p->common_name = cn;
    p->subject_key = key;
    p->issuer = issuer;
    p->issuer_key = issuer_key;
    p->now = now;
    p->lifetime = lifetime;
}

static void check_aki_is_ski(X509 *leaf, X509 *issuer)
{
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);

    assert_non_null(aki);
    assert_non_null(ski);
    assert_int_equal(ASN1_OCTET_STRING_cmp(aki, ski), 0);
}

/* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
static void check_ski_method1(X509 *x)
{
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    assert_non_null(bits);
    assert_non_null(ski);
    assert_int_equal(EVP_Digest(bits->data, (size_t)bits->length, md, &mdlen, EVP_sha1(), NULL),
                     1);
    assert_int_equal(ASN1_STRING_length(ski), (int)mdlen);
    assert_memory_equal(ASN1_STRING_get0_data(ski), md, mdlen);
}

static void ca_extensions(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, 10 * YEAR);
    char cn[64];
    X509_NAME *subj;
    time_t nb, na;
    struct pki_err err = {0, ""};
    BASIC_CONSTRAINTS *bc;

    (void)state;
    assert_int_equal(X509_get_version(ca), X509_VERSION_3);
    assert_int_equal(pki_cert_is_ca(ca), 1);
    assert_int_equal(ext_critical(ca, NID_basic_constraints), 1);
    bc = X509_get_ext_d2i(ca, NID_basic_constraints, NULL, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    assert_null(bc->pathlen);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(ext_critical(ca, NID_key_usage), 1);
    assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
    assert_int_equal(ext_critical(ca, NID_ext_key_usage), -1);
    assert_int_equal(ext_critical(ca, NID_subject_alt_name), -1);
    assert_int_equal(ext_critical(ca, NID_subject_key_identifier), 0);
    assert_int_equal(ext_critical(ca, NID_authority_key_identifier), 0);
    check_aki_is_ski(ca, ca);
    check_ski_method1(ca);

    /* Self-signed: issuer == subject, signature by its own key. */
    subj = X509_get_subject_name(ca);
    assert_int_equal(X509_NAME_cmp(subj, X509_get_issuer_name(ca)), 0);
    assert_int_equal(X509_verify(ca, k_ca), 1);
    assert_int_equal(X509_check_issued(ca, ca), X509_V_OK);
    pki_cert_common_name(ca, cn, sizeof(cn));
    assert_string_equal(cn, "test CA");
    assert_int_equal(X509_NAME_entry_count(subj), 2);
    assert_int_equal(X509_NAME_get_index_by_NID(subj, NID_organizationName, -1), 0);

    assert_ok(pki_cert_validity(ca, &nb, &na, &err), err);
    assert_int_equal(nb, T0 - PKI_CERT_BACKDATE_SECONDS);
    assert_int_equal(na, T0 + 10 * YEAR);
    assert_int_equal(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256);
    assert_true(EVP_PKEY_eq(X509_get0_pubkey(ca), k_ca) == 1);
    X509_free(ca);
}

/* What pki_cert_issue returns is usable as it is, without a trip through
 * DER: its public key can be read, matched, and it can sign as an issuer. */
static void issued_cert_usable_in_memory(void **state)
{
    struct leaf_key {
        const char *name;
        EVP_PKEY **key;
    } keys[] = {{"p256", &k_ca}, {"rsa", &k_rsa}, {"ed25519", &k_ed}};
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *ca, *leaf;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        EVP_PKEY *k = *keys[i].key;

        params(&p, PKI_ROLE_CA, "fresh CA", k, NULL, k, T0, YEAR);
        ca = pki_cert_issue(&p, &err);
        assert_non_null(ca);
        if (X509_get0_pubkey(ca) == NULL)
            fail_msg("%s: X509_get0_pubkey() of a freshly issued certificate is NULL", keys[i].name);
        if (pki_key_matches_cert(k, ca) != 1)
            fail_msg("%s: pki_key_matches_cert(its own key, fresh cert) is 0", keys[i].name);
        params(&p, PKI_ROLE_NODE, "node", k_p384, ca, k, T0, DAY);
        leaf = pki_cert_issue(&p, &err);
        if (leaf == NULL)
            fail_msg("%s: a fresh CA cannot issue: %s", keys[i].name, err.msg);
        assert_int_equal(X509_verify(leaf, k), 1);
        X509_free(leaf);
        X509_free(ca);
    }
}

static void serial_numbers(void **state)
{
    X509 *a = ut_ca(k_ca, T0, YEAR), *b = ut_ca(k_ca, T0, YEAR);
    const ASN1_INTEGER *sa = X509_get0_serialNumber(a), *sb = X509_get0_serialNumber(b);
    BIGNUM *bn = ASN1_INTEGER_to_BN(sa, NULL);

    (void)state;
    assert_non_null(bn);
    assert_false(BN_is_negative(bn));
    assert_int_equal(BN_num_bits(bn), 127); /* 16 octets, top bit clear, next set */
    assert_int_equal(BN_num_bytes(bn), 16);
    assert_int_equal(ASN1_STRING_length(sa), 16);
    assert_int_not_equal(ASN1_INTEGER_cmp(sa, sb), 0);
    BN_free(bn);
    X509_free(a);
    X509_free(b);
}

struct leaf_case {
    const char *name;
    EVP_PKEY **key;
    int rsa;
};

static void check_leaf(X509 *leaf, X509 *ca, EVP_PKEY *ca_key, enum pki_cert_role role, int rsa,
                       const char *what)
{
    uint32_t ku = X509_get_key_usage(leaf);
    uint32_t want_ku = KU_DIGITAL_SIGNATURE | (rsa ? KU_KEY_ENCIPHERMENT : 0);
    uint32_t want_eku = role == PKI_ROLE_NODE ? (XKU_SSL_SERVER | XKU_SSL_CLIENT) : XKU_SSL_CLIENT;

    if (X509_verify(leaf, ca_key) != 1)
        fail_msg("%s: signature does not verify with the CA key", what);
    assert_int_equal(X509_check_issued(ca, leaf), X509_V_OK);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca)), 0);
    assert_int_equal(pki_cert_is_ca(leaf), 0);
    assert_int_equal(ext_critical(leaf, NID_basic_constraints), 1);
    assert_int_equal(ext_critical(leaf, NID_key_usage), 1);
    if (ku != want_ku)
        fail_msg("%s: key usage 0x%x, want 0x%x", what, ku, want_ku);
    assert_int_equal(ext_critical(leaf, NID_ext_key_usage), 0);
    if (X509_get_extended_key_usage(leaf) != want_eku)
        fail_msg("%s: EKU 0x%x, want 0x%x", what, X509_get_extended_key_usage(leaf), want_eku);
    check_aki_is_ski(leaf, ca);
    check_ski_method1(leaf);
    assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
}

/* Leaves of every key type under an ECDSA CA, both roles. */
static void leaves_of_each_key_type(void **state)
{
    struct leaf_case cases[] = {
        {"rsa", &k_rsa, 1}, {"p256", &k_ca, 0}, {"p384", &k_p384, 0},
        {"p521", &k_p521, 0}, {"ed25519", &k_ed, 0},
    };
    EVP_PKEY *ca_key = ut_ec();
    X509 *ca = ut_ca(ca_key, T0, 10 * YEAR);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *node = ut_leaf(PKI_ROLE_NODE, "node", *cases[i].key, ca, ca_key, T0, YEAR);
        X509 *client = ut_leaf(PKI_ROLE_CLIENT, "alice", *cases[i].key, ca, ca_key, T0, YEAR);

        check_leaf(node, ca, ca_key, PKI_ROLE_NODE, cases[i].rsa, cases[i].name);
        check_leaf(client, ca, ca_key, PKI_ROLE_CLIENT, cases[i].rsa, cases[i].name);
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(node), *cases[i].key), 1);
        X509_free(node);
        X509_free(client);
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
}

/* CAs of every key type, each signing with the right algorithm. */
static void cas_of_each_key_type(void **state)
{
    struct {
        EVP_PKEY **key;
        int sig_nid;
    } cases[] = {
        {&k_rsa, NID_sha256WithRSAEncryption},
        {&k_ca, NID_ecdsa_with_SHA256},
        {&k_p384, NID_ecdsa_with_SHA384},
        {&k_p521, NID_ecdsa_with_SHA512},
        {&k_ed, NID_ED25519},
    };
    EVP_PKEY *leaf_key = ut_ec();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *ca = ut_ca(*cases[i].key, T0, 10 * YEAR);
        X509 *leaf = ut_leaf(PKI_ROLE_NODE, "node", leaf_key, ca, *cases[i].key, T0, YEAR);

        assert_int_equal(X509_get_signature_nid(ca), cases[i].sig_nid);
        assert_int_equal(X509_get_signature_nid(leaf), cases[i].sig_nid);
        assert_int_equal(X509_verify(ca, *cases[i].key), 1);
        check_leaf(leaf, ca, *cases[i].key, PKI_ROLE_NODE, 0, "leaf");
        X509_free(leaf);
        X509_free(ca);
    }
    EVP_PKEY_free(leaf_key);
}

static void leaf_validity_and_names(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, 10 * YEAR);
    X509 *leaf = ut_leaf(PKI_ROLE_CLIENT, "alice", k_ed, ca, k_ca, T0 + DAY, 30 * DAY);
    struct pki_err err = {0, ""};
    time_t nb, na;
    char cn[64];

    (void)state;
    assert_ok(pki_cert_validity(leaf, &nb, &na, &err), err);
    assert_int_equal(nb, T0 + DAY - 3600);
    assert_int_equal(na, T0 + DAY + 30 * DAY);
    pki_cert_common_name(leaf, cn, sizeof(cn));
    assert_string_equal(cn, "alice");
    pki_cert_common_name(leaf, cn, 3);
    assert_string_equal(cn, "al");
    assert_int_equal(ext_critical(leaf, NID_subject_alt_name), -1); /* no hosts, no SAN */
    X509_free(leaf);
    X509_free(ca);
}

static void subject_without_organization(void **state)
{
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *x;

    (void)state;
    params(&p, PKI_ROLE_CA, "bare", k_ca, NULL, k_ca, T0, YEAR);
    p.organization = NULL;
    x = pki_cert_issue(&p, &err);
    assert_non_null(x);
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
    assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_organizationName,
                                                -1), -1);
    X509_free(x);
}

static void sans_in_order(void **state)
{
    static const char *const texts[] = {"node1.example.com", "10.0.0.1", "*.example.com",
                                        "[2001:db8::1]", "localhost"};
    static const char *const want[] = {"node1.example.com", "10.0.0.1", "*.example.com",
                                       "2001:db8::1", "localhost"};
    struct pki_host hosts[5];
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    char out[6][PKI_NAME_DNS_MAX + 1];
    X509 *ca = ut_ca(k_ca, T0, 10 * YEAR), *leaf;
    GENERAL_NAMES *gens;
    size_t i, n;
    int type;

    (void)state;
    for (i = 0; i < 5; i++)
        assert_ok(pki_host_parse(texts[i], &hosts[i], &err), err);
    params(&p, PKI_ROLE_NODE, "node", k_p384, ca, k_ca, T0, YEAR);
    p.hosts = hosts;
    p.nhosts = 5;
    leaf = pki_cert_issue(&p, &err);
    if (leaf == NULL)
        fail_msg("issue failed: %s", err.msg);
    assert_int_equal(ext_critical(leaf, NID_subject_alt_name), 0);
    n = pki_cert_hosts(leaf, out, 6);
    assert_int_equal(n, 5);
    for (i = 0; i < n; i++)
        assert_string_equal(out[i], want[i]);
    assert_int_equal(pki_cert_hosts(leaf, out, 2), 2);
    assert_string_equal(out[1], "10.0.0.1");

    /* The wire types: DNS names as dNSName, addresses as iPAddress. */
    gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    assert_int_equal(sk_GENERAL_NAME_num(gens), 5);
    GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, 0), &type);
    assert_int_equal(type, GEN_DNS);
    GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, 1), &type);
    assert_int_equal(type, GEN_IPADD);
    assert_int_equal(ASN1_STRING_length(sk_GENERAL_NAME_value(gens, 1)->d.iPAddress), 4);
    assert_int_equal(ASN1_STRING_length(sk_GENERAL_NAME_value(gens, 3)->d.iPAddress), 16);
    GENERAL_NAMES_free(gens);

    /* The leaf verifies against the hosts it names. */
    assert_int_equal(X509_check_host(leaf, "node1.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(leaf, "x.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "10.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "10.0.0.2", 0), 0);
    X509_free(leaf);
    X509_free(ca);
}

static void cert_hosts_none(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, YEAR);
    char out[2][PKI_NAME_DNS_MAX + 1];

    (void)state;
    assert_int_equal(pki_cert_hosts(ca, out, 2), 0);
    X509_free(ca);
}

static void common_name_is_sanitised(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, YEAR);
    X509 *leaf = ut_leaf(PKI_ROLE_CLIENT, "evil\x1b[2Jname\x07", k_ed, ca, k_ca, T0, DAY);
    X509 *empty = X509_new();
    char cn[64];

    (void)state;
    pki_cert_common_name(leaf, cn, sizeof(cn));
    assert_string_equal(cn, "evil?[2Jname?");
    pki_cert_common_name(empty, cn, sizeof(cn));
    assert_string_equal(cn, "");
    X509_free(empty);
    X509_free(leaf);
    X509_free(ca);
}

static void intermediate_ca(void **state)
{
    EVP_PKEY *ik = ut_ec();
    X509 *root = ut_ca(k_ca, T0, 10 * YEAR), *inter, *leaf;
    struct pki_cert_params p;
    struct pki_err err = {0, ""};

    (void)state;
    params(&p, PKI_ROLE_CA, "intermediate", ik, root, k_ca, T0, 5 * YEAR);
    inter = pki_cert_issue(&p, &err);
    if (inter == NULL)
        fail_msg("intermediate: %s", err.msg);
    inter = ut_reparse(inter);
    assert_int_equal(pki_cert_is_ca(inter), 1);
    assert_int_equal(X509_verify(inter, k_ca), 1);
    check_aki_is_ski(inter, root);
    leaf = ut_leaf(PKI_ROLE_NODE, "node", k_p384, inter, ik, T0, YEAR);
    assert_int_equal(X509_verify(leaf, ik), 1);
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(ik);
}

static void long_lifetime(void **state)
{
    /* Go's maximum duration: notAfter in 2316, as GeneralizedTime. */
    int64_t max = INT64_C(9223372036);
    X509 *ca = ut_ca(k_ca, T0, max);
    struct pki_err err = {0, ""};
    time_t nb, na;
    char when[40];

    (void)state;
    assert_ok(pki_cert_validity(ca, &nb, &na, &err), err);
    assert_int_equal(na, T0 + max);
    assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(ca)), V_ASN1_GENERALIZEDTIME);
    pki_time_format(na, 1, when, sizeof(when));
    assert_string_equal(when, "2316-02-24");
    X509_free(ca);
}

static void time_format_styles(void **state)
{
    char buf[40], small[8];

    (void)state;
    pki_time_format(T0, 0, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14 22:13:20 UTC");
    pki_time_format(T0, 1, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14");
    pki_time_format(T0, 2, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14T22:13:20Z");
    pki_time_format(0, 2, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    pki_time_format(T0, 0, small, sizeof(small)); /* does not fit */
    assert_string_equal(small, "?");
}

/* ---- refusals --------------------------------------------------------- */

static void refuse_expired_ca(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, DAY);
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    EVP_PKEY *leaf_key = ut_ec();

    (void)state;
    params(&p, PKI_ROLE_NODE, "node", leaf_key, ca, k_ca, T0 + 2 * DAY, HOUR);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "expired");
    assert_msg_has(err, "2023-11-15 22:13:20 UTC");

    /* At the very second of expiry it is expired already. */
    p.now = T0 + DAY;
    err.code = 0;
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "expired");
    EVP_PKEY_free(leaf_key);
    X509_free(ca);
}

static void refuse_ca_not_yet_valid(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, YEAR);
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *ok;

    (void)state;
    /* notBefore is T0 - 1h: one second earlier is refused, that second is fine. */
    params(&p, PKI_ROLE_CLIENT, "u", k_ed, ca, k_ca, T0 - 3600 - 1, DAY);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "not valid yet");
    p.now = T0 - 3600;
    ok = pki_cert_issue(&p, &err);
    assert_non_null(ok);
    X509_free(ok);
    X509_free(ca);
}

static void refuse_leaf_outliving_ca(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, YEAR); /* expires 2024-11-13 22:13:20 UTC */
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *ok;
    time_t nb, na;

    (void)state;
    params(&p, PKI_ROLE_NODE, "node", k_p384, ca, k_ca, T0, 2 * YEAR);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "expires on 2024-11-13 22:13:20 UTC");
    assert_msg_has(err, "2025-11-13 22:13:20 UTC"); /* the requested end */
    assert_msg_has(err, "rotate the CA");

    /* Ending one second after the CA is refused; ending with it is fine. */
    params(&p, PKI_ROLE_NODE, "node", k_p384, ca, k_ca, T0 + DAY, YEAR - DAY + 1);
    err.code = 0;
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "2024-11-13 22:13:20 UTC");
    p.lifetime = YEAR - DAY;
    ok = pki_cert_issue(&p, &err);
    if (ok == NULL)
        fail_msg("ending with the CA refused: %s", err.msg);
    assert_ok(pki_cert_validity(ok, &nb, &na, &err), err);
    assert_int_equal(na, T0 + YEAR);
    X509_free(ok);
    X509_free(ca);
}

static void refuse_non_ca_issuer(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, 10 * YEAR);
    EVP_PKEY *nk = ut_ec();
    X509 *node = ut_leaf(PKI_ROLE_NODE, "node", nk, ca, k_ca, T0, 5 * YEAR);
    struct pki_cert_params p;
    struct pki_err err = {0, ""};

    (void)state;
    params(&p, PKI_ROLE_CLIENT, "mallory", k_ed, node, nk, T0, DAY);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "not a CA");
    X509_free(node);
    X509_free(ca);
    EVP_PKEY_free(nk);
}

static void refuse_mismatched_issuer_key(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, 10 * YEAR);
    EVP_PKEY *other = ut_ec();
    struct pki_cert_params p;
    struct pki_err err = {0, ""};

    (void)state;
    params(&p, PKI_ROLE_NODE, "node", k_p384, ca, other, T0, DAY);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "CA key does not match");
    /* A key of another type does not match either. */
    p.issuer_key = k_ed;
    err.code = 0;
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "does not match");
    EVP_PKEY_free(other);
    X509_free(ca);
}

static void refuse_incomplete_params(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, YEAR);
    struct pki_cert_params p;
    struct pki_err err = {0, ""};

    (void)state;
    params(&p, PKI_ROLE_NODE, NULL, k_p384, ca, k_ca, T0, DAY);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_USAGE);
    assert_msg_has(err, "incomplete");

    params(&p, PKI_ROLE_NODE, "node", NULL, ca, k_ca, T0, DAY);
    err.code = 0;
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_USAGE);

    params(&p, PKI_ROLE_NODE, "node", k_p384, ca, NULL, T0, DAY);
    err.code = 0;
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_USAGE);
    X509_free(ca);
}

static void refuse_bad_lifetime(void **state)
{
    X509 *ca = ut_ca(k_ca, T0, YEAR);
    struct pki_cert_params p;
    struct pki_err err = {0, ""};

    (void)state;
    params(&p, PKI_ROLE_CA, "ca", k_ca, NULL, k_ca, T0, 0);
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_USAGE);
    assert_msg_has(err, "lifetime must be positive");

    params(&p, PKI_ROLE_NODE, "node", k_p384, ca, k_ca, T0, -DAY);
    err.code = 0;
    assert_null(pki_cert_issue(&p, &err));
    assert_int_equal(err.code, PKI_ERR_USAGE);
    assert_msg_has(err, "lifetime must be positive");
    X509_free(ca);
}

/* A lifetime the certificate cannot carry is refused, never cut short. */
static void refuse_unrepresentable_lifetime(void **state)
{
    static const int64_t lifetimes[] = {
        INT64_MAX / 2,
        (int64_t)3000000 * YEAR,             /* past the year 9999 */
        (((int64_t)1 << 32) + 1) * DAY,      /* 2^32 + 1 days: wraps to 1 day as an int */
    };
    struct pki_cert_params p;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i++) {
        struct pki_err err = {0, ""};
        X509 *x;

        params(&p, PKI_ROLE_CA, "ca", k_ca, NULL, k_ca, T0, lifetimes[i]);
        x = pki_cert_issue(&p, &err);
        if (x != NULL) {
            time_t nb, na;

            assert_ok(pki_cert_validity(x, &nb, &na, &err), err);
            X509_free(x);
            fail_msg("lifetime %lld s accepted; notAfter is %lld s after now",
                     (long long)lifetimes[i], (long long)(na - T0));
        }
        assert_int_equal(err.code, PKI_ERR_INPUT);
        assert_msg_has(err, "cannot represent the validity period");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ca_extensions),
        cmocka_unit_test(issued_cert_usable_in_memory),
        cmocka_unit_test(serial_numbers),
        cmocka_unit_test(leaves_of_each_key_type),
        cmocka_unit_test(cas_of_each_key_type),
        cmocka_unit_test(leaf_validity_and_names),
        cmocka_unit_test(subject_without_organization),
        cmocka_unit_test(sans_in_order),
        cmocka_unit_test(cert_hosts_none),
        cmocka_unit_test(common_name_is_sanitised),
        cmocka_unit_test(intermediate_ca),
        cmocka_unit_test(long_lifetime),
        cmocka_unit_test(time_format_styles),
        cmocka_unit_test(refuse_expired_ca),
        cmocka_unit_test(refuse_ca_not_yet_valid),
        cmocka_unit_test(refuse_leaf_outliving_ca),
        cmocka_unit_test(refuse_non_ca_issuer),
        cmocka_unit_test(refuse_mismatched_issuer_key),
        cmocka_unit_test(refuse_incomplete_params),
        cmocka_unit_test(refuse_bad_lifetime),
        cmocka_unit_test(refuse_unrepresentable_lifetime),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
