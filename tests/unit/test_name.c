/* test_name.c - host names, IP literals and user names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "name.h"
#include "unit_util.h"

struct host_ok {
    const char *text;
    enum pki_host_kind kind;
    const char *canonical;
    size_t ip_len;
};

static void host_valid(void **state)
{
    static const struct host_ok cases[] = {
        {"localhost", PKI_HOST_DNS, "localhost", 0},
        {"node1.example.com", PKI_HOST_DNS, "node1.example.com", 0},
        {"Node-1.Example.COM", PKI_HOST_DNS, "Node-1.Example.COM", 0},
        {"*.example.com", PKI_HOST_DNS, "*.example.com", 0},
        {"*.db.internal", PKI_HOST_DNS, "*.db.internal", 0},
        {"a.b2", PKI_HOST_DNS, "a.b2", 0},
        {"1.2.3.com", PKI_HOST_DNS, "1.2.3.com", 0},
        {"x--y.example", PKI_HOST_DNS, "x--y.example", 0},
        {"127.0.0.1", PKI_HOST_IPV4, "127.0.0.1", 4},
        {"10.0.0.255", PKI_HOST_IPV4, "10.0.0.255", 4},
        {"::1", PKI_HOST_IPV6, "::1", 16},
        {"[::1]", PKI_HOST_IPV6, "::1", 16},
        {"2001:DB8:0:0:0:0:0:1", PKI_HOST_IPV6, "2001:db8::1", 16},
        {"[2001:db8::abcd]", PKI_HOST_IPV6, "2001:db8::abcd", 16},
        {"::ffff:10.1.2.3", PKI_HOST_IPV6, "::ffff:10.1.2.3", 16},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        struct pki_host h;
        int rc;

        memset(&h, 0xAA, sizeof(h));
        rc = pki_host_parse(cases[i].text, &h, &err);
        if (rc != PKI_OK)
            fail_msg("\"%s\": rc %d (%s)", cases[i].text, rc, err.msg);
        if (h.kind != cases[i].kind)
            fail_msg("\"%s\": kind %d, want %d", cases[i].text, (int)h.kind, (int)cases[i].kind);
        if (strcmp(h.text, cases[i].canonical) != 0)
            fail_msg("\"%s\": text \"%s\", want \"%s\"", cases[i].text, h.text,
                     cases[i].canonical);
        if (h.ip_len != cases[i].ip_len)
            fail_msg("\"%s\": ip_len %zu, want %zu", cases[i].text, h.ip_len, cases[i].ip_len);
    }
}

static void host_ip_bytes(void **state)
{
    static const unsigned char v4[4] = {192, 168, 7, 9};
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 0, 0, 0x42};
    struct pki_err err = {0, ""};
    struct pki_host h;

    (void)state;
    assert_ok(pki_host_parse("192.168.7.9", &h, &err), err);
    assert_memory_equal(h.ip, v4, 4);
    assert_ok(pki_host_parse("[2001:db8::42]", &h, &err), err);
    assert_memory_equal(h.ip, v6, 16);
}

struct host_bad {
    const char *text;
    const char *word;
};

static void host_invalid(void **state)
{
    static const struct host_bad cases[] = {
        {"", "empty host name"},
        {"example.com.", "trailing dot"},
        {"a..b", "empty label"},
        {".example.com", "empty label"},
        {"-a.example.com", "starts or ends with '-'"},
        {"a-.example.com", "starts or ends with '-'"},
        {"under_score.example", "character '_' is not allowed"},
        {"sp ace.example", "character ' ' is not allowed"},
        {"tab\t.example", "\\x09"},
        {"esc\x1b[31m.example", "\\x1b"},
        {"caf\xc3\xa9.example", "\\xc3"},
        {"a,b.example", "character ','"},
        {"*", "needs a domain"},
        {"*.com", "at least two labels"},
        {"a.*.example.com", "wildcard is allowed only"},
        {"*a.example.com", "wildcard is allowed only"},
        {"a*.example.com", "wildcard is allowed only"},
        {"**.example.com", "wildcard is allowed only"},
        {"*.*.example.com", "wildcard is allowed only"},
        {"1.2.3.256", "not a valid IP address"},
        {"1.2.3", "not a valid IP address"},
        {"01.2.3.4", "not a valid IP address"},
        {"example.123", "cannot be all digits"},
        {"12345", "cannot be all digits"},
        {"1::2::3", "invalid IP address"},
        {"fe80::1%eth0", "zone ids are not allowed"},
        {"[::1", "invalid IP address"},
        {"::1]", "invalid IP address"},
        {"[]", "character '['"},
        {"[1.2.3.4]", "character '['"},
        {"host:80", "invalid IP address"},
        {"a/b.example", "character '/'"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        struct pki_host h;
        int rc;

        memset(&h, 0x5A, sizeof(h));
        rc = pki_host_parse(cases[i].text, &h, &err);
        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT)
            fail_msg("\"%s\": rc %d code %d, want PKI_ERR_INPUT", cases[i].text, rc, err.code);
        if (strstr(err.msg, cases[i].word) == NULL)
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].text, err.msg,
                     cases[i].word);
        if (h.text[0] != 0x5A)
            fail_msg("\"%s\": *out was written on failure", cases[i].text);
    }
}

static void host_null(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;

    (void)state;
    assert_err(pki_host_parse(NULL, &h, &err), err, PKI_ERR_INPUT, "empty host name");
    assert_int_equal(pki_host_parse("bad..name", &h, NULL), PKI_ERR_INPUT);
}

static void host_lengths(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_host h;
    char name[400];
    size_t i;

    (void)state;
    /* A 63-character label is fine, 64 is not. */
    memset(name, 'a', 63);
    strcpy(name + 63, ".example");
    assert_ok(pki_host_parse(name, &h, &err), err);
    memset(name, 'a', 64);
    strcpy(name + 64, ".example");
    assert_err(pki_host_parse(name, &h, &err), err, PKI_ERR_INPUT, "longer than 63");

    /* 253 characters in total is fine (four labels of 63 plus three dots
     * is 255, so: 63 + 1 + 63 + 1 + 63 + 1 + 61). */
    memset(name, 'b', sizeof(name));
    name[63] = name[127] = name[191] = '.';
    name[253] = '\0';
    assert_int_equal(strlen(name), PKI_NAME_DNS_MAX);
    assert_ok(pki_host_parse(name, &h, &err), err);
    assert_string_equal(h.text, name);
    assert_int_equal(h.kind, PKI_HOST_DNS);

    /* 254 is too long. */
    name[253] = 'b';
    name[254] = '\0';
    assert_err(pki_host_parse(name, &h, &err), err, PKI_ERR_INPUT, "longer than 253");

    /* Very long input does not overflow anything. */
    for (i = 0; i < sizeof(name) - 1; i++)
        name[i] = (i % 10 == 9) ? '.' : 'c';
    name[sizeof(name) - 1] = '\0';
    assert_err(pki_host_parse(name, &h, &err), err, PKI_ERR_INPUT, "longer than 253");
}

static void user_valid(void **state)
{
    static const char *const ok[] = {
        "root", "alice", "Bob_2", "_svc", "9lives", "a.b", "a-b", "user@example.com",
        "x", "a.", "A-",
    };
    struct pki_err err = {0, ""};
    char longest[PKI_NAME_USER_MAX + 1];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int rc = pki_user_check(ok[i], &err);

        if (rc != PKI_OK)
            fail_msg("\"%s\": rc %d (%s)", ok[i], rc, err.msg);
    }
    memset(longest, 'u', PKI_NAME_USER_MAX);
    longest[PKI_NAME_USER_MAX] = '\0';
    assert_ok(pki_user_check(longest, &err), err);
}

static void user_invalid(void **state)
{
    static const struct host_bad cases[] = {
        {"", "empty user name"},
        {"a/b", "path separators"},
        {"../etc", "path separators"},
        {"a\\b", "path separators"},
        {"..", "\"..\" is not allowed"},
        {"a..b", "\"..\" is not allowed"},
        {".hidden", "must start with"},
        {"-flag", "must start with"},
        {"@host", "must start with"},
        {"a b", "character ' '"},
        {"a:b", "character ':'"},
        {"a*", "character '*'"},
        {"new\nline", "\\x0a"},
        {"caf\xc3\xa9", "\\xc3"},
    };
    struct pki_err err = {0, ""};
    char toolong[PKI_NAME_USER_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pki_user_check(cases[i].text, &err);

        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT)
            fail_msg("\"%s\": rc %d code %d, want PKI_ERR_INPUT", cases[i].text, rc, err.code);
        if (strstr(err.msg, cases[i].word) == NULL)
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].text, err.msg,
                     cases[i].word);
    }
    assert_err(pki_user_check(NULL, &err), err, PKI_ERR_INPUT, "empty user name");
    memset(toolong, 'u', PKI_NAME_USER_MAX + 1);
    toolong[PKI_NAME_USER_MAX + 1] = '\0';
    assert_err(pki_user_check(toolong, &err), err, PKI_ERR_INPUT, "longer than 63");
    assert_int_equal(pki_user_check("a/b", NULL), PKI_ERR_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_valid),
        cmocka_unit_test(host_ip_bytes),
        cmocka_unit_test(host_invalid),
        cmocka_unit_test(host_null),
        cmocka_unit_test(host_lengths),
        cmocka_unit_test(user_valid),
        cmocka_unit_test(user_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
