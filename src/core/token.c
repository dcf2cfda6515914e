/* token.c - API token hashes and policies ("operator", "service:web,db"). */
#include "token.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define OPERATOR "operator"
#define SERVICE_PREFIX "service:"
#define SERVICE_PREFIX_LEN (sizeof(SERVICE_PREFIX) - 1)
/* The longest policy text: the prefix and 64 names of 63 bytes, comma-separated. */
#define POLICY_TEXT_MAX (SERVICE_PREFIX_LEN + PKI_TOKEN_SERVICES_MAX * (PKI_SERVICE_MAX + 1))
#define SHOW_MAX 60

void pki_token_hash(const EVP_MD *sha256, const char *secret, char out[PKI_TOKEN_HASH_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    size_t i, mdlen = 0;
    unsigned int ulen = 0;
    int ok;

    if (secret == NULL)
        secret = "";
    /* On failure (no SHA-256 in the library) out is "", which matches no
     * stored hash, so an unusable digest denies rather than allows. */
    out[0] = '\0';
    if (sha256 != NULL) {
        ok = EVP_Digest(secret, strlen(secret), md, &ulen, sha256, NULL) == 1;
        mdlen = ulen;
    } else {
        ok = EVP_Q_digest(NULL, "SHA256", NULL, secret, strlen(secret), md, &mdlen) == 1;
    }
    if (!ok || mdlen != sizeof(md))
        return;
    for (i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[PKI_TOKEN_HASH_HEX] = '\0';
}

/* The start of text for a message: printable ASCII only, others as '?', so
 * a policy from a request cannot put control characters into a log line. */
static const char *show(const char *text, char out[SHOW_MAX + 4])
{
    size_t i;

    for (i = 0; text[i] != '\0' && i < SHOW_MAX; i++)
        out[i] = (text[i] >= 0x20 && text[i] < 0x7f && text[i] != '"') ? text[i] : '?';
    memcpy(out + i, text[i] != '\0' ? "..." : "", text[i] != '\0' ? 4 : 1);
    return out;
}

/* One name of the list: [s, s+n); appended to p unless invalid or listed. */
static int add_service(struct pki_token_policy *p, const char *s, size_t n, struct pki_err *err)
{
    char name[PKI_SERVICE_MAX + 2];
    size_t i;
    int rc;

    if (n == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "policy: an empty service name (write "
                           "service:NAME,NAME with no spaces or extra commas)");
    if (p->nservices == PKI_TOKEN_SERVICES_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "policy: more than %d services",
                           PKI_TOKEN_SERVICES_MAX);
    /* A name too long to be valid is cut one byte past the limit, which
     * pki_label_check then refuses. */
    if (n > PKI_SERVICE_MAX + 1)
        n = PKI_SERVICE_MAX + 1;
    memcpy(name, s, n);
    name[n] = '\0';
    if ((rc = pki_label_check("service", name, err)) != PKI_OK)
        return rc;
    for (i = 0; i < p->nservices; i++)
        if (strcmp(p->services[i], name) == 0)
            return pki_err_set(err, PKI_ERR_INPUT, "policy: service \"%s\" is listed twice",
                               name);
    memcpy(p->services[p->nservices++], name, n + 1);
    return PKI_OK;
}

static int parse_services(const char *list, struct pki_token_policy *p, struct pki_err *err)
{
    const char *comma;
    size_t n;
    int rc;

    for (;;) {
        comma = strchr(list, ',');
        n = comma != NULL ? (size_t)(comma - list) : strlen(list);
        if ((rc = add_service(p, list, n, err)) != PKI_OK)
            return rc;
        if (comma == NULL)
            return PKI_OK;
        list = comma + 1;
    }
}

int pki_token_policy_parse(const char *text, struct pki_token_policy *out, struct pki_err *err)
{
    struct pki_token_policy p;
    char sb[SHOW_MAX + 4];
    int rc;

    if (text == NULL || out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "policy: missing argument");
    if (strnlen(text, POLICY_TEXT_MAX + 1) > POLICY_TEXT_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "policy \"%s\": longer than %zu characters",
                           show(text, sb), (size_t)POLICY_TEXT_MAX);
    memset(&p, 0, sizeof(p));
    if (strcmp(text, OPERATOR) == 0) {
        p.kind = PKI_TOKEN_OPERATOR;
    } else if (strncmp(text, SERVICE_PREFIX, SERVICE_PREFIX_LEN) == 0) {
        p.kind = PKI_TOKEN_SERVICE;
        if ((rc = parse_services(text + SERVICE_PREFIX_LEN, &p, err)) != PKI_OK)
            return rc;
    } else {
        return pki_err_set(err, PKI_ERR_INPUT, "policy \"%s\": use \"operator\" or "
                           "\"service:NAME[,NAME...]\"", show(text, sb));
    }
    *out = p;
    return PKI_OK;
}

/* Bytes pki_token_policy_format writes, without the NUL; 0 if p is malformed. */
static size_t format_len(const struct pki_token_policy *p)
{
    size_t i, n = SERVICE_PREFIX_LEN;

    if (p->kind == PKI_TOKEN_OPERATOR)
        return sizeof(OPERATOR) - 1;
    if (p->kind != PKI_TOKEN_SERVICE || p->nservices == 0 ||
        p->nservices > PKI_TOKEN_SERVICES_MAX)
        return 0;
    for (i = 0; i < p->nservices; i++)
        n += strnlen(p->services[i], PKI_SERVICE_MAX + 1) + (i > 0);
    return n;
}

int pki_token_policy_format(const struct pki_token_policy *p, char *out, size_t len,
                            struct pki_err *err)
{
    size_t i, need, o;

    if (p == NULL || out == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "policy: missing argument");
    if ((need = format_len(p)) == 0)
        return pki_err_set(err, PKI_ERR_USAGE, "policy: malformed (kind %d, %zu services)",
                           (int)p->kind, p->nservices);
    for (i = 0; i < p->nservices && p->kind == PKI_TOKEN_SERVICE; i++)
        if (pki_label_check("service", p->services[i], err) != PKI_OK)
            return pki_err_set(err, PKI_ERR_USAGE, "policy: service %zu is malformed", i + 1);
    if (need >= len)
        return pki_err_set(err, PKI_ERR_USAGE, "policy: buffer of %zu bytes too small (%zu "
                           "needed)", len, need + 1);
    if (p->kind == PKI_TOKEN_OPERATOR) {
        memcpy(out, OPERATOR, sizeof(OPERATOR));
        return PKI_OK;
    }
    memcpy(out, SERVICE_PREFIX, SERVICE_PREFIX_LEN);
    o = SERVICE_PREFIX_LEN;
    for (i = 0; i < p->nservices; i++) {
        if (i > 0)
            out[o++] = ',';
        memcpy(out + o, p->services[i], strlen(p->services[i]));
        o += strlen(p->services[i]);
    }
    out[o] = '\0';
    return PKI_OK;
}

int pki_token_allows_service(const struct pki_token_policy *p, const char *service)
{
    size_t i;

    if (p == NULL || service == NULL)
        return 0;
    if (p->kind == PKI_TOKEN_OPERATOR)
        return 1;
    if (p->kind != PKI_TOKEN_SERVICE || p->nservices > PKI_TOKEN_SERVICES_MAX)
        return 0;
    for (i = 0; i < p->nservices; i++)
        if (strncmp(p->services[i], service, sizeof(p->services[i])) == 0)
            return 1;
    return 0;
}
