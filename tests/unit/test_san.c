/* test_san.c - typed SANs (pki_san_parse, pki_san_check) and their
 * conversion to and from GENERAL_NAMES (san.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "name.h"
#include "san.h"
#include "unit_util.h"

struct san_ok {
    const char *typed;
    enum pki_host_kind kind;
    const char *text;
    size_t ip_len;
};

static const struct san_ok valid[] = {
    {"dns:example.com", PKI_HOST_DNS, "example.com", 0},
    {"DNS:Node-1.Example.COM", PKI_HOST_DNS, "Node-1.Example.COM", 0},
    {"Dns:localhost", PKI_HOST_DNS, "localhost", 0},
    {"dns:*.example.com", PKI_HOST_DNS, "*.example.com", 0},
    {"dns:1.2.3.com", PKI_HOST_DNS, "1.2.3.com", 0},
    {"ip:10.0.0.1", PKI_HOST_IPV4, "10.0.0.1", 4},
    {"IP:[::1]", PKI_HOST_IPV6, "::1", 16},
    {"ip:2001:DB8:0:0:0:0:0:1", PKI_HOST_IPV6, "2001:db8::1", 16},
    {"uri:spiffe://cluster.local/ns/db/sa/node", PKI_HOST_URI,
     "spiffe://cluster.local/ns/db/sa/node", 0},
    {"URI:https://a.example/x?y=1#z", PKI_HOST_URI, "https://a.example/x?y=1#z", 0},
    {"uri:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", PKI_HOST_URI,
     "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", 0},
    {"uri:a+b-c.d:x", PKI_HOST_URI, "a+b-c.d:x", 0},
    {"email:alice@example.com", PKI_HOST_EMAIL, "alice@example.com", 0},
    {"EMAIL:first.last+tag@Sub.Example.org", PKI_HOST_EMAIL, "first.last+tag@Sub.Example.org", 0},
    {"email:!#$%&'*+/=?^_`{|}~-@x.io", PKI_HOST_EMAIL, "!#$%&'*+/=?^_`{|}~-@x.io", 0},
};

static void parse_valid(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        struct pki_err err = {0, ""};
        struct pki_host h;
        int rc;

        memset(&h, 0xAA, sizeof(h));
        rc = pki_san_parse(valid[i].typed, &h, &err);
        if (rc != PKI_OK)
            fail_msg("\"%s\": rc %d (%s)", valid[i].typed, rc, err.msg);
        if (h.kind != valid[i].kind || strcmp(h.text, valid[i].text) != 0)
            fail_msg("\"%s\": kind %d text \"%s\"", valid[i].typed, (int)h.kind, h.text);
        if (valid[i].ip_len != 0 && h.ip_len != valid[i].ip_len)
            fail_msg("\"%s\": ip_len %zu", valid[i].typed, h.ip_len);
    }
}

static void parse_ip_bytes(void **state)
{
    static const unsigned char v4[4] = {192, 168, 0, 7};
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 0, 0, 1};
    struct pki_err err = {0, ""};
    struct pki_host h;

    (void)state;
    assert_ok(pki_san_parse("ip:192.168.0.7", &h, &err), err);
    assert_int_equal(h.ip_len, 4);
    assert_memory_equal(h.ip, v4, 4);
    assert_ok(pki_san_parse("ip:[2001:db8::1]", &h, &err), err);
    assert_int_equal(h.ip_len, 16);
    assert_memory_equal(h.ip, v6, 16);
}

static void parse_invalid(void **state)
{
    static const struct { const char *typed; const char *word; } cases[] = {
        {"example.com", "expected dns:NAME"},
        {"", "expected dns:NAME"},
        {"dns", "expected dns:NAME"},
        {"dns=example.com", "expected dns:NAME"},
        {"dns :example.com", "expected dns:NAME"},
        {"x400:foo", "expected dns:NAME"},
        {"othername:1.2.3;UTF8:x", "expected dns:NAME"},
        {"dirname:CN=x", "expected dns:NAME"},
        {"rid:1.2.3.4", "expected dns:NAME"},
        {"dns:", "invalid DNS SAN"},
        {"dns:10.0.0.1", "invalid DNS SAN"},
        {"dns:::1", "invalid DNS SAN"},
        {"dns:[::1]", "invalid DNS SAN"},
        {"dns:a_b.example.com", "not allowed"},
        {"dns:*", "wildcard"},
        {"dns:*.com", "wildcard"},
        {"dns:a.*.example.com", "wildcard"},
        {"dns:-a.example.com", "'-'"},
        {"dns:example.com.", "trailing dot"},
        {"dns:a..b", "empty label"},
        {"dns:exa mple.com", "not allowed"},
        {"dns:1.2.3.256", "all digits"},
        {"ip:", "empty host name"},
        {"ip:example.com", "invalid IP SAN"},
        {"ip:1.2.3.256", "invalid"},
        {"ip:fe80::1%eth0", "zone ids"},
        {"ip:10.0.0.1/8", "invalid"},
        {"uri:", "expected SCHEME:REST"},
        {"uri:noscheme", "expected SCHEME:REST"},
        {"uri:http:", "expected SCHEME:REST"},
        {"uri::x", "expected SCHEME:REST"},
        {"uri:1http://x", "must start with a scheme"},
        {"uri:+a:x", "must start with a scheme"},
        {"uri:/path:x", "must start with a scheme"},
        {"uri:ht tp://x", "must start with a scheme"},
        {"uri:http://a b", "not allowed"},
        {"uri:http://a\tb", "not allowed"},
        {"uri:http://a\x7f", "not allowed"},
        {"uri:http://caf\xc3\xa9", "not allowed"},
        {"email:", "expected LOCAL@DOMAIN"},
        {"email:alice", "expected LOCAL@DOMAIN"},
        {"email:@example.com", "expected LOCAL@DOMAIN"},
        {"email:a@b@example.com", "expected LOCAL@DOMAIN"},
        {"email:.a@example.com", "before '@'"},
        {"email:a.@example.com", "before '@'"},
        {"email:a..b@example.com", "before '@'"},
        {"email:a b@example.com", "before '@'"},
        {"email:\"a\"@example.com", "before '@'"},
        {"email:a@", "bad domain"},
        {"email:a@*.example.com", "bad domain"},
        {"email:a@-x.example.com", "bad domain"},
        {"email:a@10.0.0.1", "bad domain"},
        {"email:a@[10.0.0.1]", "bad domain"},
        {"email:a@example.com.", "bad domain"},
        {"email:a@exa_mple.com", "bad domain"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        struct pki_host h;
        int rc;

        memset(&h, 0, sizeof(h));
        strcpy(h.text, "untouched");
        rc = pki_san_parse(cases[i].typed, &h, &err);
        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT ||
            strstr(err.msg, cases[i].word) == NULL)
            fail_msg("\"%s\": rc %d code %d \"%s\", want %d with \"%s\"", cases[i].typed, rc,
                     err.code, err.msg, PKI_ERR_INPUT, cases[i].word);
        assert_string_equal(h.text, "untouched");
    }
}

static void parse_null(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;

    (void)state;
    assert_err(pki_san_parse(NULL, &h, &err), err, PKI_ERR_INPUT, "missing");
}

static void parse_length_limits(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;
    char *s = malloc(2048);
    size_t n;

    (void)state;
    assert_non_null(s);

    /* URI: 1024 characters, not 1025. */
    strcpy(s, "uri:https://x/");
    n = strlen(s);
    memset(s + n, 'a', PKI_NAME_SAN_MAX - (n - 4));
    s[4 + PKI_NAME_SAN_MAX] = '\0';
    assert_int_equal(strlen(s + 4), PKI_NAME_SAN_MAX);
    assert_ok(pki_san_parse(s, &h, &err), err);
    assert_int_equal(strlen(h.text), PKI_NAME_SAN_MAX);
    strcat(s, "a");
    assert_err(pki_san_parse(s, &h, &err), err, PKI_ERR_INPUT, "longer than 1024");
    memset(s + strlen(s), 'a', 100);
    s[4 + PKI_NAME_SAN_MAX + 100] = '\0';
    assert_err(pki_san_parse(s, &h, &err), err, PKI_ERR_INPUT, "too long");

    /* DNS: 253 characters, not 254. */
    strcpy(s, "dns:");
    for (n = 0; n < 4; n++)
        strcat(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."); /* 63+1 */
    s[4 + 253] = '\0'; /* 3 labels of 63 and one of 61 */
    assert_int_equal(s[strlen(s) - 1], 'a');
    assert_ok(pki_san_parse(s, &h, &err), err);
    strcat(s, "b");
    assert_err(pki_san_parse(s, &h, &err), err, PKI_ERR_INPUT, "longer than 253");

    /* Email: a 64-character local part and 254 characters in all. */
    strcpy(s, "email:");
    memset(s + 6, 'l', 64);
    s[6 + 64] = '\0';
    strcat(s, "@");
    strcat(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
              "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
              "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"); /* 189 */
    assert_int_equal(strlen(s + 6), PKI_NAME_EMAIL_MAX);
    assert_ok(pki_san_parse(s, &h, &err), err);
    assert_int_equal(h.kind, PKI_HOST_EMAIL);
    strcat(s, "d");
    assert_err(pki_san_parse(s, &h, &err), err, PKI_ERR_INPUT, "longer than 254");
    strcpy(s, "email:");
    memset(s + 6, 'l', 65);
    s[6 + 65] = '\0';
    strcat(s, "@example.com");
    assert_err(pki_san_parse(s, &h, &err), err, PKI_ERR_INPUT, "over 64 characters");
    free(s);
}

/* pki_san_check takes the value without its type, as a CSR carries it. */
static void check_typed_values(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;

    (void)state;
    assert_ok(pki_san_check(PKI_HOST_DNS, "db.example.com", &h, &err), err);
    assert_int_equal(h.kind, PKI_HOST_DNS);
    assert_string_equal(h.text, "db.example.com");
    assert_int_equal(h.ip_len, 0);
    assert_ok(pki_san_check(PKI_HOST_IPV4, "127.0.0.1", &h, &err), err);
    assert_int_equal(h.kind, PKI_HOST_IPV4);
    assert_ok(pki_san_check(PKI_HOST_IPV6, "::1", &h, &err), err);
    assert_int_equal(h.kind, PKI_HOST_IPV6);
    assert_int_equal(h.ip_len, 16);
    assert_ok(pki_san_check(PKI_HOST_URI, "spiffe://td/x", &h, &err), err);
    assert_int_equal(h.kind, PKI_HOST_URI);
    assert_ok(pki_san_check(PKI_HOST_EMAIL, "a@b.example", &h, &err), err);
    assert_int_equal(h.kind, PKI_HOST_EMAIL);

    /* The type is not "dns:" text here: a DNS value "dns:x" is just invalid. */
    assert_err(pki_san_check(PKI_HOST_DNS, "dns:x.example", &h, &err), err, PKI_ERR_INPUT,
               "invalid DNS SAN");
    assert_err(pki_san_check(PKI_HOST_DNS, "", &h, &err), err, PKI_ERR_INPUT, "invalid DNS SAN");
    assert_err(pki_san_check(PKI_HOST_IPV4, "db.example.com", &h, &err), err, PKI_ERR_INPUT,
               "invalid IP SAN");
    assert_err(pki_san_check(PKI_HOST_URI, "no scheme", &h, &err), err, PKI_ERR_INPUT, "URI");
    assert_err(pki_san_check(PKI_HOST_EMAIL, "db.example.com", &h, &err), err, PKI_ERR_INPUT,
               "email");
    assert_err(pki_san_check((enum pki_host_kind)42, "x", &h, &err), err, PKI_ERR_INPUT,
               "unsupported SAN type");
}

static void type_names(void **state)
{
    (void)state;
    assert_string_equal(pki_san_type_name(PKI_HOST_DNS), "dns");
    assert_string_equal(pki_san_type_name(PKI_HOST_IPV4), "ip");
    assert_string_equal(pki_san_type_name(PKI_HOST_IPV6), "ip");
    assert_string_equal(pki_san_type_name(PKI_HOST_URI), "uri");
    assert_string_equal(pki_san_type_name(PKI_HOST_EMAIL), "email");
}

/* ---- GENERAL_NAMES ------------------------------------------------------- */

static const char *const roundtrip_typed[] = {
    "dns:db.example.com", "dns:*.db.example.com", "ip:10.1.2.3", "ip:2001:db8::42",
    "ip:::ffff:10.1.2.3", "uri:spiffe://cluster.local/ns/db/sa/node", "email:ops@example.com",
};
#define NRT (sizeof(roundtrip_typed) / sizeof(roundtrip_typed[0]))

static void parse_list(const char *const *typed, size_t n, struct pki_host *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct pki_err err = {0, ""};

        if (pki_san_parse(typed[i], &out[i], &err) != PKI_OK)
            fail_msg("%s: %s", typed[i], err.msg);
    }
}

static void assert_same_hosts(const struct pki_host *a, const struct pki_host *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (a[i].kind != b[i].kind || strcmp(a[i].text, b[i].text) != 0)
            fail_msg("SAN %zu: kind %d \"%s\" became kind %d \"%s\"", i, (int)a[i].kind,
                     a[i].text, (int)b[i].kind, b[i].text);
        assert_int_equal(a[i].ip_len, b[i].ip_len);
        if (a[i].ip_len > 0)
            assert_memory_equal(a[i].ip, b[i].ip, a[i].ip_len);
    }
}

/* A DER round trip of GENERAL_NAMES, as they would come from a file. */
static GENERAL_NAMES *reparse_gens(GENERAL_NAMES *gens)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_GENERAL_NAMES(gens, &der);
    GENERAL_NAMES *out;

    assert_true(len > 0);
    p = der;
    out = d2i_GENERAL_NAMES(NULL, &p, len);
    assert_non_null(out);
    OPENSSL_free(der);
    GENERAL_NAMES_free(gens);
    return out;
}

static void to_general_names_types(void **state)
{
    static const int want_type[NRT] = {GEN_DNS, GEN_DNS, GEN_IPADD, GEN_IPADD,
                                       GEN_IPADD, GEN_URI, GEN_EMAIL};
    struct pki_host hosts[NRT];
    struct pki_err err = {0, ""};
    GENERAL_NAMES *gens;
    size_t i;

    (void)state;
    parse_list(roundtrip_typed, NRT, hosts);
    gens = pki_san_to_general_names(hosts, NRT, &err);
    if (gens == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(sk_GENERAL_NAME_num(gens), NRT);
    for (i = 0; i < NRT; i++) {
        int type;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, (int)i), &type);

        assert_int_equal(type, want_type[i]);
        if (type == GEN_IPADD) {
            assert_int_equal(ASN1_STRING_length(s), (int)hosts[i].ip_len);
            assert_memory_equal(ASN1_STRING_get0_data(s), hosts[i].ip, hosts[i].ip_len);
        } else {
            assert_int_equal(ASN1_STRING_type(s), V_ASN1_IA5STRING);
            assert_int_equal(ASN1_STRING_length(s), (int)strlen(hosts[i].text));
            assert_memory_equal(ASN1_STRING_get0_data(s), hosts[i].text, strlen(hosts[i].text));
        }
    }
    GENERAL_NAMES_free(gens);

    gens = pki_san_to_general_names(hosts, 0, &err); /* none: an empty list */
    assert_non_null(gens);
    assert_int_equal(sk_GENERAL_NAME_num(gens), 0);
    GENERAL_NAMES_free(gens);
}

/* A comma in a URI is part of that URI: one name in, one name out. */
static void to_general_names_no_smuggling(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;
    GENERAL_NAMES *gens;
    int type;
    const ASN1_STRING *s;

    (void)state;
    assert_ok(pki_san_parse("uri:spiffe://td/a,DNS:evil.example,IP:1.2.3.4", &h, &err), err);
    gens = pki_san_to_general_names(&h, 1, &err);
    assert_non_null(gens);
    gens = reparse_gens(gens);
    assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
    s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, 0), &type);
    assert_int_equal(type, GEN_URI);
    assert_int_equal(ASN1_STRING_length(s), (int)strlen(h.text));
    GENERAL_NAMES_free(gens);
}

static void round_trip(void **state)
{
    struct pki_host hosts[NRT], back[NRT + 1];
    struct pki_err err = {0, ""};
    GENERAL_NAMES *gens;
    size_t n = 99;

    (void)state;
    parse_list(roundtrip_typed, NRT, hosts);
    gens = pki_san_to_general_names(hosts, NRT, &err);
    assert_non_null(gens);
    gens = reparse_gens(gens);
    assert_ok(pki_san_from_general_names(gens, back, NRT + 1, &n, &err), err);
    assert_int_equal(n, NRT);
    assert_same_hosts(hosts, back, NRT);

    /* Exactly as many as max is fine; one more is not. */
    assert_ok(pki_san_from_general_names(gens, back, NRT, &n, &err), err);
    assert_int_equal(n, NRT);
    assert_err(pki_san_from_general_names(gens, back, NRT - 1, &n, &err), err, PKI_ERR_INPUT,
               "more than");
    GENERAL_NAMES_free(gens);

    /* No names: n is 0. */
    gens = sk_GENERAL_NAME_new_null();
    n = 99;
    assert_ok(pki_san_from_general_names(gens, back, NRT, &n, &err), err);
    assert_int_equal(n, 0);
    GENERAL_NAMES_free(gens);
}

/* GENERAL_NAMES built by hand, one name per call. */
static GENERAL_NAMES *one_string_name(int type, const void *bytes, int len)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

    assert_non_null(gens);
    assert_non_null(g);
    assert_non_null(s);
    assert_int_equal(ASN1_STRING_set(s, bytes, len), 1);
    GENERAL_NAME_set0_value(g, type, s);
    assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
    return gens;
}

static void push_name(GENERAL_NAMES *gens, GENERAL_NAME *g)
{
    assert_non_null(g);
    assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
}

static GENERAL_NAME *othername(void)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_TYPE *v = ASN1_TYPE_new();
    ASN1_STRING *u = ASN1_UTF8STRING_new();

    assert_non_null(g);
    assert_non_null(v);
    assert_non_null(u);
    assert_int_equal(ASN1_STRING_set(u, "admin@EXAMPLE.COM", -1), 1);
    ASN1_TYPE_set(v, V_ASN1_UTF8STRING, u);
    /* Microsoft's UPN, the otherName most often seen. */
    assert_int_equal(GENERAL_NAME_set0_othername(g, OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1), v),
                     1);
    return g;
}

static GENERAL_NAME *dirname(void)
{
    GENERAL_NAME *g = GENERAL_NAME_new();
    X509_NAME *n = ut_name("evil", "db.example.com");

    assert_non_null(g);
    GENERAL_NAME_set0_value(g, GEN_DIRNAME, n);
    return g;
}

static GENERAL_NAME *rid(void)
{
    GENERAL_NAME *g = GENERAL_NAME_new();

    assert_non_null(g);
    GENERAL_NAME_set0_value(g, GEN_RID, OBJ_txt2obj("1.2.3.4.5", 1));
    return g;
}

static void from_refuses_other_types(void **state)
{
    static const struct { GENERAL_NAME *(*make)(void); const char *word; } cases[] = {
        {othername, "otherName SANs are not allowed"},
        {dirname, "directoryName SANs are not allowed"},
        {rid, "registeredID SANs are not allowed"},
    };
    struct pki_host hosts[4], dns;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

        /* Alone, and after a valid name. */
        push_name(gens, cases[i].make());
        gens = reparse_gens(gens);
        assert_err(pki_san_from_general_names(gens, hosts, 4, &n, &err), err, PKI_ERR_POLICY,
                   cases[i].word);
        GENERAL_NAMES_free(gens);

        assert_ok(pki_san_parse("dns:ok.example.com", &dns, &err), err);
        gens = pki_san_to_general_names(&dns, 1, &err);
        assert_non_null(gens);
        push_name(gens, cases[i].make());
        gens = reparse_gens(gens);
        err.code = 0;
        assert_err(pki_san_from_general_names(gens, hosts, 4, &n, &err), err, PKI_ERR_POLICY,
                   cases[i].word);
        GENERAL_NAMES_free(gens);
    }
}

static void from_refuses_embedded_nul(void **state)
{
    static const struct { int type; const char *bytes; int len; const char *word; } cases[] = {
        {GEN_DNS, "good.example.com\0.evil.example", 30, "dns SAN has an embedded NUL"},
        {GEN_DNS, "\0", 1, "embedded NUL"},
        {GEN_URI, "spiffe://td/a\0b", 15, "uri SAN has an embedded NUL"},
        {GEN_EMAIL, "a@b.example\0.evil", 17, "email SAN has an embedded NUL"},
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        struct pki_host h[2];
        GENERAL_NAMES *gens = one_string_name(cases[i].type, cases[i].bytes, cases[i].len);

        gens = reparse_gens(gens);
        if (pki_san_from_general_names(gens, h, 2, &n, &err) != PKI_ERR_INPUT ||
            strstr(err.msg, cases[i].word) == NULL)
            fail_msg("case %zu: code %d \"%s\"", i, err.code, err.msg);
        GENERAL_NAMES_free(gens);
    }
}

static void from_refuses_bad_values(void **state)
{
    static const struct { int type; const char *bytes; int len; const char *word; } cases[] = {
        {GEN_DNS, "", 0, "empty"},
        {GEN_DNS, "a_b.example.com", 15, "not allowed"},
        {GEN_DNS, "10.0.0.1", 8, "invalid DNS SAN"},
        {GEN_DNS, "*", 1, "wildcard"},
        {GEN_DNS, "a.*.example", 11, "wildcard"},
        {GEN_DNS, "bad\x1b[2J.example", 15, "not allowed"},
        {GEN_URI, "", 0, "empty"},
        {GEN_URI, "no scheme", 9, "URI"},
        {GEN_EMAIL, "nobody", 6, "LOCAL@DOMAIN"},
        {GEN_IPADD, "\x01\x02\x03", 3, "3 bytes"},
        {GEN_IPADD, "\x01\x02\x03\x04\x05", 5, "5 bytes"},
        {GEN_IPADD, "", 0, "0 bytes"},
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        struct pki_host h[2];
        GENERAL_NAMES *gens = one_string_name(cases[i].type, cases[i].bytes, cases[i].len);

        gens = reparse_gens(gens);
        if (pki_san_from_general_names(gens, h, 2, &n, &err) != PKI_ERR_INPUT ||
            strstr(err.msg, cases[i].word) == NULL)
            fail_msg("case %zu: code %d \"%s\", want \"%s\"", i, err.code, err.msg,
                     cases[i].word);
        GENERAL_NAMES_free(gens);
    }
}

static void from_refuses_overlong_strings(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h[2];
    char *s = malloc(PKI_NAME_SAN_MAX + 2);
    GENERAL_NAMES *gens;
    size_t n;

    (void)state;
    assert_non_null(s);
    strcpy(s, "https://x/");
    memset(s + 10, 'a', PKI_NAME_SAN_MAX - 10);
    gens = one_string_name(GEN_URI, s, PKI_NAME_SAN_MAX);
    assert_ok(pki_san_from_general_names(gens, h, 2, &n, &err), err);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(h[0].text), PKI_NAME_SAN_MAX);
    GENERAL_NAMES_free(gens);
    s[PKI_NAME_SAN_MAX] = 'a';
    gens = one_string_name(GEN_URI, s, PKI_NAME_SAN_MAX + 1);
    assert_err(pki_san_from_general_names(gens, h, 2, &n, &err), err, PKI_ERR_INPUT,
               "too long");
    GENERAL_NAMES_free(gens);
    free(s);
}

/* A raw IPv4 address in 16 bytes (::ffff:a.b.c.d) and an IPv6 one come back
 * as the same bytes. */
static void from_ip_bytes(void **state)
{
    static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    struct pki_err err = {0, ""};
    struct pki_host h[2];
    GENERAL_NAMES *gens = one_string_name(GEN_IPADD, v6, 16);
    size_t n;

    (void)state;
    assert_ok(pki_san_from_general_names(gens, h, 2, &n, &err), err);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].kind, PKI_HOST_IPV6);
    assert_int_equal(h[0].ip_len, 16);
    assert_memory_equal(h[0].ip, v6, 16);
    GENERAL_NAMES_free(gens);

    gens = one_string_name(GEN_IPADD, "\x7f\0\0\x01", 4);
    assert_ok(pki_san_from_general_names(gens, h, 2, &n, &err), err);
    assert_int_equal(h[0].kind, PKI_HOST_IPV4);
    assert_string_equal(h[0].text, "127.0.0.1");
    GENERAL_NAMES_free(gens);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid),
        cmocka_unit_test(parse_ip_bytes),
        cmocka_unit_test(parse_invalid),
        cmocka_unit_test(parse_null),
        cmocka_unit_test(parse_length_limits),
        cmocka_unit_test(check_typed_values),
        cmocka_unit_test(type_names),
        cmocka_unit_test(to_general_names_types),
        cmocka_unit_test(to_general_names_no_smuggling),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(from_refuses_other_types),
        cmocka_unit_test(from_refuses_embedded_nul),
        cmocka_unit_test(from_refuses_bad_values),
        cmocka_unit_test(from_refuses_overlong_strings),
        cmocka_unit_test(from_ip_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
