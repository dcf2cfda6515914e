/* test_pem.c - strict parsing and encoding of PEM certificate bundles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/pem.h>

#include "buf.h"
#include "pem.h"
#include "unit_util.h"

static EVP_PKEY *k1, *k2, *k3;
static X509 *c1, *c2, *c3;

static int group_setup(void **state)
{
    (void)state;
    k1 = ut_ec();
    k2 = ut_ec();
    k3 = ut_key(PKI_KEY_ED25519, 0);
    c1 = ut_ca(k1, T0, YEAR);
    c2 = ut_ca(k2, T0, YEAR);
    c3 = ut_leaf(PKI_ROLE_NODE, "node", k3, c1, k1, T0, DAY);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(c1);
    X509_free(c2);
    X509_free(c3);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    return 0;
}

/* Appends a PEM block of type `name` (with optional header lines) around
 * der to out. */
static void add_block(struct pki_buf *out, const char *name, const char *headers,
                      const unsigned char *der, size_t len)
{
    struct pki_err err = {0, ""};
    char line[128];
    unsigned char b64[100];
    size_t off;
    int n;

    snprintf(line, sizeof(line), "-----BEGIN %s-----\n", name);
    assert_ok(pki_buf_append(out, line, strlen(line), &err), err);
    if (headers != NULL) {
        assert_ok(pki_buf_append(out, headers, strlen(headers), &err), err);
        assert_ok(pki_buf_append(out, "\n", 1, &err), err);
    }
    for (off = 0; off < len; off += 48) {
        n = EVP_EncodeBlock(b64, der + off, (int)(len - off < 48 ? len - off : 48));
        assert_ok(pki_buf_append(out, b64, (size_t)n, &err), err);
        assert_ok(pki_buf_append(out, "\n", 1, &err), err);
    }
    snprintf(line, sizeof(line), "-----END %s-----\n", name);
    assert_ok(pki_buf_append(out, line, strlen(line), &err), err);
}

static void add_cert(struct pki_buf *out, X509 *x)
{
    struct pki_err err = {0, ""};

    assert_ok(pki_pem_append_cert(x, out, &err), err);
}

static void add_text(struct pki_buf *out, const char *text)
{
    struct pki_err err = {0, ""};

    assert_ok(pki_buf_append(out, text, strlen(text), &err), err);
}

/* Parses b and expects a PKI_ERR_INPUT failure whose message has word. */
static void expect_refusal(const struct pki_buf *b, const char *word)
{
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s;

    ERR_clear_error();
    s = pki_pem_read_certs(b->data, b->len, &err);
    if (s != NULL) {
        fail_msg("accepted (%d certificates); wanted a refusal with \"%s\"", sk_X509_num(s),
                 word);
    }
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, word);
    assert_int_equal(ERR_peek_error(), 0);
}

static void one_cert(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s;

    (void)state;
    add_cert(&b, c1);
    assert_memory_equal(b.data, "-----BEGIN CERTIFICATE-----\n", 28);
    s = pki_pem_read_certs(b.data, b.len, &err);
    if (s == NULL)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(sk_X509_num(s), 1);
    assert_int_equal(X509_cmp(sk_X509_value(s, 0), c1), 0);
    pki_certs_free(s);
    pki_buf_free(&b);
}

static void several_certs_in_order(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s;

    (void)state;
    add_cert(&b, c2);
    add_cert(&b, c3);
    add_cert(&b, c1);
    s = pki_pem_read_certs(b.data, b.len, &err);
    if (s == NULL)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(sk_X509_num(s), 3);
    assert_int_equal(X509_cmp(sk_X509_value(s, 0), c2), 0);
    assert_int_equal(X509_cmp(sk_X509_value(s, 1), c3), 0);
    assert_int_equal(X509_cmp(sk_X509_value(s, 2), c1), 0);
    pki_certs_free(s);
    pki_buf_free(&b);
    pki_certs_free(NULL); /* NULL is fine */
}

static void handmade_block_accepted(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    unsigned char *der = NULL;
    int len = i2d_X509(c3, &der);
    STACK_OF(X509) *s;

    (void)state;
    /* The helper itself must produce something the parser accepts, or the
     * refusal tests below would prove nothing. */
    add_block(&b, "CERTIFICATE", NULL, der, (size_t)len);
    s = pki_pem_read_certs(b.data, b.len, &err);
    if (s == NULL)
        fail_msg("refused: %s", err.msg);
    assert_int_equal(X509_cmp(sk_X509_value(s, 0), c3), 0);
    pki_certs_free(s);
    OPENSSL_free(der);
    pki_buf_free(&b);
}

static void garbage(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    add_text(&b, "this is not a certificate\n");
    expect_refusal(&b, "no PEM certificate found");
    pki_buf_free(&b);

    assert_null(pki_pem_read_certs((const unsigned char *)"", 0, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "no PEM certificate found");

    /* DER given where PEM is expected. */
    {
        unsigned char *der = NULL;
        int len = i2d_X509(c1, &der);

        err.code = 0;
        assert_null(pki_pem_read_certs(der, (size_t)len, &err));
        assert_int_equal(err.code, PKI_ERR_INPUT);
        assert_msg_has(err, "no PEM certificate found");
        OPENSSL_free(der);
    }
}

static void bad_base64(void **state)
{
    struct pki_buf b = {NULL, 0};

    (void)state;
    add_text(&b, "-----BEGIN CERTIFICATE-----\n%%%% not base64 %%%%\n-----END CERTIFICATE-----\n");
    expect_refusal(&b, "PEM block 1 is malformed or truncated");
    pki_buf_free(&b);
}

static void truncated(void **state)
{
    struct pki_buf b = {NULL, 0}, cut = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    add_cert(&b, c1);
    add_cert(&b, c2);
    /* Cut inside the second block's base64. */
    assert_ok(pki_buf_set(&cut, b.data, b.len - 100, &err), err);
    expect_refusal(&cut, "PEM block 2 is malformed or truncated");
    pki_buf_free(&cut);

    /* The END line lost entirely. */
    assert_ok(pki_buf_set(&cut, b.data, b.len - strlen("-----END CERTIFICATE-----\n"), &err),
              err);
    expect_refusal(&cut, "PEM block 2 is malformed or truncated");
    pki_buf_free(&cut);

    /* Only a BEGIN line. */
    add_text(&cut, "-----BEGIN CERTIFICATE-----\n");
    expect_refusal(&cut, "malformed or truncated");
    pki_buf_free(&cut);
    pki_buf_free(&b);
}

static void wrong_block_types(void **state)
{
    struct pki_buf b = {NULL, 0}, key = {NULL, 0};
    struct pki_err err = {0, ""};
    unsigned char *der = NULL;
    int len = i2d_X509(c1, &der);

    (void)state;
    /* A private key after a certificate: block 2 is named. */
    add_cert(&b, c1);
    assert_ok(pki_key_to_pem(k1, &key, &err), err);
    assert_ok(pki_buf_append(&b, key.data, key.len, &err), err);
    expect_refusal(&b, "PEM block 2 is a \"PRIVATE KEY\", not a CERTIFICATE");
    pki_buf_free(&b);
    pki_buf_free(&key);

    /* Certificate DER under other labels. */
    add_block(&b, "TRUSTED CERTIFICATE", NULL, der, (size_t)len);
    expect_refusal(&b, "not a CERTIFICATE");
    pki_buf_free(&b);
    add_block(&b, "X509 CERTIFICATE", NULL, der, (size_t)len);
    expect_refusal(&b, "not a CERTIFICATE");
    pki_buf_free(&b);
    add_block(&b, "X509 CRL", NULL, der, (size_t)len);
    expect_refusal(&b, "\"X509 CRL\"");
    pki_buf_free(&b);
    OPENSSL_free(der);
}

static void headers_refused(void **state)
{
    struct pki_buf b = {NULL, 0};
    unsigned char *der = NULL;
    int len = i2d_X509(c1, &der);

    (void)state;
    add_block(&b, "CERTIFICATE", "Comment: hello\n", der, (size_t)len);
    expect_refusal(&b, "PEM block 1 has unexpected headers");
    pki_buf_free(&b);
    OPENSSL_free(der);
}

static void der_trailing_bytes(void **state)
{
    struct pki_buf b = {NULL, 0};
    unsigned char *der = NULL, *longer;
    int len = i2d_X509(c1, &der);

    (void)state;
    longer = malloc((size_t)len + 2);
    assert_non_null(longer);
    memcpy(longer, der, (size_t)len);
    longer[len] = 0x05; /* an ASN.1 NULL after the certificate */
    longer[len + 1] = 0x00;
    add_cert(&b, c2);
    add_block(&b, "CERTIFICATE", NULL, longer, (size_t)len + 2);
    expect_refusal(&b, "certificate 2 has trailing bytes");
    pki_buf_free(&b);

    /* Two certificates' DER in one block is one too many. */
    memcpy(longer, der, (size_t)len);
    {
        unsigned char *two = malloc(2 * (size_t)len);

        assert_non_null(two);
        memcpy(two, der, (size_t)len);
        memcpy(two + len, der, (size_t)len);
        add_block(&b, "CERTIFICATE", NULL, two, 2 * (size_t)len);
        expect_refusal(&b, "certificate 1 has trailing bytes");
        pki_buf_free(&b);
        free(two);
    }
    free(longer);
    OPENSSL_free(der);
}

static void der_malformed(void **state)
{
    struct pki_buf b = {NULL, 0};
    unsigned char *der = NULL;
    int len = i2d_X509(c1, &der);
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};

    (void)state;
    add_block(&b, "CERTIFICATE", NULL, junk, sizeof(junk));
    expect_refusal(&b, "certificate 1 is malformed");
    pki_buf_free(&b);

    /* The DER cut short. */
    add_cert(&b, c1);
    add_block(&b, "CERTIFICATE", NULL, der, (size_t)len - 10);
    expect_refusal(&b, "certificate 2 is malformed");
    pki_buf_free(&b);
    OPENSSL_free(der);
}

/* A "-----BEGIN " that is not a well-formed block is refused, not skipped. */
static void stray_begin_marker(void **state)
{
    struct pki_buf b = {NULL, 0};

    (void)state;
    add_text(&b, "# paste your -----BEGIN CERTIFICATE----- below\n");
    add_cert(&b, c1);
    expect_refusal(&b, "PEM block 2 is malformed or truncated");
    pki_buf_free(&b);

    add_cert(&b, c1);
    add_text(&b, "-----BEGIN CERTIFICATE\n");
    expect_refusal(&b, "malformed or truncated");
    pki_buf_free(&b);
}

static void block_count_limit(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s;
    int i;

    (void)state;
    for (i = 0; i < PKI_PEM_CERTS_MAX; i++)
        add_cert(&b, (i % 2) ? c1 : c2);
    s = pki_pem_read_certs(b.data, b.len, &err);
    if (s == NULL)
        fail_msg("64 certificates refused: %s", err.msg);
    assert_int_equal(sk_X509_num(s), PKI_PEM_CERTS_MAX);
    pki_certs_free(s);

    add_cert(&b, c3);
    expect_refusal(&b, "more than 64 PEM blocks");
    pki_buf_free(&b);
}

static void size_limit(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    unsigned char *big = malloc(PKI_PEM_FILE_MAX + 1);
    STACK_OF(X509) *s;

    (void)state;
    assert_non_null(big);
    /* A valid certificate padded with newlines to exactly the limit is fine. */
    add_cert(&b, c1);
    memset(big, '\n', PKI_PEM_FILE_MAX + 1);
    memcpy(big, b.data, b.len);
    s = pki_pem_read_certs(big, PKI_PEM_FILE_MAX, &err);
    if (s == NULL)
        fail_msg("refused at the limit: %s", err.msg);
    pki_certs_free(s);
    err.code = 0;
    assert_null(pki_pem_read_certs(big, PKI_PEM_FILE_MAX + 1, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "larger than");
    free(big);
    pki_buf_free(&b);
}

/* pki_pem_encode and pki_pem_text against OpenSSL's PEM writer, for every
 * length up to three lines and a bit (each remainder mod 3, each line
 * end), and inside a JSON string ("\\n" line ends). */
static void encode_matches_openssl(void **state)
{
    unsigned char der[160];
    char *text, *json;

    (void)state;
    for (size_t i = 0; i < sizeof(der); i++)
        der[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(der); len++) {
        struct pki_buf b = {NULL, 0};
        struct pki_err err = {0, ""};
        BIO *bio = BIO_new(BIO_s_mem());
        long want_len;
        char *want;
        size_t n, j = 0;

        assert_non_null(bio);
        /* (for no bytes it writes both lines but returns 0, its body length) */
        assert_true(PEM_write_bio(bio, "CERTIFICATE", "", der, (long)len) > 0 || len == 0);
        want_len = BIO_get_mem_data(bio, &want);
        assert_ok(pki_pem_encode("CERTIFICATE", der, len, &b, &err), err);
        assert_int_equal(b.len, (size_t)want_len);
        assert_memory_equal(b.data, want, b.len);
        n = pki_pem_text_len("CERTIFICATE", len, 1);
        assert_int_equal(n, b.len);
        /* the same text with every line end as the two characters \ n */
        text = malloc(n * 2);
        json = malloc(n * 2);
        assert_non_null(text);
        assert_non_null(json);
        for (size_t i = 0; i < n; i++) {
            if (want[i] == '\n')
                text[j++] = '\\';
            text[j++] = want[i] == '\n' ? 'n' : want[i];
        }
        assert_int_equal(pki_pem_text_len("CERTIFICATE", len, 2), j);
        assert_int_equal(pki_pem_text("CERTIFICATE", der, len, "\\n", json), j);
        assert_memory_equal(json, text, j);
        free(text);
        free(json);
        BIO_free(bio);
        pki_buf_free(&b);
    }
}

static void encode_refuses_long_label(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    char label[PKI_PEM_LABEL_MAX + 2];

    (void)state;
    memset(label, 'A', sizeof(label) - 1);
    label[sizeof(label) - 1] = '\0';
    assert_int_equal(pki_pem_encode(label, (const unsigned char *)"x", 1, &b, &err),
                     PKI_ERR_USAGE);
    assert_msg_has(err, "label is too long");
    assert_null(b.data);
}

static void append_appends(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    size_t first;
    char *pem = ut_cert_pem(c1);

    (void)state;
    add_cert(&b, c1);
    first = b.len;
    assert_int_equal(first, strlen(pem));
    assert_memory_equal(b.data, pem, first);
    add_cert(&b, c2);
    assert_true(b.len > first);
    assert_memory_equal(b.data, pem, first); /* the first block is untouched */
    assert_memory_equal(b.data + first, "-----BEGIN CERTIFICATE-----\n", 28);
    (void)err;
    free(pem);
    pki_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_cert),
        cmocka_unit_test(several_certs_in_order),
        cmocka_unit_test(handmade_block_accepted),
        cmocka_unit_test(garbage),
        cmocka_unit_test(bad_base64),
        cmocka_unit_test(truncated),
        cmocka_unit_test(wrong_block_types),
        cmocka_unit_test(headers_refused),
        cmocka_unit_test(der_trailing_bytes),
        cmocka_unit_test(der_malformed),
        cmocka_unit_test(stray_begin_marker),
        cmocka_unit_test(block_count_limit),
        cmocka_unit_test(size_limit),
        cmocka_unit_test(append_appends),
        cmocka_unit_test(encode_matches_openssl),
        cmocka_unit_test(encode_refuses_long_label),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
