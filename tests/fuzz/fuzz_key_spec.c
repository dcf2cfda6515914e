/* fuzz_key_spec.c - pki_key_spec_parse on an arbitrary type and size.
 *
 * Input: one flag byte (bit 0: pass type NULL, bit 1: pass size NULL), then
 * the type text, a NUL, and the size text. */
#include "fuzz_common.h"

#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    struct pki_key_spec spec = {PKI_KEY_RSA, -1};
    unsigned flags;
    char *buf, *type, *bits;
    size_t tlen;
    int rc;

    if (size == 0)
        return 0;
    flags = data[0];
    buf = fuzz_strdup(data + 1, size - 1);
    tlen = strlen(buf);
    type = buf;
    bits = buf + tlen + (tlen < size - 1 ? 1 : 0); /* after the NUL, or "" */
    rc = pki_key_spec_parse((flags & 1) ? NULL : type, (flags & 2) ? NULL : bits, &spec, &err);
    if (rc == PKI_OK) {
        switch (spec.type) {
        case PKI_KEY_RSA:
            FUZZ_CHECK(spec.bits == 2048 || spec.bits == 3072 || spec.bits == 4096 ||
                       spec.bits == 8192);
            break;
        case PKI_KEY_ECDSA:
            FUZZ_CHECK(spec.bits == 256 || spec.bits == 384 || spec.bits == 521);
            break;
        case PKI_KEY_ED25519:
            FUZZ_CHECK(spec.bits == 0);
            break;
        default:
            FUZZ_CHECK(!"unknown key type");
        }
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(spec.bits == -1); /* untouched on failure */
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(buf);
    return 0;
}
