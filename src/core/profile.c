/* profile.c - the signing profiles and the policy they apply to requests. */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "csr.h"
#include "name.h"

static const struct {
    const char *name;
    enum pki_profile profile;
    enum pki_cert_role role;
} profiles[] = {
    {"server", PKI_PROFILE_SERVER, PKI_ROLE_SERVER},
    {"client", PKI_PROFILE_CLIENT, PKI_ROLE_CLIENT},
    {"node", PKI_PROFILE_NODE, PKI_ROLE_NODE},
    {"intermediate", PKI_PROFILE_INTERMEDIATE, PKI_ROLE_INTERMEDIATE},
};

int pki_profile_parse(const char *text, enum pki_profile *out, struct pki_err *err)
{
    size_t i;

    for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        if (strcmp(text, profiles[i].name) == 0) {
            *out = profiles[i].profile;
            return PKI_OK;
        }
    }
    return pki_err_set(err, PKI_ERR_INPUT, "unknown profile \"%.40s\" (use server, client, node "
                       "or intermediate)", text);
}

int64_t pki_profile_default_lifetime(enum pki_profile profile)
{
    return profile == PKI_PROFILE_INTERMEDIATE ? INT64_C(43920) * 3600 : INT64_C(8760) * 3600;
}

static int has_host(const struct pki_host *sans, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (sans[i].kind == PKI_HOST_DNS || sans[i].kind == PKI_HOST_IPV4 ||
            sans[i].kind == PKI_HOST_IPV6)
            return 1;
    return 0;
}

X509 *pki_profile_sign(X509_REQ *req, enum pki_profile profile, X509 *ca, EVP_PKEY *ca_key,
                       int64_t lifetime, time_t now, struct pki_err *err)
{
    struct pki_host *sans = calloc(PKI_NAME_HOSTS_MAX, sizeof(*sans));
    struct pki_cert_params p;
    X509 *cert = NULL;
    size_t n = 0;

    if (sans == NULL) {
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (pki_csr_sans(req, sans, PKI_NAME_HOSTS_MAX, &n, err) != PKI_OK)
        goto out;
    if ((profile == PKI_PROFILE_SERVER || profile == PKI_PROFILE_NODE) && !has_host(sans, n)) {
        /* RFC 6125 section 6.4.4: clients match SANs, not the CN, when SANs exist. */
        pki_err_set(err, PKI_ERR_POLICY, "the %s profile needs at least one DNS or IP SAN in "
                    "the request", profiles[profile].name);
        goto out;
    }
    memset(&p, 0, sizeof(p));
    p.role = profiles[profile].role;
    p.subject = X509_REQ_get_subject_name(req);
    p.hosts = profile == PKI_PROFILE_INTERMEDIATE ? NULL : sans;
    p.nhosts = profile == PKI_PROFILE_INTERMEDIATE ? 0 : n;
    p.lifetime = lifetime;
    p.now = now;
    p.subject_key = X509_REQ_get0_pubkey(req);
    p.issuer = ca;
    p.issuer_key = ca_key;
    cert = pki_cert_issue(&p, err);
out:
    free(sans);
    return cert;
}
