/* test_caconfig.c - the CA configuration body: parse, rules, render, rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>

#include <cmocka.h>

#include "caconfig.h"
#include "unit_util.h"

/* A config that is not the default, to see that a failed parse leaves the
 * caller's struct alone. */
static void sentinel(struct srv_ca_config *c)
{
    srv_ca_config_default(c);
    c->leaf_ttl = 12345;
    c->csr_max_per_second = 7;
}

static int parse(const char *json, struct srv_ca_config *out, struct pki_err *err)
{
    return srv_ca_config_parse(json, strlen(json), out, err);
}

/* Parses json, which must succeed. */
static void parse_ok(const char *json, struct srv_ca_config *out)
{
    struct pki_err err = {0, ""};
    int rc = parse(json, out, &err);

    if (rc != PKI_OK)
        fail_msg("%s: rc %d (%s)", json, rc, err.msg);
}

/* Parses json, which must fail with PKI_ERR_INPUT, a message holding word,
 * and the caller's struct untouched. */
static void parse_bad(const char *json, const char *word)
{
    struct srv_ca_config c;
    struct pki_err err = {0, ""};
    int rc;

    sentinel(&c);
    rc = parse(json, &c, &err);
    if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT)
        fail_msg("%s: expected PKI_ERR_INPUT, got rc %d (\"%s\")", json, rc, err.msg);
    if (strstr(err.msg, word) == NULL)
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.msg, word);
    assert_int_equal(c.leaf_ttl, 12345);
    assert_null(c.root_cert_pem);
    assert_null(c.private_key_pem);
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void assert_config_equal(const struct srv_ca_config *a, const struct srv_ca_config *b)
{
    assert_string_equal(a->provider, b->provider);
    assert_int_equal(a->leaf_ttl, b->leaf_ttl);
    assert_int_equal(a->intermediate_ttl, b->intermediate_ttl);
    assert_int_equal(a->root_ttl, b->root_ttl);
    assert_int_equal(a->spec.type, b->spec.type);
    assert_int_equal(a->spec.bits, b->spec.bits);
    assert_true(a->csr_max_per_second == b->csr_max_per_second);
    assert_int_equal(a->force_without_cross_signing, b->force_without_cross_signing);
    assert_true(same_text(a->root_cert_pem, b->root_cert_pem));
    assert_true(same_text(a->private_key_pem, b->private_key_pem));
}

/* to_json, dumped and parsed again. */
static void round_trip(const struct srv_ca_config *c, int with_secrets,
                       struct srv_ca_config *out)
{
    json_t *j = srv_ca_config_to_json(c, with_secrets);
    char *text;

    assert_non_null(j);
    text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    parse_ok(text, out);
    free(text);
    json_decref(j);
}

/* A body with one Config field set to the raw JSON value. */
static const char *with_field(const char *name, const char *value)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf), "{\"Provider\": \"consul\", \"Config\": {\"%s\": %s}}", name,
             value);
    return buf;
}

static const char *with_ttls(const char *leaf, const char *inter, const char *root)
{
    static char buf[512];

    snprintf(buf, sizeof(buf), "{\"Provider\": \"consul\", \"Config\": {\"LeafCertTTL\": "
             "\"%s\", \"IntermediateCertTTL\": \"%s\", \"RootCertTTL\": \"%s\"}}", leaf, inter,
             root);
    return buf;
}

/* ---- defaults and round trips ------------------------------------------------ */

static void default_values(void **state)
{
    struct srv_ca_config c;

    (void)state;
    srv_ca_config_default(&c);
    assert_string_equal(c.provider, "consul");
    assert_int_equal(c.leaf_ttl, 72 * HOUR);
    assert_int_equal(c.intermediate_ttl, 8760 * HOUR);
    assert_int_equal(c.root_ttl, 87600 * HOUR);
    assert_int_equal(c.spec.type, PKI_KEY_ECDSA);
    assert_int_equal(c.spec.bits, 256);
    assert_true(c.csr_max_per_second == 50);
    assert_int_equal(c.force_without_cross_signing, 0);
    assert_null(c.root_cert_pem);
    assert_null(c.private_key_pem);
}

static void default_renders_consul_shape(void **state)
{
    struct srv_ca_config c;
    json_t *j, *cfg;

    (void)state;
    srv_ca_config_default(&c);
    c.create_index = 4;
    c.modify_index = 9;
    j = srv_ca_config_to_json(&c, 1);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "Provider")), "consul");
    assert_true(json_is_false(json_object_get(j, "ForceWithoutCrossSigning")));
    assert_int_equal(json_integer_value(json_object_get(j, "CreateIndex")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "ModifyIndex")), 9);
    cfg = json_object_get(j, "Config");
    assert_string_equal(json_string_value(json_object_get(cfg, "LeafCertTTL")), "72h0m0s");
    assert_string_equal(json_string_value(json_object_get(cfg, "IntermediateCertTTL")),
                        "8760h0m0s");
    assert_string_equal(json_string_value(json_object_get(cfg, "RootCertTTL")), "87600h0m0s");
    assert_string_equal(json_string_value(json_object_get(cfg, "PrivateKeyType")), "ec");
    assert_int_equal(json_integer_value(json_object_get(cfg, "PrivateKeyBits")), 256);
    /* A whole rate is an integer, as Consul shows it. */
    assert_true(json_is_integer(json_object_get(cfg, "CSRMaxPerSecond")));
    assert_int_equal(json_integer_value(json_object_get(cfg, "CSRMaxPerSecond")), 50);
    assert_null(json_object_get(cfg, "RootCert"));
    assert_null(json_object_get(cfg, "PrivateKey"));
    assert_int_equal(json_object_size(cfg), 6);
    json_decref(j);
}

static void default_round_trip(void **state)
{
    struct srv_ca_config c, back;

    (void)state;
    srv_ca_config_default(&c);
    round_trip(&c, 0, &back);
    assert_config_equal(&c, &back);
    srv_ca_config_clear(&back);
    round_trip(&c, 1, &back);
    assert_config_equal(&c, &back);
    srv_ca_config_clear(&back);
}

static void changed_values_round_trip(void **state)
{
    struct srv_ca_config c, back;

    (void)state;
    parse_ok("{\"Provider\": \"consul\", \"ForceWithoutCrossSigning\": true, \"Config\": {"
             "\"LeafCertTTL\": \"1h30m\", \"IntermediateCertTTL\": \"5h\", \"RootCertTTL\": "
             "\"1d\", \"PrivateKeyType\": \"rsa\", \"PrivateKeyBits\": 4096, "
             "\"CSRMaxPerSecond\": 0.25}}", &c);
    assert_int_equal(c.leaf_ttl, 5400);
    assert_int_equal(c.intermediate_ttl, 5 * HOUR);
    assert_int_equal(c.root_ttl, DAY);
    assert_int_equal(c.spec.type, PKI_KEY_RSA);
    assert_int_equal(c.spec.bits, 4096);
    assert_true(c.csr_max_per_second == 0.25);
    assert_int_equal(c.force_without_cross_signing, 1);
    round_trip(&c, 0, &back);
    assert_config_equal(&c, &back);
    srv_ca_config_clear(&back);
    srv_ca_config_clear(&c);
}

static void absent_fields_take_defaults(void **state)
{
    struct srv_ca_config c, d;

    (void)state;
    srv_ca_config_default(&d);
    parse_ok("{\"Provider\": \"consul\"}", &c);
    assert_config_equal(&c, &d);
    parse_ok("{\"Provider\": \"consul\", \"Config\": {}}", &c);
    assert_config_equal(&c, &d);
    parse_ok("{\"Provider\": \"consul\", \"Config\": {\"LeafCertTTL\": \"24h\"}}", &c);
    assert_int_equal(c.leaf_ttl, 24 * HOUR);
    assert_int_equal(c.intermediate_ttl, d.intermediate_ttl);
    /* Consul's GET shows unset PEMs as "": tools send them back. */
    parse_ok("{\"Provider\": \"consul\", \"Config\": {\"RootCert\": \"\", \"PrivateKey\": "
             "\"\"}}", &c);
    assert_config_equal(&c, &d);
}

static void indexes_accepted_and_ignored(void **state)
{
    struct srv_ca_config c;

    (void)state;
    parse_ok("{\"Provider\": \"consul\", \"CreateIndex\": 5, \"ModifyIndex\": 7}", &c);
    assert_int_equal(c.create_index, 0);
    assert_int_equal(c.modify_index, 0);
    parse_bad("{\"Provider\": \"consul\", \"CreateIndex\": \"5\"}",
              "CreateIndex must be an integer, not a string");
    parse_bad("{\"Provider\": \"consul\", \"ModifyIndex\": 1.5}",
              "ModifyIndex must be an integer, not a number");
}

/* ---- provider, unknown fields, types ------------------------------------------- */

static void provider_rules(void **state)
{
    (void)state;
    parse_bad("{\"Config\": {}}", "missing field \"Provider\"");
    parse_bad("{\"Provider\": \"vault\"}", "Provider \"vault\": unknown provider; this server "
              "has \"consul\" (the built-in CA)");
    parse_bad("{\"Provider\": \"Consul\"}", "unknown provider");
    parse_bad("{\"Provider\": \"\"}", "unknown provider");
    parse_bad("{\"Provider\": 1}", "Provider must be a string, not an integer");
    parse_bad("{\"Provider\": null}", "Provider must be a string, not null");
}

static void unknown_fields_named(void **state)
{
    (void)state;
    parse_bad("{\"Provider\": \"consul\", \"Foo\": 1}", "unknown field \"Foo\" (known fields: "
              "Provider, Config, ForceWithoutCrossSigning, CreateIndex, ModifyIndex)");
    parse_bad("{\"Provider\": \"consul\", \"ClusterID\": \"x\"}", "unknown field \"ClusterID\"");
    parse_bad("{\"Provider\": \"consul\", \"Config\": {\"Foo\": 1}}",
              "unknown field \"Foo\" in Config");
    /* Consul's fields we do not have are refused, not silently dropped. */
    parse_bad(with_field("CSRMaxConcurrent", "0"), "unknown field \"CSRMaxConcurrent\" in Config");
    parse_bad(with_field("leafcertttl", "\"1h\""), "unknown field \"leafcertttl\" in Config");
    /* A name a client sent is quoted back in printable ASCII only. */
    parse_bad("{\"Provider\": \"consul\", \"F\\u0001\\u00e9\": 1}", "unknown field \"F???\"");
}

static void wrong_types(void **state)
{
    (void)state;
    parse_bad("{\"Provider\": \"consul\", \"Config\": \"x\"}",
              "Config must be an object, not a string");
    parse_bad("{\"Provider\": \"consul\", \"Config\": null}", "Config must be an object, not null");
    parse_bad("{\"Provider\": \"consul\", \"Config\": []}", "Config must be an object, not an "
              "array");
    parse_bad("{\"Provider\": \"consul\", \"ForceWithoutCrossSigning\": \"true\"}",
              "ForceWithoutCrossSigning must be a boolean, not a string");
    parse_bad("{\"Provider\": \"consul\", \"ForceWithoutCrossSigning\": 1}",
              "ForceWithoutCrossSigning must be a boolean, not an integer");
    parse_bad(with_field("LeafCertTTL", "3600"), "Config.LeafCertTTL must be a string, not an "
              "integer");
    parse_bad(with_field("IntermediateCertTTL", "{}"), "Config.IntermediateCertTTL must be a "
              "string, not an object");
    parse_bad(with_field("RootCertTTL", "null"), "Config.RootCertTTL must be a string, not null");
    parse_bad(with_field("PrivateKeyType", "1"), "Config.PrivateKeyType must be a string");
    parse_bad(with_field("PrivateKeyBits", "\"256\""), "Config.PrivateKeyBits must be an "
              "integer, not a string");
    parse_bad(with_field("PrivateKeyBits", "256.0"), "Config.PrivateKeyBits must be an "
              "integer, not a number");
    parse_bad(with_field("CSRMaxPerSecond", "\"50\""), "Config.CSRMaxPerSecond must be a "
              "number, not a string");
    parse_bad(with_field("CSRMaxPerSecond", "false"), "Config.CSRMaxPerSecond must be a "
              "number, not a boolean");
    parse_bad(with_field("RootCert", "1"), "Config.RootCert must be a string");
    parse_bad(with_field("PrivateKey", "[]"), "Config.PrivateKey must be a string, not an array");
}

static void force_flag(void **state)
{
    struct srv_ca_config c;

    (void)state;
    parse_ok("{\"Provider\": \"consul\", \"ForceWithoutCrossSigning\": true}", &c);
    assert_int_equal(c.force_without_cross_signing, 1);
    parse_ok("{\"Provider\": \"consul\", \"ForceWithoutCrossSigning\": false}", &c);
    assert_int_equal(c.force_without_cross_signing, 0);
}

/* ---- JSON framing ---------------------------------------------------------------- */

static void json_framing(void **state)
{
    (void)state;
    parse_bad("{\"Provider\": \"consul\", \"Provider\": \"vault\"}", "duplicate");
    parse_bad("{\"Provider\": \"consul\", \"Config\": {\"LeafCertTTL\": \"1h\", "
              "\"LeafCertTTL\": \"2h\"}}", "duplicate");
    parse_bad("{\"Provider\": \"consul\"} x", "not valid JSON");
    parse_bad("{\"Provider\": \"consul\"}{}", "not valid JSON");
    parse_bad("{\"Provider\": \"consul\"", "not valid JSON");
    parse_bad("{\"Provider\": \"consul\",}", "not valid JSON");
    parse_bad("[{\"Provider\": \"consul\"}]", "must be a JSON object");
    parse_bad("[]", "must be a JSON object");
    parse_bad("\"consul\"", "not valid JSON");
    parse_bad("42", "not valid JSON");
    parse_bad("null", "not valid JSON");
    parse_bad("", "empty request body");
    parse_bad("   ", "not valid JSON");
    /* "\u0000" would end the C string early: the Provider check would see
     * "consul" and the rest would ride along. */
    parse_bad("{\"Provider\": \"consul\\u0000x\"}", "not valid JSON: a string holds \\u0000");
    parse_bad("{\"Provider\": \"\\ud800\"}", "not valid JSON");
}

static void raw_nul_and_bad_utf8(void **state)
{
    static const char nul_in[] = "{\"Provider\": \"con\0sul\"}";
    static const char nul_after[] = "{\"Provider\": \"consul\"}\0";
    static const char latin1[] = "{\"Provider\": \"consul\", \"Config\": {\"F\xe9\": 1}}";
    struct srv_ca_config c;
    struct pki_err err = {0, ""};

    (void)state;
    sentinel(&c);
    assert_err(srv_ca_config_parse(nul_in, sizeof(nul_in) - 1, &c, &err), err, PKI_ERR_INPUT,
               "not valid JSON");
    assert_err(srv_ca_config_parse(nul_after, sizeof(nul_after) - 1, &c, &err), err,
               PKI_ERR_INPUT, "not valid JSON");
    assert_err(srv_ca_config_parse(latin1, sizeof(latin1) - 1, &c, &err), err, PKI_ERR_INPUT,
               "not valid JSON");
    assert_int_equal(c.leaf_ttl, 12345);
}

static void body_size_limit(void **state)
{
    static const char head[] = "{\"Provider\": \"consul\"}";
    size_t n = SRV_CONFIG_BODY_MAX;
    char *body = malloc(n + 1);
    struct srv_ca_config c;
    struct pki_err err = {0, ""};

    (void)state;
    assert_non_null(body);
    /* Exactly the limit (the object padded with spaces) is read... */
    memset(body, ' ', n + 1);
    memcpy(body, head, sizeof(head) - 1);
    assert_ok(srv_ca_config_parse(body, n, &c, &err), err);
    /* ...one byte more is refused before it is parsed. */
    sentinel(&c);
    assert_err(srv_ca_config_parse(body, n + 1, &c, &err), err, PKI_ERR_INPUT,
               "request body is larger than 65536 bytes");
    assert_int_equal(c.leaf_ttl, 12345);
    free(body);
    assert_err(srv_ca_config_parse(NULL, 0, &c, &err), err, PKI_ERR_INPUT, "empty");
}

static void null_err_is_allowed(void **state)
{
    struct srv_ca_config c;

    (void)state;
    assert_int_equal(srv_ca_config_parse("{}", 2, &c, NULL), PKI_ERR_INPUT);
    assert_int_equal(parse("{\"Provider\": \"consul\"}", &c, NULL), PKI_OK);
}

/* ---- TTLs ------------------------------------------------------------------------- */

static void ttl_syntax(void **state)
{
    (void)state;
    parse_bad(with_field("LeafCertTTL", "\"72\""), "Config.LeafCertTTL: invalid duration");
    parse_bad(with_field("LeafCertTTL", "\"\""), "Config.LeafCertTTL: empty duration");
    parse_bad(with_field("LeafCertTTL", "\"-1h\""), "Config.LeafCertTTL: duration \"-1h\" is "
              "negative");
    parse_bad(with_field("LeafCertTTL", "\"0s\""), "Config.LeafCertTTL: duration \"0s\" is zero");
    parse_bad(with_field("IntermediateCertTTL", "\"1y\""), "Config.IntermediateCertTTL: "
              "invalid duration");
    parse_bad(with_field("RootCertTTL", "\"9999999999h\""), "Config.RootCertTTL: duration");
}

static void leaf_ttl_bounds(void **state)
{
    struct srv_ca_config c;

    (void)state;
    parse_ok(with_ttls("1h", "3h", "3h"), &c);
    assert_int_equal(c.leaf_ttl, HOUR);
    parse_ok(with_ttls("3600s", "3h", "3h"), &c);
    assert_int_equal(c.leaf_ttl, HOUR);
    parse_bad(with_ttls("59m59s", "3h", "3h"), "Config.LeafCertTTL is 59m59s; it must be at "
              "least 1h0m0s");
    /* A fraction of a second is dropped, so this is 59m59s too. */
    parse_bad(with_ttls("59m59.999s", "3h", "3h"), "at least 1h0m0s");
    parse_ok(with_ttls("8760h", "26280h", "26280h"), &c);
    assert_int_equal(c.leaf_ttl, 8760 * HOUR);
    parse_bad(with_ttls("8761h", "26283h", "26283h"), "Config.LeafCertTTL is 8761h0m0s; it "
              "must be at most 8760h0m0s");
    parse_bad(with_ttls("8760h0m1s", "30000h", "30000h"), "at most 8760h0m0s");
}

static void intermediate_and_root_ttl_rules(void **state)
{
    struct srv_ca_config c;

    (void)state;
    parse_ok(with_ttls("10h", "30h", "30h"), &c);
    assert_int_equal(c.intermediate_ttl, 30 * HOUR);
    assert_int_equal(c.root_ttl, 30 * HOUR);
    parse_bad(with_ttls("10h", "29h59m59s", "30h"), "Config.IntermediateCertTTL is 29h59m59s; it "
              "must be at least 3 times LeafCertTTL: 30h0m0s");
    parse_bad(with_ttls("10h", "30h", "29h59m59s"), "Config.RootCertTTL is 29h59m59s; it must "
              "be at least IntermediateCertTTL: 30h0m0s");
    /* Against the defaults of the fields left out. */
    parse_bad(with_field("LeafCertTTL", "\"3000h\""), "at least 3 times LeafCertTTL: 9000h0m0s");
    parse_bad(with_field("RootCertTTL", "\"8759h\""), "at least IntermediateCertTTL: 8760h0m0s");
    parse_bad(with_field("IntermediateCertTTL", "\"215h\""), "at least 3 times LeafCertTTL: "
              "216h0m0s");
}

/* ---- key type, size, rate ------------------------------------------------------------ */

struct spec_case {
    const char *body;
    enum pki_key_type type;
    int bits;
};

static void key_specs_accepted(void **state)
{
    static const struct spec_case ok[] = {
        {"{\"PrivateKeyType\": \"ec\", \"PrivateKeyBits\": 256}", PKI_KEY_ECDSA, 256},
        {"{\"PrivateKeyType\": \"ec\", \"PrivateKeyBits\": 384}", PKI_KEY_ECDSA, 384},
        {"{\"PrivateKeyType\": \"ec\", \"PrivateKeyBits\": 521}", PKI_KEY_ECDSA, 521},
        {"{\"PrivateKeyType\": \"ec\"}", PKI_KEY_ECDSA, 256},
        {"{\"PrivateKeyBits\": 384}", PKI_KEY_ECDSA, 384},
        {"{\"PrivateKeyType\": \"rsa\", \"PrivateKeyBits\": 2048}", PKI_KEY_RSA, 2048},
        {"{\"PrivateKeyType\": \"rsa\", \"PrivateKeyBits\": 4096}", PKI_KEY_RSA, 4096},
        {"{\"PrivateKeyType\": \"rsa\"}", PKI_KEY_RSA, 2048},
        {"{\"PrivateKeyType\": \"ed25519\"}", PKI_KEY_ED25519, 0},
        {"{\"PrivateKeyType\": \"ed25519\", \"PrivateKeyBits\": 0}", PKI_KEY_ED25519, 0},
        {"{\"PrivateKeyType\": \"ed25519\", \"PrivateKeyBits\": 256}", PKI_KEY_ED25519, 0},
    };
    char body[256];
    struct srv_ca_config c, back;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(body, sizeof(body), "{\"Provider\": \"consul\", \"Config\": %s}", ok[i].body);
        parse_ok(body, &c);
        if (c.spec.type != ok[i].type || c.spec.bits != ok[i].bits)
            fail_msg("%s: got type %d bits %d", body, c.spec.type, c.spec.bits);
        round_trip(&c, 0, &back);
        assert_config_equal(&c, &back);
    }
}

static void key_specs_refused(void **state)
{
    (void)state;
    parse_bad(with_field("PrivateKeyType", "\"ecdsa\""), "Config.PrivateKeyType \"ecdsa\" is "
              "not supported (use ec, rsa or ed25519)");
    parse_bad(with_field("PrivateKeyType", "\"EC\""), "is not supported");
    parse_bad(with_field("PrivateKeyType", "\"\""), "is not supported");
    parse_bad(with_field("PrivateKeyBits", "224"), "Config.PrivateKeyBits: 224 bits is not a "
              "size for ec keys (use 256, 384 or 521)");
    parse_bad(with_field("PrivateKeyBits", "0"), "0 bits is not a size for ec keys");
    parse_bad(with_field("PrivateKeyBits", "-256"), "-256 bits");
    parse_bad(with_field("PrivateKeyBits", "9223372036854775807"), "9223372036854775807 bits");
    parse_bad("{\"Provider\": \"consul\", \"Config\": {\"PrivateKeyType\": \"rsa\", "
              "\"PrivateKeyBits\": 3072}}", "3072 bits is not a size for rsa keys (use 2048 or "
              "4096)");
    parse_bad("{\"Provider\": \"consul\", \"Config\": {\"PrivateKeyType\": \"rsa\", "
              "\"PrivateKeyBits\": 256}}", "256 bits is not a size for rsa keys");
    parse_bad("{\"Provider\": \"consul\", \"Config\": {\"PrivateKeyType\": \"ed25519\", "
              "\"PrivateKeyBits\": 255}}", "255 bits is not a size for ed25519 keys");
}

static void ed25519_renders_256_bits(void **state)
{
    struct srv_ca_config c;
    json_t *j;

    (void)state;
    parse_ok(with_field("PrivateKeyType", "\"ed25519\""), &c);
    j = srv_ca_config_to_json(&c, 0);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "Config"),
                                                        "PrivateKeyBits")), 256);
    json_decref(j);
}

static void csr_rate(void **state)
{
    struct srv_ca_config c;
    json_t *j;

    (void)state;
    parse_ok(with_field("CSRMaxPerSecond", "0"), &c);
    assert_true(c.csr_max_per_second == 0);
    parse_ok(with_field("CSRMaxPerSecond", "-0.0"), &c);
    assert_true(c.csr_max_per_second == 0 && !signbit(c.csr_max_per_second));
    parse_ok(with_field("CSRMaxPerSecond", "1e9"), &c);
    assert_true(c.csr_max_per_second == 1e9);
    parse_ok(with_field("CSRMaxPerSecond", "0.5"), &c);
    assert_true(c.csr_max_per_second == 0.5);
    j = srv_ca_config_to_json(&c, 0);
    assert_true(json_is_real(json_object_get(json_object_get(j, "Config"), "CSRMaxPerSecond")));
    json_decref(j);
    parse_bad(with_field("CSRMaxPerSecond", "-1"), "Config.CSRMaxPerSecond is -1; it must be 0 "
              "(unlimited) or more");
    parse_bad(with_field("CSRMaxPerSecond", "-0.001"), "it must be 0 (unlimited) or more");
    parse_bad(with_field("CSRMaxPerSecond", "1000000001"), "it must be at most 1e+09");
    parse_bad(with_field("CSRMaxPerSecond", "1e400"), "not valid JSON");
}

/* ---- a supplied root ------------------------------------------------------------------- */

static char *key_pem(EVP_PKEY *k)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    char *s;

    assert_ok(pki_key_to_pem(k, &b, &err), err);
    s = malloc(b.len + 1);
    assert_non_null(s);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    pki_buf_free(&b);
    return s;
}

/* A traditional "EC PRIVATE KEY" PEM (not PKCS#8). */
static char *ec_traditional_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());

    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL), 1);
    return ut_bio_text(b);
}

/* {"Provider": "consul", "Config": {"RootCert": cert, "PrivateKey": key, extra...}}
 * (cert or key NULL: left out). extra is raw JSON members or "". */
static char *root_body(const char *cert, const char *key, const char *extra)
{
    json_t *cfg = json_object(), *o;
    char *text, *full;
    size_t n;

    if (cert != NULL)
        json_object_set_new(cfg, "RootCert", json_string(cert));
    if (key != NULL)
        json_object_set_new(cfg, "PrivateKey", json_string(key));
    o = json_pack("{s:s, s:o}", "Provider", "consul", "Config", cfg);
    assert_non_null(o);
    text = json_dumps(o, JSON_COMPACT);
    assert_non_null(text);
    json_decref(o);
    if (extra[0] == '\0')
        return text;
    /* Splice extra members in before the end of Config ("}}"). */
    n = strlen(text) + strlen(extra) + 2;
    full = malloc(n);
    assert_non_null(full);
    snprintf(full, n, "%.*s,%s}}", (int)(strlen(text) - 2), text, extra);
    free(text);
    return full;
}

struct root_fixture {
    EVP_PKEY *key, *other;
    X509 *ca, *leaf;
    char *ca_pem, *key_pem, *other_pem, *leaf_pem;
};

static int root_setup(void **state)
{
    struct root_fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->key = ut_ec();
    f->other = ut_ec();
    f->ca = ut_ca(f->key, T0, 10 * YEAR);
    f->leaf = ut_leaf(PKI_ROLE_NODE, "web", f->other, f->ca, f->key, T0, DAY);
    f->ca_pem = ut_cert_pem(f->ca);
    f->leaf_pem = ut_cert_pem(f->leaf);
    f->key_pem = key_pem(f->key);
    f->other_pem = key_pem(f->other);
    *state = f;
    return 0;
}

static int root_teardown(void **state)
{
    struct root_fixture *f = *state;

    free(f->ca_pem);
    free(f->leaf_pem);
    free(f->key_pem);
    free(f->other_pem);
    X509_free(f->ca);
    X509_free(f->leaf);
    EVP_PKEY_free(f->key);
    EVP_PKEY_free(f->other);
    free(f);
    return 0;
}

static void root_parse_ok(const char *cert, const char *key, const char *extra,
                          struct srv_ca_config *c)
{
    char *body = root_body(cert, key, extra);

    parse_ok(body, c);
    free(body);
}

static void root_parse_bad(const char *cert, const char *key, const char *extra,
                           const char *word)
{
    char *body = root_body(cert, key, extra);

    parse_bad(body, word);
    free(body);
}

static void root_supplied_ok(void **state)
{
    struct root_fixture *f = *state;
    struct srv_ca_config c;

    root_parse_ok(f->ca_pem, f->key_pem, "", &c);
    assert_string_equal(c.root_cert_pem, f->ca_pem);
    assert_string_equal(c.private_key_pem, f->key_pem);
    assert_int_equal(c.spec.type, PKI_KEY_ECDSA);
    assert_int_equal(c.spec.bits, 256);
    srv_ca_config_clear(&c);
    assert_null(c.root_cert_pem);
    assert_null(c.private_key_pem);
    srv_ca_config_clear(&c); /* twice is harmless */
    /* Type and size may be given when they describe the key. */
    root_parse_ok(f->ca_pem, f->key_pem, "\"PrivateKeyType\":\"ec\",\"PrivateKeyBits\":256", &c);
    assert_int_equal(c.spec.bits, 256);
    srv_ca_config_clear(&c);
}

static void root_key_type_must_agree(void **state)
{
    struct root_fixture *f = *state;

    root_parse_bad(f->ca_pem, f->key_pem, "\"PrivateKeyType\":\"rsa\"",
                   "Config.PrivateKeyType \"rsa\" does not match Config.PrivateKey (an ec key)");
    root_parse_bad(f->ca_pem, f->key_pem, "\"PrivateKeyType\":\"dsa\"", "does not match");
    root_parse_bad(f->ca_pem, f->key_pem, "\"PrivateKeyBits\":384",
                   "Config.PrivateKeyBits 384 does not match Config.PrivateKey (ec 256)");
    root_parse_bad(f->ca_pem, f->key_pem, "\"PrivateKeyBits\":0", "does not match");
}

static void root_and_key_go_together(void **state)
{
    struct root_fixture *f = *state;

    root_parse_bad(f->ca_pem, NULL, "", "Config.RootCert and Config.PrivateKey go together");
    root_parse_bad(NULL, f->key_pem, "", "give both or neither");
    root_parse_bad(f->ca_pem, "", "", "give both or neither");
}

static void root_key_mismatch_refused(void **state)
{
    struct root_fixture *f = *state;

    root_parse_bad(f->ca_pem, f->other_pem, "", "Config.PrivateKey does not match the public "
                   "key of Config.RootCert");
}

static void root_not_ca_refused(void **state)
{
    struct root_fixture *f = *state;

    root_parse_bad(f->leaf_pem, f->other_pem, "", "Config.RootCert is not a CA certificate");
}

static void root_must_be_one_cert(void **state)
{
    struct root_fixture *f = *state;
    size_t n = strlen(f->ca_pem) + strlen(f->leaf_pem) + 1;
    char *two = malloc(n);

    assert_non_null(two);
    snprintf(two, n, "%s%s", f->ca_pem, f->leaf_pem);
    root_parse_bad(two, f->key_pem, "", "Config.RootCert holds 2 certificates; give exactly one");
    free(two);
    root_parse_bad("not a certificate", f->key_pem, "", "Config.RootCert: no PEM certificate");
    root_parse_bad(f->key_pem, f->key_pem, "", "Config.RootCert: PEM block 1 is a \"PRIVATE "
                   "KEY\", not a CERTIFICATE");
}

static void root_key_must_be_one_key(void **state)
{
    struct root_fixture *f = *state;
    size_t n = strlen(f->key_pem) * 2 + 1;
    char *two = malloc(n);

    assert_non_null(two);
    snprintf(two, n, "%s%s", f->key_pem, f->key_pem);
    root_parse_bad(f->ca_pem, two, "", "Config.PrivateKey: more than 1 keys");
    free(two);
    root_parse_bad(f->ca_pem, "garbage", "", "Config.PrivateKey: no PEM private key");
    root_parse_bad(f->ca_pem, f->ca_pem, "", "Config.PrivateKey: block 1 is not a private key");
}

static void root_rsa_3072_refused(void **state)
{
    EVP_PKEY *k = ut_key(PKI_KEY_RSA, 3072);
    X509 *ca = ut_ca(k, T0, YEAR);
    char *cert = ut_cert_pem(ca), *key = key_pem(k);

    (void)state;
    root_parse_bad(cert, key, "", "Config.PrivateKey: 3072 bits is not a size for rsa keys");
    free(cert);
    free(key);
    X509_free(ca);
    EVP_PKEY_free(k);
}

static void root_ed25519_ok(void **state)
{
    EVP_PKEY *k = ut_key(PKI_KEY_ED25519, 0);
    X509 *ca = ut_ca(k, T0, YEAR);
    char *cert = ut_cert_pem(ca), *key = key_pem(k);
    struct srv_ca_config c;

    (void)state;
    root_parse_ok(cert, key, "\"PrivateKeyType\":\"ed25519\",\"PrivateKeyBits\":256", &c);
    assert_int_equal(c.spec.type, PKI_KEY_ED25519);
    assert_int_equal(c.spec.bits, 0);
    srv_ca_config_clear(&c);
    free(cert);
    free(key);
    X509_free(ca);
    EVP_PKEY_free(k);
}

static void root_secrets_only_with_secrets(void **state)
{
    struct root_fixture *f = *state;
    struct srv_ca_config c, back;
    json_t *get, *store, *cfg;
    char *text;

    root_parse_ok(f->ca_pem, f->key_pem, "", &c);
    get = srv_ca_config_to_json(&c, 0);
    assert_non_null(get);
    cfg = json_object_get(get, "Config");
    assert_string_equal(json_string_value(json_object_get(cfg, "RootCert")), f->ca_pem);
    assert_null(json_object_get(cfg, "PrivateKey"));
    text = json_dumps(get, 0);
    assert_null(strstr(text, "PRIVATE KEY"));
    free(text);
    json_decref(get);

    store = srv_ca_config_to_json(&c, 1);
    cfg = json_object_get(store, "Config");
    assert_string_equal(json_string_value(json_object_get(cfg, "PrivateKey")), f->key_pem);
    json_decref(store);
    round_trip(&c, 1, &back);
    assert_config_equal(&c, &back);
    srv_ca_config_clear(&back);
    srv_ca_config_clear(&c);
}

static void root_stored_reencoded(void **state)
{
    struct root_fixture *f = *state;
    struct srv_ca_config a, b;
    char *trad = ec_traditional_pem(f->key);
    size_t n = strlen(f->ca_pem) + 8;
    char *padded = malloc(n);

    assert_non_null(padded);
    snprintf(padded, n, "\n\n%s\n", f->ca_pem);
    root_parse_ok(f->ca_pem, f->key_pem, "", &a);
    root_parse_ok(padded, trad, "", &b);
    assert_non_null(strstr(trad, "BEGIN EC PRIVATE KEY"));
    assert_string_equal(b.private_key_pem, f->key_pem);
    assert_string_equal(b.root_cert_pem, f->ca_pem);
    /* The same root in another encoding is not a change. */
    assert_int_equal(srv_ca_config_needs_rotation(&a, &b), 0);
    srv_ca_config_clear(&a);
    srv_ca_config_clear(&b);
    free(padded);
    free(trad);
}

/* The stored config must read back under the body limit, so a supplied
 * root is bounded once re-encoded. */
static void root_too_large_refused(void **state)
{
    struct root_fixture *f = *state;
    char *comment = malloc(13001), *pem;
    X509 *big = X509_dup(f->ca);

    assert_non_null(comment);
    assert_non_null(big);
    memset(comment, 'x', 13000);
    comment[13000] = '\0';
    ut_set_ext(big, ut_ext(NID_netscape_comment, comment), f->key);
    pem = ut_cert_pem(big);
    assert_true(strlen(pem) > 16 * 1024 && strlen(pem) < 20 * 1024);
    root_parse_bad(pem, f->key_pem, "", "Config.RootCert is larger than 16384 bytes as PEM");
    free(pem);
    free(comment);
    X509_free(big);
}

/* ---- rotation ------------------------------------------------------------------------- */

static void needs_rotation_matrix(void **state)
{
    struct root_fixture *f = *state;
    struct srv_ca_config base, c, r1, r2;
    EVP_PKEY *k2 = ut_ec();
    X509 *ca2 = ut_ca(k2, T0, YEAR);
    char *ca2_pem = ut_cert_pem(ca2), *k2_pem = key_pem(k2);

    srv_ca_config_default(&base);
    c = base;
    assert_int_equal(srv_ca_config_needs_rotation(&base, &c), 0);
    /* Changes that apply at once. */
    c.leaf_ttl = HOUR;
    c.intermediate_ttl = 3 * HOUR;
    c.root_ttl = 4 * HOUR;
    c.csr_max_per_second = 0;
    c.force_without_cross_signing = 1;
    c.modify_index = 99;
    assert_int_equal(srv_ca_config_needs_rotation(&base, &c), 0);
    /* Changes that need a new root. */
    c = base;
    c.spec.bits = 384;
    assert_int_equal(srv_ca_config_needs_rotation(&base, &c), 1);
    c = base;
    c.spec.type = PKI_KEY_RSA;
    c.spec.bits = 256;
    assert_int_equal(srv_ca_config_needs_rotation(&base, &c), 1);
    c = base;
    snprintf(c.provider, sizeof(c.provider), "other");
    assert_int_equal(srv_ca_config_needs_rotation(&base, &c), 1);

    root_parse_ok(f->ca_pem, f->key_pem, "", &r1);
    root_parse_ok(ca2_pem, k2_pem, "", &r2);
    assert_int_equal(r1.spec.type, base.spec.type);
    assert_int_equal(r1.spec.bits, base.spec.bits);
    assert_int_equal(srv_ca_config_needs_rotation(&base, &r1), 1); /* root supplied */
    assert_int_equal(srv_ca_config_needs_rotation(&r1, &base), 1); /* root dropped */
    assert_int_equal(srv_ca_config_needs_rotation(&r1, &r2), 1);   /* another root */
    assert_int_equal(srv_ca_config_needs_rotation(&r1, &r1), 0);
    srv_ca_config_clear(&r1);
    srv_ca_config_clear(&r2);
    free(ca2_pem);
    free(k2_pem);
    X509_free(ca2);
    EVP_PKEY_free(k2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_values),
        cmocka_unit_test(default_renders_consul_shape),
        cmocka_unit_test(default_round_trip),
        cmocka_unit_test(changed_values_round_trip),
        cmocka_unit_test(absent_fields_take_defaults),
        cmocka_unit_test(indexes_accepted_and_ignored),
        cmocka_unit_test(provider_rules),
        cmocka_unit_test(unknown_fields_named),
        cmocka_unit_test(wrong_types),
        cmocka_unit_test(force_flag),
        cmocka_unit_test(json_framing),
        cmocka_unit_test(raw_nul_and_bad_utf8),
        cmocka_unit_test(body_size_limit),
        cmocka_unit_test(null_err_is_allowed),
        cmocka_unit_test(ttl_syntax),
        cmocka_unit_test(leaf_ttl_bounds),
        cmocka_unit_test(intermediate_and_root_ttl_rules),
        cmocka_unit_test(key_specs_accepted),
        cmocka_unit_test(key_specs_refused),
        cmocka_unit_test(ed25519_renders_256_bits),
        cmocka_unit_test(csr_rate),
        cmocka_unit_test_setup_teardown(root_supplied_ok, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_key_type_must_agree, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_and_key_go_together, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_key_mismatch_refused, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_not_ca_refused, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_must_be_one_cert, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_key_must_be_one_key, root_setup, root_teardown),
        cmocka_unit_test(root_rsa_3072_refused),
        cmocka_unit_test(root_ed25519_ok),
        cmocka_unit_test_setup_teardown(root_secrets_only_with_secrets, root_setup,
                                        root_teardown),
        cmocka_unit_test_setup_teardown(root_stored_reencoded, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(root_too_large_refused, root_setup, root_teardown),
        cmocka_unit_test_setup_teardown(needs_rotation_matrix, root_setup, root_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
