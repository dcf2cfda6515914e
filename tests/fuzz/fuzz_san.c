/* fuzz_san.c - pki_san_parse on arbitrary text ("dns:NAME", "ip:ADDR",
 * "uri:URI", "email:ADDR"), and what an accepted SAN becomes in a
 * certificate or request (san.c) and reads back as. */
#include "fuzz_common.h"

#include <openssl/err.h>

#include "name.h"
#include "san.h"

static void check_same(const struct pki_host *a, const struct pki_host *b)
{
    FUZZ_CHECK(a->kind == b->kind);
    FUZZ_CHECK(strcmp(a->text, b->text) == 0);
    FUZZ_CHECK(a->ip_len == b->ip_len);
    FUZZ_CHECK(memcmp(a->ip, b->ip, a->ip_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pki_host h, h2, back[2];
    struct pki_err err = {0};
    char line[PKI_NAME_SAN_MAX + 16];
    char *text = fuzz_strdup(data, size);
    const char *colon;
    GENERAL_NAMES *gens;
    size_t n, len;
    int rc = pki_san_parse(text, &h, &err);

    if (rc == PKI_OK) {
        len = strnlen(h.text, sizeof(h.text));
        FUZZ_CHECK(len > 0 && len < sizeof(h.text));
        switch (h.kind) {
        case PKI_HOST_DNS:
            FUZZ_CHECK(h.ip_len == 0 && len <= PKI_NAME_DNS_MAX);
            break;
        case PKI_HOST_URI:
            FUZZ_CHECK(h.ip_len == 0 && len <= PKI_NAME_SAN_MAX);
            break;
        case PKI_HOST_EMAIL:
            FUZZ_CHECK(h.ip_len == 0 && len <= PKI_NAME_EMAIL_MAX);
            FUZZ_CHECK(strchr(h.text, '@') != NULL);
            break;
        case PKI_HOST_IPV4:
            FUZZ_CHECK(h.ip_len == 4);
            break;
        case PKI_HOST_IPV6:
            FUZZ_CHECK(h.ip_len == 16);
            break;
        default:
            FUZZ_CHECK(!"unknown SAN kind");
        }
        /* Names are kept as given; only IP addresses are canonicalised. */
        colon = strchr(text, ':');
        FUZZ_CHECK(colon != NULL);
        if (h.ip_len == 0)
            FUZZ_CHECK(strcmp(h.text, colon + 1) == 0);

        /* The round trip: "type:text" parses again as the same SAN. */
        snprintf(line, sizeof(line), "%s:%s", pki_san_type_name(h.kind), h.text);
        memset(&err, 0, sizeof(err));
        FUZZ_CHECK(pki_san_parse(line, &h2, &err) == PKI_OK);
        check_same(&h, &h2);
        /* And the value passes the check a CSR's SAN goes through. */
        FUZZ_CHECK(pki_san_check(h.kind, h.text, &h2, &err) == PKI_OK);
        check_same(&h, &h2);

        /* What goes into a certificate reads back as the same SAN. */
        gens = pki_san_to_general_names(&h, 1, &err);
        FUZZ_CHECK(gens != NULL);
        FUZZ_CHECK(sk_GENERAL_NAME_num(gens) == 1);
        n = 0;
        FUZZ_CHECK(pki_san_from_general_names(gens, back, 2, &n, &err) == PKI_OK);
        FUZZ_CHECK(n == 1);
        check_same(&h, &back[0]);
        GENERAL_NAMES_free(gens);
    } else {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(err.code == rc);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(text);
    ERR_clear_error();
    return 0;
}
