/* fuzz_key_list.c - pki_keys_from_pem (a key list such as k3s's service.key)
 * on arbitrary bytes. Invariants: an accepted list has 1..max supported keys,
 * each of which encodes and reads back as the same key; a refusal returns no
 * key and carries a message. */
#include "fuzz_common.h"

#include <openssl/err.h>

#include "key.h"

#define LIST_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    struct pki_buf out = {0};
    EVP_PKEY *keys[LIST_MAX + 1] = {NULL}, *again;
    unsigned char *pem = malloc(size ? size : 1);
    size_t n = 99, i;

    if (pem == NULL)
        abort();
    if (size > 0)
        memcpy(pem, data, size);
    if (pki_keys_from_pem(pem, size, keys, LIST_MAX, &n, &err) == PKI_OK) {
        FUZZ_CHECK(n >= 1 && n <= LIST_MAX);
        for (i = 0; i < n; i++) {
            FUZZ_CHECK(keys[i] != NULL);
            FUZZ_CHECK(pki_key_check_supported(keys[i], &err) == PKI_OK);
            if (pki_key_to_pem(keys[i], &out, &err) == PKI_OK) {
                again = pki_key_from_pem(out.data, out.len, &err);
                FUZZ_CHECK(again != NULL && EVP_PKEY_eq(keys[i], again) == 1);
                EVP_PKEY_free(again);
            }
            pki_buf_free(&out);
            EVP_PKEY_free(keys[i]);
        }
        FUZZ_CHECK(keys[LIST_MAX] == NULL);
    } else {
        FUZZ_CHECK(n == 0);
        for (i = 0; i <= LIST_MAX; i++)
            FUZZ_CHECK(keys[i] == NULL || i < LIST_MAX);
        FUZZ_CHECK(err.code < 0 && err.msg[0] != '\0');
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    }
    free(pem);
    ERR_clear_error();
    return 0;
}
