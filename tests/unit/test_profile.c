/* test_profile.c - signing policy: the profile, not the request, decides
 * what a certificate signed from a CSR may do. Also the cert.h roles the
 * profiles map to (server, intermediate) and the pathlen-0 refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chain.h"
#include "csr.h"
#include "profile.h"
#include "subject.h"
#include "unit_util.h"

static EVP_PKEY *k_ca, *k_int, *k_leaf;
static X509 *ca, *inter; /* a root (10 years) and an intermediate under it (pathlen 0, 5 years) */

static int group_setup(void **state)
{
    (void)state;
    k_ca = ut_ec();
    k_int = ut_ec();
    k_leaf = ut_ec();
    ca = ut_ca(k_ca, T0, 10 * YEAR);
    inter = ut_leaf(PKI_ROLE_INTERMEDIATE, "intermediate", k_int, ca, k_ca, T0, 5 * YEAR);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(inter);
    X509_free(ca);
    EVP_PKEY_free(k_ca);
    EVP_PKEY_free(k_int);
    EVP_PKEY_free(k_leaf);
    return 0;
}

/* A request as pki_csr_read hands it over (fails the test if refused). */
static X509_REQ *strictly_read(X509_REQ *req)
{
    struct pki_err err = {0, ""};
    size_t len;
    unsigned char *der = ut_req_der(req, &len);
    X509_REQ *back = pki_csr_read(der, len, &err);

    if (back == NULL)
        fail_msg("pki_csr_read refused the request: %s", err.msg);
    OPENSSL_free(der);
    X509_REQ_free(req);
    return back;
}

/* A request for subject (NULL: empty) with the extensions in exts (may be NULL). */
static X509_REQ *request(EVP_PKEY *key, const char *subject, STACK_OF(X509_EXTENSION) *exts)
{
    struct pki_err err = {0, ""};
    X509_NAME *name = subject ? pki_subject_parse(subject, &err) : X509_NAME_new();
    X509_REQ *req;

    if (name == NULL)
        fail_msg("%s", err.msg);
    req = ut_req_raw(key, name, exts, NULL);
    X509_NAME_free(name);
    return strictly_read(req);
}

/* Extensions from OpenSSL config strings: "nid=value" pairs, NULL-ended. */
static STACK_OF(X509_EXTENSION) *exts_of(const int *nids, const char *const *values)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    size_t i;

    assert_non_null(exts);
    for (i = 0; values[i] != NULL; i++)
        assert_true(sk_X509_EXTENSION_push(exts, ut_ext(nids[i], values[i])) > 0);
    return exts;
}

/* A request that asks for everything a leaf must not get. */
static X509_REQ *greedy_request(EVP_PKEY *key)
{
    static const int nids[] = {NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                               NID_subject_alt_name, NID_name_constraints, NID_info_access,
                               NID_crl_distribution_points, NID_subject_key_identifier};
    static const char *const values[] = {
        "critical,CA:TRUE,pathlen:5",
        "critical,keyCertSign,cRLSign,digitalSignature,keyEncipherment,nonRepudiation",
        "codeSigning,OCSPSigning,timeStamping,serverAuth",
        "DNS:db.example.com,IP:10.0.0.1,URI:spiffe://td/ns/db,email:ops@example.com",
        "critical,permitted;DNS:.evil.example",
        "OCSP;URI:http://ocsp.evil.example",
        "URI:http://crl.evil.example/x.crl",
        "0102030405060708090A0B0C0D0E0F1011121314",
        NULL,
    };
    STACK_OF(X509_EXTENSION) *exts = exts_of(nids, values);
    X509_EXTENSION *custom;
    ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
    X509_REQ *req;

    /* And an extension nobody knows, critical. */
    assert_non_null(val);
    assert_non_null(oid);
    assert_int_equal(ASN1_OCTET_STRING_set(val, (const unsigned char *)"\x05\x00", 2), 1);
    custom = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val);
    assert_non_null(custom);
    assert_true(sk_X509_EXTENSION_push(exts, custom) > 0);
    req = request(key, "/C=US/O=Example/OU=Ops/CN=db.example.com", exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(val);
    return req;
}

/* A request with just these SANs (OpenSSL syntax; NULL: none). */
static X509_REQ *san_request(EVP_PKEY *key, const char *subject, const char *sans)
{
    static const int nids[] = {NID_subject_alt_name};
    const char *values[] = {sans, NULL};
    STACK_OF(X509_EXTENSION) *exts = sans ? exts_of(nids, values) : NULL;
    X509_REQ *req = request(key, subject, exts);

    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return req;
}

static X509 *sign_ok(X509_REQ *req, enum pki_profile profile, X509 *issuer, EVP_PKEY *issuer_key,
                     int64_t lifetime)
{
    struct pki_err err = {0, ""};
    X509 *x = pki_profile_sign(req, profile, issuer, issuer_key, lifetime, T0, &err);

    if (x == NULL)
        fail_msg("pki_profile_sign(%d): %d %s", (int)profile, err.code, err.msg);
    return ut_reparse(x);
}

static void sign_refused(X509_REQ *req, enum pki_profile profile, X509 *issuer,
                         EVP_PKEY *issuer_key, int64_t lifetime, time_t now, int code,
                         const char *word)
{
    struct pki_err err = {0, ""};
    X509 *x = pki_profile_sign(req, profile, issuer, issuer_key, lifetime, now, &err);

    if (x != NULL) {
        X509_free(x);
        fail_msg("profile %d signed what it should refuse (want \"%s\")", (int)profile, word);
    }
    if (err.code != code || strstr(err.msg, word) == NULL)
        fail_msg("code %d \"%s\", want %d with \"%s\"", err.code, err.msg, code, word);
}

/* The certificate's extensions, as short names in order, joined by ','. */
static void ext_names(X509 *x, char *buf, size_t len)
{
    int i;

    buf[0] = '\0';
    for (i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));

        if (i > 0)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, nid != NID_undef ? OBJ_nid2sn(nid) : "?", len - strlen(buf) - 1);
    }
}

static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    assert_true(i >= 0);
    return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void eku_names(X509 *x, char *buf, size_t len)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    int i;

    buf[0] = '\0';
    for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        if (i > 0)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, OBJ_nid2sn(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))),
                len - strlen(buf) - 1);
    }
    EXTENDED_KEY_USAGE_free(eku);
}

/* SANs as "type:value" joined by ','. */
static void san_names(X509 *x, char *buf, size_t len)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int i, type;
    char item[300];

    buf[0] = '\0';
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        const ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);

        if (type == GEN_IPADD)
            snprintf(item, sizeof(item), "ip:%d-bytes", ASN1_STRING_length(s));
        else
            snprintf(item, sizeof(item), "%s:%.*s", type == GEN_DNS ? "dns" : type == GEN_URI ? "uri"
                                                    : type == GEN_EMAIL ? "email" : "other",
                     ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
        if (i > 0)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, item, len - strlen(buf) - 1);
    }
    GENERAL_NAMES_free(gens);
}

struct expect {
    enum pki_profile profile;
    int ca;
    long pathlen;          /* -1: none */
    uint32_t ku;
    const char *eku;       /* "" for none */
    const char *exts;
    const char *sans;
};

static void check_issued(X509 *x, X509_REQ *req, const struct expect *e, X509 *issuer,
                         EVP_PKEY *issuer_key, int64_t lifetime)
{
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    struct pki_err err = {0, ""};
    STACK_OF(X509) *cas;
    time_t nb, na;
    char buf[1024];

    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    ext_names(x, buf, sizeof(buf));
    if (strcmp(buf, e->exts) != 0)
        fail_msg("profile %d: extensions \"%s\", want \"%s\"", (int)e->profile, buf, e->exts);

    assert_non_null(bc);
    assert_int_equal(bc->ca != 0, e->ca);
    if (e->pathlen < 0)
        assert_null(bc->pathlen);
    else
        assert_int_equal(ASN1_INTEGER_get(bc->pathlen), e->pathlen);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
    assert_int_equal(pki_cert_is_ca(x), e->ca);
    assert_int_equal(X509_get_pathlen(x), e->pathlen);

    assert_int_equal(X509_get_key_usage(x), e->ku);
    assert_int_equal(ext_critical(x, NID_key_usage), 1);
    eku_names(x, buf, sizeof(buf));
    assert_string_equal(buf, e->eku);
    san_names(x, buf, sizeof(buf));
    assert_string_equal(buf, e->sans);

    /* Subject and key from the request; issuer, dates and signature from the CA. */
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_REQ_get_subject_name(req)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)), 0);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), X509_REQ_get0_pubkey(req)), 1);
    assert_ok(pki_cert_validity(x, &nb, &na, &err), err);
    assert_int_equal(nb, T0 - PKI_CERT_BACKDATE_SECONDS);
    assert_int_equal(na, T0 + lifetime);
    assert_int_equal(X509_verify(x, issuer_key), 1);
    cas = ut_stack(issuer, issuer == inter ? ca : NULL);
    assert_ok(pki_chain_verify(x, cas, &err), err);
    sk_X509_free(cas);
}

#define LEAF_EXTS_SAN                                                                       \
    "basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,authorityKeyIdentifier," \
    "subjectAltName"
#define GREEDY_SANS "dns:db.example.com,ip:4-bytes,uri:spiffe://td/ns/db,email:ops@example.com"

static void profiles_decide_despite_the_request(void **state)
{
    static const struct expect cases[] = {
        {PKI_PROFILE_SERVER, 0, -1, KU_DIGITAL_SIGNATURE, "serverAuth", LEAF_EXTS_SAN,
         GREEDY_SANS},
        {PKI_PROFILE_CLIENT, 0, -1, KU_DIGITAL_SIGNATURE, "clientAuth", LEAF_EXTS_SAN,
         GREEDY_SANS},
        {PKI_PROFILE_NODE, 0, -1, KU_DIGITAL_SIGNATURE, "serverAuth,clientAuth", LEAF_EXTS_SAN,
         GREEDY_SANS},
        {PKI_PROFILE_INTERMEDIATE, 1, 0, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN, "",
         "basicConstraints,keyUsage,subjectKeyIdentifier,authorityKeyIdentifier", ""},
    };
    X509_REQ *req = greedy_request(k_leaf);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *x = sign_ok(req, cases[i].profile, ca, k_ca, YEAR);

        check_issued(x, req, &cases[i], ca, k_ca, YEAR);
        X509_free(x);
    }
    X509_REQ_free(req);
}

/* The subject key identifier is the certificate's own, not the one asked for. */
static void requested_key_identifier_ignored(void **state)
{
    X509_REQ *req = greedy_request(k_leaf);
    X509 *x = sign_ok(req, PKI_PROFILE_CLIENT, ca, k_ca, YEAR);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    unsigned char asked[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

    (void)state;
    assert_non_null(ski);
    assert_false(ASN1_STRING_length(ski) == 20 &&
                 memcmp(ASN1_STRING_get0_data(ski), asked, 20) == 0);
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                           X509_get0_subject_key_id(ca)), 0);
    X509_free(x);
    X509_REQ_free(req);
}

/* Leaves for RSA keys get keyEncipherment; intermediates never do. */
static void rsa_key_usage(void **state)
{
    EVP_PKEY *rsa = ut_key(PKI_KEY_RSA, 2048);
    X509_REQ *req = greedy_request(rsa);
    X509 *x;

    (void)state;
    x = sign_ok(req, PKI_PROFILE_SERVER, ca, k_ca, YEAR);
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    X509_free(x);
    x = sign_ok(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, YEAR);
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    X509_free(x);
    X509_REQ_free(req);
    EVP_PKEY_free(rsa);
}

/* A plain request (no extensions at all) gets the same policy. */
static void plain_request(void **state)
{
    static const struct expect e = {
        PKI_PROFILE_CLIENT, 0, -1, KU_DIGITAL_SIGNATURE, "clientAuth",
        "basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,authorityKeyIdentifier",
        ""};
    X509_REQ *req = request(k_leaf, "/CN=alice", NULL);
    X509 *x = sign_ok(req, PKI_PROFILE_CLIENT, ca, k_ca, 30 * DAY);

    (void)state;
    check_issued(x, req, &e, ca, k_ca, 30 * DAY);
    X509_free(x);
    X509_REQ_free(req);
}

static void server_and_node_need_dns_or_ip(void **state)
{
    static const char *const no_host[] = {NULL, "URI:spiffe://td/ns/db",
                                          "email:ops@example.com,URI:https://x.example/"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(no_host) / sizeof(no_host[0]); i++) {
        X509_REQ *req = san_request(k_leaf, "/CN=db.example.com", no_host[i]);
        X509 *x;

        sign_refused(req, PKI_PROFILE_SERVER, ca, k_ca, YEAR, T0, PKI_ERR_POLICY,
                     "server profile needs at least one DNS or IP SAN");
        sign_refused(req, PKI_PROFILE_NODE, ca, k_ca, YEAR, T0, PKI_ERR_POLICY,
                     "node profile needs at least one DNS or IP SAN");
        /* Client and intermediate do not need one. */
        x = sign_ok(req, PKI_PROFILE_CLIENT, ca, k_ca, YEAR);
        X509_free(x);
        x = sign_ok(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, YEAR);
        X509_free(x);
        X509_REQ_free(req);
    }
}

/* One IP SAN (v4 or v6) is enough, and so is one DNS name. */
static void server_and_node_with_one_host(void **state)
{
    static const char *const one[] = {"IP:10.0.0.1", "IP:2001:db8::1", "DNS:db.example.com",
                                      "URI:spiffe://td/x,IP:::1"};
    char buf[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        X509_REQ *req = san_request(k_leaf, "/CN=db", one[i]);
        X509 *x = sign_ok(req, PKI_PROFILE_SERVER, ca, k_ca, YEAR);

        san_names(x, buf, sizeof(buf));
        assert_true(buf[0] != '\0');
        X509_free(x);
        x = sign_ok(req, PKI_PROFILE_NODE, ca, k_ca, YEAR);
        X509_free(x);
        X509_REQ_free(req);
    }
}

static void intermediate_copies_no_sans(void **state)
{
    X509_REQ *req = san_request(k_leaf, "/O=Example/CN=Example Issuing CA",
                                "DNS:ca.example.com,IP:10.0.0.1,URI:spiffe://td/ca");
    X509 *x = sign_ok(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, 2 * YEAR);

    (void)state;
    assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
    assert_int_equal(X509_get_pathlen(x), 0);
    assert_int_equal(pki_cert_is_ca(x), 1);
    X509_free(x);
    X509_REQ_free(req);
}

/* The new intermediate can sign leaves, not CAs. */
static void intermediate_signs_leaves_only(void **state)
{
    EVP_PKEY *k_new = ut_ec();
    X509_REQ *req = request(k_new, "/CN=new intermediate", NULL);
    X509 *x = sign_ok(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, 2 * YEAR);
    X509_REQ *leaf_req = san_request(k_leaf, "/CN=db", "DNS:db.example.com");
    X509 *leaf = sign_ok(leaf_req, PKI_PROFILE_SERVER, x, k_new, YEAR);

    (void)state;
    sign_refused(req, PKI_PROFILE_INTERMEDIATE, x, k_new, YEAR, T0, PKI_ERR_POLICY,
                 "path length constraint is 0");
    X509_free(leaf);
    X509_free(x);
    X509_REQ_free(leaf_req);
    X509_REQ_free(req);
    EVP_PKEY_free(k_new);
}

static void pathlen0_ca_refuses_intermediate(void **state)
{
    X509_REQ *req = request(k_leaf, "/CN=sub-intermediate", NULL);
    X509_REQ *leaf_req = san_request(k_leaf, "/CN=db", "DNS:db.example.com");
    static const struct expect e = {PKI_PROFILE_NODE, 0, -1, KU_DIGITAL_SIGNATURE,
                                    "serverAuth,clientAuth", LEAF_EXTS_SAN, "dns:db.example.com"};
    X509 *x;

    (void)state;
    sign_refused(req, PKI_PROFILE_INTERMEDIATE, inter, k_int, YEAR, T0, PKI_ERR_POLICY,
                 "path length constraint is 0");
    /* Leaves are fine. */
    x = sign_ok(leaf_req, PKI_PROFILE_NODE, inter, k_int, YEAR);
    check_issued(x, leaf_req, &e, inter, k_int, YEAR);
    X509_free(x);
    X509_REQ_free(leaf_req);
    X509_REQ_free(req);
}

static void lifetime_past_the_ca_refused(void **state)
{
    X509_REQ *req = san_request(k_leaf, "/CN=db", "DNS:db.example.com");
    X509 *x;

    (void)state;
    sign_refused(req, PKI_PROFILE_SERVER, ca, k_ca, 10 * YEAR + 1, T0, PKI_ERR_POLICY,
                 "after the CA certificate expires");
    sign_refused(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, 11 * YEAR, T0, PKI_ERR_POLICY,
                 "after the CA certificate expires");
    sign_refused(req, PKI_PROFILE_CLIENT, inter, k_int, 5 * YEAR + 1, T0, PKI_ERR_POLICY,
                 "expires on 2028-11-12"); /* the error names the CA's expiry */
    /* Later on, less time is left. */
    sign_refused(req, PKI_PROFILE_CLIENT, ca, k_ca, YEAR, T0 + 9 * YEAR + 1, PKI_ERR_POLICY,
                 "after the CA certificate expires");
    /* Exactly up to the CA's end is fine. */
    x = sign_ok(req, PKI_PROFILE_SERVER, ca, k_ca, 10 * YEAR);
    X509_free(x);
    X509_REQ_free(req);
}

static void ca_problems(void **state)
{
    X509_REQ *req = san_request(k_leaf, "/CN=db", "DNS:db.example.com");
    X509 *leaf = ut_leaf(PKI_ROLE_NODE, "node", k_leaf, ca, k_ca, T0, YEAR);

    (void)state;
    sign_refused(req, PKI_PROFILE_SERVER, ca, k_int, YEAR, T0, PKI_ERR_POLICY,
                 "CA key does not match");
    sign_refused(req, PKI_PROFILE_SERVER, leaf, k_leaf, DAY, T0, PKI_ERR_POLICY, "not a CA");
    sign_refused(req, PKI_PROFILE_SERVER, ca, k_ca, DAY, T0 + 10 * YEAR, PKI_ERR_POLICY,
                 "expired");
    sign_refused(req, PKI_PROFILE_SERVER, ca, k_ca, DAY, T0 - 2 * HOUR, PKI_ERR_POLICY,
                 "not valid yet");
    sign_refused(req, PKI_PROFILE_SERVER, ca, k_ca, 0, T0, PKI_ERR_USAGE, "positive");
    X509_free(leaf);
    X509_REQ_free(req);
}

static void empty_subject_with_san_is_critical(void **state)
{
    X509_REQ *req = san_request(k_leaf, NULL, "DNS:db.example.com");
    X509_REQ *named = san_request(k_leaf, "/CN=db", "DNS:db.example.com");
    X509 *x;
    char buf[128];

    (void)state;
    x = sign_ok(req, PKI_PROFILE_SERVER, ca, k_ca, YEAR);
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
    assert_int_equal(ext_critical(x, NID_subject_alt_name), 1);
    san_names(x, buf, sizeof(buf));
    assert_string_equal(buf, "dns:db.example.com");
    X509_free(x);
    /* With a subject the SAN is not critical. */
    x = sign_ok(named, PKI_PROFILE_SERVER, ca, k_ca, YEAR);
    assert_int_equal(ext_critical(x, NID_subject_alt_name), 0);
    X509_free(x);
    /* Only a URI, for a client. */
    X509_REQ_free(req);
    req = san_request(k_leaf, NULL, "URI:spiffe://td/ns/a/sa/b");
    x = sign_ok(req, PKI_PROFILE_CLIENT, ca, k_ca, YEAR);
    assert_int_equal(ext_critical(x, NID_subject_alt_name), 1);
    X509_free(x);
    /* An intermediate copies no SANs, so it needs a subject. */
    sign_refused(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, YEAR, T0, PKI_ERR_POLICY,
                 "subject is empty");
    X509_REQ_free(named);
    X509_REQ_free(req);
}

static void empty_subject_without_san_refused(void **state)
{
    X509_REQ *req = request(k_leaf, NULL, NULL);
    static const enum pki_profile all[] = {PKI_PROFILE_SERVER, PKI_PROFILE_CLIENT,
                                           PKI_PROFILE_NODE, PKI_PROFILE_INTERMEDIATE};
    size_t i;

    (void)state;
    sign_refused(req, PKI_PROFILE_CLIENT, ca, k_ca, YEAR, T0, PKI_ERR_POLICY, "subject is empty");
    sign_refused(req, PKI_PROFILE_INTERMEDIATE, ca, k_ca, YEAR, T0, PKI_ERR_POLICY,
                 "subject is empty");
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        struct pki_err err = {0, ""};

        assert_null(pki_profile_sign(req, all[i], ca, k_ca, YEAR, T0, &err));
        assert_int_equal(err.code, PKI_ERR_POLICY);
    }
    X509_REQ_free(req);
}

/* SANs are validated as in csr create, and other types refused, for every
 * profile (the intermediate included, though it copies none). */
static void bad_sans_refused(void **state)
{
    static const struct { const char *sans; int code; const char *word; } cases[] = {
        {"DNS:ok.example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:admin@EXAMPLE.COM",
         PKI_ERR_POLICY, "otherName"},
        {"DNS:ok.example.com,RID:1.2.3.4", PKI_ERR_POLICY, "registeredID"},
        {"DNS:bad_name.example.com", PKI_ERR_INPUT, "not allowed"},
        {"DNS:*", PKI_ERR_INPUT, "wildcard"},
        {"email:not-an-address", PKI_ERR_INPUT, "email"},
    };
    static const enum pki_profile all[] = {PKI_PROFILE_SERVER, PKI_PROFILE_CLIENT,
                                           PKI_PROFILE_NODE, PKI_PROFILE_INTERMEDIATE};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509_REQ *req = san_request(k_leaf, "/CN=x", cases[i].sans);

        for (j = 0; j < sizeof(all) / sizeof(all[0]); j++)
            sign_refused(req, all[j], ca, k_ca, YEAR, T0, cases[i].code, cases[i].word);
        X509_REQ_free(req);
    }
}

static void two_san_extensions_refused(void **state)
{
    static const int nids[] = {NID_subject_alt_name, NID_subject_alt_name};
    static const char *const values[] = {"DNS:a.example.com", "DNS:b.example.com", NULL};
    STACK_OF(X509_EXTENSION) *exts = exts_of(nids, values);
    X509_REQ *req = request(k_leaf, "/CN=x", exts);

    (void)state;
    sign_refused(req, PKI_PROFILE_SERVER, ca, k_ca, YEAR, T0, PKI_ERR_INPUT,
                 "two subjectAltName");
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}

static void parse_and_defaults(void **state)
{
    static const struct { const char *text; enum pki_profile p; } cases[] = {
        {"server", PKI_PROFILE_SERVER},
        {"client", PKI_PROFILE_CLIENT},
        {"node", PKI_PROFILE_NODE},
        {"intermediate", PKI_PROFILE_INTERMEDIATE},
    };
    struct pki_err err = {0, ""};
    enum pki_profile p;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_ok(pki_profile_parse(cases[i].text, &p, &err), err);
        assert_int_equal(p, cases[i].p);
    }
    assert_err(pki_profile_parse("ca", &p, &err), err, PKI_ERR_INPUT, "unknown profile");
    assert_err(pki_profile_parse("Server", &p, &err), err, PKI_ERR_INPUT, "unknown profile");
    assert_err(pki_profile_parse("", &p, &err), err, PKI_ERR_INPUT,
               "server, client, node or intermediate");
    assert_int_equal(pki_profile_default_lifetime(PKI_PROFILE_SERVER), 8760 * HOUR);
    assert_int_equal(pki_profile_default_lifetime(PKI_PROFILE_CLIENT), 8760 * HOUR);
    assert_int_equal(pki_profile_default_lifetime(PKI_PROFILE_NODE), 8760 * HOUR);
    assert_int_equal(pki_profile_default_lifetime(PKI_PROFILE_INTERMEDIATE), 43920 * HOUR);
}

/* ---- cert.h: the roles behind the profiles --------------------------------- */

static X509 *issue(enum pki_cert_role role, const X509_NAME *subject, const struct pki_host *hosts,
                   size_t nhosts, X509 *issuer, EVP_PKEY *issuer_key, struct pki_err *err)
{
    struct pki_cert_params p;

    memset(&p, 0, sizeof(p));
    p.role = role;
    p.subject = subject;
    p.common_name = subject ? NULL : "cn";
    p.hosts = hosts;
    p.nhosts = nhosts;
    p.lifetime = YEAR;
    p.now = T0;
    p.subject_key = k_leaf;
    p.issuer = issuer;
    p.issuer_key = issuer_key;
    return pki_cert_issue(&p, err);
}

static void role_server_and_intermediate(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;
    X509_NAME *subject = NULL;
    X509 *x;
    char buf[256];

    (void)state;
    subject = pki_subject_parse("/C=DE/ST=Berlin/O=Example/CN=db.example.com", &err);
    assert_non_null(subject);
    assert_ok(pki_host_parse("db.example.com", &h, &err), err);
    x = issue(PKI_ROLE_SERVER, subject, &h, 1, ca, k_ca, &err);
    if (x == NULL)
        fail_msg("%s", err.msg);
    x = ut_reparse(x);
    assert_int_equal(pki_cert_is_ca(x), 0);
    eku_names(x, buf, sizeof(buf));
    assert_string_equal(buf, "serverAuth");
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), subject), 0);
    pki_subject_format(X509_get_subject_name(x), buf, sizeof(buf));
    assert_string_equal(buf, "CN=db.example.com,O=Example,ST=Berlin,C=DE");
    X509_free(x);

    x = issue(PKI_ROLE_INTERMEDIATE, subject, NULL, 0, ca, k_ca, &err);
    assert_non_null(x);
    x = ut_reparse(x);
    assert_int_equal(pki_cert_is_ca(x), 1);
    assert_int_equal(X509_get_pathlen(x), 0);
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_get_ext_by_NID(x, NID_ext_key_usage, -1), -1);
    X509_free(x);
    X509_NAME_free(subject);
}

static void role_pathlen0_refusal(void **state)
{
    static const enum pki_cert_role cas[] = {PKI_ROLE_CA, PKI_ROLE_INTERMEDIATE};
    static const enum pki_cert_role leaves[] = {PKI_ROLE_SERVER, PKI_ROLE_CLIENT, PKI_ROLE_NODE};
    X509_NAME *subject = ut_name("x", "below the intermediate");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cas) / sizeof(cas[0]); i++) {
        struct pki_err err = {0, ""};

        assert_null(issue(cas[i], subject, NULL, 0, inter, k_int, &err));
        assert_int_equal(err.code, PKI_ERR_POLICY);
        assert_msg_has(err, "path length constraint is 0");
    }
    for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        struct pki_err err = {0, ""};
        X509 *x = issue(leaves[i], subject, NULL, 0, inter, k_int, &err);

        if (x == NULL)
            fail_msg("leaf role %d under the intermediate: %s", (int)leaves[i], err.msg);
        X509_free(x);
    }
    X509_NAME_free(subject);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profiles_decide_despite_the_request),
        cmocka_unit_test(requested_key_identifier_ignored),
        cmocka_unit_test(rsa_key_usage),
        cmocka_unit_test(plain_request),
        cmocka_unit_test(server_and_node_need_dns_or_ip),
        cmocka_unit_test(server_and_node_with_one_host),
        cmocka_unit_test(intermediate_copies_no_sans),
        cmocka_unit_test(intermediate_signs_leaves_only),
        cmocka_unit_test(pathlen0_ca_refuses_intermediate),
        cmocka_unit_test(lifetime_past_the_ca_refused),
        cmocka_unit_test(ca_problems),
        cmocka_unit_test(empty_subject_with_san_is_critical),
        cmocka_unit_test(empty_subject_without_san_refused),
        cmocka_unit_test(bad_sans_refused),
        cmocka_unit_test(two_san_extensions_refused),
        cmocka_unit_test(parse_and_defaults),
        cmocka_unit_test(role_server_and_intermediate),
        cmocka_unit_test(role_pathlen0_refusal),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
