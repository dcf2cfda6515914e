/* test_inspect.c - the facts `cert show` reports, against what was issued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "inspect.h"
#include "subject.h"
#include "unit_util.h"

static EVP_PKEY *k_ca, *k_leaf;
static X509 *ca;

static int group_setup(void **state)
{
    (void)state;
    k_ca = ut_ec();
    k_leaf = ut_ec();
    ca = ut_ca(k_ca, T0, 10 * YEAR);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(ca);
    EVP_PKEY_free(k_ca);
    EVP_PKEY_free(k_leaf);
    return 0;
}

static void inspect_ok(X509 *x, struct pki_cert_info *info)
{
    struct pki_err err = {0, ""};
    int rc = pki_cert_inspect(x, info, &err);

    if (rc != PKI_OK)
        fail_msg("pki_cert_inspect: %d %s", rc, err.msg);
}

/* "AB:CD:..." of X509_digest, computed here. */
static void expected_fingerprint(X509 *x, const EVP_MD *md, char *out, size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    assert_int_equal(X509_digest(x, md, d, &n), 1);
    assert_true(len >= (size_t)n * 3);
    out[0] = '\0';
    for (i = 0; i < n; i++)
        sprintf(out + strlen(out), "%s%02X", i ? ":" : "", d[i]);
}

/* The serial's bytes as upper-case hex, computed here. */
static void expected_serial(X509 *x, char *out)
{
    const ASN1_INTEGER *s = X509_get0_serialNumber(x);
    const unsigned char *p = ASN1_STRING_get0_data(s);
    int i;

    out[0] = '\0';
    for (i = 0; i < ASN1_STRING_length(s); i++)
        sprintf(out + 2 * i, "%02X", p[i]);
}

static X509 *issue(enum pki_cert_role role, const char *subject, const char *const *typed,
                   size_t n, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    struct pki_host hosts[8];
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509_NAME *name = pki_subject_parse(subject, &err);
    X509 *x;
    size_t i;

    assert_non_null(name);
    for (i = 0; i < n; i++)
        assert_ok(pki_san_parse(typed[i], &hosts[i], &err), err);
    memset(&p, 0, sizeof(p));
    p.role = role;
    p.subject = name;
    p.hosts = hosts;
    p.nhosts = n;
    p.lifetime = YEAR;
    p.now = T0;
    p.subject_key = key;
    p.issuer = issuer;
    p.issuer_key = issuer ? issuer_key : key;
    x = pki_cert_issue(&p, &err);
    if (x == NULL)
        fail_msg("issue: %s", err.msg);
    X509_NAME_free(name);
    return ut_reparse(x);
}

static void assert_list(const char *const *got, size_t n, const char *const *want)
{
    size_t i;

    for (i = 0; want[i] != NULL; i++) {
        if (i >= n)
            fail_msg("%zu entries, want more (next \"%s\")", n, want[i]);
        assert_string_equal(got[i], want[i]);
    }
    assert_int_equal(n, i);
}

static void assert_ekus(const struct pki_cert_info *info, const char *const *want)
{
    const char *got[PKI_INSPECT_LIST_MAX];
    size_t i;

    for (i = 0; i < info->neku; i++)
        got[i] = info->eku[i];
    assert_list(got, info->neku, want);
}

static void node_leaf(void **state)
{
    static const char *const sans[] = {"dns:node1.example.com", "ip:10.0.0.1", "ip:2001:db8::1",
                                       "uri:spiffe://cluster.local/ns/db", "email:ops@example.com"};
    static const char *const want_types[] = {"dns", "ip", "ip", "uri", "email"};
    static const char *const want_values[] = {"node1.example.com", "10.0.0.1", "2001:db8::1",
                                              "spiffe://cluster.local/ns/db", "ops@example.com"};
    static const char *const ku[] = {"digitalSignature", NULL};
    static const char *const eku[] = {"serverAuth", "clientAuth", NULL};
    X509 *x = issue(PKI_ROLE_NODE, "/O=pkictl/CN=node", sans, 5, k_leaf, ca, k_ca);
    struct pki_cert_info info;
    char want[130];
    size_t i;

    (void)state;
    inspect_ok(x, &info);
    assert_string_equal(info.subject, "CN=node,O=pkictl");
    assert_string_equal(info.issuer, "CN=test CA,O=test");
    expected_serial(x, want);
    assert_int_equal(strlen(want), 32); /* 16 bytes */
    assert_string_equal(info.serial, want);
    assert_int_equal(info.not_before, T0 - PKI_CERT_BACKDATE_SECONDS);
    assert_int_equal(info.not_after, T0 + YEAR);
    assert_string_equal(info.key_type, "ECDSA");
    assert_int_equal(info.key_bits, 256);
    assert_string_equal(info.key_desc, "ECDSA P-256");
    assert_string_equal(info.sig_alg, "ecdsa-with-SHA256");
    assert_list(info.key_usage, info.nkey_usage, ku);
    assert_ekus(&info, eku);
    assert_int_equal(info.has_basic_constraints, 1);
    assert_int_equal(info.is_ca, 0);
    assert_int_equal(info.path_len, -1);
    assert_int_equal(info.nsans, 5);
    for (i = 0; i < 5; i++) {
        assert_string_equal(info.sans[i].type, want_types[i]);
        assert_string_equal(info.sans[i].value, want_values[i]);
    }
    expected_fingerprint(x, EVP_sha256(), want, sizeof(want));
    assert_int_equal(strlen(want), 95);
    assert_string_equal(info.sha256, want);
    expected_fingerprint(x, EVP_sha1(), want, sizeof(want));
    assert_int_equal(strlen(want), 59);
    assert_string_equal(info.sha1, want);
    pki_cert_info_free(&info);
    assert_null(info.sans);
    assert_int_equal(info.nsans, 0);
    pki_cert_info_free(&info); /* twice is harmless */
    X509_free(x);
}

static void ca_and_roles(void **state)
{
    static const char *const ca_ku[] = {"digitalSignature", "keyCertSign", "cRLSign", NULL};
    static const char *const no_eku[] = {NULL};
    static const char *const server_eku[] = {"serverAuth", NULL};
    static const char *const client_eku[] = {"clientAuth", NULL};
    static const char *const dns[] = {"dns:db.example.com"};
    struct pki_cert_info info;
    char want[100];
    X509 *x;

    (void)state;
    inspect_ok(ca, &info);
    assert_string_equal(info.subject, "CN=test CA,O=test");
    assert_string_equal(info.issuer, info.subject);
    assert_list(info.key_usage, info.nkey_usage, ca_ku);
    assert_ekus(&info, no_eku);
    assert_int_equal(info.has_basic_constraints, 1);
    assert_int_equal(info.is_ca, 1);
    assert_int_equal(info.path_len, -1);
    assert_int_equal(info.nsans, 0);
    assert_null(info.sans);
    assert_int_equal(info.not_after, T0 + 10 * YEAR);
    expected_fingerprint(ca, EVP_sha256(), want, sizeof(want));
    assert_string_equal(info.sha256, want);
    pki_cert_info_free(&info);

    x = issue(PKI_ROLE_INTERMEDIATE, "/CN=issuing", NULL, 0, k_leaf, ca, k_ca);
    inspect_ok(x, &info);
    assert_int_equal(info.is_ca, 1);
    assert_int_equal(info.path_len, 0);
    assert_list(info.key_usage, info.nkey_usage, ca_ku);
    assert_string_equal(info.issuer, "CN=test CA,O=test");
    pki_cert_info_free(&info);
    X509_free(x);

    x = issue(PKI_ROLE_SERVER, "/CN=db", dns, 1, k_leaf, ca, k_ca);
    inspect_ok(x, &info);
    assert_ekus(&info, server_eku);
    assert_int_equal(info.is_ca, 0);
    pki_cert_info_free(&info);
    X509_free(x);

    x = issue(PKI_ROLE_CLIENT, "/CN=alice", NULL, 0, k_leaf, ca, k_ca);
    inspect_ok(x, &info);
    assert_ekus(&info, client_eku);
    assert_int_equal(info.nsans, 0);
    pki_cert_info_free(&info);
    X509_free(x);
}

static void key_types(void **state)
{
    static const char *const rsa_ku[] = {"digitalSignature", "keyEncipherment", NULL};
    EVP_PKEY *rsa = ut_key(PKI_KEY_RSA, 2048);
    EVP_PKEY *p384 = ut_key(PKI_KEY_ECDSA, 384);
    EVP_PKEY *ed = ut_key(PKI_KEY_ED25519, 0);
    struct pki_cert_info info;
    X509 *x, *ca384, *ca_ed;

    (void)state;
    x = issue(PKI_ROLE_CLIENT, "/CN=rsa", NULL, 0, rsa, ca, k_ca);
    inspect_ok(x, &info);
    assert_string_equal(info.key_type, "RSA");
    assert_int_equal(info.key_bits, 2048);
    assert_string_equal(info.key_desc, "RSA 2048");
    assert_string_equal(info.sig_alg, "ecdsa-with-SHA256"); /* the CA's */
    assert_list(info.key_usage, info.nkey_usage, rsa_ku);
    pki_cert_info_free(&info);
    X509_free(x);

    ca384 = ut_ca(p384, T0, YEAR);
    inspect_ok(ca384, &info);
    assert_string_equal(info.key_type, "ECDSA");
    assert_int_equal(info.key_bits, 384);
    assert_string_equal(info.key_desc, "ECDSA P-384");
    assert_string_equal(info.sig_alg, "ecdsa-with-SHA384");
    pki_cert_info_free(&info);
    /* An RSA leaf under it: the signature is the CA's algorithm. */
    x = issue(PKI_ROLE_CLIENT, "/CN=rsa", NULL, 0, rsa, ca384, p384);
    inspect_ok(x, &info);
    assert_string_equal(info.sig_alg, "ecdsa-with-SHA384");
    pki_cert_info_free(&info);
    X509_free(x);

    ca_ed = ut_ca(ed, T0, YEAR);
    inspect_ok(ca_ed, &info);
    assert_string_equal(info.key_type, "Ed25519");
    assert_string_equal(info.key_desc, "Ed25519");
    assert_string_equal(info.sig_alg, "ED25519");
    pki_cert_info_free(&info);

    X509_free(ca384);
    X509_free(ca_ed);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

/* A CA-signed certificate whose extension nid is replaced by value. */
static X509 *with_ext(int nid, const char *value)
{
    X509 *x = issue(PKI_ROLE_CLIENT, "/CN=custom", NULL, 0, k_leaf, ca, k_ca);

    ut_set_ext(x, ut_ext(nid, value), k_ca);
    return ut_reparse(x);
}

static void key_usage_names(void **state)
{
    static const char *const all[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                      "dataEncipherment", "keyAgreement", "keyCertSign",
                                      "cRLSign", "encipherOnly", "decipherOnly", NULL};
    static const char *const some[] = {"keyEncipherment", "keyAgreement", NULL};
    struct pki_cert_info info;
    X509 *x;

    (void)state;
    x = with_ext(NID_key_usage, "critical,decipherOnly,encipherOnly,cRLSign,keyCertSign,"
                                "keyAgreement,dataEncipherment,keyEncipherment,nonRepudiation,"
                                "digitalSignature");
    inspect_ok(x, &info);
    assert_list(info.key_usage, info.nkey_usage, all);
    pki_cert_info_free(&info);
    X509_free(x);

    x = with_ext(NID_key_usage, "keyAgreement,keyEncipherment");
    inspect_ok(x, &info);
    assert_list(info.key_usage, info.nkey_usage, some);
    pki_cert_info_free(&info);
    X509_free(x);
}

static void eku_names(void **state)
{
    static const char *const want[] = {"codeSigning", "1.2.3.4.5.6", "OCSPSigning",
                                       "emailProtection", "timeStamping", NULL};
    struct pki_cert_info info;
    char many[1024];
    X509 *x;
    int i;

    (void)state;
    x = with_ext(NID_ext_key_usage, "codeSigning,1.2.3.4.5.6,OCSPSigning,emailProtection,"
                                    "timeStamping");
    inspect_ok(x, &info);
    assert_ekus(&info, want);
    pki_cert_info_free(&info);
    X509_free(x);

    /* 20 of them: the first 16 are kept. */
    many[0] = '\0';
    for (i = 0; i < 20; i++)
        sprintf(many + strlen(many), "%s1.2.3.%d", i ? "," : "", i);
    x = with_ext(NID_ext_key_usage, many);
    inspect_ok(x, &info);
    assert_int_equal(info.neku, PKI_INSPECT_LIST_MAX);
    assert_string_equal(info.eku[0], "1.2.3.0");
    assert_string_equal(info.eku[15], "1.2.3.15");
    pki_cert_info_free(&info);
    X509_free(x);
}

static void path_len_values(void **state)
{
    struct pki_cert_info info;
    X509 *x;

    (void)state;
    x = with_ext(NID_basic_constraints, "critical,CA:TRUE,pathlen:3");
    inspect_ok(x, &info);
    assert_int_equal(info.has_basic_constraints, 1);
    assert_int_equal(info.is_ca, 1);
    assert_int_equal(info.path_len, 3);
    pki_cert_info_free(&info);
    X509_free(x);

    x = with_ext(NID_basic_constraints, "CA:FALSE");
    inspect_ok(x, &info);
    assert_int_equal(info.has_basic_constraints, 1);
    assert_int_equal(info.is_ca, 0);
    assert_int_equal(info.path_len, -1);
    pki_cert_info_free(&info);
    X509_free(x);
}

static GENERAL_NAME *gen_string(int type, const char *bytes, int len)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

    assert_non_null(g);
    assert_non_null(s);
    assert_int_equal(ASN1_STRING_set(s, bytes, len), 1);
    GENERAL_NAME_set0_value(g, type, s);
    return g;
}

/* Every SAN type is reported, with dirName shown as a name. */
static void san_types(void **state)
{
    static const char *const types[] = {"dns", "dirname", "othername", "rid", "uri",
                                        "ip", "email", "dns", "ip"};
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g;
    ASN1_TYPE *v = ASN1_TYPE_new();
    ASN1_STRING *u = ASN1_UTF8STRING_new();
    X509 *x = issue(PKI_ROLE_CLIENT, "/CN=custom", NULL, 0, k_leaf, ca, k_ca);
    struct pki_cert_info info;
    size_t i;

    (void)state;
    assert_true(sk_GENERAL_NAME_push(gens, gen_string(GEN_DNS, "a.example.com", 13)) > 0);
    g = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(g, GEN_DIRNAME, ut_name("Example", "dir"));
    assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
    g = GENERAL_NAME_new();
    assert_int_equal(ASN1_STRING_set(u, "admin@EXAMPLE.COM", -1), 1);
    ASN1_TYPE_set(v, V_ASN1_UTF8STRING, u);
    assert_int_equal(GENERAL_NAME_set0_othername(g, OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1), v),
                     1);
    assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
    g = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(g, GEN_RID, OBJ_txt2obj("1.2.3.4", 1));
    assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
    assert_true(sk_GENERAL_NAME_push(gens, gen_string(GEN_URI, "spiffe://td/x", 13)) > 0);
    assert_true(sk_GENERAL_NAME_push(gens, gen_string(GEN_IPADD, "\x7f\0\0\x01", 4)) > 0);
    assert_true(sk_GENERAL_NAME_push(gens, gen_string(GEN_EMAIL, "a@b.example", 11)) > 0);
    /* Hostile bytes are shown as '?'; an IP of 5 bytes has no text. */
    assert_true(sk_GENERAL_NAME_push(gens, gen_string(GEN_DNS, "x\x1b[2J\0y", 7)) > 0);
    assert_true(sk_GENERAL_NAME_push(gens, gen_string(GEN_IPADD, "\1\2\3\4\5", 5)) > 0);
    ut_set_ext(x, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens), k_ca);
    GENERAL_NAMES_free(gens);
    x = ut_reparse(x);

    inspect_ok(x, &info);
    assert_int_equal(info.nsans, 9);
    for (i = 0; i < 9; i++)
        if (strcmp(info.sans[i].type, types[i]) != 0)
            fail_msg("SAN %zu: type \"%s\", want \"%s\"", i, info.sans[i].type, types[i]);
    assert_string_equal(info.sans[0].value, "a.example.com");
    assert_string_equal(info.sans[1].value, "CN=dir,O=Example");
    assert_string_equal(info.sans[4].value, "spiffe://td/x");
    assert_string_equal(info.sans[5].value, "127.0.0.1");
    assert_string_equal(info.sans[6].value, "a@b.example");
    assert_string_equal(info.sans[7].value, "x?[2J?y");
    assert_string_equal(info.sans[8].value, "");
    pki_cert_info_free(&info);
    X509_free(x);
}

/* Subject and issuer are printable ASCII whatever the certificate holds. */
static void hostile_names(void **state)
{
    X509 *x = issue(PKI_ROLE_CLIENT, "/CN=plain", NULL, 0, k_leaf, ca, k_ca);
    X509_NAME *n = ut_name("caf\xc3\xa9", "a\x1b]0;title\x07z");
    struct pki_cert_info info;
    size_t i;

    (void)state;
    assert_int_equal(X509_set_subject_name(x, n), 1);
    assert_true(X509_sign(x, k_ca, EVP_sha256()) > 0);
    x = ut_reparse(x);
    inspect_ok(x, &info);
    for (i = 0; info.subject[i] != '\0'; i++)
        if ((unsigned char)info.subject[i] < 0x20 || (unsigned char)info.subject[i] >= 0x7f)
            fail_msg("byte 0x%02x in subject \"%s\"", (unsigned char)info.subject[i],
                     info.subject);
    assert_str_has(info.subject, "O=caf??");
    pki_cert_info_free(&info);
    X509_NAME_free(n);
    X509_free(x);
}

/* A certificate without extensions (version 1). */
static void no_extensions(void **state)
{
    X509 *x = X509_new();
    X509_NAME *n = ut_name(NULL, "bare");
    struct pki_cert_info info;
    time_t t0 = T0;

    (void)state;
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_1), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234), 1);
    assert_int_equal(X509_set_subject_name(x, n), 1);
    assert_int_equal(X509_set_issuer_name(x, n), 1);
    assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &t0));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 2, 0, &t0));
    assert_int_equal(X509_set_pubkey(x, k_leaf), 1);
    assert_true(X509_sign(x, k_leaf, EVP_sha256()) > 0);
    x = ut_reparse(x);
    inspect_ok(x, &info);
    assert_string_equal(info.subject, "CN=bare");
    assert_string_equal(info.serial, "1234");
    assert_int_equal(info.not_before, T0);
    assert_int_equal(info.not_after, T0 + 2 * DAY);
    assert_int_equal(info.has_basic_constraints, 0);
    assert_int_equal(info.is_ca, 0);
    assert_int_equal(info.path_len, -1);
    assert_int_equal(info.nkey_usage, 0);
    assert_int_equal(info.neku, 0);
    assert_int_equal(info.nsans, 0);
    pki_cert_info_free(&info);
    X509_NAME_free(n);
    X509_free(x);
}

static void malformed_validity(void **state)
{
    X509 *x = issue(PKI_ROLE_CLIENT, "/CN=dates", NULL, 0, k_leaf, ca, k_ca);
    struct pki_cert_info info;
    struct pki_err err = {0, ""};

    (void)state;
    assert_int_equal(ASN1_STRING_set(X509_getm_notAfter(x), "not a time", -1), 1);
    assert_int_equal(pki_cert_inspect(x, &info, &err), PKI_ERR_INPUT);
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "validity");
    pki_cert_info_free(&info); /* also after a failure */
    X509_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(node_leaf),
        cmocka_unit_test(ca_and_roles),
        cmocka_unit_test(key_types),
        cmocka_unit_test(key_usage_names),
        cmocka_unit_test(eku_names),
        cmocka_unit_test(path_len_values),
        cmocka_unit_test(san_types),
        cmocka_unit_test(hostile_names),
        cmocka_unit_test(no_extensions),
        cmocka_unit_test(malformed_validity),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
