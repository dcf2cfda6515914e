/* test_ncons.c - a CA's name constraints against the names it will certify
 * (ncons.h): permitted and excluded subtrees of each name type, the CN of an
 * end entity, a certificate's own names, and an unreadable extension. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ncons.h"
#include "san.h"
#include "unit_util.h"

/* An (unsigned) CA certificate whose nameConstraints are conf, or none if
 * conf is NULL: pki_nc_permits reads only the extension. */
static X509 *ca_with(const char *conf)
{
    X509 *x = X509_new();
    X509_EXTENSION *ext;
    X509V3_CTX ctx;

    assert_non_null(x);
    if (conf != NULL) {
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_name_constraints, conf);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
    }
    return x;
}

static struct pki_host san(const char *typed)
{
    struct pki_err err = {0, ""};
    struct pki_host h;

    assert_ok(pki_san_parse(typed, &h, &err), err);
    return h;
}

/* rc of pki_nc_permits for one end entity with CN cn and SANs typed[]. */
static int permits(X509 *ca, const char *cn, const char *const *typed, size_t n,
                   struct pki_err *err)
{
    struct pki_host sans[4];
    struct pki_nc_cert c = {"a service leaf", cn, 1, sans, n};
    size_t i;

    assert_true(n <= 4);
    for (i = 0; i < n; i++)
        sans[i] = san(typed[i]);
    return pki_nc_permits(ca, "the root", &c, err);
}

static const char *const spiffe_td[] = {"uri:spiffe://td.example/ns/default/dc/dc1/svc/web"};
static const char *const spiffe_other[] = {"uri:spiffe://other.example/ns/default/dc/dc1/svc/web"};

static void no_constraints(void **state)
{
    static const char *const all[] = {"uri:spiffe://x.y/z", "dns:anything.example",
                                      "ip:10.1.2.3", "email:a@b.example"};
    struct pki_err err = {0, ""};
    X509 *ca = ca_with(NULL);

    (void)state;
    assert_ok(permits(ca, "node.example.org", all, 4, &err), err);
    X509_free(ca);
}

static void uri_permitted(void **state)
{
    static const char *const tls[] = {"dns:localhost", "ip:127.0.0.1", "ip:::1"};
    struct pki_err err = {0, ""};
    X509 *ca = ca_with("critical,permitted;URI:td.example");

    (void)state;
    assert_ok(permits(ca, "web", spiffe_td, 1, &err), err);
    /* Only URIs are constrained: DNS and IP names pass. */
    assert_ok(permits(ca, "pkictl server", tls, 3, &err), err);
    assert_err(permits(ca, "web", spiffe_other, 1, &err), err, PKI_ERR_POLICY,
               "the root's name constraints do not permit "
               "URI:spiffe://other.example/ns/default/dc/dc1/svc/web, a name of a service leaf");
    X509_free(ca);
    /* A leading dot: any host below the domain, not the domain itself. */
    ca = ca_with("permitted;URI:.example");
    assert_ok(permits(ca, "web", spiffe_td, 1, &err), err);
    X509_free(ca);
    ca = ca_with("permitted;URI:.td.example");
    assert_err(permits(ca, "web", spiffe_td, 1, &err), err, PKI_ERR_POLICY, "do not permit");
    X509_free(ca);
}

static void excluded(void **state)
{
    static const char *const lo[] = {"ip:127.0.0.1"};
    static const char *const ten[] = {"ip:10.0.0.1"};
    struct pki_err err = {0, ""};
    X509 *ca = ca_with("excluded;IP:127.0.0.0/255.0.0.0,excluded;URI:td.example");

    (void)state;
    assert_err(permits(ca, NULL, lo, 1, &err), err, PKI_ERR_POLICY,
               "the root's name constraints exclude IP Address:127.0.0.1, a name of a service "
               "leaf");
    assert_ok(permits(ca, NULL, ten, 1, &err), err);
    assert_err(permits(ca, "web", spiffe_td, 1, &err), err, PKI_ERR_POLICY,
               "exclude URI:spiffe://td.example/");
    assert_ok(permits(ca, "web", spiffe_other, 1, &err), err);
    X509_free(ca);
}

static void dns_and_cn(void **state)
{
    static const char *const local[] = {"dns:localhost"};
    static const char *const inside[] = {"dns:a.example.com"};
    struct pki_err err = {0, ""};
    X509 *ca = ca_with("permitted;DNS:example.com");

    (void)state;
    assert_err(permits(ca, NULL, local, 1, &err), err, PKI_ERR_POLICY,
               "do not permit DNS:localhost");
    assert_ok(permits(ca, NULL, inside, 1, &err), err);
    /* An end entity's CN that is a host name counts when it has no DNS SAN,
     * as OpenSSL checks it... */
    assert_err(permits(ca, "node.other.org", NULL, 0, &err), err, PKI_ERR_POLICY,
               "/CN=node.other.org");
    /* ...and not beside a DNS SAN, nor when it is no host name. */
    assert_ok(permits(ca, "node.other.org", inside, 1, &err), err);
    assert_ok(permits(ca, "pkictl server", NULL, 0, &err), err);
    X509_free(ca);
}

static void directory_name(void **state)
{
    struct pki_err err = {0, ""};
    X509 *ca = NULL;
    struct pki_nc_cert inter = {"the signing CA", "pkictl Signing CA", 0, NULL, 0};
    CONF *conf = NCONF_new(NULL);
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    long line = 0;
    BIO *b = BIO_new_mem_buf("[dn_sect]\nO = Acme\n", -1);

    (void)state;
    /* dirName takes its DN from a config section. */
    assert_int_equal(NCONF_load_bio(conf, b, &line), 1);
    ca = X509_new();
    X509V3_set_ctx(&ctx, ca, ca, NULL, NULL, 0);
    X509V3_set_nconf(&ctx, conf);
    ext = X509V3_EXT_nconf_nid(conf, &ctx, NID_name_constraints, "permitted;dirName:dn_sect");
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(ca, ext, -1), 1);
    assert_err(pki_nc_permits(ca, "Config.RootCert", &inter, &err), err, PKI_ERR_POLICY,
               "Config.RootCert's name constraints do not permit /CN=pkictl Signing CA, a name "
               "of the signing CA");
    X509_EXTENSION_free(ext);
    NCONF_free(conf);
    BIO_free(b);
    X509_free(ca);
}

static void own_names(void **state)
{
    struct pki_err err = {0, ""};
    X509 *ca = ca_with("critical,permitted;URI:td.example");
    X509 *x = ca_with(NULL);
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    struct pki_host h = san("uri:spiffe://other.example");

    (void)state;
    assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                                (const unsigned char *)"Operator Root", -1, -1,
                                                0),
                     1);
    assert_ok(pki_nc_permits_x509(ca, "the active root", x, "the new root", &err), err);
    X509_free(x);
    x = ca_with(NULL);
    sk_GENERAL_NAME_free(gens);
    gens = pki_san_to_general_names(&h, 1, &err);
    assert_non_null(gens);
    assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
    assert_err(pki_nc_permits_x509(ca, "the active root", x, "the new root", &err), err,
               PKI_ERR_POLICY, "do not permit URI:spiffe://other.example, a name of the new root");
    GENERAL_NAMES_free(gens);
    X509_free(x);
    /* A control character in the certificate's own name is not copied into
     * the message. */
    x = ca_with(NULL);
    gens = sk_GENERAL_NAME_new_null();
    {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *u = ASN1_IA5STRING_new();

        assert_non_null(g);
        assert_non_null(u);
        assert_int_equal(ASN1_STRING_set(u, "spiffe://other.example/\nx", -1), 1);
        GENERAL_NAME_set0_value(g, GEN_URI, u);
        assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
    }
    assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
    assert_err(pki_nc_permits_x509(ca, "the active root", x, "the new root", &err), err,
               PKI_ERR_POLICY, "URI:spiffe://other.example/?x, a name");
    GENERAL_NAMES_free(gens);
    X509_free(x);
    X509_free(ca);
}

static void unreadable(void **state)
{
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
    struct pki_err err = {0, ""};
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext;
    X509 *ca = X509_new();

    (void)state;
    assert_int_equal(ASN1_OCTET_STRING_set(os, junk, sizeof(junk)), 1);
    ext = X509_EXTENSION_create_by_NID(NULL, NID_name_constraints, 1, os);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(ca, ext, -1), 1);
    assert_err(permits(ca, "web", spiffe_td, 1, &err), err, PKI_ERR_INPUT,
               "the root: its nameConstraints extension cannot be read");
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    X509_free(ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_constraints), cmocka_unit_test(uri_permitted),
        cmocka_unit_test(excluded),       cmocka_unit_test(dns_and_cn),
        cmocka_unit_test(directory_name), cmocka_unit_test(own_names),
        cmocka_unit_test(unreadable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
