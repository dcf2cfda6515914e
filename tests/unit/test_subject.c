/* test_subject.c - distinguished names: parsing --subject, checking names
 * from CSRs, printing them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "subject.h"
#include "unit_util.h"

/* The value and ASN.1 string type of name's entry i, which must be nid. */
static void assert_entry(const X509_NAME *name, int i, int nid, const char *value, int type)
{
    const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
    const ASN1_STRING *s;

    assert_non_null(e);
    assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)), nid);
    s = X509_NAME_ENTRY_get_data(e);
    assert_int_equal(ASN1_STRING_type(s), type);
    assert_int_equal(ASN1_STRING_length(s), (int)strlen(value));
    assert_memory_equal(ASN1_STRING_get0_data(s), value, strlen(value));
}

static void format(const X509_NAME *name, char *buf, size_t len)
{
    memset(buf, 'Z', len);
    pki_subject_format(name, buf, len);
}

/* ---- pki_subject_parse --------------------------------------------------- */

static void parse_all_attributes_in_order(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n;
    char buf[256];

    (void)state;
    n = pki_subject_parse("/C=US/ST=CA/L=San Francisco/O=Example/OU=Ops/CN=db.example.com", &err);
    if (n == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(X509_NAME_entry_count(n), 6);
    assert_entry(n, 0, NID_countryName, "US", V_ASN1_PRINTABLESTRING);
    assert_entry(n, 1, NID_stateOrProvinceName, "CA", V_ASN1_UTF8STRING);
    assert_entry(n, 2, NID_localityName, "San Francisco", V_ASN1_UTF8STRING);
    assert_entry(n, 3, NID_organizationName, "Example", V_ASN1_UTF8STRING);
    assert_entry(n, 4, NID_organizationalUnitName, "Ops", V_ASN1_UTF8STRING);
    assert_entry(n, 5, NID_commonName, "db.example.com", V_ASN1_UTF8STRING);
    assert_int_equal(pki_subject_has_cn(n), 1);
    format(n, buf, sizeof(buf));
    assert_string_equal(buf, "CN=db.example.com,OU=Ops,O=Example,L=San Francisco,ST=CA,C=US");
    X509_NAME_free(n);

    /* Any order; the order given is kept. */
    n = pki_subject_parse("/CN=x/O=y", &err);
    assert_non_null(n);
    assert_entry(n, 0, NID_commonName, "x", V_ASN1_UTF8STRING);
    assert_entry(n, 1, NID_organizationName, "y", V_ASN1_UTF8STRING);
    X509_NAME_free(n);
}

static void parse_escapes_and_limits(void **state)
{
    struct pki_err err = {0, ""};
    char text[200], want[80];
    X509_NAME *n;

    (void)state;
    n = pki_subject_parse("/O=a\\/b/CN=c\\/", &err);
    if (n == NULL)
        fail_msg("%s", err.msg);
    assert_entry(n, 0, NID_organizationName, "a/b", V_ASN1_UTF8STRING);
    assert_entry(n, 1, NID_commonName, "c/", V_ASN1_UTF8STRING);
    X509_NAME_free(n);

    /* A backslash not before '/' stays; '=' and ',' are plain characters. */
    n = pki_subject_parse("/CN=a\\b=c,d", &err);
    assert_non_null(n);
    assert_entry(n, 0, NID_commonName, "a\\b=c,d", V_ASN1_UTF8STRING);
    X509_NAME_free(n);

    /* 64 characters is the limit; "\/" counts as one. */
    memset(text, 0, sizeof(text));
    strcpy(text, "/CN=");
    memset(text + 4, 'a', 63);
    strcat(text, "\\/");
    n = pki_subject_parse(text, &err);
    if (n == NULL)
        fail_msg("64 characters refused: %s", err.msg);
    memset(want, 'a', 63);
    want[63] = '/';
    want[64] = '\0';
    assert_entry(n, 0, NID_commonName, want, V_ASN1_UTF8STRING);
    X509_NAME_free(n);

    memset(text, 0, sizeof(text));
    strcpy(text, "/CN=");
    memset(text + 4, 'a', 64);
    n = pki_subject_parse(text, &err);
    assert_non_null(n);
    X509_NAME_free(n);

    text[4 + 64] = 'a'; /* 65 */
    err.code = 0;
    assert_null(pki_subject_parse(text, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "CN");
    assert_msg_has(err, "longer than 64 characters");

    /* Lower-case country codes are letters too. */
    n = pki_subject_parse("/C=de", &err);
    assert_non_null(n);
    assert_false(pki_subject_has_cn(n));
    X509_NAME_free(n);
}

static void parse_refusals(void **state)
{
    static const struct { const char *text; const char *word; } cases[] = {
        {"", "must start with '/'"},
        {"CN=x", "must start with '/'"},
        {"/", "expected ATTR=VALUE"},
        {"/CN", "expected ATTR=VALUE"},
        {"/CN=x/", "expected ATTR=VALUE"},
        {"/CN=x//O=y", "expected ATTR=VALUE"},
        {"/=x", "unknown attribute"},
        {"/E=a@b.c", "unknown attribute \"E\""},
        {"/cn=x", "unknown attribute \"cn\""},
        {"/emailAddress=a@b.c", "unknown attribute"},
        {"/DC=com", "unknown attribute"},
        {"/CN=x/CN=y", "CN is given twice"},
        {"/O=a/CN=x/O=b", "O is given twice"},
        {"/CN=", "CN is empty"},
        {"/O=/CN=x", "O is empty"},
        {"/C=USA", "two-letter country code"},
        {"/C=U", "two-letter country code"},
        {"/C=U1", "two-letter country code"},
        {"/C=1S", "two-letter country code"},
        {"/CN=a\tb", "control character"},
        {"/CN=a\nb", "control character"},
        {"/O=x\x7f", "control character"},
        {"/CN=a\x1b[31m", "control character"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        X509_NAME *n = pki_subject_parse(cases[i].text, &err);

        if (n != NULL)
            fail_msg("\"%s\" was accepted", cases[i].text);
        if (err.code != PKI_ERR_INPUT || strstr(err.msg, cases[i].word) == NULL)
            fail_msg("\"%s\": code %d \"%s\", want %d with \"%s\"", cases[i].text, err.code,
                     err.msg, PKI_ERR_INPUT, cases[i].word);
        assert_msg_has(err, "invalid subject");
    }
}

/* "values 1..64 printable characters": characters, as pki_subject_check
 * counts them, not UTF-8 bytes. */
static void parse_counts_characters_not_bytes(void **state)
{
    static const int counts[] = {33, 40, 64};
    char text[4 + 2 * 65 + 1];
    size_t i;
    int j;

    (void)state;
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct pki_err err = {0, ""};
        X509_NAME *n;

        strcpy(text, "/CN=");
        for (j = 0; j < counts[i]; j++)
            strcat(text, "\xc3\xa9");
        n = pki_subject_parse(text, &err);
        if (n == NULL)
            fail_msg("%d two-byte characters refused: \"%s\"", counts[i], err.msg);
        assert_ok(pki_subject_check(n, &err), err);
        X509_NAME_free(n);
    }
    /* 65 are too many. */
    strcpy(text, "/CN=");
    for (j = 0; j < 65; j++)
        strcat(text, "\xc3\xa9");
    {
        struct pki_err err = {0, ""};

        assert_null(pki_subject_parse(text, &err));
        assert_int_equal(err.code, PKI_ERR_INPUT);
    }
}

static void parse_refuses_null_and_long_text(void **state)
{
    struct pki_err err = {0, ""};
    char *text = malloc(PKI_SUBJECT_TEXT_MAX + 2);
    X509_NAME *n;

    (void)state;
    assert_null(pki_subject_parse(NULL, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);

    /* 1024 characters of text are allowed to be tried (and fail on their own
     * merits); 1025 are refused before anything else. */
    assert_non_null(text);
    memset(text, 0, PKI_SUBJECT_TEXT_MAX + 2);
    strcpy(text, "/CN=x");
    memset(text + 5, ' ', PKI_SUBJECT_TEXT_MAX - 5);
    err.code = 0;
    n = pki_subject_parse(text, &err);
    assert_null(n);
    assert_msg_has(err, "longer than 64");
    text[PKI_SUBJECT_TEXT_MAX] = ' ';
    err.code = 0;
    assert_null(pki_subject_parse(text, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "at most 1024 characters");
    free(text);
}

/* ---- pki_subject_check --------------------------------------------------- */

static X509_NAME *name_with(int nid, int type, const void *bytes, int len)
{
    X509_NAME *n = X509_NAME_new();
    X509_NAME_ENTRY *e = X509_NAME_ENTRY_create_by_NID(NULL, nid, type, bytes, len);

    assert_non_null(n);
    assert_non_null(e);
    assert_int_equal(X509_NAME_add_entry(n, e, -1, 0), 1);
    X509_NAME_ENTRY_free(e);
    return n;
}

static void check_accepts(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n;
    char value[PKI_SUBJECT_VALUE_MAX * 2 + 1];
    int i;

    (void)state;
    n = pki_subject_parse("/C=US/ST=CA/L=San Francisco/O=Example/OU=Ops/CN=db.example.com", &err);
    assert_non_null(n);
    assert_ok(pki_subject_check(n, &err), err);
    X509_NAME_free(n);

    n = X509_NAME_new(); /* an empty subject is fine here (a SAN may make up for it) */
    assert_ok(pki_subject_check(n, &err), err);
    X509_NAME_free(n);

    /* 64 characters of two-byte UTF-8 (128 bytes) are 64 characters. */
    for (i = 0; i < PKI_SUBJECT_VALUE_MAX; i++)
        memcpy(value + 2 * i, "\xc3\xa9", 2);
    value[2 * PKI_SUBJECT_VALUE_MAX] = '\0';
    n = name_with(NID_commonName, V_ASN1_UTF8STRING, value, -1);
    assert_ok(pki_subject_check(n, &err), err);
    X509_NAME_free(n);

    /* 64 ASCII characters. */
    memset(value, 'a', PKI_SUBJECT_VALUE_MAX);
    value[PKI_SUBJECT_VALUE_MAX] = '\0';
    n = name_with(NID_organizationName, V_ASN1_UTF8STRING, value, -1);
    assert_ok(pki_subject_check(n, &err), err);
    X509_NAME_free(n);

    /* Other string types are read as text: a BMPString "ab". */
    n = name_with(NID_commonName, V_ASN1_BMPSTRING, "\0a\0b", 4);
    assert_ok(pki_subject_check(n, &err), err);
    X509_NAME_free(n);

    /* 16 attributes. */
    n = X509_NAME_new();
    for (i = 0; i < 16; i++)
        assert_int_equal(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
                                                    (const unsigned char *)"x", -1, -1, 0), 1);
    assert_ok(pki_subject_check(n, &err), err);
    X509_NAME_free(n);
}

static void check_refuses_control_characters(void **state)
{
    static const struct { int type; const char *bytes; int len; } cases[] = {
        {V_ASN1_UTF8STRING, "a\x01z", 3},
        {V_ASN1_UTF8STRING, "a\x1b[2J", 5},
        {V_ASN1_UTF8STRING, "tab\t", 4},
        {V_ASN1_UTF8STRING, "del\x7f", 4},
        {V_ASN1_UTF8STRING, "nul\0x", 5},
        {V_ASN1_PRINTABLESTRING, "a\nb", 3}, /* OpenSSL does not police the type */
        {V_ASN1_IA5STRING, "\r", 1},
        {V_ASN1_BMPSTRING, "\0a\0\x07", 4},
        {V_ASN1_T61STRING, "x\x08", 2},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_err err = {0, ""};
        X509_NAME *n = name_with(NID_commonName, cases[i].type, cases[i].bytes, cases[i].len);
        int rc = pki_subject_check(n, &err);

        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT ||
            strstr(err.msg, "control character") == NULL)
            fail_msg("case %zu: rc %d \"%s\"", i, rc, err.msg);
        X509_NAME_free(n);
    }
}

/* The attribute's position is named (counting from 1). */
static void check_names_the_attribute(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n = ut_name("fine", "bad\x01");

    (void)state;
    assert_err(pki_subject_check(n, &err), err, PKI_ERR_INPUT, "attribute 2");
    X509_NAME_free(n);
}

static void check_refuses_invalid_utf8(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n = name_with(NID_commonName, V_ASN1_UTF8STRING, "a\xff\xfe", 3);

    (void)state;
    assert_err(pki_subject_check(n, &err), err, PKI_ERR_INPUT, "not valid text");
    X509_NAME_free(n);
}

static void check_refuses_17_attributes(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n = X509_NAME_new();
    int i;

    (void)state;
    for (i = 0; i < 17; i++)
        assert_int_equal(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
                                                    (const unsigned char *)"x", -1, -1, 0), 1);
    assert_err(pki_subject_check(n, &err), err, PKI_ERR_INPUT, "17 attributes");
    X509_NAME_free(n);
}

/* subject.h: "at most 64 characters"; docs/cli.md: the CSR's attribute
 * values must be "at most 64 characters each". */
static void check_refuses_65_characters(void **state)
{
    char value[300];
    size_t lens[] = {65, 100, 256};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct pki_err err = {0, ""};
        X509_NAME *n;
        int rc;

        memset(value, 'a', lens[i]);
        value[lens[i]] = '\0';
        n = name_with(NID_commonName, V_ASN1_UTF8STRING, value, -1);
        rc = pki_subject_check(n, &err);
        X509_NAME_free(n);
        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT ||
            strstr(err.msg, "64 characters") == NULL)
            fail_msg("a %zu-character CN: rc %d \"%s\" (want PKI_ERR_INPUT, \"64 characters\")",
                     lens[i], rc, err.msg);
    }
}

/* 65 two-byte characters are 65 characters too. */
static void check_refuses_65_utf8_characters(void **state)
{
    struct pki_err err = {0, ""};
    char value[2 * 65 + 1];
    X509_NAME *n;
    int i, rc;

    (void)state;
    for (i = 0; i < 65; i++)
        memcpy(value + 2 * i, "\xc3\xa9", 2);
    value[130] = '\0';
    n = name_with(NID_commonName, V_ASN1_UTF8STRING, value, -1);
    rc = pki_subject_check(n, &err);
    X509_NAME_free(n);
    if (rc != PKI_ERR_INPUT)
        fail_msg("65 two-byte characters: rc %d \"%s\" (want PKI_ERR_INPUT)", rc, err.msg);
}

/* U+009B (CSI) is a C1 control character; in UTF-8 it is C2 9B. */
static void check_refuses_c1_control_characters(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n = name_with(NID_commonName, V_ASN1_UTF8STRING, "a\xc2\x9b" "31mb", -1);
    int rc = pki_subject_check(n, &err);

    (void)state;
    X509_NAME_free(n);
    if (rc != PKI_ERR_INPUT || strstr(err.msg, "control character") == NULL)
        fail_msg("pki_subject_check accepted U+009B: rc %d \"%s\"", rc, err.msg);
    /* --subject, too. */
    err.code = 0;
    n = pki_subject_parse("/CN=a\xc2\x9b" "31mb", &err);
    if (n != NULL || err.code != PKI_ERR_INPUT) {
        X509_NAME_free(n);
        fail_msg("pki_subject_parse accepted U+009B");
    }
}

/* ---- pki_subject_has_cn, pki_subject_format ----------------------------- */

static void has_cn(void **state)
{
    X509_NAME *a = ut_name("o", NULL), *b = ut_name(NULL, "cn"), *c = X509_NAME_new();

    (void)state;
    assert_int_equal(pki_subject_has_cn(a), 0);
    assert_int_equal(pki_subject_has_cn(b), 1);
    assert_int_equal(pki_subject_has_cn(c), 0);
    X509_NAME_free(a);
    X509_NAME_free(b);
    X509_NAME_free(c);
}

static void format_rfc2253(void **state)
{
    struct pki_err err = {0, ""};
    X509_NAME *n;
    char buf[128];

    (void)state;
    n = ut_name("pkictl", "node");
    format(n, buf, sizeof(buf));
    assert_string_equal(buf, "CN=node,O=pkictl");
    X509_NAME_free(n);

    n = X509_NAME_new();
    format(n, buf, sizeof(buf));
    assert_string_equal(buf, "");
    X509_NAME_free(n);

    /* RFC 2253 escapes. */
    n = pki_subject_parse("/O=a,b/CN=x+y", &err);
    assert_non_null(n);
    format(n, buf, sizeof(buf));
    assert_string_equal(buf, "CN=x\\+y,O=a\\,b");
    X509_NAME_free(n);
}

static void format_only_printable_ascii(void **state)
{
    X509_NAME *n;
    char buf[128];
    size_t i;

    (void)state;
    n = ut_name("caf\xc3\xa9", "a\x1b[2Jb\x7f\tc");
    format(n, buf, sizeof(buf));
    for (i = 0; buf[i] != '\0'; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
            fail_msg("byte 0x%02x at %zu in \"%s\"", (unsigned char)buf[i], i, buf);
    assert_str_has(buf, "O=caf??");
    assert_str_has(buf, "CN=a");
    X509_NAME_free(n);
}

static void format_truncates(void **state)
{
    X509_NAME *n = ut_name("pkictl", "node");
    char buf[8];

    (void)state;
    memset(buf, 'Z', sizeof(buf));
    pki_subject_format(n, buf, 5);
    assert_string_equal(buf, "CN=n");
    assert_int_equal(buf[5], 'Z'); /* nothing written past len */
    memset(buf, 'Z', sizeof(buf));
    pki_subject_format(n, buf, 1);
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], 'Z');
    memset(buf, 'Z', sizeof(buf));
    pki_subject_format(n, buf, 0); /* writes nothing */
    assert_int_equal(buf[0], 'Z');
    X509_NAME_free(n);
}

/* OpenSSL's live allocations, counted (set up first thing in main). */
static long live_allocs;
static int counting;

static void *count_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n);

    (void)file;
    (void)line;
    live_allocs += p != NULL;
    return p;
}

static void *count_realloc(void *old, size_t n, const char *file, int line)
{
    void *p = realloc(old, n);

    (void)file;
    (void)line;
    live_allocs += old == NULL && p != NULL;
    return p;
}

static void count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    live_allocs -= p != NULL;
    free(p);
}

/* Formatting leaves nothing allocated behind, whatever the buffer size. */
static void format_leaks_nothing(void **state)
{
    X509_NAME *n = ut_name("pkictl", "node");
    size_t lens[] = {64, 5, 1, 0};
    char buf[64];
    size_t i;

    (void)state;
    if (!counting)
        skip();
    pki_subject_format(n, buf, sizeof(buf)); /* OpenSSL's one-time setup */
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        long before = live_allocs;

        pki_subject_format(n, buf, lens[i]);
        if (live_allocs != before)
            fail_msg("pki_subject_format(len %zu) left %ld allocation(s) behind", lens[i],
                     live_allocs - before);
    }
    X509_NAME_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_all_attributes_in_order),
        cmocka_unit_test(parse_escapes_and_limits),
        cmocka_unit_test(parse_refusals),
        cmocka_unit_test(parse_counts_characters_not_bytes),
        cmocka_unit_test(parse_refuses_null_and_long_text),
        cmocka_unit_test(check_accepts),
        cmocka_unit_test(check_refuses_control_characters),
        cmocka_unit_test(check_names_the_attribute),
        cmocka_unit_test(check_refuses_invalid_utf8),
        cmocka_unit_test(check_refuses_17_attributes),
        cmocka_unit_test(check_refuses_65_characters),
        cmocka_unit_test(check_refuses_65_utf8_characters),
        cmocka_unit_test(check_refuses_c1_control_characters),
        cmocka_unit_test(has_cn),
        cmocka_unit_test(format_rfc2253),
        cmocka_unit_test(format_only_printable_ascii),
        cmocka_unit_test(format_truncates),
        cmocka_unit_test(format_leaks_nothing),
    };

    counting = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
