/* fuzz_host.c - pki_host_parse on arbitrary text. */
#include "fuzz_common.h"

#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pki_err err = {0};
    struct pki_host h, h2;
    char *text = fuzz_strdup(data, size);
    int rc = pki_host_parse(text, &h, &err);

    if (rc == PKI_OK) {
        size_t n = strnlen(h.text, sizeof(h.text));

        FUZZ_CHECK(n > 0 && n < sizeof(h.text));
        switch (h.kind) {
        case PKI_HOST_DNS:
            FUZZ_CHECK(h.ip_len == 0);
            FUZZ_CHECK(strcmp(h.text, text) == 0);
            FUZZ_CHECK(n <= PKI_NAME_DNS_MAX);
            break;
        case PKI_HOST_IPV4:
            FUZZ_CHECK(h.ip_len == 4);
            break;
        case PKI_HOST_IPV6:
            FUZZ_CHECK(h.ip_len == 16);
            break;
        default:
            FUZZ_CHECK(!"unknown host kind");
        }
        /* The canonical text is itself a valid host, and the same one. */
        FUZZ_CHECK(pki_host_parse(h.text, &h2, &err) == PKI_OK);
        FUZZ_CHECK(h2.kind == h.kind && h2.ip_len == h.ip_len);
        FUZZ_CHECK(memcmp(h2.ip, h.ip, h.ip_len) == 0);
        FUZZ_CHECK(strcmp(h2.text, h.text) == 0);
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(text);
    return 0;
}
