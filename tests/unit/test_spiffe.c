/* test_spiffe.c - service names, trust domains, SPIFFE URIs and UUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spiffe.h"
#include "unit_util.h"

#define TD "11111111-2222-4333-8444-555555555555.consul"
#define PREFIX "spiffe://" TD "/ns/default/dc/dc1/svc/"

static const char LABEL_RULE[] = "use 1-63 lower-case letters, digits and '-', starting and "
                                 "ending with a letter or digit";

/* A string of n copies of c (static buffer; n < 600). */
static const char *rep(char c, size_t n)
{
    static char b[600];

    memset(b, c, n);
    b[n] = '\0';
    return b;
}

static void label_good(void **state)
{
    static const char *const good[] = {"web", "a", "0", "db-1", "a-b-c", "9lives", "x9"};
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_ok(pki_label_check("service", good[i], &err), err);
    assert_ok(pki_label_check("service", rep('a', 63), &err), err);
}

static void label_bad(void **state)
{
    static const char *const bad[] = {
        "", "Web", "web_1", "-web", "web-", "-", "web.db", "web db", "wéb", "web\n", "WEB",
    };
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_err(pki_label_check("service", bad[i], &err), err, PKI_ERR_INPUT, LABEL_RULE);
    assert_err(pki_label_check("service", rep('a', 64), &err), err, PKI_ERR_INPUT, LABEL_RULE);
    assert_err(pki_label_check("service", NULL, &err), err, PKI_ERR_USAGE, "service");
}

static void label_message_quotes_safely(void **state)
{
    struct pki_err err = {0, ""};
    char want[256];

    (void)state;
    snprintf(want, sizeof(want), "service \"Web_1\": %s", LABEL_RULE);
    assert_int_equal(pki_label_check("service", "Web_1", &err), PKI_ERR_INPUT);
    assert_string_equal(err.msg, want);
    assert_err(pki_label_check("datacenter", "DC", &err), err, PKI_ERR_INPUT, "datacenter \"DC\"");
    /* Control characters, quotes and backslashes cannot reach a log line raw. */
    assert_err(pki_label_check("service", "a\"b\\c\x1b[31m\n", &err), err, PKI_ERR_INPUT,
               "\"a\\\"b\\\\c\\x1b[31m\\x0a\"");
    assert_null(strchr(err.msg, '\n'));
    assert_null(strchr(err.msg, '\x1b'));
    /* A long value is cut, and the message stays whole. */
    assert_err(pki_label_check("service", rep('A', 500), &err), err, PKI_ERR_INPUT, "...\"");
    assert_msg_has(err, LABEL_RULE);
}

static void trust_domain_good(void **state)
{
    char td[300];
    struct pki_err err = {0, ""};

    (void)state;
    assert_ok(pki_trust_domain_check("consul", &err), err);
    assert_ok(pki_trust_domain_check(TD, &err), err);
    assert_ok(pki_trust_domain_check("a.b-c.d0", &err), err);
    /* 253 bytes: three labels of 63, one of 61 and three dots; then 254. */
    memset(td, 'a', 253);
    td[63] = td[127] = td[191] = '.';
    td[253] = '\0';
    assert_int_equal(strlen(td), 253);
    assert_ok(pki_trust_domain_check(td, &err), err);
    strcat(td, "d");
    assert_int_equal(strlen(td), 254);
    assert_err(pki_trust_domain_check(td, &err), err, PKI_ERR_INPUT, "use 1-253 characters");
}

static void trust_domain_bad(void **state)
{
    static const char *const bad[] = {
        "Consul", "a..b", ".consul", "consul.", "-a.b", "a-.b", "a_b.c", "a b", "a/b",
        "a:8080", "a.Example",
    };
    char td[80];
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_err(pki_trust_domain_check(bad[i], &err), err, PKI_ERR_INPUT,
                   "labels of 1-63 lower-case letters");
    assert_err(pki_trust_domain_check("", &err), err, PKI_ERR_INPUT, "1-253");
    memset(td, 'a', 64);
    memcpy(td + 64, ".com", 5);
    assert_err(pki_trust_domain_check(td, &err), err, PKI_ERR_INPUT, "1-63");
    assert_err(pki_trust_domain_check(NULL, &err), err, PKI_ERR_USAGE, "trust domain");
}

static void uri_round_trip(void **state)
{
    char uri[PKI_SPIFFE_URI_MAX + 1], svc[PKI_SERVICE_MAX + 1];
    struct pki_err err = {0, ""};

    (void)state;
    assert_ok(pki_spiffe_service_uri(TD, "dc1", "web", uri, sizeof(uri), &err), err);
    assert_string_equal(uri, PREFIX "web");
    assert_ok(pki_spiffe_parse_service(uri, TD, "dc1", svc, &err), err);
    assert_string_equal(svc, "web");
    assert_ok(pki_spiffe_service_uri(TD, "dc1", rep('z', 63), uri, sizeof(uri), &err), err);
    assert_ok(pki_spiffe_parse_service(uri, TD, "dc1", svc, &err), err);
    assert_string_equal(svc, rep('z', 63));
    assert_ok(pki_spiffe_domain_uri(TD, uri, sizeof(uri), &err), err);
    assert_string_equal(uri, "spiffe://" TD);
}

static void uri_build_checks_parts(void **state)
{
    char uri[PKI_SPIFFE_URI_MAX + 1], small[20];
    struct pki_err err = {0, ""};

    (void)state;
    assert_err(pki_spiffe_service_uri(TD, "dc1", "Web", uri, sizeof(uri), &err), err,
               PKI_ERR_INPUT, "service \"Web\"");
    assert_err(pki_spiffe_service_uri(TD, "dc_1", "web", uri, sizeof(uri), &err), err,
               PKI_ERR_INPUT, "datacenter \"dc_1\"");
    assert_err(pki_spiffe_service_uri("Bad.TD", "dc1", "web", uri, sizeof(uri), &err), err,
               PKI_ERR_INPUT, "trust domain \"Bad.TD\"");
    assert_err(pki_spiffe_service_uri(TD, "dc1", "web", small, sizeof(small), &err), err,
               PKI_ERR_USAGE, "too small");
    assert_string_equal(small, "");
    assert_err(pki_spiffe_domain_uri("a..b", uri, sizeof(uri), &err), err, PKI_ERR_INPUT,
               "trust domain");
}

struct bad_uri {
    const char *uri;
    const char *word;
};

static void uri_refused_forms(void **state)
{
    static const struct bad_uri cases[] = {
        {PREFIX "web?x=1", "a query"},
        {PREFIX "web#frag", "a fragment"},
        {"spiffe://user@" TD "/ns/default/dc/dc1/svc/web", "userinfo"},
        {"spiffe://" TD ":8443/ns/default/dc/dc1/svc/web", "a port"},
        {PREFIX "w%65b", "percent-escapes"},
        {PREFIX "Web", "only lower-case"},
        {"SPIFFE://" TD "/ns/default/dc/dc1/svc/web", "must start with spiffe://"},
        {"spiffe://" TD "/ns/default/dc/DC1/svc/web", "only lower-case"},
        {"https://" TD "/ns/default/dc/dc1/svc/web", "must start with spiffe://"},
        {"spiffe:" TD "/ns/default/dc/dc1/svc/web", "must start with spiffe://"},
        {"spiffe://" TD "/ns/other/dc/dc1/svc/web", "\"default\" namespace"},
        {PREFIX "web/extra", "expected spiffe://<trust domain>/ns/default"},
        {PREFIX "web/", "expected spiffe://<trust domain>/ns/default"},
        {PREFIX, "expected spiffe://<trust domain>/ns/default"},
        {"spiffe://" TD "/ns/default/dc/dc1/svc//web", "expected spiffe://"},
        {"spiffe://" TD "//ns/default/dc/dc1/svc/web", "expected spiffe://"},
        {"spiffe://" TD "/ns/default/dc/dc1/service/web", "expected spiffe://"},
        {"spiffe://" TD "/ns/default/datacenter/dc1/svc/web", "expected spiffe://"},
        {"spiffe://" TD "/ns/default/dc/dc2/svc/web", "the datacenter is not \"dc1\""},
        {"spiffe://other.consul/ns/default/dc/dc1/svc/web", "the trust domain is not"},
        {"spiffe://" TD "x/ns/default/dc/dc1/svc/web", "the trust domain is not"},
        {"spiffe://" TD, "the trust domain is not"},
        {"spiffe:///ns/default/dc/dc1/svc/web", "the trust domain is not"},
        {PREFIX "-web", "service \"-web\""},
        {PREFIX "web.db", "service \"web.db\""},
        {PREFIX "web\n", "only lower-case"},
        {PREFIX " web", "only lower-case"},
        {"", "must start with spiffe://"},
    };
    char svc[PKI_SERVICE_MAX + 1] = "unchanged";
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pki_spiffe_parse_service(cases[i].uri, TD, "dc1", svc, &err);

        if (rc != PKI_ERR_INPUT || strstr(err.msg, cases[i].word) == NULL)
            fail_msg("case %zu (%s): rc %d, \"%s\", wanted \"%s\"", i, cases[i].uri, rc,
                     err.msg, cases[i].word);
        assert_null(strchr(err.msg, '\n'));
    }
    assert_string_equal(svc, "unchanged");
}

static void uri_lengths(void **state)
{
    char uri[700], svc[PKI_SERVICE_MAX + 1];
    struct pki_err err = {0, ""};

    (void)state;
    snprintf(uri, sizeof(uri), PREFIX "%s", rep('a', 64));
    assert_err(pki_spiffe_parse_service(uri, TD, "dc1", svc, &err), err, PKI_ERR_INPUT,
               "longer than 63");
    snprintf(uri, sizeof(uri), PREFIX "%s", rep('a', 520));
    assert_err(pki_spiffe_parse_service(uri, TD, "dc1", svc, &err), err, PKI_ERR_INPUT,
               "longer than 512");
    assert_err(pki_spiffe_parse_service(NULL, TD, "dc1", svc, &err), err, PKI_ERR_USAGE,
               "missing");
}

static void uuid_format(void **state)
{
    char u[PKI_UUID_LEN + 1];
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < 100; i++) {
        assert_ok(pki_uuid_random(u, &err), err);
        assert_int_equal(strlen(u), PKI_UUID_LEN);
        assert_true(pki_uuid_check(u));
        assert_int_equal(u[14], '4');                /* version 4 */
        assert_non_null(strchr("89ab", u[19]));      /* variant 10xx */
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void uuid_distinct(void **state)
{
    char(*u)[PKI_UUID_LEN + 1] = calloc(1000, sizeof(*u));
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    assert_non_null(u);
    for (i = 0; i < 1000; i++)
        assert_ok(pki_uuid_random(u[i], &err), err);
    qsort(u, 1000, sizeof(*u), cmp_str);
    for (i = 1; i < 1000; i++)
        assert_string_not_equal(u[i - 1], u[i]);
    free(u);
}

static void uuid_check_forms(void **state)
{
    static const char *const bad[] = {
        "", "11111111-2222-4333-8444-55555555555",  "11111111-2222-4333-8444-5555555555555",
        "11111111-2222-4333-8444-55555555555G",     "11111111-2222-4333-8444-55555555555A",
        "111111112-222-4333-8444-555555555555",     "11111111_2222_4333_8444_555555555555",
        "{11111111-2222-4333-8444-555555555555}",   "11111111-2222-4333-8444-55555555555 ",
    };
    size_t i;

    (void)state;
    assert_true(pki_uuid_check("11111111-2222-4333-8444-555555555555"));
    assert_true(pki_uuid_check("00000000-0000-0000-0000-000000000000"));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (pki_uuid_check(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(pki_uuid_check(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_good),
        cmocka_unit_test(label_bad),
        cmocka_unit_test(label_message_quotes_safely),
        cmocka_unit_test(trust_domain_good),
        cmocka_unit_test(trust_domain_bad),
        cmocka_unit_test(uri_round_trip),
        cmocka_unit_test(uri_build_checks_parts),
        cmocka_unit_test(uri_refused_forms),
        cmocka_unit_test(uri_lengths),
        cmocka_unit_test(uuid_format),
        cmocka_unit_test(uuid_distinct),
        cmocka_unit_test(uuid_check_forms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
