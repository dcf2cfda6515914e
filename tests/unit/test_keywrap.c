/* test_keywrap.c - sealed CA keys open only with the right store key, key id
 * and bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "keywrap.h"
#include "unit_util.h"

#define ID "3a:0f:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:01:02"

static const unsigned char store_key[PKI_STORE_KEY_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const unsigned char plain[] = "-- PKCS#8 stand-in: any bytes at all, \x00 included --";

static void seal(struct pki_buf *blob)
{
    struct pki_err err = {0, ""};

    assert_ok(pki_keywrap_seal(store_key, ID, plain, sizeof(plain), blob, &err), err);
}

static void expect_no_open(const unsigned char key[PKI_STORE_KEY_LEN], const char *id,
                           const unsigned char *blob, size_t len)
{
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};

    assert_err(pki_keywrap_open(key, id, blob, len, &out, &err), err, PKI_ERR_INPUT,
               "does not open: wrong store key or altered data");
    assert_null(out.data);
    assert_int_equal(out.len, 0);
}

static void round_trip(void **state)
{
    struct pki_buf blob = {NULL, 0}, out = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    seal(&blob);
    assert_int_equal(blob.len, sizeof(plain) + PKI_KEYWRAP_OVERHEAD);
    assert_memory_equal(blob.data, "PKW1", 4);
    /* The plaintext does not appear in the blob. */
    assert_null(memmem(blob.data, blob.len, plain + 3, 16));
    assert_ok(pki_keywrap_open(store_key, ID, blob.data, blob.len, &out, &err), err);
    assert_int_equal(out.len, sizeof(plain));
    assert_memory_equal(out.data, plain, sizeof(plain));
    pki_buf_free(&out);
    pki_buf_free(&blob);
}

static void empty_plaintext_round_trips(void **state)
{
    struct pki_buf blob = {NULL, 0}, out = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    assert_ok(pki_keywrap_seal(store_key, ID, plain, 0, &blob, &err), err);
    assert_int_equal(blob.len, PKI_KEYWRAP_OVERHEAD);
    assert_ok(pki_keywrap_open(store_key, ID, blob.data, blob.len, &out, &err), err);
    assert_int_equal(out.len, 0);
    pki_buf_free(&out);
    pki_buf_free(&blob);
}

/* A random nonce per seal: the same key sealed twice gives two blobs. */
static void nonces_differ(void **state)
{
    struct pki_buf a = {NULL, 0}, b = {NULL, 0};

    (void)state;
    seal(&a);
    seal(&b);
    assert_int_equal(a.len, b.len);
    assert_memory_not_equal(a.data + 4, b.data + 4, 12);
    assert_memory_not_equal(a.data + 16, b.data + 16, a.len - 16);
    pki_buf_free(&a);
    pki_buf_free(&b);
}

static void wrong_store_key_fails(void **state)
{
    struct pki_buf blob = {NULL, 0};
    unsigned char other[PKI_STORE_KEY_LEN];

    (void)state;
    seal(&blob);
    memcpy(other, store_key, sizeof(other));
    other[31] ^= 1;
    expect_no_open(other, ID, blob.data, blob.len);
    pki_buf_free(&blob);
}

/* The key id is the AAD: a blob moved to another key id does not open. */
static void wrong_key_id_fails(void **state)
{
    struct pki_buf blob = {NULL, 0};

    (void)state;
    seal(&blob);
    expect_no_open(store_key, "3a:0f:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:01:03",
                   blob.data, blob.len);
    expect_no_open(store_key, ID ":00", blob.data, blob.len);
    pki_buf_free(&blob);
}

/* One flipped bit anywhere: magic, nonce, ciphertext (first and last) and tag. */
static void flipped_byte_in_each_region_fails(void **state)
{
    struct pki_buf blob = {NULL, 0};
    size_t at[] = {0, 3, 4, 15, 16, 16 + sizeof(plain) - 1, 16 + sizeof(plain),
                   16 + sizeof(plain) + 15};

    (void)state;
    seal(&blob);
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        assert_true(at[i] < blob.len);
        blob.data[at[i]] ^= 0x01;
        expect_no_open(store_key, ID, blob.data, blob.len);
        blob.data[at[i]] ^= 0x01;
    }
    pki_buf_free(&blob);
}

static void short_blobs_fail(void **state)
{
    struct pki_buf blob = {NULL, 0}, out = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    seal(&blob);
    for (size_t n = 0; n < PKI_KEYWRAP_OVERHEAD; n++)
        assert_err(pki_keywrap_open(store_key, ID, blob.data, n, &out, &err), err,
                   PKI_ERR_INPUT, "truncated");
    /* A blob cut inside the ciphertext keeps a valid length but no tag. */
    expect_no_open(store_key, ID, blob.data, blob.len - 1);
    assert_null(out.data);
    pki_buf_free(&blob);
}

static void refuses_missing_key_id(void **state)
{
    struct pki_buf blob = {NULL, 0};
    struct pki_err err = {0, ""};

    (void)state;
    assert_err(pki_keywrap_seal(store_key, "", plain, sizeof(plain), &blob, &err), err,
               PKI_ERR_USAGE, "key id");
    assert_err(pki_keywrap_seal(store_key, NULL, plain, sizeof(plain), &blob, &err), err,
               PKI_ERR_USAGE, "key id");
    assert_null(blob.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(empty_plaintext_round_trips),
        cmocka_unit_test(nonces_differ),
        cmocka_unit_test(wrong_store_key_fails),
        cmocka_unit_test(wrong_key_id_fails),
        cmocka_unit_test(flipped_byte_in_each_region_fails),
        cmocka_unit_test(short_blobs_fail),
        cmocka_unit_test(refuses_missing_key_id),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
