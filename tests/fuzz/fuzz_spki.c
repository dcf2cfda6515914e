/* fuzz_spki.c - pki_leaf_spki_check on arbitrary bytes. What it accepts goes
 * into certificates verbatim, so whatever OpenSSL can also decode must
 * re-encode to exactly the same bytes (it is DER), and must be one of the
 * key types the walk claims to allow. */
#include "fuzz_common.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "leaf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0, ""};
    const unsigned char *p = data;
    unsigned char *der = NULL;
    EVP_PKEY *key;
    int rc = pki_leaf_spki_check(data, size, &err), n;

    if (rc != PKI_OK) {
        FUZZ_CHECK(rc == PKI_ERR_INPUT || rc == PKI_ERR_POLICY);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(size > 0 && size <= PKI_LEAF_SPKI_MAX);
    /* An EC point off its curve passes the walk (no decoder is called) but
     * not OpenSSL: only what decodes is compared. */
    key = d2i_PUBKEY(NULL, &p, (long)size);
    if (key != NULL) {
        FUZZ_CHECK(p == data + size);
        FUZZ_CHECK(EVP_PKEY_is_a(key, "EC") || EVP_PKEY_is_a(key, "RSA") ||
                   EVP_PKEY_is_a(key, "ED25519"));
        if (EVP_PKEY_is_a(key, "RSA"))
            FUZZ_CHECK(EVP_PKEY_get_bits(key) >= 2048 && EVP_PKEY_get_bits(key) <= 8192);
        n = i2d_PUBKEY(key, &der);
        FUZZ_CHECK(n == (int)size && memcmp(der, data, size) == 0);
        OPENSSL_free(der);
        EVP_PKEY_free(key);
    }
    return 0;
}
