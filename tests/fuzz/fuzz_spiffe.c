/* fuzz_spiffe.c - service names, trust domains, SPIFFE URIs and token
 * policies on arbitrary text: every value a request or CSR can carry. */
#include "fuzz_common.h"

#include "spiffe.h"
#include "token.h"

#define TD "11111111-2222-4333-8444-555555555555.consul"
#define DC "dc1"

/* A refusal: a negative code in err too, and a one-line printable message
 * (values from the network are quoted with escapes, never raw). */
static void check_refusal(int rc, const struct pki_err *err)
{
    size_t i, n = strnlen(err->msg, sizeof(err->msg));

    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(err->code == rc);
    FUZZ_CHECK(n > 0 && n < sizeof(err->msg));
    for (i = 0; i < n; i++)
        FUZZ_CHECK(err->msg[i] >= 0x20 && err->msg[i] < 0x7f);
}

static int is_label(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > PKI_SERVICE_MAX || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static void fuzz_label(const char *text)
{
    struct pki_err err = {0};
    char uri[PKI_SPIFFE_URI_MAX + 1], svc[PKI_SERVICE_MAX + 1];
    int rc = pki_label_check("service", text, &err);

    FUZZ_CHECK((rc == PKI_OK) == is_label(text));
    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        return;
    }
    /* A valid name makes a URI that parses back to it. */
    FUZZ_CHECK(pki_spiffe_service_uri(TD, DC, text, uri, sizeof(uri), &err) == PKI_OK);
    FUZZ_CHECK(pki_spiffe_parse_service(uri, TD, DC, svc, &err) == PKI_OK);
    FUZZ_CHECK(strcmp(svc, text) == 0);
}

static void fuzz_trust_domain(const char *text)
{
    struct pki_err err = {0};
    char uri[PKI_SPIFFE_URI_MAX + 1];
    int rc = pki_trust_domain_check(text, &err);

    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        return;
    }
    FUZZ_CHECK(strlen(text) >= 1 && strlen(text) <= PKI_TRUST_DOMAIN_MAX);
    FUZZ_CHECK(pki_spiffe_domain_uri(text, uri, sizeof(uri), &err) == PKI_OK);
    FUZZ_CHECK(strncmp(uri, "spiffe://", 9) == 0 && strcmp(uri + 9, text) == 0);
}

static void fuzz_uri(const char *text)
{
    struct pki_err err = {0};
    char svc[PKI_SERVICE_MAX + 1] = "", uri[PKI_SPIFFE_URI_MAX + 1];
    int rc = pki_spiffe_parse_service(text, TD, DC, svc, &err);

    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        FUZZ_CHECK(svc[0] == '\0');
        return;
    }
    /* Only the one canonical spelling is accepted. */
    FUZZ_CHECK(is_label(svc));
    FUZZ_CHECK(pki_spiffe_service_uri(TD, DC, svc, uri, sizeof(uri), &err) == PKI_OK);
    FUZZ_CHECK(strcmp(uri, text) == 0);
}

static void fuzz_policy(const char *text)
{
    static struct pki_token_policy p, q;
    static char back[8 + PKI_TOKEN_SERVICES_MAX * (PKI_SERVICE_MAX + 1) + 1];
    struct pki_err err = {0};
    size_t i;
    int rc = pki_token_policy_parse(text, &p, &err);

    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        return;
    }
    FUZZ_CHECK(p.kind == PKI_TOKEN_OPERATOR || p.kind == PKI_TOKEN_SERVICE);
    FUZZ_CHECK(p.kind == PKI_TOKEN_OPERATOR ? p.nservices == 0
                                            : p.nservices >= 1 &&
                                                  p.nservices <= PKI_TOKEN_SERVICES_MAX);
    for (i = 0; i < p.nservices; i++) {
        FUZZ_CHECK(is_label(p.services[i]));
        FUZZ_CHECK(pki_token_allows_service(&p, p.services[i]));
    }
    FUZZ_CHECK(pki_token_policy_format(&p, back, sizeof(back), &err) == PKI_OK);
    /* The grammar has one spelling per policy: format gives the input back. */
    FUZZ_CHECK(strcmp(back, text) == 0);
    memset(&q, 0xa5, sizeof(q));
    FUZZ_CHECK(pki_token_policy_parse(back, &q, &err) == PKI_OK);
    FUZZ_CHECK(q.kind == p.kind && q.nservices == p.nservices);
    for (i = 0; i < p.nservices; i++)
        FUZZ_CHECK(strcmp(q.services[i], p.services[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strdup(data, size);

    fuzz_label(text);
    fuzz_trust_domain(text);
    fuzz_uri(text);
    fuzz_policy(text);
    if (pki_uuid_check(text))
        FUZZ_CHECK(strlen(text) == PKI_UUID_LEN && text[8] == '-' && text[23] == '-');
    free(text);
    return 0;
}
