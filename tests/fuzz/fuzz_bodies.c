/*
 * fuzz_bodies.c - the API's JSON bodies on arbitrary bytes: the CA config
 * (srv_ca_config_parse), sign requests and token creation. The same input
 * goes to all three.
 *
 * Invariants: a refusal is PKI_ERR_INPUT (or INTERNAL) with a message of
 * printable ASCII; an accepted config obeys every rule of docs/server.md and
 * renders to JSON that parses back to the same config (the store relies on
 * it), and the GET rendering never carries the private key.
 *
 * The sign body has a fast path in front of jansson: whenever it answers
 * rather than deferring, its answer (code and message, or the decoded PEM)
 * must be the jansson path's. Besides the raw input, the input is also tried
 * as the inside of {"CSR": "<BEGIN line>..."}, where random bytes reach the
 * fast path's string decoding instead of dying on the framing.
 */
#include "fuzz_common.h"

#include <math.h>

#include <openssl/err.h>

#include "bodies.h"
#include "caconfig.h"
#include "spiffe.h"

static void check_refusal(int rc, const struct pki_err *err)
{
    size_t i;

    FUZZ_CHECK(rc == PKI_ERR_INPUT || rc == PKI_ERR_INTERNAL);
    FUZZ_CHECK(err->code == rc);
    FUZZ_CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
    FUZZ_CHECK(err->msg[0] != '\0');
    for (i = 0; err->msg[i] != '\0'; i++)
        FUZZ_CHECK((unsigned char)err->msg[i] >= 0x20 && (unsigned char)err->msg[i] < 0x7f);
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int config_equal(const struct srv_ca_config *a, const struct srv_ca_config *b)
{
    return strcmp(a->provider, b->provider) == 0 && a->leaf_ttl == b->leaf_ttl &&
           a->intermediate_ttl == b->intermediate_ttl && a->root_ttl == b->root_ttl &&
           a->spec.type == b->spec.type && a->spec.bits == b->spec.bits &&
           a->csr_max_per_second == b->csr_max_per_second &&
           a->force_without_cross_signing == b->force_without_cross_signing &&
           same_text(a->root_cert_pem, b->root_cert_pem) &&
           same_text(a->private_key_pem, b->private_key_pem);
}

static void check_config_rules(const struct srv_ca_config *c)
{
    FUZZ_CHECK(strcmp(c->provider, "consul") == 0);
    FUZZ_CHECK(c->leaf_ttl >= 3600 && c->leaf_ttl <= 8760 * 3600);
    FUZZ_CHECK(c->intermediate_ttl >= 3 * c->leaf_ttl);
    FUZZ_CHECK(c->root_ttl >= c->intermediate_ttl);
    FUZZ_CHECK(isfinite(c->csr_max_per_second) && c->csr_max_per_second >= 0 &&
               c->csr_max_per_second <= 1e9);
    FUZZ_CHECK((c->spec.type == PKI_KEY_ECDSA &&
                (c->spec.bits == 256 || c->spec.bits == 384 || c->spec.bits == 521)) ||
               (c->spec.type == PKI_KEY_RSA && (c->spec.bits == 2048 || c->spec.bits == 4096)) ||
               (c->spec.type == PKI_KEY_ED25519 && c->spec.bits == 0));
    FUZZ_CHECK((c->root_cert_pem == NULL) == (c->private_key_pem == NULL));
    FUZZ_CHECK(c->create_index == 0 && c->modify_index == 0);
}

/* Renders c, dumps it and parses it again; returns the parse's status. */
static int reparse(const struct srv_ca_config *c, int with_secrets, struct srv_ca_config *back,
                   char **text)
{
    struct pki_err err = {0, ""};
    json_t *j = srv_ca_config_to_json(c, with_secrets);

    FUZZ_CHECK(j != NULL);
    *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    FUZZ_CHECK(*text != NULL);
    return srv_ca_config_parse(*text, strlen(*text), back, &err);
}

static void fuzz_config(const uint8_t *data, size_t size)
{
    struct srv_ca_config c, back;
    struct pki_err err = {0, ""};
    char *text = NULL;
    int rc;

    rc = srv_ca_config_parse((const char *)data, size, &c, &err);
    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        return;
    }
    check_config_rules(&c);
    /* The store's copy reads back as the same config. */
    FUZZ_CHECK(reparse(&c, 1, &back, &text) == PKI_OK);
    FUZZ_CHECK(config_equal(&c, &back));
    FUZZ_CHECK(srv_ca_config_needs_rotation(&c, &back) == 0);
    srv_ca_config_clear(&back);
    free(text);
    /* GET: no private key; without a supplied root it reads back too. */
    rc = reparse(&c, 0, &back, &text);
    FUZZ_CHECK(strstr(text, "PRIVATE KEY") == NULL && strstr(text, "\"PrivateKey\"") == NULL);
    FUZZ_CHECK((rc == PKI_OK) == (c.root_cert_pem == NULL));
    if (rc == PKI_OK) {
        FUZZ_CHECK(config_equal(&c, &back));
        srv_ca_config_clear(&back);
    }
    free(text);
    srv_ca_config_clear(&c);
    FUZZ_CHECK(c.root_cert_pem == NULL && c.private_key_pem == NULL);
}

static void fuzz_sign(const uint8_t *data, size_t size)
{
    struct pki_err err = {0, ""};
    char *csr = NULL;
    size_t n;
    int rc;

    rc = srv_body_sign_parse((const char *)data, size, &csr, &err);
    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        FUZZ_CHECK(csr == NULL);
        return;
    }
    n = strlen(csr);
    FUZZ_CHECK(n >= 1 && n <= SRV_CSR_PEM_MAX);
    FUZZ_CHECK(strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----") != NULL ||
               strstr(csr, "-----BEGIN NEW CERTIFICATE REQUEST-----") != NULL);
    free(csr);
}

static void sign_differential(const char *body, size_t len)
{
    struct pki_err ef = {0, ""}, es = {0, ""};
    char *vf = NULL, *vs = NULL;
    int rf = srv__body_sign_fast(body, len, &vf, &ef);
    int rs = srv__body_sign_slow(body, len, &vs, &es);

    FUZZ_CHECK(rs == PKI_OK || rs == PKI_ERR_INPUT || rs == PKI_ERR_INTERNAL);
    if (rf == SRV__BODY_NOT_FAST) {
        FUZZ_CHECK(vf == NULL && ef.code == 0 && ef.msg[0] == '\0');
    } else if (rf == PKI_OK) {
        FUZZ_CHECK(rs == PKI_OK);
        FUZZ_CHECK(strcmp(vf, vs) == 0);
    } else {
        FUZZ_CHECK(rf == rs && ef.code == es.code);
        FUZZ_CHECK(strcmp(ef.msg, es.msg) == 0);
        FUZZ_CHECK(vf == NULL);
    }
    free(vf);
    free(vs);
}

/* {"CSR": "-----BEGIN CERTIFICATE REQUEST-----<data>"}, exactly as long as
 * it needs to be so ASan sees any read past its end. */
static void sign_differential_inside(const uint8_t *data, size_t size)
{
    static const char head[] = "{\"CSR\": \"-----BEGIN CERTIFICATE REQUEST-----";
    size_t n = sizeof(head) - 1 + size + 2;
    char *body = malloc(n);

    if (body == NULL)
        abort();
    memcpy(body, head, sizeof(head) - 1);
    if (size > 0)
        memcpy(body + sizeof(head) - 1, data, size);
    memcpy(body + n - 2, "\"}", 2);
    sign_differential(body, n);
    free(body);
}

static void fuzz_token(const uint8_t *data, size_t size)
{
    struct pki_token_policy p;
    char desc[PKI_TOKEN_DESC_MAX + 1];
    struct pki_err err = {0, ""};
    size_t i, k;
    int rc;

    rc = srv_body_token_parse((const char *)data, size, &p, desc, &err);
    if (rc != PKI_OK) {
        check_refusal(rc, &err);
        return;
    }
    FUZZ_CHECK(memchr(desc, '\0', sizeof(desc)) != NULL);
    for (i = 0; desc[i] != '\0'; i++)
        FUZZ_CHECK((unsigned char)desc[i] >= 0x20 && desc[i] != 0x7f);
    if (p.kind == PKI_TOKEN_OPERATOR) {
        FUZZ_CHECK(p.nservices == 0);
        return;
    }
    FUZZ_CHECK(p.kind == PKI_TOKEN_SERVICE);
    FUZZ_CHECK(p.nservices >= 1 && p.nservices <= PKI_TOKEN_SERVICES_MAX);
    for (i = 0; i < p.nservices; i++) {
        FUZZ_CHECK(pki_label_check("service", p.services[i], &err) == PKI_OK);
        for (k = 0; k < i; k++)
            FUZZ_CHECK(strcmp(p.services[i], p.services[k]) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy exactly size bytes long, so ASan sees any read past the end. */
    uint8_t *copy = malloc(size ? size : 1);

    if (copy == NULL)
        abort();
    if (size > 0)
        memcpy(copy, data, size);
    fuzz_config(copy, size);
    fuzz_sign(copy, size);
    sign_differential((const char *)copy, size);
    sign_differential_inside(copy, size);
    fuzz_token(copy, size);
    free(copy);
    ERR_clear_error();
    return 0;
}
