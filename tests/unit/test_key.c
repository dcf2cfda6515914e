/* test_key.c - key specs, generation, encodings, decoding and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "buf.h"
#include "key.h"
#include "unit_util.h"

/* Generated once for the whole file: RSA is slow. */
static EVP_PKEY *k_rsa, *k_p256, *k_p384, *k_p521, *k_ed;

static int group_setup(void **state)
{
    (void)state;
    k_rsa = ut_key(PKI_KEY_RSA, 2048);
    k_p256 = ut_key(PKI_KEY_ECDSA, 256);
    k_p384 = ut_key(PKI_KEY_ECDSA, 384);
    k_p521 = ut_key(PKI_KEY_ECDSA, 521);
    k_ed = ut_key(PKI_KEY_ED25519, 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k_rsa);
    EVP_PKEY_free(k_p256);
    EVP_PKEY_free(k_p384);
    EVP_PKEY_free(k_p521);
    EVP_PKEY_free(k_ed);
    return 0;
}

struct spec_ok {
    const char *type, *size;
    enum pki_key_type want_type;
    int want_bits;
};

static void spec_parse_valid(void **state)
{
    static const struct spec_ok cases[] = {
        {NULL, NULL, PKI_KEY_RSA, 2048},
        {"rsa", NULL, PKI_KEY_RSA, 2048},
        {"rsa", "2048", PKI_KEY_RSA, 2048},
        {"rsa", "3072", PKI_KEY_RSA, 3072},
        {"rsa", "4096", PKI_KEY_RSA, 4096},
        {"rsa", "8192", PKI_KEY_RSA, 8192},
        {"ecdsa", NULL, PKI_KEY_ECDSA, 256},
        {"ecdsa", "256", PKI_KEY_ECDSA, 256},
        {"ecdsa", "384", PKI_KEY_ECDSA, 384},
        {"ecdsa", "521", PKI_KEY_ECDSA, 521},
        {"ed25519", NULL, PKI_KEY_ED25519, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_key_spec s = {(enum pki_key_type)99, -1};
        struct pki_err err = {0, ""};
        int rc = pki_key_spec_parse(cases[i].type, cases[i].size, &s, &err);

        if (rc != PKI_OK)
            fail_msg("%s/%s: rc %d (%s)", cases[i].type ? cases[i].type : "(null)",
                     cases[i].size ? cases[i].size : "(null)", rc, err.msg);
        assert_int_equal(s.type, cases[i].want_type);
        assert_int_equal(s.bits, cases[i].want_bits);
    }
}

struct spec_bad {
    const char *type, *size, *word;
};

static void spec_parse_invalid(void **state)
{
    static const struct spec_bad cases[] = {
        {"dsa", NULL, "unsupported key type \"dsa\""},
        {"RSA", NULL, "unsupported key type"},
        {"", NULL, "unsupported key type"},
        {"ed448", NULL, "unsupported key type"},
        {"ec", NULL, "unsupported key type"}, /* only the three documented names */
        {"rsa", "1024", "unsupported RSA key size 1024"},
        {"rsa", "2047", "unsupported RSA key size"},
        {"rsa", "256", "unsupported RSA key size"},
        {"rsa", "2048x", "invalid key size \"2048x\""},
        {"rsa", "", "invalid key size"},
        {"rsa", "-2048", "invalid key size"},
        {"rsa", " 2048", "invalid key size"},
        {"rsa", "0", "invalid key size"},
        {"rsa", "99999999999999999999", "invalid key size"},
        {"ecdsa", "224", "unsupported ECDSA key size 224"},
        {"ecdsa", "2048", "unsupported ECDSA key size"},
        {"ecdsa", "p256", "invalid key size"},
        {"ed25519", "256", "does not apply to ed25519"},
        {"ed25519", "", "does not apply to ed25519"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pki_key_spec s = {PKI_KEY_ED25519, 12345};
        struct pki_err err = {0, ""};
        int rc = pki_key_spec_parse(cases[i].type, cases[i].size, &s, &err);

        if (rc != PKI_ERR_INPUT || err.code != PKI_ERR_INPUT)
            fail_msg("%s/%s: rc %d, want PKI_ERR_INPUT", cases[i].type,
                     cases[i].size ? cases[i].size : "(null)", rc);
        if (strstr(err.msg, cases[i].word) == NULL)
            fail_msg("%s/%s: message \"%s\" lacks \"%s\"", cases[i].type,
                     cases[i].size ? cases[i].size : "(null)", err.msg, cases[i].word);
        assert_int_equal(s.type, PKI_KEY_ED25519); /* untouched */
        assert_int_equal(s.bits, 12345);
    }
}

static void describe_and_digest(void **state)
{
    char buf[64];

    (void)state;
    pki_key_describe(k_rsa, buf, sizeof(buf));
    assert_string_equal(buf, "RSA 2048");
    pki_key_describe(k_p256, buf, sizeof(buf));
    assert_string_equal(buf, "ECDSA P-256");
    pki_key_describe(k_p384, buf, sizeof(buf));
    assert_string_equal(buf, "ECDSA P-384");
    pki_key_describe(k_p521, buf, sizeof(buf));
    assert_string_equal(buf, "ECDSA P-521");
    pki_key_describe(k_ed, buf, sizeof(buf));
    assert_string_equal(buf, "Ed25519");

    assert_int_equal(EVP_MD_get_type(pki_key_sign_digest(k_rsa)), NID_sha256);
    assert_int_equal(EVP_MD_get_type(pki_key_sign_digest(k_p256)), NID_sha256);
    assert_int_equal(EVP_MD_get_type(pki_key_sign_digest(k_p384)), NID_sha384);
    assert_int_equal(EVP_MD_get_type(pki_key_sign_digest(k_p521)), NID_sha512);
    assert_null(pki_key_sign_digest(k_ed));
}

/* Key lists (k3s's service.key): every block a key, order kept, limits and
 * truncation refused with nothing returned. */
static void key_list_reads_all_in_order(void **state)
{
    struct pki_buf b = {NULL, 0}, one = {NULL, 0};
    struct pki_err err = {0, ""};
    EVP_PKEY *out[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0, i;

    (void)state;
    assert_ok(pki_key_to_pem(k_p256, &b, &err), err);
    assert_ok(pki_key_to_pem(k_ed, &one, &err), err);
    assert_ok(pki_buf_append(&b, one.data, one.len, &err), err);
    assert_ok(pki_keys_from_pem(b.data, b.len, out, 4, &n, &err), err);
    assert_int_equal(n, 2);
    assert_int_equal(EVP_PKEY_eq(out[0], k_p256), 1);
    assert_int_equal(EVP_PKEY_eq(out[1], k_ed), 1);
    for (i = 0; i < n; i++)
        EVP_PKEY_free(out[i]);
    /* more than max */
    assert_int_equal(pki_keys_from_pem(b.data, b.len, out, 1, &n, &err), PKI_ERR_INPUT);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "more than 1 keys"));
    /* the second key cut in half */
    assert_int_equal(pki_keys_from_pem(b.data, b.len - one.len / 2, out, 4, &n, &err),
                     PKI_ERR_INPUT);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "truncated"));
    /* a certificate among the keys */
    pki_buf_free(&one);
    assert_int_equal(pki_keys_from_pem((const unsigned char *)"", 0, out, 4, &n, &err),
                     PKI_ERR_INPUT);
    pki_buf_free(&b);
}

static void generated_types(void **state)
{
    (void)state;
    assert_true(EVP_PKEY_is_a(k_rsa, "RSA"));
    assert_int_equal(EVP_PKEY_get_bits(k_rsa), 2048);
    assert_true(EVP_PKEY_is_a(k_p256, "EC"));
    assert_int_equal(EVP_PKEY_get_bits(k_p256), 256);
    assert_int_equal(EVP_PKEY_get_bits(k_p384), 384);
    assert_int_equal(EVP_PKEY_get_bits(k_p521), 521);
    assert_true(EVP_PKEY_is_a(k_ed, "ED25519"));
}

static void generate_gives_distinct_keys(void **state)
{
    EVP_PKEY *a = ut_ec(), *b = ut_ec();

    (void)state;
    assert_int_not_equal(EVP_PKEY_eq(a, b), 1);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

static void pem_roundtrip_one(EVP_PKEY *k)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    EVP_PKEY *back;

    assert_ok(pki_key_to_pem(k, &b, &err), err);
    assert_non_null(b.data);
    assert_true(b.len > 30);
    assert_memory_equal(b.data, "-----BEGIN PRIVATE KEY-----\n", 28);
    assert_non_null(strstr((const char *)b.data, "-----END PRIVATE KEY-----"));
    assert_int_equal(strlen((const char *)b.data), b.len); /* NUL-terminated text */
    back = pki_key_from_pem(b.data, b.len, &err);
    if (back == NULL)
        fail_msg("decode failed: %s", err.msg);
    assert_int_equal(EVP_PKEY_eq(k, back), 1);
    EVP_PKEY_free(back);
    pki_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void pem_roundtrip(void **state)
{
    (void)state;
    pem_roundtrip_one(k_rsa);
    pem_roundtrip_one(k_p256);
    pem_roundtrip_one(k_p384);
    pem_roundtrip_one(k_p521);
    pem_roundtrip_one(k_ed);
}

static void pkcs8_der_one(EVP_PKEY *k)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    const unsigned char *p;
    PKCS8_PRIV_KEY_INFO *p8;
    EVP_PKEY *back;

    assert_ok(pki_key_to_pkcs8_der(k, &b, &err), err);
    assert_true(b.len > 16);
    assert_int_equal(b.data[0], 0x30); /* a DER SEQUENCE, not PEM text */
    p = b.data;
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)b.len);
    assert_non_null(p8);
    assert_ptr_equal(p, b.data + b.len); /* exactly one structure */
    back = EVP_PKCS82PKEY(p8);
    assert_non_null(back);
    assert_int_equal(EVP_PKEY_eq(k, back), 1);
    EVP_PKEY_free(back);
    PKCS8_PRIV_KEY_INFO_free(p8);
    pki_buf_free(&b);
}

static void pkcs8_der(void **state)
{
    (void)state;
    pkcs8_der_one(k_rsa);
    pkcs8_der_one(k_p256);
    pkcs8_der_one(k_p521);
    pkcs8_der_one(k_ed);
}

/* The traditional "BEGIN RSA/EC PRIVATE KEY" forms are read too. */
static void from_pem_traditional(void **state)
{
    EVP_PKEY *keys[2] = {k_rsa, k_p384};
    const char *headers[2] = {"-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----"};
    struct pki_err err = {0, ""};
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        BIO *bio = BIO_new(BIO_s_mem());
        EVP_PKEY *back;
        char *data;
        long n;

        assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, keys[i], NULL, NULL, 0, NULL,
                                                              NULL), 1);
        n = BIO_get_mem_data(bio, &data);
        assert_true(n > 0);
        assert_memory_equal(data, headers[i], strlen(headers[i]));
        back = pki_key_from_pem((const unsigned char *)data, (size_t)n, &err);
        if (back == NULL)
            fail_msg("traditional key %zu refused: %s", i, err.msg);
        assert_int_equal(EVP_PKEY_eq(keys[i], back), 1);
        EVP_PKEY_free(back);
        BIO_free(bio);
    }
}

static void from_pem_refuses_encrypted(void **state)
{
    struct pki_err err = {0, ""};
    BIO *bio;
    char *data;
    long n;

    (void)state;
    /* PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY" */
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, k_p256, EVP_aes_256_cbc(), "secret", 6,
                                                   NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &data);
    assert_null(pki_key_from_pem((const unsigned char *)data, (size_t)n, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "encrypted");
    assert_msg_has(err, "openssl pkey");
    BIO_free(bio);

    /* Traditional "Proc-Type: 4,ENCRYPTED" */
    err.code = 0;
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, k_p256, EVP_aes_128_cbc(),
                                                          (unsigned char *)"secret", 6, NULL,
                                                          NULL), 1);
    n = BIO_get_mem_data(bio, &data);
    assert_non_null(strstr(data, "Proc-Type: 4,ENCRYPTED"));
    assert_null(pki_key_from_pem((const unsigned char *)data, (size_t)n, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "encrypted");
    BIO_free(bio);
}

static void from_pem_refuses_garbage(void **state)
{
    struct pki_buf good = {NULL, 0};
    struct pki_err err = {0, ""};
    static const char garbage[] = "hello, I am not a key\n";
    static const char bad_b64[] =
        "-----BEGIN PRIVATE KEY-----\n!!!!not base64!!!!\n-----END PRIVATE KEY-----\n";
    unsigned char *big;
    X509 *cert;
    char *cert_pem;

    (void)state;
    assert_null(pki_key_from_pem((const unsigned char *)"", 0, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "empty");

    big = calloc(1, 64 * 1024 + 1);
    assert_non_null(big);
    memset(big, 'A', 64 * 1024 + 1);
    assert_null(pki_key_from_pem(big, 64 * 1024 + 1, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "too large");
    free(big);

    ERR_clear_error();
    assert_null(pki_key_from_pem((const unsigned char *)garbage, sizeof(garbage) - 1, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a valid PEM private key");
    assert_int_equal(ERR_peek_error(), 0); /* the OpenSSL queue is left clean */

    assert_null(pki_key_from_pem((const unsigned char *)bad_b64, sizeof(bad_b64) - 1, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a valid PEM private key");

    /* Truncated in the middle of the base64. */
    assert_ok(pki_key_to_pem(k_p256, &good, &err), err);
    assert_null(pki_key_from_pem(good.data, good.len / 2, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a valid PEM private key");
    pki_buf_free(&good);

    /* A certificate is not a key. */
    cert = ut_ca(k_p256, T0, YEAR);
    cert_pem = ut_cert_pem(cert);
    assert_null(pki_key_from_pem((unsigned char *)cert_pem, strlen(cert_pem), &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a private key");
    assert_msg_has(err, "CERTIFICATE");
    free(cert_pem);
    X509_free(cert);
}

static void from_pem_refuses_public_key(void **state)
{
    struct pki_err err = {0, ""};
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    (void)state;
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k_p256), 1);
    n = BIO_get_mem_data(bio, &data);
    assert_null(pki_key_from_pem((const unsigned char *)data, (size_t)n, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a private key (the PEM block is \"PUBLIC KEY\")");
    BIO_free(bio);
}

/* Wraps der in a PEM block of the given type (malloc'd text). */
static char *pem_block(const char *label, const char *headers, const unsigned char *der,
                       size_t len)
{
    BIO *bio = BIO_new(BIO_s_mem());

    assert_non_null(bio);
    assert_true(PEM_write_bio(bio, label, headers ? headers : "", der, (long)len) > 0);
    return ut_bio_text(bio);
}

static void expect_key_refused(const char *pem, const char *word)
{
    struct pki_err err = {0, ""};
    EVP_PKEY *k = pki_key_from_pem((const unsigned char *)pem, strlen(pem), &err);

    if (k != NULL) {
        EVP_PKEY_free(k);
        fail_msg("accepted; wanted a refusal with \"%s\"", word);
    }
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, word);
}

static void from_pem_strict_der(void **state)
{
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    unsigned char *longer;
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    char *pem;
    EVP_PKEY *x25519;

    (void)state;
    /* PKCS#8 DER with bytes after it. */
    assert_ok(pki_key_to_pkcs8_der(k_p256, &der, &err), err);
    longer = malloc(der.len + 2);
    assert_non_null(longer);
    memcpy(longer, der.data, der.len);
    longer[der.len] = 0x05;
    longer[der.len + 1] = 0x00;
    pem = pem_block("PRIVATE KEY", NULL, longer, der.len + 2);
    expect_key_refused(pem, "not a valid");
    free(pem);
    free(longer);

    /* The helper's own output is accepted, or the refusals prove nothing. */
    pem = pem_block("PRIVATE KEY", NULL, der.data, der.len);
    {
        EVP_PKEY *k = pki_key_from_pem((unsigned char *)pem, strlen(pem), &err);

        assert_non_null(k);
        assert_int_equal(EVP_PKEY_eq(k, k_p256), 1);
        EVP_PKEY_free(k);
    }
    free(pem);

    /* PEM headers. */
    pem = pem_block("PRIVATE KEY", "Comment: hi\n", der.data, der.len);
    expect_key_refused(pem, "unexpected headers");
    free(pem);
    pki_buf_free(&der);

    /* Not PKCS#8 at all inside a PRIVATE KEY block. */
    pem = pem_block("PRIVATE KEY", NULL, junk, sizeof(junk));
    expect_key_refused(pem, "malformed PKCS#8");
    free(pem);

    /* An algorithm pkictl does not use. */
    x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    assert_non_null(x25519);
    assert_ok(pki_key_to_pkcs8_der(x25519, &der, &err), err);
    pem = pem_block("PRIVATE KEY", NULL, der.data, der.len);
    expect_key_refused(pem, "unsupported private key algorithm");
    free(pem);
    pki_buf_free(&der);
    EVP_PKEY_free(x25519);

    /* A traditional label over a key of another type. */
    assert_ok(pki_key_to_pkcs8_der(k_p256, &der, &err), err);
    pem = pem_block("RSA PRIVATE KEY", NULL, der.data, der.len);
    expect_key_refused(pem, "not a valid RSA private key");
    free(pem);
    pki_buf_free(&der);
}

/* "Decodes the first private key in PEM text": text before it, or a
 * certificate before it (a combined cert+key file), does not hide it. */
static void from_pem_first_key_in_text(void **state)
{
    struct pki_buf key = {NULL, 0};
    struct pki_err err = {0, ""};
    X509 *cert = ut_ca(k_p384, T0, YEAR);
    char *cert_pem = ut_cert_pem(cert);
    char *text;
    EVP_PKEY *k;

    (void)state;
    assert_ok(pki_key_to_pem(k_p384, &key, &err), err);
    text = malloc(strlen(cert_pem) + key.len + 64);
    assert_non_null(text);

    sprintf(text, "# the node's key\n%s", (char *)key.data);
    k = pki_key_from_pem((unsigned char *)text, strlen(text), &err);
    if (k == NULL)
        fail_msg("key after a comment line refused: %s", err.msg);
    assert_int_equal(EVP_PKEY_eq(k, k_p384), 1);
    EVP_PKEY_free(k);

    sprintf(text, "%s%s", cert_pem, (char *)key.data);
    k = pki_key_from_pem((unsigned char *)text, strlen(text), &err);
    if (k == NULL)
        fail_msg("key after a certificate refused: %s", err.msg);
    assert_int_equal(EVP_PKEY_eq(k, k_p384), 1);
    EVP_PKEY_free(k);
    free(text);
    free(cert_pem);
    X509_free(cert);
    pki_buf_free(&key);
}

static void matches_cert(void **state)
{
    EVP_PKEY *other = ut_ec();
    X509 *ec_cert = ut_ca(k_p256, T0, YEAR);
    X509 *ed_cert = ut_ca(k_ed, T0, YEAR);

    (void)state;
    assert_int_equal(pki_key_matches_cert(k_p256, ec_cert), 1);
    assert_int_equal(pki_key_matches_cert(other, ec_cert), 0);
    assert_int_equal(pki_key_matches_cert(k_rsa, ec_cert), 0);  /* other type */
    assert_int_equal(pki_key_matches_cert(k_p384, ec_cert), 0); /* other curve */
    assert_int_equal(pki_key_matches_cert(k_ed, ed_cert), 1);
    assert_int_equal(pki_key_matches_cert(k_p256, ed_cert), 0);
    X509_free(ec_cert);
    X509_free(ed_cert);
    EVP_PKEY_free(other);
}

static void buf_basics(void **state)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    assert_ok(pki_buf_set(&b, "abc", 3, &err), err);
    assert_int_equal(b.len, 3);
    assert_string_equal((char *)b.data, "abc");
    assert_ok(pki_buf_append(&b, "def", 3, &err), err);
    assert_int_equal(b.len, 6);
    assert_string_equal((char *)b.data, "abcdef");
    assert_ok(pki_buf_set(&b, "xy", 2, &err), err); /* set replaces */
    assert_int_equal(b.len, 2);
    assert_string_equal((char *)b.data, "xy");
    assert_ok(pki_buf_append(&b, NULL, 0, &err), err);
    assert_int_equal(b.len, 2);
    pki_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    pki_buf_free(&b); /* twice is fine */
    assert_int_equal(pki_buf_append(&b, "x", SIZE_MAX, &err), PKI_ERR_INTERNAL);
    assert_int_equal(b.len, 0);
}

static void err_helpers(void **state)
{
    struct pki_err err = {0, ""};
    char longmsg[600];

    (void)state;
    assert_int_equal(pki_err_set(&err, PKI_ERR_IO, "cannot %s", "write"), PKI_ERR_IO);
    assert_int_equal(err.code, PKI_ERR_IO);
    assert_string_equal(err.msg, "cannot write");
    pki_err_prefix(&err, "%s", "/x/y");
    assert_string_equal(err.msg, "/x/y: cannot write");
    assert_int_equal(pki_err_set(NULL, PKI_ERR_USAGE, "ignored"), PKI_ERR_USAGE);
    pki_err_prefix(NULL, "x");
    pki_err_clear(&err);
    assert_int_equal(err.code, PKI_OK);
    assert_string_equal(err.msg, "");

    /* A long message keeps the prefix and stays terminated. */
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    pki_err_set(&err, PKI_ERR_INPUT, "%s", longmsg);
    assert_int_equal(strlen(err.msg), PKI_ERR_MSG_MAX - 1);
    pki_err_prefix(&err, "file.pem");
    assert_memory_equal(err.msg, "file.pem: mmm", 13);
    assert_true(strlen(err.msg) < PKI_ERR_MSG_MAX);

    /* The OpenSSL reason is appended and the queue cleared. */
    ERR_raise_data(ERR_LIB_PEM, PEM_R_NO_START_LINE, NULL);
    pki_err_set_ssl(&err, PKI_ERR_CRYPTO, "decoding failed");
    assert_int_equal(err.code, PKI_ERR_CRYPTO);
    assert_memory_equal(err.msg, "decoding failed (", 17);
    assert_int_equal(ERR_peek_error(), 0);
}

/* Found by fuzz_key_pem: SM2 shares the EC OID and used to be accepted. */
static void from_pem_refuses_unsupported_keys(void **state)
{
    static const struct { const char *alg; const char *param; const char *want; } cases[] = {
        {"SM2", NULL, "unsupported key type SM2"},
        {"RSA", "1024", "too weak"},
        {"EC", "brainpoolP256r1", "unsupported EC curve"},
        {"X25519", NULL, "unsupported private key algorithm"},
    };
    struct pki_err err = {0, ""};
    struct pki_buf pem = {NULL, 0};
    EVP_PKEY *k;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].param == NULL)
            k = EVP_PKEY_Q_keygen(NULL, NULL, cases[i].alg);
        else if (strcmp(cases[i].alg, "RSA") == 0)
            k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(cases[i].param));
        else
            k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", cases[i].param);
        assert_non_null(k);
        assert_ok(pki_key_to_pem(k, &pem, &err), err);
        err.code = 0;
        assert_null(pki_key_from_pem(pem.data, pem.len, &err));
        assert_true(err.code == PKI_ERR_POLICY || err.code == PKI_ERR_INPUT);
        assert_msg_has(err, cases[i].want);
        pki_buf_free(&pem);
        EVP_PKEY_free(k);
    }
}

/* Found by fuzz_key_pem: past 16 blocks without a key, no error was set. */
static void from_pem_gives_up_after_16_blocks(void **state)
{
    struct pki_err err = {0, ""};
    struct pki_buf many = {NULL, 0}, key = {NULL, 0};
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;
    int i;

    (void)state;
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k_p256), 1);
    n = BIO_get_mem_data(bio, &data);
    for (i = 0; i < 16; i++)
        assert_ok(pki_buf_append(&many, data, (size_t)n, &err), err);
    assert_ok(pki_key_to_pem(k_p256, &key, &err), err);
    assert_ok(pki_buf_append(&many, key.data, key.len, &err), err);
    assert_null(pki_key_from_pem(many.data, many.len, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "no private key in the first 16 PEM blocks");
    pki_buf_free(&many);
    pki_buf_free(&key);
    BIO_free(bio);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_parse_valid),
        cmocka_unit_test(spec_parse_invalid),
        cmocka_unit_test(describe_and_digest),
        cmocka_unit_test(generated_types),
        cmocka_unit_test(generate_gives_distinct_keys),
        cmocka_unit_test(pem_roundtrip),
        cmocka_unit_test(pkcs8_der),
        cmocka_unit_test(from_pem_traditional),
        cmocka_unit_test(from_pem_refuses_encrypted),
        cmocka_unit_test(from_pem_refuses_garbage),
        cmocka_unit_test(from_pem_refuses_public_key),
        cmocka_unit_test(from_pem_strict_der),
        cmocka_unit_test(from_pem_first_key_in_text),
        cmocka_unit_test(from_pem_refuses_unsupported_keys),
        cmocka_unit_test(from_pem_gives_up_after_16_blocks),
        cmocka_unit_test(matches_cert),
        cmocka_unit_test(key_list_reads_all_in_order),
        cmocka_unit_test(buf_basics),
        cmocka_unit_test(err_helpers),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
