/* test_duration.c - Go-style duration parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"
#include "unit_util.h"

struct ok_case {
    const char *text;
    int64_t seconds;
};

static void parse_valid(void **state)
{
    static const struct ok_case cases[] = {
        {"720h", 2592000},
        {"90m", 5400},
        {"1.5h", 5400},
        {"87840h0m0s", 316224000},
        {"1h30m15s", 5415},
        {"1d", 86400},
        {"2d12h", 216000},
        {"1s", 1},
        {"59s", 59},
        {"1000ms", 1},
        {"1500ms", 1},          /* fractions of a second are dropped */
        {"1.9999s", 1},
        {"1000000us", 1},
        {"1000000\xc2\xb5s", 1}, /* micro sign */
        {"1000000\xce\xbcs", 1}, /* Greek mu */
        {"1000000000ns", 1},
        {"2500000000ns", 2},
        {"+1h", 3600},
        {".5h", 1800},
        {"1.h", 3600},
        {"0.5m", 30},
        {"1h0.5m", 3630},
        {"0h1s", 1},
        {"0001h", 3600},
        {"1.0000000000000000000000001h", 3600}, /* many fraction digits */
        {"2562047h", INT64_C(9223369200)},
        {"2562047h47m16.854775807s", INT64_C(9223372036)}, /* Go's maximum */
        {"9223372036854775807ns", INT64_C(9223372036)},
        {"106751d", INT64_C(9223286400)},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        int64_t s = -1;
        int rc = pki_duration_parse(cases[i].text, &s, &err);

        if (rc != PKI_OK)
            fail_msg("\"%s\": rc %d (%s)", cases[i].text, rc, err.msg);
        if (s != cases[i].seconds)
            fail_msg("\"%s\": got %lld, want %lld", cases[i].text, (long long)s,
                     (long long)cases[i].seconds);
    }
}

struct bad_case {
    const char *text;
    const char *word;
};

static void parse_invalid(void **state)
{
    static const struct bad_case cases[] = {
        {"", "empty duration"},
        {"-1h", "negative"},
        {"-0s", "negative"},
        {"0s", "zero"},
        {"0h0m0s", "zero"},
        {"0", "unit"},
        {"500ms", "shorter than one second"},
        {"999999999ns", "shorter than one second"},
        {"0.9s", "shorter than one second"},
        {"1", "missing or unknown unit"},
        {"10", "missing or unknown unit"},
        {"1x", "missing or unknown unit"},
        {"1H", "missing or unknown unit"},
        {"1 h", "missing or unknown unit"},
        {"1h ", "expected a number"},
        {" 1h", "expected a number"},
        {"1h30", "missing or unknown unit"},
        {"1.5.5h", "missing or unknown unit"},
        {"1y", "missing or unknown unit"},
        {"1\xc2s", "missing or unknown unit"},
        {"h", "expected a number"},
        {"1hm", "expected a number"},
        {".", "expected a number"},
        {".h", "expected a number"},
        {"+", "invalid duration"},
        {"+-1h", "expected a number"},
        {"1h-1m", "expected a number"},
        {"2562048h", "too large"},
        {"2562047h47m16.854775808s", "too large"},
        {"2562047h47m17s", "too large"},
        {"9223372036854775808ns", "too large"},
        {"106752d", "too large"},
        {"99999999999999999999999h", "too large"},
        {"18446744073709551615ns", "too large"},
        {"2562047h2562047h", "too large"},
        {"1000000000000h", "too large"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        int64_t s = 42;
        int rc = pki_duration_parse(cases[i].text, &s, &err);

        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT)
            fail_msg("\"%s\": rc %d code %d, want PKI_ERR_INPUT (s=%lld)", cases[i].text, rc,
                     err.code, (long long)s);
        if (strstr(err.msg, cases[i].word) == NULL)
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].text, err.msg,
                     cases[i].word);
        if (s != 42)
            fail_msg("\"%s\": *seconds was changed on failure", cases[i].text);
    }
}

static void parse_null_and_long(void **state)
{
    struct pki_err err = {0, ""};
    char text[80];
    int64_t s = 7;

    (void)state;
    assert_err(pki_duration_parse(NULL, &s, &err), err, PKI_ERR_INPUT, "empty");
    assert_int_equal(s, 7);

    /* 65 characters, all valid: refused for length alone. */
    memset(text, '0', 63);
    text[63] = '1';
    text[64] = 's';
    text[65] = '\0';
    assert_err(pki_duration_parse(text, &s, &err), err, PKI_ERR_INPUT, "longer than 64");
    assert_int_equal(s, 7);

    /* 64 characters is still fine. */
    memmove(text, text + 1, 65);
    assert_int_equal(strlen(text), 64);
    assert_ok(pki_duration_parse(text, &s, &err), err);
    assert_int_equal(s, 1);
}

static void parse_message_quotes_input(void **state)
{
    struct pki_err err = {0, ""};
    int64_t s;

    (void)state;
    assert_err(pki_duration_parse("12parsecs", &s, &err), err, PKI_ERR_INPUT, "\"12parsecs\"");
    assert_msg_has(err, "use ns, us, ms, s, m, h or d");
    assert_err(pki_duration_parse("-5m", &s, &err), err, PKI_ERR_INPUT, "\"-5m\"");
}

static void parse_null_err_is_allowed(void **state)
{
    int64_t s = 3;

    (void)state;
    assert_int_equal(pki_duration_parse("bogus", &s, NULL), PKI_ERR_INPUT);
    assert_int_equal(s, 3);
    assert_int_equal(pki_duration_parse("2h", &s, NULL), PKI_OK);
    assert_int_equal(s, 7200);
}

static void format_hours(void **state)
{
    char buf[64];

    (void)state;
    pki_duration_format(316224000, buf, sizeof(buf));
    assert_string_equal(buf, "87840h0m0s");
    pki_duration_format(5415, buf, sizeof(buf));
    assert_string_equal(buf, "1h30m15s");
    pki_duration_format(3600, buf, sizeof(buf));
    assert_string_equal(buf, "1h0m0s");
    pki_duration_format(INT64_C(9223372036), buf, sizeof(buf));
    assert_string_equal(buf, "2562047h47m16s");
}

/* Go omits leading zero units: 90s is "1m30s", 59s is "59s". */
static void format_under_an_hour_is_go_style(void **state)
{
    char buf[64];

    (void)state;
    pki_duration_format(90, buf, sizeof(buf));
    assert_string_equal(buf, "1m30s");
    pki_duration_format(59, buf, sizeof(buf));
    assert_string_equal(buf, "59s");
}

static void format_truncates_safely(void **state)
{
    char buf[5];

    (void)state;
    memset(buf, 'X', sizeof(buf));
    pki_duration_format(316224000, buf, sizeof(buf));
    assert_int_equal(buf[4], '\0');
    assert_string_equal(buf, "8784");
}

static void format_parse_roundtrip(void **state)
{
    static const int64_t values[] = {1, 59, 60, 61, 3599, 3600, 86400, 316224000,
                                     INT64_C(9223372036)};
    struct pki_err err = {0, ""};
    char buf[64];
    int64_t s;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        pki_duration_format(values[i], buf, sizeof(buf));
        assert_ok(pki_duration_parse(buf, &s, &err), err);
        if (s != values[i])
            fail_msg("%lld -> \"%s\" -> %lld", (long long)values[i], buf, (long long)s);
    }
}

/* Found by fuzz_duration: a fraction was computed in floating point and
 * 0.99999999999999999s rounded up to a whole second. */
static void parse_fraction_is_exact(void **state)
{
    struct pki_err err = {0, ""};
    int64_t secs = -1;

    (void)state;
    assert_int_equal(pki_duration_parse("0.99999999999999999s", &secs, &err), PKI_ERR_INPUT);
    assert_non_null(strstr(err.msg, "shorter than one second"));
    assert_int_equal(pki_duration_parse("1.99999999999999999s", &secs, &err), PKI_OK);
    assert_int_equal(secs, 1);
    assert_int_equal(pki_duration_parse("0.5h", &secs, &err), PKI_OK);
    assert_int_equal(secs, 1800);
    assert_int_equal(pki_duration_parse("2562047.8h", &secs, &err), PKI_ERR_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid),
        cmocka_unit_test(parse_invalid),
        cmocka_unit_test(parse_null_and_long),
        cmocka_unit_test(parse_message_quotes_input),
        cmocka_unit_test(parse_null_err_is_allowed),
        cmocka_unit_test(parse_fraction_is_exact),
        cmocka_unit_test(format_hours),
        cmocka_unit_test(format_under_an_hour_is_go_style),
        cmocka_unit_test(format_truncates_safely),
        cmocka_unit_test(format_parse_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
