/* test_csr.c - making PKCS#10 requests and reading them strictly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/core_names.h>

#include "csr.h"
#include "san.h"
#include "subject.h"
#include "unit_util.h"

static EVP_PKEY *k_ec; /* P-256, shared by most tests */

static int group_setup(void **state)
{
    (void)state;
    k_ec = ut_ec();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k_ec);
    return 0;
}

static void parse_sans(const char *const *typed, size_t n, struct pki_host *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct pki_err err = {0, ""};

        if (pki_san_parse(typed[i], &out[i], &err) != PKI_OK)
            fail_msg("%s: %s", typed[i], err.msg);
    }
}

/* A request made by pki_csr_create (fails the test if that fails). */
static X509_REQ *make_csr(EVP_PKEY *key, const char *subject, const char *const *sans,
                          size_t nsans, enum pki_usage usage)
{
    struct pki_host hosts[8];
    struct pki_csr_params p;
    struct pki_err err = {0, ""};
    X509_NAME *name = subject ? pki_subject_parse(subject, &err) : X509_NAME_new();
    X509_REQ *req;

    if (name == NULL)
        fail_msg("subject: %s", err.msg);
    assert_true(nsans <= 8);
    parse_sans(sans, nsans, hosts);
    memset(&p, 0, sizeof(p));
    p.key = key;
    p.subject = name;
    p.sans = hosts;
    p.nsans = nsans;
    p.usage = usage;
    req = pki_csr_create(&p, &err);
    if (req == NULL)
        fail_msg("pki_csr_create: %s", err.msg);
    X509_NAME_free(name);
    return req;
}

/* pki_csr_read must accept data; returns the request. */
static X509_REQ *read_ok(const void *data, size_t len)
{
    struct pki_err err = {0, ""};
    X509_REQ *r = pki_csr_read(data, len, &err);

    if (r == NULL)
        fail_msg("pki_csr_read refused: %d %s", err.code, err.msg);
    return r;
}

/* pki_csr_read must refuse data with code and a message containing word. */
static void read_refused(const void *data, size_t len, int code, const char *word)
{
    struct pki_err err = {0, ""};
    X509_REQ *r = pki_csr_read(data, len, &err);

    if (r != NULL) {
        X509_REQ_free(r);
        fail_msg("pki_csr_read accepted what it should refuse (want \"%s\")", word);
    }
    if (err.code != code || strstr(err.msg, word) == NULL)
        fail_msg("code %d \"%s\", want %d with \"%s\"", err.code, err.msg, code, word);
}

/* The EKU a request asks for, as short names joined by ','. */
static void requested_eku(X509_REQ *req, char *buf, size_t len)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    int i = exts ? X509v3_get_ext_by_NID(exts, NID_ext_key_usage, -1) : -1;
    EXTENDED_KEY_USAGE *eku;

    buf[0] = '\0';
    if (i >= 0) {
        eku = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
        assert_non_null(eku);
        for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
            if (buf[0] != '\0')
                strncat(buf, ",", len - strlen(buf) - 1);
            strncat(buf, OBJ_nid2sn(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))),
                    len - strlen(buf) - 1);
        }
        EXTENDED_KEY_USAGE_free(eku);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

/* ---- create + read round trips ------------------------------------------ */

struct key_case {
    enum pki_key_type type;
    int bits;
    int sig_nid;
};

static void round_trip_one(const struct key_case *kc)
{
    static const char *const sans[] = {"dns:db.example.com", "ip:10.0.0.7", "ip:::1",
                                       "uri:spiffe://cluster.local/ns/db", "email:ops@example.com"};
    struct pki_host want[5], got[8];
    struct pki_err err = {0, ""};
    EVP_PKEY *key = kc->type == PKI_KEY_ECDSA && kc->bits == 256 ? k_ec
                                                                 : ut_key(kc->type, kc->bits);
    X509_REQ *req = make_csr(key, "/C=US/O=Example/CN=db.example.com", sans, 5, PKI_USAGE_BOTH);
    X509_REQ *back;
    struct pki_buf pem = {NULL, 0};
    unsigned char *der;
    size_t der_len, n = 0;
    char buf[256];

    /* PEM, as pki_csr_to_pem writes it. */
    assert_ok(pki_csr_to_pem(req, &pem, &err), err);
    assert_true(pem.len > 60);
    assert_memory_equal(pem.data, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
    back = read_ok(pem.data, pem.len);
    assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(back), key), 1);
    assert_int_equal(X509_NAME_cmp(X509_REQ_get_subject_name(back),
                                   X509_REQ_get_subject_name(req)), 0);
    pki_subject_format(X509_REQ_get_subject_name(back), buf, sizeof(buf));
    assert_string_equal(buf, "CN=db.example.com,O=Example,C=US");
    assert_int_equal(X509_REQ_get_signature_nid(back), kc->sig_nid);
    assert_int_equal(X509_REQ_get_version(back), X509_REQ_VERSION_1);

    parse_sans(sans, 5, want);
    assert_ok(pki_csr_sans(back, got, 8, &n, &err), err);
    assert_int_equal(n, 5);
    for (n = 0; n < 5; n++) {
        assert_int_equal(got[n].kind, want[n].kind);
        assert_string_equal(got[n].text, want[n].text);
    }
    requested_eku(back, buf, sizeof(buf));
    assert_string_equal(buf, "serverAuth,clientAuth");
    X509_REQ_free(back);

    /* DER of the same request. */
    der = ut_req_der(req, &der_len);
    back = read_ok(der, der_len);
    assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(back), key), 1);
    X509_REQ_free(back);
    OPENSSL_free(der);

    pki_buf_free(&pem);
    X509_REQ_free(req);
    if (key != k_ec)
        EVP_PKEY_free(key);
}

static void round_trip_ecdsa(void **state)
{
    static const struct key_case cases[] = {
        {PKI_KEY_ECDSA, 256, NID_ecdsa_with_SHA256},
        {PKI_KEY_ECDSA, 384, NID_ecdsa_with_SHA384},
        {PKI_KEY_ECDSA, 521, NID_ecdsa_with_SHA512},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        round_trip_one(&cases[i]);
}

static void round_trip_ed25519(void **state)
{
    static const struct key_case c = {PKI_KEY_ED25519, 0, NID_ED25519};

    (void)state;
    round_trip_one(&c);
}

static void round_trip_rsa(void **state)
{
    static const struct key_case c = {PKI_KEY_RSA, 2048, NID_sha256WithRSAEncryption};

    (void)state;
    round_trip_one(&c);
}

static void usages(void **state)
{
    static const struct { const char *text; enum pki_usage usage; const char *eku; } cases[] = {
        {"server", PKI_USAGE_SERVER, "serverAuth"},
        {"client", PKI_USAGE_CLIENT, "clientAuth"},
        {"both", PKI_USAGE_BOTH, "serverAuth,clientAuth"},
    };
    struct pki_err err = {0, ""};
    enum pki_usage u;
    char eku[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509_REQ *req;

        assert_ok(pki_usage_parse(cases[i].text, &u, &err), err);
        assert_int_equal(u, cases[i].usage);
        req = make_csr(k_ec, "/CN=alice", NULL, 0, u);
        requested_eku(req, eku, sizeof(eku));
        assert_string_equal(eku, cases[i].eku);
        X509_REQ_free(req);
    }
    assert_err(pki_usage_parse("Server", &u, &err), err, PKI_ERR_INPUT, "unknown usage");
    assert_err(pki_usage_parse("", &u, &err), err, PKI_ERR_INPUT, "server, client or both");
    assert_err(pki_usage_parse("codeSigning", &u, &err), err, PKI_ERR_INPUT, "unknown usage");
}

/* No SANs: no subjectAltName is asked for at all. */
static void create_without_sans(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host got[2];
    X509_REQ *req = make_csr(k_ec, "/CN=alice", NULL, 0, PKI_USAGE_CLIENT);
    STACK_OF(X509_EXTENSION) *exts;
    size_t n = 99;

    (void)state;
    exts = X509_REQ_get_extensions(req);
    assert_true(exts == NULL || X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1) < 0);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    assert_ok(pki_csr_sans(req, got, 2, &n, &err), err);
    assert_int_equal(n, 0);
    X509_REQ_free(req);
}

/* An empty subject is fine when there is a SAN. */
static void create_empty_subject_with_san(void **state)
{
    static const char *const sans[] = {"uri:spiffe://td/ns/a"};
    X509_REQ *req = make_csr(k_ec, NULL, sans, 1, PKI_USAGE_CLIENT);
    unsigned char *der;
    size_t len;
    X509_REQ *back;

    (void)state;
    assert_int_equal(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
    der = ut_req_der(req, &len);
    back = read_ok(der, len);
    assert_int_equal(X509_NAME_entry_count(X509_REQ_get_subject_name(back)), 0);
    X509_REQ_free(back);
    OPENSSL_free(der);
    X509_REQ_free(req);
}

static void create_needs_cn_or_san(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_csr_params p;
    X509_NAME *name = ut_name("only an O", NULL);

    (void)state;
    memset(&p, 0, sizeof(p));
    p.key = k_ec;
    p.subject = name;
    assert_null(pki_csr_create(&p, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "needs a CN");
    X509_NAME_free(name);
}

/* ---- pki_csr_read: what it refuses ---------------------------------------- */

static void read_refuses_altered_signature(void **state)
{
    static const struct key_case cases[] = {
        {PKI_KEY_ECDSA, 256, 0}, {PKI_KEY_ED25519, 0, 0}, {PKI_KEY_RSA, 2048, 0}};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY *key = cases[i].type == PKI_KEY_ECDSA ? k_ec : ut_key(cases[i].type, cases[i].bits);
        X509_REQ *req = make_csr(key, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
        size_t len;
        unsigned char *der = ut_req_der(req, &len);

        X509_REQ_free(read_ok(der, len)); /* as made, it is fine */
        /* The signature BIT STRING ends the DER: its last byte is signature. */
        der[len - 1] ^= 0x01;
        read_refused(der, len, PKI_ERR_INPUT, "signature does not verify");
        OPENSSL_free(der);
        X509_REQ_free(req);
        if (key != k_ec)
            EVP_PKEY_free(key);
    }
}

/* The request's contents changed after signing (the subject's CN). */
static void read_refuses_altered_contents(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node-a", NULL, 0, PKI_USAGE_SERVER);
    size_t len, i;
    unsigned char *der = ut_req_der(req, &len);

    (void)state;
    for (i = 0; i + 6 <= len && memcmp(der + i, "node-a", 6) != 0; i++)
        ;
    assert_true(i + 6 <= len);
    der[i + 5] = 'b';
    read_refused(der, len, PKI_ERR_INPUT, "signature does not verify");
    OPENSSL_free(der);
    X509_REQ_free(req);
}

/* Signed by another key than the one it holds. */
static void read_refuses_signature_by_other_key(void **state)
{
    EVP_PKEY *other = ut_ec();
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req = X509_REQ_new();
    unsigned char *der;
    size_t len;

    (void)state;
    assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
    assert_int_equal(X509_REQ_set_pubkey(req, k_ec), 1);
    assert_true(X509_REQ_sign(req, other, EVP_sha256()) > 0);
    der = ut_req_der(req, &len);
    read_refused(der, len, PKI_ERR_INPUT, "signature does not verify");
    OPENSSL_free(der);
    X509_REQ_free(req);
    X509_NAME_free(name);
    EVP_PKEY_free(other);
}

static void read_refuses_wrong_pem_label(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    char *pem = ut_req_pem(req), *cert_pem;
    char *p;
    X509 *ca = ut_ca(k_ec, T0, YEAR);
    struct pki_buf key_pem = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    /* Same bytes, relabelled. */
    while ((p = strstr(pem, "CERTIFICATE REQUEST")) != NULL)
        memcpy(p, "X509 CRL REQUESTXYZ", 19);
    read_refused(pem, strlen(pem), PKI_ERR_INPUT, "not a CERTIFICATE REQUEST");

    /* A certificate, and a private key. */
    cert_pem = ut_cert_pem(ca);
    read_refused(cert_pem, strlen(cert_pem), PKI_ERR_INPUT, "\"CERTIFICATE\", not a CERTIFICATE "
                                                            "REQUEST");
    assert_ok(pki_key_to_pem(k_ec, &key_pem, &err), err);
    read_refused(key_pem.data, key_pem.len, PKI_ERR_INPUT, "\"PRIVATE KEY\"");

    pki_buf_free(&key_pem);
    free(cert_pem);
    free(pem);
    X509_free(ca);
    X509_REQ_free(req);
}

/* The older "NEW CERTIFICATE REQUEST" label is the same thing. */
static void read_accepts_new_label(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    char *pem = ut_req_pem(req);
    char *buf = malloc(strlen(pem) + 16);
    char *body = strchr(pem, '\n') + 1;
    char *end = strstr(pem, "-----END");

    (void)state;
    assert_non_null(buf);
    sprintf(buf, "-----BEGIN NEW CERTIFICATE REQUEST-----\n%.*s-----END NEW CERTIFICATE "
            "REQUEST-----\n", (int)(end - body), body);
    X509_REQ_free(read_ok(buf, strlen(buf)));
    free(buf);
    free(pem);
    X509_REQ_free(req);
}

static void read_refuses_trailing_der(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    size_t len;
    unsigned char *der = ut_req_der(req, &len);
    unsigned char *more = malloc(len + 1);

    (void)state;
    assert_non_null(more);
    memcpy(more, der, len);
    more[len] = 0;
    read_refused(more, len + 1, PKI_ERR_INPUT, "not a certificate request");
    /* And cut short. */
    read_refused(der, len - 1, PKI_ERR_INPUT, "not a certificate request");
    free(more);
    OPENSSL_free(der);
    X509_REQ_free(req);
}

/* Trailing bytes inside the PEM block's DER. */
static void read_refuses_trailing_der_in_pem(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    size_t len;
    unsigned char *der = ut_req_der(req, &len), *more = malloc(len + 2);
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;

    (void)state;
    assert_non_null(more);
    memcpy(more, der, len);
    more[len] = 0x05;
    more[len + 1] = 0x00; /* a NULL */
    assert_true(PEM_write_bio(b, "CERTIFICATE REQUEST", "", more, (long)len + 2) > 0);
    n = BIO_get_mem_data(b, &data);
    read_refused(data, (size_t)n, PKI_ERR_INPUT, "malformed");
    BIO_free(b);
    free(more);
    OPENSSL_free(der);
    X509_REQ_free(req);
}

static void read_refuses_pem_headers(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    char *pem = ut_req_pem(req);
    char *buf = malloc(strlen(pem) + 64);
    char *body = strchr(pem, '\n') + 1;

    (void)state;
    assert_non_null(buf);
    sprintf(buf, "-----BEGIN CERTIFICATE REQUEST-----\nComment: hello\n\n%s", body);
    read_refused(buf, strlen(buf), PKI_ERR_INPUT, "unexpected headers");
    free(buf);
    free(pem);
    X509_REQ_free(req);
}

static void read_refuses_weak_rsa(void **state)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    X509_REQ *req;
    unsigned char *der;
    size_t len;

    (void)state;
    assert_non_null(k);
    req = make_csr(k, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    der = ut_req_der(req, &len);
    read_refused(der, len, PKI_ERR_POLICY, "RSA key of 1024 bits is too weak");
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
}

static void read_refuses_sm2(void **state)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req;
    unsigned char *der;
    size_t len;

    (void)state;
    assert_non_null(k);
    req = ut_req_raw(k, name, NULL, EVP_sm3());
    assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1); /* a good signature */
    der = ut_req_der(req, &len);
    read_refused(der, len, PKI_ERR_POLICY, "unsupported key type SM2");
    OPENSSL_free(der);
    X509_REQ_free(req);
    X509_NAME_free(name);
    EVP_PKEY_free(k);
}

static void read_refuses_brainpool(void **state)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "brainpoolP256r1");
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req;
    unsigned char *der;
    size_t len;

    (void)state;
    assert_non_null(k);
    req = ut_req_raw(k, name, NULL, EVP_sha256());
    der = ut_req_der(req, &len);
    read_refused(der, len, PKI_ERR_POLICY, "unsupported EC curve");
    OPENSSL_free(der);
    X509_REQ_free(req);
    X509_NAME_free(name);
    EVP_PKEY_free(k);
}

/* P-256 written with explicit curve parameters (specifiedCurve): RFC 5480
 * section 2.1.1 allows only named curves, and verifiers refuse the rest. */
static void read_refuses_explicit_ec_parameters(void **state)
{
    EVP_PKEY *k = ut_ec();
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req, *back;
    unsigned char *der;
    size_t len;
    struct pki_err err = {0, ""};

    (void)state;
    assert_int_equal(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_ENCODING,
                                                    OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
    req = ut_req_raw(k, name, NULL, EVP_sha256());
    {
        /* The request's SubjectPublicKeyInfo: parameters a SEQUENCE, not an OID. */
        X509_ALGOR *alg = NULL;
        int ptype = -1;

        assert_int_equal(X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg,
                                                X509_REQ_get_X509_PUBKEY(req)), 1);
        X509_ALGOR_get0(NULL, &ptype, NULL, alg);
        assert_int_equal(ptype, V_ASN1_SEQUENCE);
    }
    der = ut_req_der(req, &len);
    back = pki_csr_read(der, len, &err);
    if (back != NULL) {
        X509_REQ_free(back);
        fail_msg("a P-256 key with explicit parameters was accepted");
    }
    assert_int_equal(err.code, PKI_ERR_POLICY);
    OPENSSL_free(der);
    X509_REQ_free(req);
    X509_NAME_free(name);
    EVP_PKEY_free(k);
}

static void read_refuses_control_characters_in_subject(void **state)
{
    static const char *const cns[] = {"evil\x1b[2J", "a\nb", "nul\x7f"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cns) / sizeof(cns[0]); i++) {
        X509_NAME *name = ut_name("Example", cns[i]);
        X509_REQ *req = ut_req_raw(k_ec, name, NULL, NULL);
        char *pem = ut_req_pem(req);

        read_refused(pem, strlen(pem), PKI_ERR_INPUT, "control character");
        free(pem);
        X509_REQ_free(req);
        X509_NAME_free(name);
    }
}

static void read_refuses_garbage(void **state)
{
    static const struct { const char *data; size_t len; const char *word; } cases[] = {
        {"hello world", 11, "not a certificate request"},
        {"\x30\x03\x02\x01\x00", 5, "not a certificate request"},
        {"\x30\x80", 2, "not a certificate request"},
        {"-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all!\n"
         "-----END CERTIFICATE REQUEST-----\n", 0, "malformed or truncated"},
        {"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n", 0, "malformed or truncated"},
        {"-----BEGIN", 0, "malformed or truncated"},
        /* Well-formed PEM around DER that is no request. */
        {"-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n",
         0, "malformed"},
    };
    unsigned char zeros[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        read_refused(cases[i].data, cases[i].len ? cases[i].len : strlen(cases[i].data),
                     PKI_ERR_INPUT, cases[i].word);
    memset(zeros, 0, sizeof(zeros));
    read_refused(zeros, sizeof(zeros), PKI_ERR_INPUT, "not a certificate request");
}

static void read_refuses_empty(void **state)
{
    (void)state;
    read_refused("", 0, PKI_ERR_INPUT, "empty");
}

static void read_size_limit(void **state)
{
    X509_REQ *req = make_csr(k_ec, "/CN=node", NULL, 0, PKI_USAGE_SERVER);
    char *pem = ut_req_pem(req);
    size_t n = strlen(pem);
    char *big = malloc(PKI_CSR_MAX + 1);

    (void)state;
    assert_non_null(big);
    /* Exactly 1 MiB: the request, then blank lines. */
    memset(big, '\n', PKI_CSR_MAX + 1);
    memcpy(big, pem, n);
    X509_REQ_free(read_ok(big, PKI_CSR_MAX));
    /* One byte more. */
    read_refused(big, PKI_CSR_MAX + 1, PKI_ERR_INPUT, "too large");
    free(big);
    free(pem);
    X509_REQ_free(req);
}

/* ---- pki_csr_sans --------------------------------------------------------- */

static STACK_OF(X509_EXTENSION) *san_exts(const char *first, const char *second)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();

    assert_non_null(exts);
    assert_true(sk_X509_EXTENSION_push(exts, ut_ext(NID_subject_alt_name, first)) > 0);
    if (second != NULL)
        assert_true(sk_X509_EXTENSION_push(exts, ut_ext(NID_subject_alt_name, second)) > 0);
    return exts;
}

static void sans_two_extensions_refused(void **state)
{
    STACK_OF(X509_EXTENSION) *exts = san_exts("DNS:a.example.com", "DNS:b.example.com");
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req = ut_req_raw(k_ec, name, exts, NULL);
    struct pki_err err = {0, ""};
    struct pki_host out[4];
    char *pem;
    size_t n;

    (void)state;
    pem = ut_req_pem(req);
    X509_REQ_free(read_ok(pem, strlen(pem))); /* the request itself is well formed */
    free(pem);
    assert_err(pki_csr_sans(req, out, 4, &n, &err), err, PKI_ERR_INPUT,
               "two subjectAltName extensions");
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(req);
}

static void sans_other_types_refused(void **state)
{
    static const struct { const char *san; int code; const char *word; } cases[] = {
        {"DNS:ok.example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:admin@EXAMPLE.COM",
         PKI_ERR_POLICY, "otherName"},
        {"dirName:dir_sect", PKI_ERR_POLICY, "directoryName"},
        {"RID:1.2.3.4", PKI_ERR_POLICY, "registeredID"},
        {"DNS:bad_name.example.com", PKI_ERR_INPUT, "not allowed"},
        {"URI:no-scheme", PKI_ERR_INPUT, "URI"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        STACK_OF(X509_EXTENSION) *exts;
        X509_NAME *name = ut_name(NULL, "node");
        struct pki_err err = {0, ""};
        struct pki_host out[4];
        X509_REQ *req;
        size_t n;

        if (strncmp(cases[i].san, "dirName", 7) == 0) {
            /* dirName needs a config section: build it by hand. */
            GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
            GENERAL_NAME *g = GENERAL_NAME_new();

            GENERAL_NAME_set0_value(g, GEN_DIRNAME, ut_name("x", "db.example.com"));
            assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
            exts = sk_X509_EXTENSION_new_null();
            assert_true(sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0,
                                                                    gens)) > 0);
            GENERAL_NAMES_free(gens);
        } else {
            exts = san_exts(cases[i].san, NULL);
        }
        req = ut_req_raw(k_ec, name, exts, NULL);
        if (pki_csr_sans(req, out, 4, &n, &err) != cases[i].code ||
            strstr(err.msg, cases[i].word) == NULL)
            fail_msg("%s: code %d \"%s\"", cases[i].san, err.code, err.msg);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_NAME_free(name);
        X509_REQ_free(req);
    }
}

/* An extensionRequest attribute that is not Extensions: its SANs cannot
 * be known, so the request is refused rather than read as asking for none. */
static void sans_malformed_extension_request(void **state)
{
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req = X509_REQ_new();
    struct pki_err err = {0, ""};
    struct pki_host out[4];
    size_t n = 99;
    int rc;

    (void)state;
    assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
    assert_int_equal(X509_REQ_set_pubkey(req, k_ec), 1);
    assert_int_equal(X509_REQ_add1_attr_by_NID(req, NID_ext_req, V_ASN1_OCTET_STRING,
                                               (const unsigned char *)"DNS:evil", 8), 1);
    assert_true(X509_REQ_sign(req, k_ec, EVP_sha256()) > 0);
    req = ut_req_reparse(req);
    rc = pki_csr_sans(req, out, 4, &n, &err);
    if (rc != PKI_ERR_INPUT)
        fail_msg("a malformed extensionRequest gave rc %d, %zu SANs (\"%s\")", rc, n, err.msg);
    X509_REQ_free(req);
    X509_NAME_free(name);
}

static void sans_max(void **state)
{
    STACK_OF(X509_EXTENSION) *exts = san_exts("DNS:a.example,DNS:b.example,IP:10.0.0.1", NULL);
    X509_NAME *name = ut_name(NULL, "node");
    X509_REQ *req = ut_req_raw(k_ec, name, exts, NULL);
    struct pki_err err = {0, ""};
    struct pki_host out[3];
    size_t n = 0;

    (void)state;
    assert_ok(pki_csr_sans(req, out, 3, &n, &err), err);
    assert_int_equal(n, 3);
    assert_string_equal(out[2].text, "10.0.0.1");
    assert_err(pki_csr_sans(req, out, 2, &n, &err), err, PKI_ERR_INPUT, "more than 2");
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_ecdsa),
        cmocka_unit_test(round_trip_ed25519),
        cmocka_unit_test(round_trip_rsa),
        cmocka_unit_test(usages),
        cmocka_unit_test(create_without_sans),
        cmocka_unit_test(create_empty_subject_with_san),
        cmocka_unit_test(create_needs_cn_or_san),
        cmocka_unit_test(read_refuses_altered_signature),
        cmocka_unit_test(read_refuses_altered_contents),
        cmocka_unit_test(read_refuses_signature_by_other_key),
        cmocka_unit_test(read_refuses_wrong_pem_label),
        cmocka_unit_test(read_accepts_new_label),
        cmocka_unit_test(read_refuses_trailing_der),
        cmocka_unit_test(read_refuses_trailing_der_in_pem),
        cmocka_unit_test(read_refuses_pem_headers),
        cmocka_unit_test(read_refuses_weak_rsa),
        cmocka_unit_test(read_refuses_sm2),
        cmocka_unit_test(read_refuses_brainpool),
        cmocka_unit_test(read_refuses_explicit_ec_parameters),
        cmocka_unit_test(read_refuses_control_characters_in_subject),
        cmocka_unit_test(read_refuses_garbage),
        cmocka_unit_test(read_refuses_empty),
        cmocka_unit_test(read_size_limit),
        cmocka_unit_test(sans_two_extensions_refused),
        cmocka_unit_test(sans_other_types_refused),
        cmocka_unit_test(sans_malformed_extension_request),
        cmocka_unit_test(sans_max),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
