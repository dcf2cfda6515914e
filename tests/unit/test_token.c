/* test_token.c - token secret hashes and policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "token.h"
#include "unit_util.h"

static void hash_known_vectors(void **state)
{
    EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    const EVP_MD *mds[2] = {NULL, sha256};
    char h[PKI_TOKEN_HASH_HEX + 1];
    int i;

    (void)state;
    assert_non_null(sha256);
    /* The same with the digest fetched per call and fetched once. */
    for (i = 0; i < 2; i++) {
        /* FIPS 180-2 appendix B.1. */
        pki_token_hash(mds[i], "abc", h);
        assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        pki_token_hash(mds[i], "", h);
        assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        pki_token_hash(mds[i], NULL, h);
        assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        pki_token_hash(mds[i], "11111111-2222-4333-8444-555555555555", h);
        assert_int_equal(strlen(h), PKI_TOKEN_HASH_HEX);
        assert_int_equal(strspn(h, "0123456789abcdef"), PKI_TOKEN_HASH_HEX);
    }
    EVP_MD_free(sha256);
}

static void policy_operator(void **state)
{
    struct pki_token_policy p;
    struct pki_err err = {0, ""};
    char text[64];

    (void)state;
    assert_ok(pki_token_policy_parse("operator", &p, &err), err);
    assert_int_equal(p.kind, PKI_TOKEN_OPERATOR);
    assert_int_equal(p.nservices, 0);
    assert_ok(pki_token_policy_format(&p, text, sizeof(text), &err), err);
    assert_string_equal(text, "operator");
    assert_true(pki_token_allows_service(&p, "web"));
    assert_true(pki_token_allows_service(&p, "anything"));
}

static void policy_services_round_trip(void **state)
{
    struct pki_token_policy p, q;
    struct pki_err err = {0, ""};
    char text[128];

    (void)state;
    assert_ok(pki_token_policy_parse("service:web,db,a-1", &p, &err), err);
    assert_int_equal(p.kind, PKI_TOKEN_SERVICE);
    assert_int_equal(p.nservices, 3);
    assert_string_equal(p.services[0], "web");
    assert_string_equal(p.services[1], "db");
    assert_string_equal(p.services[2], "a-1");
    assert_ok(pki_token_policy_format(&p, text, sizeof(text), &err), err);
    assert_string_equal(text, "service:web,db,a-1");
    assert_ok(pki_token_policy_parse(text, &q, &err), err);
    assert_int_equal(q.nservices, 3);
    assert_memory_equal(&p.services, &q.services, sizeof(p.services));
}

/* 64 services of 63 bytes: the largest policy, parsed and written back. */
static void policy_max_services(void **state)
{
    static struct pki_token_policy p, q;
    static char text[8 + 64 * 64 + 16], back[sizeof(text)];
    struct pki_err err = {0, ""};
    size_t i, o = 8;

    (void)state;
    memcpy(text, "service:", 8);
    for (i = 0; i < 64; i++) {
        memset(text + o, 'a', 61);
        snprintf(text + o + 61, 4, "%02zu", i);
        o += 63;
        text[o++] = ',';
    }
    text[--o] = '\0';
    assert_ok(pki_token_policy_parse(text, &p, &err), err);
    assert_int_equal(p.nservices, 64);
    assert_ok(pki_token_policy_format(&p, back, sizeof(back), &err), err);
    assert_string_equal(back, text);
    assert_ok(pki_token_policy_parse(back, &q, &err), err);
    assert_memory_equal(&p, &q, sizeof(p));
    /* One byte short of room: refused, and nothing written. */
    memset(back, 'x', sizeof(back));
    assert_err(pki_token_policy_format(&p, back, strlen(text), &err), err, PKI_ERR_USAGE,
               "too small");
    assert_int_equal(back[0], 'x');
}

static void policy_too_many_services(void **state)
{
    char text[8 + 65 * 4 + 1];
    struct pki_token_policy p;
    struct pki_err err = {0, ""};
    size_t i, o = 8;

    (void)state;
    memcpy(text, "service:", 8);
    for (i = 0; i < 65; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%03zu", i ? "," : "", i);
    assert_err(pki_token_policy_parse(text, &p, &err), err, PKI_ERR_INPUT,
               "more than 64 services");
}

struct bad_policy {
    const char *text;
    const char *word;
};

static void policy_bad(void **state)
{
    static const struct bad_policy cases[] = {
        {"", "use \"operator\" or \"service:NAME[,NAME...]\""},
        {"Operator", "policy \"Operator\": use \"operator\""},
        {"operator ", "use \"operator\""},
        {"admin", "policy \"admin\": use"},
        {"services:web", "use \"operator\""},
        {"service", "use \"operator\""},
        {"service:", "an empty service name"},
        {"service:web,", "an empty service name"},
        {"service:,web", "an empty service name"},
        {"service:web,,db", "an empty service name"},
        {"service:Web", "service \"Web\": use 1-63 lower-case letters"},
        {"service:web, db", "service \" db\""},
        {"service:web_1", "service \"web_1\""},
        {"service:-web", "service \"-web\""},
        {"service:web,db,web", "service \"web\" is listed twice"},
        {"service:operator,operator", "listed twice"},
        {"admin\n\x1b[2J", "policy \"admin??[2J\""},
    };
    struct pki_token_policy p;
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    memset(&p, 0x5a, sizeof(p));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pki_token_policy_parse(cases[i].text, &p, &err);

        if (rc != PKI_ERR_INPUT || strstr(err.msg, cases[i].word) == NULL)
            fail_msg("case %zu: rc %d, \"%s\", wanted \"%s\"", i, rc, err.msg, cases[i].word);
    }
    assert_int_equal(((unsigned char *)&p)[0], 0x5a); /* untouched on failure */
    assert_err(pki_token_policy_parse(NULL, &p, &err), err, PKI_ERR_USAGE, "missing");
}

static void policy_long_name(void **state)
{
    char text[8 + 200];
    struct pki_token_policy p;
    struct pki_err err = {0, ""};

    (void)state;
    memcpy(text, "service:", 8);
    memset(text + 8, 'a', 64);
    text[72] = '\0';
    assert_err(pki_token_policy_parse(text, &p, &err), err, PKI_ERR_INPUT,
               "use 1-63 lower-case letters");
    text[71] = '\0';
    assert_ok(pki_token_policy_parse(text, &p, &err), err);
    assert_int_equal(strlen(p.services[0]), 63);
}

static void policy_text_too_long(void **state)
{
    static char text[5000];
    struct pki_token_policy p;
    struct pki_err err = {0, ""};

    (void)state;
    memcpy(text, "service:", 8);
    memset(text + 8, 'a', sizeof(text) - 9);
    assert_err(pki_token_policy_parse(text, &p, &err), err, PKI_ERR_INPUT, "longer than");
    assert_true(strlen(err.msg) < 200);
}

static void policy_format_malformed(void **state)
{
    struct pki_token_policy p;
    struct pki_err err = {0, ""};
    char text[128];

    (void)state;
    memset(&p, 0, sizeof(p));
    p.kind = PKI_TOKEN_SERVICE;
    assert_err(pki_token_policy_format(&p, text, sizeof(text), &err), err, PKI_ERR_USAGE,
               "malformed");
    p.nservices = 1;
    strcpy(p.services[0], "Bad");
    assert_err(pki_token_policy_format(&p, text, sizeof(text), &err), err, PKI_ERR_USAGE,
               "malformed");
    p.nservices = PKI_TOKEN_SERVICES_MAX + 1;
    assert_err(pki_token_policy_format(&p, text, sizeof(text), &err), err, PKI_ERR_USAGE,
               "malformed");
    p.kind = (enum pki_token_kind)7;
    assert_err(pki_token_policy_format(&p, text, sizeof(text), &err), err, PKI_ERR_USAGE,
               "malformed");
}

static void policy_allows(void **state)
{
    struct pki_token_policy p;
    struct pki_err err = {0, ""};

    (void)state;
    assert_ok(pki_token_policy_parse("service:web,db", &p, &err), err);
    assert_true(pki_token_allows_service(&p, "web"));
    assert_true(pki_token_allows_service(&p, "db"));
    assert_false(pki_token_allows_service(&p, "we"));
    assert_false(pki_token_allows_service(&p, "web2"));
    assert_false(pki_token_allows_service(&p, "WEB"));
    assert_false(pki_token_allows_service(&p, ""));
    assert_false(pki_token_allows_service(&p, "operator"));
    assert_false(pki_token_allows_service(&p, NULL));
    assert_false(pki_token_allows_service(NULL, "web"));
    /* Default deny: an unknown kind allows nothing. */
    p.kind = (enum pki_token_kind)7;
    assert_false(pki_token_allows_service(&p, "web"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_known_vectors),
        cmocka_unit_test(policy_operator),
        cmocka_unit_test(policy_services_round_trip),
        cmocka_unit_test(policy_max_services),
        cmocka_unit_test(policy_too_many_services),
        cmocka_unit_test(policy_bad),
        cmocka_unit_test(policy_long_name),
        cmocka_unit_test(policy_text_too_long),
        cmocka_unit_test(policy_format_malformed),
        cmocka_unit_test(policy_allows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
