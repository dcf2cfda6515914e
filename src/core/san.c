/* san.c - converting SANs to and from OpenSSL's GENERAL_NAMES. */
#include "san.h"

#include <arpa/inet.h>
#include <string.h>

static int general_name_type(enum pki_host_kind kind)
{
    switch (kind) {
    case PKI_HOST_DNS: return GEN_DNS;
    case PKI_HOST_URI: return GEN_URI;
    case PKI_HOST_EMAIL: return GEN_EMAIL;
    default: return GEN_IPADD;
    }
}

static GENERAL_NAME *to_general_name(const struct pki_host *h)
{
    int type = general_name_type(h->kind);
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    int ok;

    if (g == NULL || s == NULL)
        goto fail;
    if (type == GEN_IPADD)
        ok = ASN1_OCTET_STRING_set(s, h->ip, (int)h->ip_len);
    else
        ok = ASN1_STRING_set(s, h->text, (int)strlen(h->text));
    if (ok != 1)
        goto fail;
    GENERAL_NAME_set0_value(g, type, s);
    return g;
fail:
    ASN1_STRING_free(s);
    GENERAL_NAME_free(g);
    return NULL;
}

GENERAL_NAMES *pki_san_to_general_names(const struct pki_host *sans, size_t n,
                                        struct pki_err *err)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *g;
    size_t i;

    for (i = 0; gens != NULL && i < n; i++) {
        g = to_general_name(&sans[i]);
        if (g == NULL || sk_GENERAL_NAME_push(gens, g) <= 0) {
            GENERAL_NAME_free(g);
            GENERAL_NAMES_free(gens);
            gens = NULL;
        }
    }
    if (gens == NULL)
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
    return gens;
}

static const char *type_name(int type)
{
    switch (type) {
    case GEN_OTHERNAME: return "otherName";
    case GEN_X400: return "x400Address";
    case GEN_DIRNAME: return "directoryName";
    case GEN_EDIPARTY: return "ediPartyName";
    case GEN_RID: return "registeredID";
    default: return "unknown";
    }
}

/* One IA5String name: text without embedded NULs, then the usual checks. */
static int string_name(const ASN1_STRING *s, enum pki_host_kind kind, struct pki_host *out,
                       struct pki_err *err)
{
    char text[PKI_NAME_SAN_MAX + 1];
    int len = ASN1_STRING_length(s);

    if (len <= 0 || len > PKI_NAME_SAN_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "a %s SAN is empty or too long",
                           pki_san_type_name(kind));
    memcpy(text, ASN1_STRING_get0_data(s), (size_t)len);
    text[len] = '\0';
    if (strlen(text) != (size_t)len)
        return pki_err_set(err, PKI_ERR_INPUT, "a %s SAN has an embedded NUL byte",
                           pki_san_type_name(kind));
    return pki_san_check(kind, text, out, err);
}

static int ip_name(const ASN1_STRING *s, struct pki_host *out, struct pki_err *err)
{
    char text[64];
    int len = ASN1_STRING_length(s);

    if (len != 4 && len != 16)
        return pki_err_set(err, PKI_ERR_INPUT, "an IP SAN has %d bytes (4 or 16 expected)", len);
    inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof(text));
    return pki_san_check(len == 4 ? PKI_HOST_IPV4 : PKI_HOST_IPV6, text, out, err);
}

int pki_san_from_general_names(const GENERAL_NAMES *gens, struct pki_host *out, size_t max,
                               size_t *n, struct pki_err *err)
{
    const ASN1_STRING *s;
    int i, type, rc = PKI_OK;
    size_t count = 0;

    for (i = 0; i < sk_GENERAL_NAME_num(gens) && rc == PKI_OK; i++) {
        if (count >= max)
            return pki_err_set(err, PKI_ERR_INPUT, "more than %zu SANs", max);
        s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        if (type == GEN_DNS)
            rc = string_name(s, PKI_HOST_DNS, &out[count], err);
        else if (type == GEN_URI)
            rc = string_name(s, PKI_HOST_URI, &out[count], err);
        else if (type == GEN_EMAIL)
            rc = string_name(s, PKI_HOST_EMAIL, &out[count], err);
        else if (type == GEN_IPADD)
            rc = ip_name(s, &out[count], err);
        else
            rc = pki_err_set(err, PKI_ERR_POLICY, "%s SANs are not allowed (only DNS, IP, URI "
                             "and email)", type_name(type));
        count++;
    }
    if (rc == PKI_OK)
        *n = count;
    return rc;
}
