/* test_leaf.c - the leaf fast path: certificates OpenSSL accepts, with exactly
 * the extensions leaf.h promises, and every refusal of a bad request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <sys/wait.h>

#include "leaf.h"
#include "spiffe.h"
#include "unit_util.h"

#define TD_URI "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web"

enum { K_P256, K_P384, K_P521, K_RSA, K_ED, K_COUNT };
static EVP_PKEY *keys[K_COUNT];
static X509 *cas[K_COUNT];

static int group_setup(void **state)
{
    (void)state;
    keys[K_P256] = ut_ec();
    keys[K_P384] = ut_key(PKI_KEY_ECDSA, 384);
    keys[K_P521] = ut_key(PKI_KEY_ECDSA, 521);
    keys[K_RSA] = ut_key(PKI_KEY_RSA, 2048);
    keys[K_ED] = ut_key(PKI_KEY_ED25519, 0);
    for (int i = 0; i < K_COUNT; i++)
        cas[i] = ut_ca(keys[i], T0, 10 * YEAR); /* valid T0-1h .. T0+10y */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < K_COUNT; i++) {
        X509_free(cas[i]);
        EVP_PKEY_free(keys[i]);
    }
    return 0;
}

/* SubjectPublicKeyInfo DER of key (OPENSSL_free it). */
static unsigned char *spki_of(EVP_PKEY *key, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);

    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

static const char *const dns2[] = {"web.example.com", "*.web.example.com"};
static const unsigned char ips2[2][16] = {{127, 0, 0, 1}, {0xfd, 0, [15] = 1}};
static const size_t ip_lens2[2] = {4, 16};

/* The request every test starts from: a Connect leaf for "web". */
static void base_req(struct pki_leaf_req *r, const unsigned char *spki, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->profile = PKI_LEAF_SERVICE;
    r->spki = spki;
    r->spki_len = len;
    r->common_name = "web";
    r->uri = TD_URI;
    r->dns = dns2;
    r->ndns = 2;
    r->ips = ips2;
    r->ip_lens = ip_lens2;
    r->nips = 2;
    r->not_before = T0 - 60;
    r->not_after = T0 + 72 * HOUR;
}

static X509 *parse_whole(const struct pki_buf *der)
{
    const unsigned char *p = der->data;
    X509 *x = d2i_X509(NULL, &p, (long)der->len);

    assert_non_null(x);
    assert_ptr_equal(p, der->data + der->len);
    return x;
}

static X509 *issue_ok(struct pki_leaf_issuer *iss, const struct pki_leaf_req *r,
                      unsigned char serial[PKI_LEAF_SERIAL_LEN])
{
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    X509 *x;

    assert_ok(pki_leaf_issue(iss, r, &der, serial, &err), err);
    x = parse_whole(&der);
    pki_buf_free(&der);
    return x;
}

static int verify_purpose(X509 *ca, X509 *leaf, int purpose, time_t at)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok, e;

    assert_non_null(store);
    assert_non_null(ctx);
    assert_int_equal(X509_STORE_add_cert(store, ca), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
    X509_STORE_CTX_set_time(ctx, 0, at);
    assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
    ok = X509_verify_cert(ctx);
    e = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok == 1 ? X509_V_OK : (e != X509_V_OK ? e : -1);
}

static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* Each extension decodes and re-encodes to the same bytes: our DER is the
 * DER OpenSSL writes. */
static void check_ext_der(X509 *x)
{
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
        const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);
        const unsigned char *p = ASN1_STRING_get0_data(v);
        unsigned char *out = NULL;
        void *obj;
        int n;

        assert_non_null(m);
        assert_non_null(m->it);
        obj = ASN1_item_d2i(NULL, &p, ASN1_STRING_length(v), ASN1_ITEM_ptr(m->it));
        assert_non_null(obj);
        n = ASN1_item_i2d(obj, &out, ASN1_ITEM_ptr(m->it));
        assert_int_equal(n, ASN1_STRING_length(v));
        assert_memory_equal(out, ASN1_STRING_get0_data(v), (size_t)n);
        OPENSSL_free(out);
        ASN1_item_free(obj, ASN1_ITEM_ptr(m->it));
    }
}

static void check_sans(X509 *x, int with_uri, size_t ndns, size_t nips)
{
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const ASN1_STRING *s;
    int type, k = 0;

    assert_non_null(g);
    assert_int_equal(sk_GENERAL_NAME_num(g), (with_uri ? 1 : 0) + (int)(ndns + nips));
    if (with_uri) {
        s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, k++), &type);
        assert_int_equal(type, GEN_URI);
        assert_string_equal((const char *)ASN1_STRING_get0_data(s), TD_URI);
    }
    for (size_t i = 0; i < ndns; i++) {
        s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, k++), &type);
        assert_int_equal(type, GEN_DNS);
        assert_string_equal((const char *)ASN1_STRING_get0_data(s), dns2[i]);
    }
    for (size_t i = 0; i < nips; i++) {
        s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, k++), &type);
        assert_int_equal(type, GEN_IPADD);
        assert_int_equal(ASN1_STRING_length(s), (int)ip_lens2[i]);
        assert_memory_equal(ASN1_STRING_get0_data(s), ips2[i], ip_lens2[i]);
    }
    GENERAL_NAMES_free(g);
}

static uint32_t want_ku(EVP_PKEY *subject)
{
    if (EVP_PKEY_is_a(subject, "EC"))
        return KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT;
    if (EVP_PKEY_is_a(subject, "RSA"))
        return KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
    return KU_DIGITAL_SIGNATURE;
}

static int want_sig_nid(int issuer)
{
    static const int nids[K_COUNT] = {NID_ecdsa_with_SHA256, NID_ecdsa_with_SHA384,
                                      NID_ecdsa_with_SHA512, NID_sha256WithRSAEncryption,
                                      NID_ED25519};
    return nids[issuer];
}

/* Everything leaf.h promises about a service leaf from base_req. */
static void check_leaf(X509 *leaf, int issuer, EVP_PKEY *subject,
                       const unsigned char serial[PKI_LEAF_SERIAL_LEN])
{
    X509 *ca = cas[issuer];
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(leaf);
    const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);
    unsigned char md[SHA_DIGEST_LENGTH];
    X509_NAME *subj = X509_get_subject_name(leaf);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(leaf);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);

    assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
    assert_int_equal(X509_verify(leaf, keys[issuer]), 1);
    assert_int_equal(X509_check_issued(ca, leaf), X509_V_OK);
    assert_int_equal(X509_get_signature_nid(leaf), want_sig_nid(issuer));
    assert_int_equal(verify_purpose(ca, leaf, X509_PURPOSE_SSL_SERVER, T0), X509_V_OK);
    assert_int_equal(verify_purpose(ca, leaf, X509_PURPOSE_SSL_CLIENT, T0), X509_V_OK);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), subject), 1);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca)), 0);
    /* Subject: one CN, a UTF8String. */
    assert_int_equal(X509_NAME_entry_count(subj), 1);
    assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(subj, 0))),
                     NID_commonName);
    assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, 0))),
                     V_ASN1_UTF8STRING);
    /* Exactly six extensions, with the promised criticality. */
    assert_int_equal(X509_get_ext_count(leaf), 6);
    assert_int_equal(ext_critical(leaf, NID_basic_constraints), 1);
    assert_int_equal(ext_critical(leaf, NID_key_usage), 1);
    assert_int_equal(ext_critical(leaf, NID_ext_key_usage), 0);
    assert_int_equal(ext_critical(leaf, NID_subject_key_identifier), 0);
    assert_int_equal(ext_critical(leaf, NID_authority_key_identifier), 0);
    assert_int_equal(ext_critical(leaf, NID_subject_alt_name), 0);
    assert_true(X509_get_extension_flags(leaf) & EXFLAG_BCONS);
    assert_false(X509_get_extension_flags(leaf) & EXFLAG_CA);
    assert_int_equal(X509_get_key_usage(leaf), want_ku(subject));
    assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER | XKU_SSL_CLIENT);
    /* SKI: RFC 5280 4.2.1.2 method 1; AKI: the issuer's SKI. */
    SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), md);
    assert_non_null(ski);
    assert_int_equal(ASN1_STRING_length(ski), SHA_DIGEST_LENGTH);
    assert_memory_equal(ASN1_STRING_get0_data(ski), md, SHA_DIGEST_LENGTH);
    assert_non_null(aki);
    assert_int_equal(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca)), 0);
    check_sans(leaf, 1, 2, 2);
    check_ext_der(leaf);
    /* Serial: 16 bytes, positive, the one returned. */
    assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
    assert_int_equal(ASN1_STRING_length(sn), PKI_LEAF_SERIAL_LEN);
    assert_memory_equal(ASN1_STRING_get0_data(sn), serial, PKI_LEAF_SERIAL_LEN);
    assert_true(serial[0] != 0 && serial[0] < 0x80);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), T0 - 60), 0);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf), T0 + 72 * HOUR), 0);
}

/* Issuers EC P-256/P-384/P-521, RSA-2048, Ed25519 x subjects EC P-256,
 * RSA-2048, Ed25519. */
static void issues_every_key_combination(void **state)
{
    static const int subjects[] = {K_P256, K_RSA, K_ED, K_P384};
    struct pki_err err = {0, ""};
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_req r;

    (void)state;
    for (int i = 0; i < K_COUNT; i++) {
        struct pki_leaf_issuer *iss = pki_leaf_issuer_new(cas[i], keys[i], &err);

        if (iss == NULL)
            fail_msg("issuer %d: %s", i, err.msg);
        for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
            size_t len;
            unsigned char *spki = spki_of(keys[subjects[s]], &len);
            X509 *leaf;

            base_req(&r, spki, len);
            leaf = issue_ok(iss, &r, serial);
            check_leaf(leaf, i, keys[subjects[s]], serial);
            X509_free(leaf);
            OPENSSL_free(spki);
        }
        pki_leaf_issuer_free(iss);
    }
}

static struct pki_leaf_issuer *p256_issuer(void)
{
    struct pki_err err = {0, ""};
    struct pki_leaf_issuer *iss = pki_leaf_issuer_new(cas[K_P256], keys[K_P256], &err);

    if (iss == NULL)
        fail_msg("issuer: %s", err.msg);
    return iss;
}

static void serials_differ_and_issuer_is_reusable(void **state)
{
    unsigned char s1[PKI_LEAF_SERIAL_LEN], s2[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_issuer *iss = p256_issuer();
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_ED], &len);
    X509 *a, *b;

    (void)state;
    base_req(&r, spki, len);
    a = issue_ok(iss, &r, s1);
    b = issue_ok(iss, &r, s2);
    assert_memory_not_equal(s1, s2, PKI_LEAF_SERIAL_LEN);
    assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)) != 0,
                     1);
    assert_int_equal(X509_verify(b, keys[K_P256]), 1);
    for (int i = 0; i < 50; i++) { /* the issuer's contexts survive many uses */
        X509_free(b);
        b = issue_ok(iss, &r, s2);
        assert_int_equal(ASN1_STRING_length(X509_get0_serialNumber(b)), PKI_LEAF_SERIAL_LEN);
        assert_int_equal(X509_verify(b, keys[K_P256]), 1);
    }
    X509_free(a);
    X509_free(b);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
}

/* Serials come from a pool drawn ahead: 200 leaves (several refills) have
 * 200 different serials, and a forked child, which copies the pool, draws
 * its own instead of handing out the serial its parent hands out next. */
static void serials_unique_across_refills_and_fork(void **state)
{
    static unsigned char seen[200][PKI_LEAF_SERIAL_LEN];
    unsigned char mine[PKI_LEAF_SERIAL_LEN], childs[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_issuer *iss = p256_issuer();
    struct pki_leaf_req r;
    size_t len, i, j;
    unsigned char *spki = spki_of(keys[K_ED], &len);
    int fds[2], status;
    pid_t pid;
    X509 *x;

    (void)state;
    base_req(&r, spki, len);
    for (i = 0; i < 200; i++) {
        X509_free(issue_ok(iss, &r, seen[i]));
        for (j = 0; j < i; j++)
            assert_memory_not_equal(seen[i], seen[j], PKI_LEAF_SERIAL_LEN);
    }
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct pki_err err = {0, ""};
        struct pki_buf der = {NULL, 0};

        close(fds[0]);
        if (pki_leaf_issue(iss, &r, &der, childs, &err) != PKI_OK ||
            write(fds[1], childs, sizeof(childs)) != (ssize_t)sizeof(childs))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    x = issue_ok(iss, &r, mine);
    assert_int_equal(read(fds[0], childs, sizeof(childs)), (ssize_t)sizeof(childs));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_not_equal(mine, childs, PKI_LEAF_SERIAL_LEN);
    close(fds[0]);
    X509_free(x);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
}

static void server_tls_profile_is_server_auth_only(void **state)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_issuer *iss = p256_issuer();
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_RSA], &len);
    X509 *x;

    (void)state;
    base_req(&r, spki, len);
    r.profile = PKI_LEAF_SERVER_TLS;
    r.common_name = "pkictl server";
    r.uri = NULL;
    x = issue_ok(iss, &r, serial);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    assert_int_equal(verify_purpose(cas[K_P256], x, X509_PURPOSE_SSL_SERVER, T0), X509_V_OK);
    assert_int_equal(verify_purpose(cas[K_P256], x, X509_PURPOSE_SSL_CLIENT, T0),
                     X509_V_ERR_INVALID_PURPOSE);
    check_sans(x, 0, 2, 2);
    check_ext_der(x);
    X509_free(x);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
}

/* RFC 5280 4.2.1.6: with an empty subject the SAN is critical. */
static void empty_subject_makes_san_critical(void **state)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_issuer *iss = p256_issuer();
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_P256], &len);
    X509 *x;

    (void)state;
    base_req(&r, spki, len);
    r.common_name = NULL;
    r.ndns = r.nips = 0;
    x = issue_ok(iss, &r, serial);
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
    assert_int_equal(ext_critical(x, NID_subject_alt_name), 1);
    check_sans(x, 1, 0, 0);
    assert_int_equal(verify_purpose(cas[K_P256], x, X509_PURPOSE_SSL_CLIENT, T0), X509_V_OK);
    X509_free(x);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
}

static void check_time(const ASN1_TIME *t, int type, const char *text)
{
    assert_int_equal(ASN1_STRING_type(t), type);
    assert_int_equal(ASN1_STRING_length(t), (int)strlen(text));
    assert_memory_equal(ASN1_STRING_get0_data(t), text, strlen(text));
}

/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
static void times_switch_to_generalized_in_2050(void **state)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();
    X509 *ca = ut_ca(k, T0, 40 * YEAR), *x;
    struct pki_leaf_issuer *iss = pki_leaf_issuer_new(ca, k, &err);
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_P256], &len);

    (void)state;
    assert_non_null(iss);
    base_req(&r, spki, len);
    r.not_before = T0;                       /* 2023-11-14 22:13:20 */
    r.not_after = (time_t)2524607999;        /* 2049-12-31 23:59:59 */
    x = issue_ok(iss, &r, serial);
    check_time(X509_get0_notBefore(x), V_ASN1_UTCTIME, "231114221320Z");
    check_time(X509_get0_notAfter(x), V_ASN1_UTCTIME, "491231235959Z");
    X509_free(x);
    r.not_after = (time_t)2524608000;        /* 2050-01-01 00:00:00 */
    x = issue_ok(iss, &r, serial);
    check_time(X509_get0_notAfter(x), V_ASN1_GENERALIZEDTIME, "20500101000000Z");
    assert_int_equal(X509_verify(x, k), 1);
    X509_free(x);
    r.not_after = (time_t)2556143999;        /* 2050-12-31 23:59:59 */
    x = issue_ok(iss, &r, serial);
    check_time(X509_get0_notAfter(x), V_ASN1_GENERALIZEDTIME, "20501231235959Z");
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), r.not_after), 0);
    X509_free(x);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
    X509_free(ca);
    EVP_PKEY_free(k);
}

/* An issuer certificate without an SKI: the AKI names its key by method 1. */
static void issuer_without_ski_uses_key_hash(void **state)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN], md[SHA_DIGEST_LENGTH];
    struct pki_err err = {0, ""};
    X509 *ca = X509_dup(cas[K_P256]), *x;
    struct pki_leaf_issuer *iss;
    const ASN1_BIT_STRING *bits;
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_P256], &len);
    int i;

    (void)state;
    assert_non_null(ca);
    while ((i = X509_get_ext_by_NID(ca, NID_subject_key_identifier, -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(ca, i));
    assert_true(X509_sign(ca, keys[K_P256], EVP_sha256()) > 0);
    ca = ut_reparse(ca);
    assert_null(X509_get0_subject_key_id(ca));
    iss = pki_leaf_issuer_new(ca, keys[K_P256], &err);
    assert_non_null(iss);
    base_req(&r, spki, len);
    x = issue_ok(iss, &r, serial);
    bits = X509_get0_pubkey_bitstr(ca);
    SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), md);
    assert_memory_equal(ASN1_STRING_get0_data(X509_get0_authority_key_id(x)), md, sizeof(md));
    assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
    X509_free(x);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
    X509_free(ca);
}

static void issuer_reports_not_after(void **state)
{
    struct pki_leaf_issuer *iss = p256_issuer();

    (void)state;
    assert_int_equal(pki_leaf_issuer_not_after(iss), T0 + 10 * YEAR);
    pki_leaf_issuer_free(iss);
}

static void issuer_refusals(void **state)
{
    struct pki_err err = {0, ""};
    X509 *leaf = ut_leaf(PKI_ROLE_SERVER, "srv", keys[K_P384], cas[K_P256], keys[K_P256], T0,
                         DAY);

    (void)state;
    assert_null(pki_leaf_issuer_new(cas[K_P256], keys[K_P384], &err));
    assert_err(err.code, err, PKI_ERR_POLICY, "does not match");
    assert_null(pki_leaf_issuer_new(leaf, keys[K_P384], &err));
    assert_err(err.code, err, PKI_ERR_POLICY, "not a CA");
    assert_null(pki_leaf_issuer_new(NULL, keys[K_P384], &err));
    assert_err(err.code, err, PKI_ERR_USAGE, "no certificate");
    X509_free(leaf);
}

/* Issues r under the P-256 issuer and expects a refusal. */
static void expect_refused(struct pki_leaf_req *r, int code, const char *word)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN] = {0};
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_leaf_issuer *iss = p256_issuer();

    assert_err(pki_leaf_issue(iss, r, &der, serial, &err), err, code, word);
    assert_null(der.data);
    pki_leaf_issuer_free(iss);
}

static void refuses_bad_names(void **state)
{
    static const char *const bad_dns[] = {"10.0.0.1"};
    static const char *const bad_dns2[] = {"bad..name"};
    static const size_t bad_len[] = {5};
    const char *many[PKI_LEAF_DNS_MAX + 1];
    char cn[66], uri[600];
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_P256], &len);

    (void)state;
    memset(cn, 'a', 65);
    cn[65] = '\0';
    base_req(&r, spki, len);
    r.common_name = cn;
    expect_refused(&r, PKI_ERR_INPUT, "1 to 64");
    cn[64] = '\0';
    r.ndns = r.nips = 0;
    r.uri = NULL;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_issuer *iss = p256_issuer();
    X509 *x = issue_ok(iss, &r, serial); /* 64 bytes is fine */
    X509_free(x);
    pki_leaf_issuer_free(iss);
    r.common_name = "";
    expect_refused(&r, PKI_ERR_INPUT, "1 to 64");
    r.common_name = "we\nb";
    expect_refused(&r, PKI_ERR_INPUT, "printable");
    base_req(&r, spki, len);
    for (int i = 0; i <= PKI_LEAF_DNS_MAX; i++)
        many[i] = "a.example.com";
    r.dns = many;
    r.ndns = PKI_LEAF_DNS_MAX + 1;
    expect_refused(&r, PKI_ERR_INPUT, "too many SANs");
    r.nips = PKI_LEAF_DNS_MAX + 1;
    r.ndns = 0;
    expect_refused(&r, PKI_ERR_INPUT, "too many SANs");
    base_req(&r, spki, len);
    r.dns = bad_dns;
    r.ndns = 1;
    expect_refused(&r, PKI_ERR_INPUT, "invalid DNS SAN");
    r.dns = bad_dns2;
    expect_refused(&r, PKI_ERR_INPUT, "bad..name");
    base_req(&r, spki, len);
    r.ip_lens = bad_len;
    r.nips = 1;
    expect_refused(&r, PKI_ERR_INPUT, "5 bytes");
    base_req(&r, spki, len);
    memset(uri, 'a', sizeof(uri) - 1);
    memcpy(uri, "spiffe://", 9);
    uri[513] = '\0';
    r.uri = uri;
    expect_refused(&r, PKI_ERR_INPUT, "longer than 512");
    r.uri = "no scheme here";
    expect_refused(&r, PKI_ERR_INPUT, "URI");
    base_req(&r, spki, len);
    r.common_name = NULL;
    r.uri = NULL;
    r.ndns = r.nips = 0;
    expect_refused(&r, PKI_ERR_INPUT, "neither a subject nor a SAN");
    base_req(&r, spki, len);
    r.profile = (enum pki_leaf_profile)7;
    expect_refused(&r, PKI_ERR_USAGE, "profile");
    OPENSSL_free(spki);
}

static void refuses_bad_times(void **state)
{
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(keys[K_P256], &len);

    (void)state;
    base_req(&r, spki, len);
    r.not_after = T0 + 10 * YEAR + 1; /* one second past the issuer */
    expect_refused(&r, PKI_ERR_POLICY, "after its issuer expires");
    r.not_after = T0 + 10 * YEAR;
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_leaf_issuer *iss = p256_issuer();
    X509_free(issue_ok(iss, &r, serial)); /* exactly the issuer's end is fine */
    pki_leaf_issuer_free(iss);
    base_req(&r, spki, len);
    r.not_before = T0 - HOUR - 1; /* the CA starts at T0 - 1h */
    expect_refused(&r, PKI_ERR_POLICY, "before its issuer is valid");
    base_req(&r, spki, len);
    r.not_after = r.not_before;
    expect_refused(&r, PKI_ERR_INPUT, "notBefore must come before notAfter");
    r.not_before = -5;
    expect_refused(&r, PKI_ERR_INPUT, "notBefore must come before notAfter");
    OPENSSL_free(spki);
}

/* ---- SPKI checks ----------------------------------------------------------- */

static void spki_expect(const unsigned char *der, size_t len, int code, const char *word)
{
    struct pki_err err = {0, ""};
    struct pki_leaf_req r;

    assert_err(pki_leaf_spki_check(der, len, &err), err, code, word);
    /* pki_leaf_issue refuses the same way. */
    base_req(&r, der, len);
    expect_refused(&r, code, word);
}

static void spki_accepts_supported_keys(void **state)
{
    struct pki_err err = {0, ""};

    (void)state;
    for (int i = 0; i < K_COUNT; i++) {
        size_t len;
        unsigned char *der = spki_of(keys[i], &len);

        assert_ok(pki_leaf_spki_check(der, len, &err), err);
        OPENSSL_free(der);
    }
}

static void spki_refuses_truncated_and_trailing(void **state)
{
    size_t len;
    unsigned char *der = spki_of(keys[K_P256], &len), *more = malloc(len + 1);

    (void)state;
    assert_non_null(more);
    for (size_t n = 0; n < len; n++) {
        struct pki_err err = {0, ""};

        if (pki_leaf_spki_check(der, n, &err) == PKI_OK)
            fail_msg("truncated to %zu bytes accepted", n);
        assert_int_equal(err.code, PKI_ERR_INPUT);
    }
    spki_expect(der, len - 1, PKI_ERR_INPUT, "malformed");
    memcpy(more, der, len);
    more[len] = 0;
    spki_expect(more, len + 1, PKI_ERR_INPUT, "trailing bytes");
    spki_expect(NULL, 0, PKI_ERR_INPUT, "empty");
    free(more);
    OPENSSL_free(der);
}

static void spki_refuses_unknown_algorithms(void **state)
{
    EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY *p224 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    size_t len;
    unsigned char *der;

    (void)state;
    assert_non_null(x25519);
    assert_non_null(p224);
    assert_non_null(rsa1024);
    der = spki_of(x25519, &len);
    spki_expect(der, len, PKI_ERR_POLICY, "unsupported public key algorithm");
    OPENSSL_free(der);
    der = spki_of(p224, &len);
    spki_expect(der, len, PKI_ERR_POLICY, "unsupported EC curve");
    OPENSSL_free(der);
    der = spki_of(rsa1024, &len);
    spki_expect(der, len, PKI_ERR_POLICY, "1024 bits");
    OPENSSL_free(der);
    EVP_PKEY_free(x25519);
    EVP_PKEY_free(p224);
    EVP_PKEY_free(rsa1024);
}

static void spki_refuses_compressed_point(void **state)
{
    EVP_PKEY *k = ut_ec();
    size_t len;
    unsigned char *der;

    (void)state;
    assert_int_equal(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                    "compressed"), 1);
    der = spki_of(k, &len);
    assert_int_equal(len, 59); /* 0x02/0x03 || X */
    spki_expect(der, len, PKI_ERR_POLICY, "compressed EC point");
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

/* Hand-made SPKIs for what OpenSSL would not write. */
static void spki_refuses_malformed_structures(void **state)
{
    /* Ed25519 with NULL parameters (RFC 8410: absent). */
    static const unsigned char ed_params[] = {
        0x30, 0x2c, 0x30, 0x07, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x05, 0x00, 0x03, 0x21, 0x00,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31, 32};
    /* Ed25519 with a 31-byte key. */
    static const unsigned char ed_short[] = {
        0x30, 0x29, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x20, 0x00,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31};
    /* A non-minimal long-form length (0x81 0x2a) for the outer SEQUENCE. */
    static const unsigned char long_len[] = {
        0x30, 0x81, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31, 32};
    /* Unused bits in the BIT STRING. */
    static const unsigned char unused[] = {
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x01,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31, 32};
    /* Indefinite length. */
    static const unsigned char indefinite[] = {0x30, 0x80, 0x00, 0x00};
    size_t len;
    unsigned char *der = spki_of(keys[K_RSA], &len);

    (void)state;
    spki_expect(ed_params, sizeof(ed_params), PKI_ERR_INPUT, "parameters must be absent");
    spki_expect(ed_short, sizeof(ed_short), PKI_ERR_INPUT, "32 bytes");
    spki_expect(long_len, sizeof(long_len), PKI_ERR_INPUT, "malformed");
    spki_expect(unused, sizeof(unused), PKI_ERR_INPUT, "unused bits");
    spki_expect(indefinite, sizeof(indefinite), PKI_ERR_INPUT, "malformed");
    /* rsaEncryption whose NULL parameters became an empty OCTET STRING. */
    assert_int_equal(der[17], 0x05);
    der[17] = 0x04;
    spki_expect(der, len, PKI_ERR_INPUT, "must be NULL");
    der[17] = 0x05;
    /* A negative modulus (its leading 0x00 turned into 0xff). */
    assert_int_equal(der[32], 0x00);
    der[32] = 0xff;
    spki_expect(der, len, PKI_ERR_INPUT, "positive");
    OPENSSL_free(der);
}

static void spki_refuses_oversized(void **state)
{
    static unsigned char big[PKI_LEAF_SPKI_MAX + 1];
    struct pki_err err = {0, ""};

    (void)state;
    assert_err(pki_leaf_spki_check(big, sizeof(big), &err), err, PKI_ERR_INPUT, "larger than");
}

/* The largest request leaf.h allows still fits and parses: 16 DNS names of
 * 253 bytes, 16 IPv6 addresses, a 512-byte URI, an RSA 4096 key. */
static void largest_leaf_fits(void **state)
{
    static char names[PKI_LEAF_DNS_MAX][PKI_NAME_DNS_MAX + 1];
    static unsigned char ips[PKI_LEAF_DNS_MAX][16];
    const char *dns[PKI_LEAF_DNS_MAX];
    size_t lens[PKI_LEAF_DNS_MAX];
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    char uri[PKI_SPIFFE_URI_MAX + 1];
    EVP_PKEY *k = ut_key(PKI_KEY_RSA, 4096);
    struct pki_leaf_issuer *iss = p256_issuer();
    struct pki_leaf_req r;
    size_t len;
    unsigned char *spki = spki_of(k, &len);
    GENERAL_NAMES *g;
    X509 *x;

    (void)state;
    for (int i = 0; i < PKI_LEAF_DNS_MAX; i++) {
        memset(names[i], 'a', PKI_NAME_DNS_MAX);
        names[i][63] = names[i][127] = names[i][191] = '.';
        names[i][0] = (char)('a' + i);
        names[i][PKI_NAME_DNS_MAX] = '\0';
        dns[i] = names[i];
        memset(ips[i], i + 1, 16);
        lens[i] = 16;
    }
    memset(uri, 'u', PKI_SPIFFE_URI_MAX);
    memcpy(uri, "spiffe://td/", 12);
    uri[PKI_SPIFFE_URI_MAX] = '\0';
    base_req(&r, spki, len);
    r.uri = uri;
    r.dns = dns;
    r.ndns = PKI_LEAF_DNS_MAX;
    r.ips = (const unsigned char (*)[16])ips;
    r.ip_lens = lens;
    r.nips = PKI_LEAF_DNS_MAX;
    x = issue_ok(iss, &r, serial);
    g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(g);
    assert_int_equal(sk_GENERAL_NAME_num(g), 1 + 2 * PKI_LEAF_DNS_MAX);
    GENERAL_NAMES_free(g);
    assert_int_equal(X509_verify(x, keys[K_P256]), 1);
    assert_int_equal(verify_purpose(cas[K_P256], x, X509_PURPOSE_SSL_SERVER, T0), X509_V_OK);
    check_ext_der(x);
    X509_free(x);
    OPENSSL_free(spki);
    pki_leaf_issuer_free(iss);
    EVP_PKEY_free(k);
}

static void hex_colon_formats_lower_case(void **state)
{
    static const unsigned char b[] = {0x3a, 0x0f, 0xff, 0x00};
    char out[3 * sizeof(b)];

    (void)state;
    pki_hex_colon(b, sizeof(b), out);
    assert_string_equal(out, "3a:0f:ff:00");
    pki_hex_colon(b, 1, out);
    assert_string_equal(out, "3a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issues_every_key_combination),
        cmocka_unit_test(serials_differ_and_issuer_is_reusable),
        cmocka_unit_test(serials_unique_across_refills_and_fork),
        cmocka_unit_test(server_tls_profile_is_server_auth_only),
        cmocka_unit_test(empty_subject_makes_san_critical),
        cmocka_unit_test(times_switch_to_generalized_in_2050),
        cmocka_unit_test(issuer_without_ski_uses_key_hash),
        cmocka_unit_test(issuer_reports_not_after),
        cmocka_unit_test(issuer_refusals),
        cmocka_unit_test(refuses_bad_names),
        cmocka_unit_test(refuses_bad_times),
        cmocka_unit_test(spki_accepts_supported_keys),
        cmocka_unit_test(spki_refuses_truncated_and_trailing),
        cmocka_unit_test(spki_refuses_unknown_algorithms),
        cmocka_unit_test(spki_refuses_compressed_point),
        cmocka_unit_test(spki_refuses_malformed_structures),
        cmocka_unit_test(spki_refuses_oversized),
        cmocka_unit_test(largest_leaf_fits),
        cmocka_unit_test(hex_colon_formats_lower_case),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
