/* fuzz_key_pem.c - pki_key_from_pem on arbitrary bytes. */
#include "fuzz_common.h"

#include <openssl/err.h>

#include "key.h"

#define KEY_PEM_MAX (64 * 1024) /* key.c's PKI_KEY_PEM_MAX */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    struct pki_buf out = {0};
    EVP_PKEY *key, *again;
    char desc[128];
    unsigned char *pem = malloc(size ? size : 1);

    if (pem == NULL)
        abort();
    if (size > 0)
        memcpy(pem, data, size);
    key = pki_key_from_pem(pem, size, &err);
    if (key != NULL) {
        FUZZ_CHECK(size > 0 && size <= KEY_PEM_MAX);
        FUZZ_CHECK(memmem(pem, size, "ENCRYPTED", 9) == NULL);
        /* pkictl reads RSA, EC and Ed25519 keys and nothing else. */
        FUZZ_CHECK(EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "EC") ||
                   EVP_PKEY_is_a(key, "ED25519"));
        /* What the CLI does next with a key it read. */
        pki_key_describe(key, desc, sizeof(desc));
        FUZZ_CHECK(memchr(desc, '\0', sizeof(desc)) != NULL);
        (void)pki_key_sign_digest(key);
        /* What was read writes back out as PKCS#8 that reads again as the
         * same key (when the encoding succeeds: an odd key may not encode). */
        if (pki_key_to_pem(key, &out, &err) == PKI_OK && out.len <= KEY_PEM_MAX &&
            memmem(out.data, out.len, "ENCRYPTED", 9) == NULL) {
            again = pki_key_from_pem(out.data, out.len, &err);
            FUZZ_CHECK(again != NULL);
            FUZZ_CHECK(EVP_PKEY_eq(key, again) == 1);
            EVP_PKEY_free(again);
        }
        pki_buf_free(&out);
        EVP_PKEY_free(key);
    } else {
        FUZZ_CHECK(err.code < 0);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(pem);
    ERR_clear_error();
    return 0;
}
