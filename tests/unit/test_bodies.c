/* test_bodies.c - the sign and token request bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bodies.h"
#include "unit_util.h"

#define CSR_BEGIN "-----BEGIN CERTIFICATE REQUEST-----"
#define CSR_PEM CSR_BEGIN "\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
#define CSR_JSON CSR_BEGIN "\\nMIIB\\n-----END CERTIFICATE REQUEST-----\\n"

/* ---- sign ----------------------------------------------------------------------- */

static void sign_bad(const char *json, size_t len, const char *word)
{
    struct pki_err err = {0, ""};
    char *csr = (char *)"untouched";

    assert_err(srv_body_sign_parse(json, len, &csr, &err), err, PKI_ERR_INPUT, word);
    assert_string_equal(csr, "untouched");
}

static void sign_bad_s(const char *json, const char *word)
{
    sign_bad(json, strlen(json), word);
}

static void sign_ok(void **state)
{
    static const char body[] = "{\"CSR\": \"" CSR_JSON "\"}";
    static const char legacy[] = "{\"CSR\": \"-----BEGIN NEW CERTIFICATE REQUEST-----\\nx\"}";
    struct pki_err err = {0, ""};
    char *csr = NULL;

    (void)state;
    assert_ok(srv_body_sign_parse(body, sizeof(body) - 1, &csr, &err), err);
    assert_string_equal(csr, CSR_PEM);
    free(csr);
    csr = NULL;
    /* Older tools' label (RFC 7468 section 7 notes it). */
    assert_ok(srv_body_sign_parse(legacy, sizeof(legacy) - 1, &csr, &err), err);
    assert_non_null(strstr(csr, "NEW CERTIFICATE REQUEST"));
    free(csr);
}

static void sign_bad_values(void **state)
{
    (void)state;
    sign_bad_s("{}", "missing field \"CSR\"");
    sign_bad_s("{\"CSR\": \"\"}", "CSR is empty");
    sign_bad_s("{\"CSR\": \"MIIB\"}", "CSR is not a PEM certificate request");
    sign_bad_s("{\"CSR\": \"-----BEGIN CERTIFICATE-----\\nMIIB\"}", "not a PEM certificate "
               "request");
    sign_bad_s("{\"CSR\": \"-----BEGIN PRIVATE KEY-----\"}", "not a PEM certificate request");
    sign_bad_s("{\"CSR\": 1}", "CSR must be a string, not an integer");
    sign_bad_s("{\"CSR\": null}", "CSR must be a string, not null");
    sign_bad_s("{\"CSR\": [\"" CSR_JSON "\"]}", "CSR must be a string, not an array");
}

static void sign_extra_field_refused(void **state)
{
    (void)state;
    sign_bad_s("{\"CSR\": \"" CSR_JSON "\", \"TTL\": \"1h\"}", "unknown field \"TTL\" "
               "(known fields: CSR)");
    sign_bad_s("{\"csr\": \"" CSR_JSON "\"}", "unknown field \"csr\"");
    sign_bad_s("{\"CSR\": \"" CSR_JSON "\", \"CSR\": \"" CSR_JSON "\"}", "duplicate");
}

static void sign_framing(void **state)
{
    static const char nul[] = "{\"CSR\": \"" CSR_BEGIN "\0\"}";

    (void)state;
    sign_bad_s("[\"" CSR_JSON "\"]", "must be a JSON object");
    sign_bad_s("\"" CSR_JSON "\"", "not valid JSON");
    sign_bad_s("{\"CSR\": \"" CSR_JSON "\"} {}", "not valid JSON");
    sign_bad_s("{\"CSR\": \"" CSR_BEGIN "\\u0000\"}", "not valid JSON");
    sign_bad(nul, sizeof(nul) - 1, "not valid JSON");
    sign_bad_s("", "empty request body");
    sign_bad(NULL, 0, "empty request body");
}

/* {"CSR": "<BEGIN line>" + n - len(BEGIN) 'A's} */
static char *csr_body_of(size_t n)
{
    size_t len = n + 16;
    char *b = malloc(len);

    assert_non_null(b);
    memcpy(b, "{\"CSR\": \"" CSR_BEGIN, 9 + strlen(CSR_BEGIN));
    memset(b + 9 + strlen(CSR_BEGIN), 'A', n - strlen(CSR_BEGIN));
    memcpy(b + 9 + n, "\"}", 3);
    return b;
}

static void sign_csr_length_bounds(void **state)
{
    struct pki_err err = {0, ""};
    char *body = csr_body_of(SRV_CSR_PEM_MAX), *csr = NULL;

    (void)state;
    assert_ok(srv_body_sign_parse(body, strlen(body), &csr, &err), err);
    assert_int_equal(strlen(csr), SRV_CSR_PEM_MAX);
    free(csr);
    free(body);
    body = csr_body_of(SRV_CSR_PEM_MAX + 1);
    sign_bad(body, strlen(body), "CSR is larger than 16384 bytes");
    free(body);
}

static void sign_body_size_limit(void **state)
{
    static const char head[] = "{\"CSR\": \"" CSR_JSON "\"}";
    char *body = malloc(SRV_BODY_MAX + 1);
    struct pki_err err = {0, ""};
    char *csr = NULL;

    (void)state;
    assert_non_null(body);
    memset(body, ' ', SRV_BODY_MAX + 1);
    memcpy(body, head, sizeof(head) - 1);
    assert_ok(srv_body_sign_parse(body, SRV_BODY_MAX, &csr, &err), err);
    free(csr);
    sign_bad(body, SRV_BODY_MAX + 1, "request body is larger than 65536 bytes");
    free(body);
}

/* ---- sign: the fast path against the jansson path ------------------------------ */

/* A real P-256 request as clients send it (json.dumps of the PEM file). */
#define REAL_LINES                                                                          \
    "MIHHMHACAQAwDjEMMAoGA1UEAwwDd2ViMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD", "QgAEovgAfz8P0HuJBea7" \
    "Zz26Op15fQYHknHAAq2FT+LtVBnX/lKXrwsa845NDe0q", "uvRzsE1bRSnHVVGNpIIdvkI9uaAAMAoGCCqGSM4" \
    "9BAMCA0cAMEQCIGm5gykaOZrq", "7ByHhSqjY6CgNIiRErIuNRMXNA4bFHOBAiA66FFDk3uplN+pgEIByWSj+N" \
    "xJKerV", "xMhky5Ri4fOQLw=="

/* The public parser's result equals the jansson path's: same code and
 * message, or the same string. Returns the jansson path's code. */
static int sign_same_as_slow(const char *json, size_t len)
{
    struct pki_err e_slow = {0, ""}, e_all = {0, ""};
    char *v_slow = NULL, *v_all = NULL;
    int rc_slow = srv__body_sign_slow(json, len, &v_slow, &e_slow);
    int rc_all = srv_body_sign_parse(json, len, &v_all, &e_all);

    if (rc_all != rc_slow)
        fail_msg("%.60s: rc %d, jansson path %d (\"%s\")", json, rc_all, rc_slow, e_slow.msg);
    if (rc_slow == PKI_OK) {
        assert_string_equal(v_all, v_slow);
    } else {
        assert_int_equal(e_all.code, e_slow.code);
        assert_string_equal(e_all.msg, e_slow.msg);
        assert_null(v_all);
    }
    free(v_slow);
    free(v_all);
    return rc_slow;
}

/* The fast path takes json and decodes it to want, as the jansson path does. */
static void fast_ok(const char *json, size_t len, const char *want)
{
    struct pki_err err = {0, ""};
    char *csr = NULL;
    int rc = srv__body_sign_fast(json, len, &csr, &err);

    if (rc != PKI_OK)
        fail_msg("%.60s: fast path rc %d (\"%s\")", json, rc, err.msg);
    assert_string_equal(csr, want);
    free(csr);
    assert_int_equal(sign_same_as_slow(json, len), PKI_OK);
}

static void fast_ok_s(const char *json, const char *want)
{
    fast_ok(json, strlen(json), want);
}

/* The fast path refuses json with exactly the jansson path's message. */
static void fast_refuses(const char *json, size_t len, const char *word)
{
    struct pki_err fast = {0, ""}, slow = {0, ""};
    char *csr = NULL;

    assert_err(srv__body_sign_fast(json, len, &csr, &fast), fast, PKI_ERR_INPUT, word);
    assert_null(csr);
    assert_err(srv__body_sign_slow(json, len, &csr, &slow), slow, PKI_ERR_INPUT, word);
    assert_string_equal(fast.msg, slow.msg);
    assert_int_equal(sign_same_as_slow(json, len), PKI_ERR_INPUT);
}

/* The fast path leaves json to jansson without touching anything, and the
 * overall result is the jansson path's: want, with word in the value (PKI_OK)
 * or in the message. */
static void fast_declines(const char *json, size_t len, int want, const char *word)
{
    struct pki_err err = {0, "untouched"};
    char *csr = (char *)"untouched";
    int rc;

    rc = srv__body_sign_fast(json, len, &csr, &err);
    if (rc != SRV__BODY_NOT_FAST)
        fail_msg("%.60s: the fast path answered %d", json, rc);
    assert_string_equal(csr, "untouched");
    assert_int_equal(err.code, 0);
    assert_string_equal(err.msg, "untouched");
    assert_int_equal(sign_same_as_slow(json, len), want);
    csr = NULL;
    if (want != PKI_OK) {
        assert_err(srv_body_sign_parse(json, len, &csr, &err), err, want, word);
        return;
    }
    assert_ok(srv_body_sign_parse(json, len, &csr, &err), err);
    assert_str_has(csr, word);
    free(csr);
}

static void fast_declines_s(const char *json, int want, const char *word)
{
    fast_declines(json, strlen(json), want, word);
}

static void sign_fast_takes_real_body(void **state)
{
    static const char *const lines[] = {REAL_LINES};
    char body[1024], want[1024];
    size_t i, b, w;

    (void)state;
    b = (size_t)snprintf(body, sizeof(body), "{\"CSR\": \"%s\\n", CSR_BEGIN);
    w = (size_t)snprintf(want, sizeof(want), "%s\n", CSR_BEGIN);
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        b += (size_t)snprintf(body + b, sizeof(body) - b, "%s\\n", lines[i]);
        w += (size_t)snprintf(want + w, sizeof(want) - w, "%s\n", lines[i]);
    }
    snprintf(body + b, sizeof(body) - b, "-----END CERTIFICATE REQUEST-----\\n\"}");
    snprintf(want + w, sizeof(want) - w, "-----END CERTIFICATE REQUEST-----\n");
    fast_ok_s(body, want);
    fast_ok_s("{\"CSR\": \"" CSR_JSON "\"}", CSR_PEM);
    fast_ok_s("{\"CSR\":\"-----BEGIN NEW CERTIFICATE REQUEST-----\"}",
              "-----BEGIN NEW CERTIFICATE REQUEST-----");
}

static void sign_fast_whitespace(void **state)
{
    (void)state;
    fast_ok_s("{\"CSR\":\"" CSR_JSON "\"}", CSR_PEM);
    fast_ok_s(" \t\r\n{ \t\r\n\"CSR\" \t\r\n: \t\r\n\"" CSR_JSON "\" \t\r\n} \t\r\n", CSR_PEM);
    fast_ok_s("\n{\n  \"CSR\": \"" CSR_JSON "\"\n}\n", CSR_PEM);
    /* Whitespace inside the string is part of the value. */
    fast_ok_s("{\"CSR\": \"  " CSR_BEGIN "  \"}", "  " CSR_BEGIN "  ");
}

static void sign_fast_escapes(void **state)
{
    (void)state;
    fast_ok_s("{\"CSR\": \"" CSR_BEGIN "\\n\"}", CSR_BEGIN "\n");
    fast_ok_s("{\"CSR\": \"" CSR_BEGIN "\\r\\n\"}", CSR_BEGIN "\r\n");
    fast_ok_s("{\"CSR\": \"\\t" CSR_BEGIN "\"}", "\t" CSR_BEGIN);
    fast_ok_s("{\"CSR\": \"" CSR_BEGIN "\\nMII/\\/+\"}", CSR_BEGIN "\nMII//+");
    fast_ok_s("{\"CSR\": \"" CSR_BEGIN "\\\\\"}", CSR_BEGIN "\\");
    fast_ok_s("{\"CSR\": \"\\\"" CSR_BEGIN "\\\"\"}", "\"" CSR_BEGIN "\"");
    fast_ok_s("{\"CSR\": \"\\\\\\\"\\/\\n\\r\\t" CSR_BEGIN "\"}", "\\\"/\n\r\t" CSR_BEGIN);
    /* Every printable ASCII byte but the two that need escaping, raw. */
    fast_ok_s("{\"CSR\": \" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
              "abcdefghijklmnopqrstuvwxyz{|}~" CSR_BEGIN "\"}", " !#$%&'()*+,-./0123456789:;<=>"
              "?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~" CSR_BEGIN);
}

/* Refusals of the value on the fast path read as the jansson path's. */
static void sign_fast_value_refusals(void **state)
{
    char *body, *want;

    (void)state;
    fast_refuses("{\"CSR\": \"\"}", 11, "CSR is empty");
    fast_refuses("{\"CSR\":\"MIIB\"}", 14, "CSR is not a PEM certificate request");
    fast_refuses("{\"CSR\":\"-----BEGIN CERTIFICATE-----\\nMIIB\"}", 43, "no \"-----BEGIN");
    body = csr_body_of(SRV_CSR_PEM_MAX);
    want = strndup(body + 9, SRV_CSR_PEM_MAX);
    assert_non_null(want);
    fast_ok(body, strlen(body), want);
    free(want);
    free(body);
    body = csr_body_of(SRV_CSR_PEM_MAX + 1);
    fast_refuses(body, strlen(body), "CSR is larger than 16384 bytes");
    free(body);
}

/* Bodies the fast path leaves to jansson: valid ones still work, refused ones
 * keep jansson's message. */
/* A byte the fast path must not copy, at every offset of a run long enough
 * for its word-at-a-time scan. */
static void sign_fast_declines_bad_byte_anywhere(void **state)
{
    static const unsigned char bad[] = {0x00, 0x01, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xc3, 0xff,
                                        '"', '\\'};
    char body[128];
    size_t i, at, head = strlen("{\"CSR\": \"" CSR_BEGIN), len;
    struct pki_err err = {0, ""};
    char *csr = NULL;

    (void)state;
    for (i = 0; i < sizeof(bad); i++) {
        for (at = 0; at < 24; at++) {
            len = (size_t)snprintf(body, sizeof(body), "{\"CSR\": \"" CSR_BEGIN "%s\"}",
                                   "AAAAAAAAAAAAAAAAAAAAAAAA");
            body[head + at] = (char)bad[i];
            if (srv__body_sign_fast(body, len, &csr, &err) != SRV__BODY_NOT_FAST)
                fail_msg("byte 0x%02x at %zu: the fast path took it", bad[i], at);
            (void)sign_same_as_slow(body, len);
        }
    }
}

static void sign_fast_declines(void **state)
{
    static const char nul[] = "{\"CSR\": \"" CSR_BEGIN "\0\"}";
    char *big;

    (void)state;
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\\u000a\"}", PKI_OK, CSR_BEGIN "\n");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\\u0000\"}", PKI_ERR_INPUT, "\\u0000");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\\ud800\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\\b\\f\"}", PKI_OK, CSR_BEGIN "\b\f");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\\x\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"C\\u0053R\": \"" CSR_JSON "\"}", PKI_OK, CSR_PEM);
    fast_declines_s("{\"csr\": \"" CSR_JSON "\"}", PKI_ERR_INPUT, "unknown field \"csr\"");
    fast_declines_s("{\"CSRX\": \"" CSR_JSON "\"}", PKI_ERR_INPUT, "unknown field \"CSRX\"");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\", \"TTL\": \"1h\"}", PKI_ERR_INPUT,
                    "unknown field \"TTL\"");
    fast_declines_s("{\"TTL\": \"1h\", \"CSR\": \"" CSR_JSON "\"}", PKI_ERR_INPUT,
                    "unknown field \"TTL\"");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\", \"CSR\": \"" CSR_JSON "\"}", PKI_ERR_INPUT,
                    "duplicate");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\nx\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\tx\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines(nul, sizeof(nul) - 1, PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\x7f\"}", PKI_OK, CSR_BEGIN "\x7f");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN " caf\xc3\xa9\"}", PKI_OK, "caf\xc3\xa9");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN " \xc3\x28\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("\xef\xbb\xbf{\"CSR\": \"" CSR_JSON "\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\",}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\"} x", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\"}}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\"} {}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "\"}\f", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_JSON "}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\\\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"" CSR_BEGIN "\"x}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": \"a\" \"b\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\": {\"CSR\": \"" CSR_JSON "\"}}", PKI_ERR_INPUT,
                    "CSR must be a string, not an object");
    fast_declines_s("{\"CSR\": [\"" CSR_JSON "\"]}", PKI_ERR_INPUT, "not an array");
    fast_declines_s("{\"CSR\": null}", PKI_ERR_INPUT, "not null");
    fast_declines_s("[\"" CSR_JSON "\"]", PKI_ERR_INPUT, "must be a JSON object");
    fast_declines_s("\"" CSR_JSON "\"", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{\"CSR\" \"" CSR_JSON "\"}", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("{}", PKI_ERR_INPUT, "missing field \"CSR\"");
    fast_declines_s("{", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("   ", PKI_ERR_INPUT, "not valid JSON");
    fast_declines_s("", PKI_ERR_INPUT, "empty request body");
    fast_declines(NULL, 0, PKI_ERR_INPUT, "empty request body");
    /* At the HTTP body limit the fast path reads it; one byte over, jansson
     * refuses it by size. */
    big = malloc(SRV_BODY_MAX + 1);
    assert_non_null(big);
    memset(big, ' ', SRV_BODY_MAX + 1);
    memcpy(big, "{\"CSR\": \"" CSR_JSON "\"}", strlen("{\"CSR\": \"" CSR_JSON "\"}"));
    fast_ok(big, SRV_BODY_MAX, CSR_PEM);
    fast_declines(big, SRV_BODY_MAX + 1, PKI_ERR_INPUT, "larger than 65536 bytes");
    free(big);
}

/* ---- token -------------------------------------------------------------------- */

static int token(const char *json, struct pki_token_policy *p, char *desc, struct pki_err *err)
{
    return srv_body_token_parse(json, strlen(json), p, desc, err);
}

static void token_bad(const char *json, const char *word)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1] = "untouched";
    struct pki_err err = {0, ""};
    int rc;

    memset(&p, 0xab, sizeof(p));
    rc = token(json, &p, desc, &err);
    if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT)
        fail_msg("%s: expected PKI_ERR_INPUT, got rc %d (\"%s\")", json, rc, err.msg);
    if (strstr(err.msg, word) == NULL)
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.msg, word);
    assert_string_equal(desc, "untouched");
    assert_int_equal(p.nservices, (size_t)0xabababababababab);
}

static void token_ok(const char *json, struct pki_token_policy *p, char *desc)
{
    struct pki_err err = {0, ""};
    int rc = token(json, p, desc, &err);

    if (rc != PKI_OK)
        fail_msg("%s: rc %d (%s)", json, rc, err.msg);
}

static void token_operator_ok(void **state)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1];

    (void)state;
    token_ok("{\"Description\": \"CI deployer\", \"Policies\": [{\"Name\": \"operator\"}]}", &p,
             desc);
    assert_int_equal(p.kind, PKI_TOKEN_OPERATOR);
    assert_int_equal(p.nservices, 0);
    assert_string_equal(desc, "CI deployer");
    token_ok("{\"Policies\": [{\"Name\": \"operator\"}]}", &p, desc);
    assert_string_equal(desc, "");
    token_ok("{\"Description\": \"\", \"Policies\": [{\"Name\": \"operator\"}]}", &p, desc);
    assert_string_equal(desc, "");
}

static void token_services_ok(void **state)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1];

    (void)state;
    token_ok("{\"Description\": \"web and db\", \"ServiceIdentities\": [{\"ServiceName\": "
             "\"web\"}, {\"ServiceName\": \"db-1\"}]}", &p, desc);
    assert_int_equal(p.kind, PKI_TOKEN_SERVICE);
    assert_int_equal(p.nservices, 2);
    assert_string_equal(p.services[0], "web");
    assert_string_equal(p.services[1], "db-1");
    assert_string_equal(desc, "web and db");
}

static void token_needs_exactly_one_kind(void **state)
{
    (void)state;
    token_bad("{\"Policies\": [{\"Name\": \"operator\"}], \"ServiceIdentities\": "
              "[{\"ServiceName\": \"web\"}]}", "give Policies or ServiceIdentities, not both");
    token_bad("{}", "a token needs Policies");
    token_bad("{\"Description\": \"x\"}", "a token needs Policies");
    token_bad("{\"Policies\": []}", "Policies is empty");
    token_bad("{\"ServiceIdentities\": []}", "ServiceIdentities must list 1 to 64 services, not 0");
}

static void token_policies(void **state)
{
    (void)state;
    token_bad("{\"Policies\": [{\"Name\": \"admin\"}]}", "policy \"admin\" does not exist; "
              "policies are \"operator\" (or use ServiceIdentities)");
    token_bad("{\"Policies\": [{\"Name\": \"global-management\"}]}", "policy \"global-management\" "
              "does not exist");
    token_bad("{\"Policies\": [{\"Name\": \"Operator\"}]}", "does not exist");
    token_bad("{\"Policies\": [{\"Name\": \"operator\"}, {\"Name\": \"operator\"}]}",
              "Policies: \"operator\" is listed twice");
    token_bad("{\"Policies\": [{\"Name\": \"operator\"}, {\"Name\": \"x\"}]}",
              "policy \"x\" does not exist");
    token_bad("{\"Policies\": [{\"ID\": \"00000000-0000-0000-0000-000000000001\"}]}",
              "unknown field \"ID\" in Policies[0]");
    token_bad("{\"Policies\": [{}]}", "Policies[0] has no \"Name\"");
    token_bad("{\"Policies\": [\"operator\"]}", "Policies[0] must be an object such as "
              "{\"Name\": \"operator\"}, not a string");
    token_bad("{\"Policies\": [{\"Name\": 1}]}", "Policies[0].Name must be a string, not an "
              "integer");
    token_bad("{\"Policies\": {\"Name\": \"operator\"}}", "Policies must be an array, not an "
              "object");
}

static void token_service_names(void **state)
{
    (void)state;
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"Web\"}]}",
              "ServiceIdentities[0].ServiceName: service \"Web\": use 1-63 lower-case letters");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"web\"}, {\"ServiceName\": \"-db\"}]}",
              "ServiceIdentities[1].ServiceName: service \"-db\"");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"\"}]}",
              "ServiceIdentities[0].ServiceName: service");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"web.example\"}]}", "lower-case");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"a234567890123456789012345678901234"
              "567890123456789012345678901234\"}]}", "ServiceIdentities[0].ServiceName is longer "
              "than 63 bytes");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"web\"}, {\"ServiceName\": \"web\"}]}",
              "ServiceIdentities: \"web\" is listed twice");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"web\", \"Datacenters\": [\"dc1\"]}]}",
              "ServiceIdentities[0].Datacenters is not supported");
    token_bad("{\"ServiceIdentities\": [{\"ServiceName\": \"web\", \"Foo\": 1}]}",
              "unknown field \"Foo\" in ServiceIdentities[0]");
    token_bad("{\"ServiceIdentities\": [{}]}", "ServiceIdentities[0] has no \"ServiceName\"");
    token_bad("{\"ServiceIdentities\": [\"web\"]}", "ServiceIdentities[0] must be an object");
    token_bad("{\"ServiceIdentities\": \"web\"}", "ServiceIdentities must be an array, not a "
              "string");
}

/* {"ServiceIdentities": [{"ServiceName": "s0"}, ... n of them]} */
static char *services_body(size_t n)
{
    size_t cap = 64 + n * 32, used;
    char *b = malloc(cap);
    size_t i;

    assert_non_null(b);
    used = (size_t)snprintf(b, cap, "{\"ServiceIdentities\": [");
    for (i = 0; i < n; i++)
        used += (size_t)snprintf(b + used, cap - used, "%s{\"ServiceName\": \"s%zu\"}",
                                 i ? ", " : "", i);
    snprintf(b + used, cap - used, "]}");
    return b;
}

static void token_service_count(void **state)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1];
    char *body = services_body(64);

    (void)state;
    token_ok(body, &p, desc);
    assert_int_equal(p.nservices, 64);
    assert_string_equal(p.services[63], "s63");
    free(body);
    body = services_body(65);
    token_bad(body, "ServiceIdentities must list 1 to 64 services, not 65");
    free(body);
}

static void token_description(void **state)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1], body[1024];
    char text[PKI_TOKEN_DESC_MAX + 2];

    (void)state;
    /* Any printable UTF-8 is fine. */
    token_ok("{\"Description\": \"caf\\u00e9 \xe2\x9c\x93 \\\"quoted\\\"\", \"Policies\": "
             "[{\"Name\": \"operator\"}]}", &p, desc);
    assert_string_equal(desc, "caf\xc3\xa9 \xe2\x9c\x93 \"quoted\"");
    /* 256 bytes fit, 257 do not. */
    memset(text, 'd', sizeof(text));
    text[PKI_TOKEN_DESC_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"Description\": \"%s\", \"Policies\": [{\"Name\": "
             "\"operator\"}]}", text);
    token_ok(body, &p, desc);
    assert_int_equal(strlen(desc), PKI_TOKEN_DESC_MAX);
    text[PKI_TOKEN_DESC_MAX] = 'd';
    text[PKI_TOKEN_DESC_MAX + 1] = '\0';
    snprintf(body, sizeof(body), "{\"Description\": \"%s\", \"Policies\": [{\"Name\": "
             "\"operator\"}]}", text);
    token_bad(body, "Description is longer than 256 bytes");
    token_bad("{\"Description\": 5, \"Policies\": [{\"Name\": \"operator\"}]}",
              "Description must be a string, not an integer");
}

static void token_description_control_chars(void **state)
{
    static const char *const bad[] = {
        "a\\nb",        /* a forged second line in a listing or log */
        "a\\rb", "\\t", "\\u001b[31mred", "\\u007f", "\\u0085", "\\u009f",
        "\\u2028",      /* line separator */
        "\\u202e",      /* right-to-left override */
        "\\u2066",      /* left-to-right isolate */
        "\\u200f",      /* right-to-left mark */
    };
    char body[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"Description\": \"%s\", \"Policies\": [{\"Name\": "
                 "\"operator\"}]}", bad[i]);
        token_bad(body, "Description has a control or invisible character");
    }
    token_bad("{\"Description\": \"ok\\u202e\", \"Policies\": [{\"Name\": \"operator\"}]}",
              "(U+202E) at byte 2");
    /* Raw control bytes are not even JSON. */
    token_bad("{\"Description\": \"a\nb\", \"Policies\": [{\"Name\": \"operator\"}]}",
              "not valid JSON");
}

static void token_framing(void **state)
{
    (void)state;
    token_bad("{\"Policies\": [{\"Name\": \"operator\"}], \"Rules\": \"\"}",
              "unknown field \"Rules\" (known fields: Description, Policies, ServiceIdentities)");
    token_bad("{\"Policies\": [{\"Name\": \"operator\"}], \"Policies\": [{\"Name\": \"x\"}]}",
              "duplicate");
    token_bad("[{\"Policies\": [{\"Name\": \"operator\"}]}]", "must be a JSON object");
    token_bad("{\"Policies\": [{\"Name\": \"operator\"}]} trailing", "not valid JSON");
    token_bad("{\"Policies\": [{\"Name\": \"oper\\u0000ator\"}]}", "not valid JSON");
    /* A client's text is quoted back in printable ASCII only. */
    token_bad("{\"Policies\": [{\"Name\": \"op\\u001b\\u00e9\"}]}", "policy \"op???\" does not "
              "exist");
}

static void token_null_err_is_allowed(void **state)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1];

    (void)state;
    assert_int_equal(token("{}", &p, desc, NULL), PKI_ERR_INPUT);
    assert_int_equal(token("{\"Policies\": [{\"Name\": \"operator\"}]}", &p, desc, NULL),
                     PKI_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_ok),
        cmocka_unit_test(sign_bad_values),
        cmocka_unit_test(sign_extra_field_refused),
        cmocka_unit_test(sign_framing),
        cmocka_unit_test(sign_csr_length_bounds),
        cmocka_unit_test(sign_body_size_limit),
        cmocka_unit_test(sign_fast_takes_real_body),
        cmocka_unit_test(sign_fast_whitespace),
        cmocka_unit_test(sign_fast_escapes),
        cmocka_unit_test(sign_fast_value_refusals),
        cmocka_unit_test(sign_fast_declines),
        cmocka_unit_test(sign_fast_declines_bad_byte_anywhere),
        cmocka_unit_test(token_operator_ok),
        cmocka_unit_test(token_services_ok),
        cmocka_unit_test(token_needs_exactly_one_kind),
        cmocka_unit_test(token_policies),
        cmocka_unit_test(token_service_names),
        cmocka_unit_test(token_service_count),
        cmocka_unit_test(token_description),
        cmocka_unit_test(token_description_control_chars),
        cmocka_unit_test(token_framing),
        cmocka_unit_test(token_null_err_is_allowed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
