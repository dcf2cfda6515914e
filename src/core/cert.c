/* cert.c - issuing certificates and reading their facts back. */
#include "cert.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "key.h"
#include "san.h"

#define SERIAL_BYTES 16

/* RFC 5280 section 4.1.2.2: a positive integer of at most 20 octets. 16
 * random bytes with the top bit cleared (positive) and the next one set (so
 * the encoding is always 16 octets) leave 126 bits of entropy. */
static int set_serial(X509 *x, struct pki_err *err)
{
    unsigned char b[SERIAL_BYTES];
    BIGNUM *bn = NULL;
    int rc = PKI_OK;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot draw a random serial number");
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(b, sizeof(b), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the serial number");
    BN_free(bn);
    return rc;
}

int pki_cert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, struct pki_err *err)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok;

    if (ext == NULL)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot build extension %s", OBJ_nid2sn(nid));
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (ok != 1)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot add extension %s", OBJ_nid2sn(nid));
    return PKI_OK;
}

static int add_sans(X509 *x, const struct pki_cert_params *p, struct pki_err *err)
{
    GENERAL_NAMES *gens = pki_san_to_general_names(p->hosts, p->nhosts, err);
    int rc = PKI_OK;

    if (gens == NULL)
        return err ? err->code : PKI_ERR_INTERNAL;
    /* RFC 5280 section 4.2.1.6: with an empty subject the SAN is critical. */
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens,
                          X509_NAME_entry_count(X509_get_subject_name(x)) == 0,
                          X509V3_ADD_DEFAULT) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot add the subjectAltName extension");
    GENERAL_NAMES_free(gens);
    return rc;
}

static int is_ca_role(enum pki_cert_role role)
{
    return role == PKI_ROLE_CA || role == PKI_ROLE_INTERMEDIATE;
}

static const char *ext_key_usage(enum pki_cert_role role)
{
    switch (role) {
    case PKI_ROLE_NODE: return "serverAuth,clientAuth";
    case PKI_ROLE_CLIENT: return "clientAuth";
    case PKI_ROLE_SERVER: return "serverAuth";
    default: return NULL;
    }
}

static const char *key_usage(const struct pki_cert_params *p)
{
    if (is_ca_role(p->role))
        return "critical,keyCertSign,cRLSign,digitalSignature";
    /* keyEncipherment only where the key can encrypt: RSA key transport. */
    if (EVP_PKEY_is_a(p->subject_key, "RSA"))
        return "critical,digitalSignature,keyEncipherment";
    return "critical,digitalSignature";
}

static int add_extensions(X509 *x, const struct pki_cert_params *p, struct pki_err *err)
{
    X509V3_CTX ctx;
    char bc[48];
    int rc;

    X509V3_set_ctx(&ctx, p->issuer ? p->issuer : x, x, NULL, NULL, 0);

    if (p->role == PKI_ROLE_INTERMEDIATE)
        snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", p->ca_path_len);
    else
        snprintf(bc, sizeof(bc), "critical,CA:%s", p->role == PKI_ROLE_CA ? "TRUE" : "FALSE");
    rc = pki_cert_add_ext(x, &ctx, NID_basic_constraints, bc, err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_key_usage, key_usage(p), err);
    if (rc == PKI_OK && ext_key_usage(p->role) != NULL)
        rc = pki_cert_add_ext(x, &ctx, NID_ext_key_usage, ext_key_usage(p->role), err);
    /* RFC 5280 4.2.1.2 method 1. The issuer's key is deliberately not given
     * to the context: for a self-signed certificate the AKI then copies the
     * SKI just added, where OpenSSL 3.0 would otherwise re-encode the key. */
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
    if (rc == PKI_OK && p->nhosts > 0)
        rc = add_sans(x, p, err);
    return rc;
}

static int set_names(X509 *x, const struct pki_cert_params *p, struct pki_err *err)
{
    X509_NAME *name = X509_get_subject_name(x);
    const unsigned char *o = (const unsigned char *)p->organization;
    const unsigned char *cn = (const unsigned char *)p->common_name;

    if (p->subject != NULL) {
        if (X509_set_subject_name(x, p->subject) != 1)
            return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the subject name");
        name = X509_get_subject_name(x);
    } else if ((o != NULL &&
                X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, o, -1, -1, 0) != 1) ||
               X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the subject name");
    }
    if (X509_set_issuer_name(x, p->issuer ? X509_get_subject_name(p->issuer) : name) != 1)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the issuer name");
    return PKI_OK;
}

/* The issuer must be a CA, valid now, and outlive what it signs. */
static int check_issuer(const struct pki_cert_params *p, struct pki_err *err)
{
    time_t nb, na, end = p->now + (time_t)p->lifetime;
    char when[40], asked[40];

    if (p->issuer == NULL)
        return PKI_OK;
    if (!pki_cert_is_ca(p->issuer))
        return pki_err_set(err, PKI_ERR_POLICY, "the issuer certificate is not a CA "
                           "(it lacks basicConstraints CA:TRUE)");
    /* RFC 5280 section 4.2.1.9: pathLenConstraint 0 means only end-entity
     * certificates may follow. */
    if (is_ca_role(p->role) && X509_get_pathlen(p->issuer) == 0)
        return pki_err_set(err, PKI_ERR_POLICY, "the issuer's path length constraint is 0: it "
                           "may sign leaf certificates only, not another CA");
    if (pki_cert_validity(p->issuer, &nb, &na, err) != PKI_OK)
        return err ? err->code : PKI_ERR_INPUT;
    pki_time_format(na, 0, when, sizeof(when));
    if (p->now >= na)
        return pki_err_set(err, PKI_ERR_POLICY, "the CA certificate expired on %s", when);
    if (p->now < nb)
        return pki_err_set(err, PKI_ERR_POLICY, "the CA certificate is not valid yet");
    if (end > na) {
        pki_time_format(end, 0, asked, sizeof(asked));
        return pki_err_set(err, PKI_ERR_POLICY,
                           "the requested lifetime ends on %s, after the CA certificate "
                           "expires on %s; use a shorter lifetime or rotate the CA",
                           asked, when);
    }
    return PKI_OK;
}

static int set_validity(X509 *x, const struct pki_cert_params *p, struct pki_err *err)
{
    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -PKI_CERT_BACKDATE_SECONDS,
                         (time_t *)&p->now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), (int)(p->lifetime / 86400),
                         (long)(p->lifetime % 86400), (time_t *)&p->now) == NULL)
        return pki_err_set_ssl(err, PKI_ERR_INPUT, "cannot represent the validity period");
    return PKI_OK;
}

X509 *pki_cert_issue(const struct pki_cert_params *p, struct pki_err *err)
{
    X509 *x = NULL;
    EVP_PKEY *signer = p->issuer ? p->issuer_key : p->subject_key;

    if ((p->common_name == NULL && p->subject == NULL) || p->subject_key == NULL ||
        signer == NULL) {
        pki_err_set(err, PKI_ERR_USAGE, "certificate parameters are incomplete");
        return NULL;
    }
    if (p->issuer != NULL && !pki_key_matches_cert(p->issuer_key, p->issuer)) {
        pki_err_set(err, PKI_ERR_POLICY, "the CA key does not match the CA certificate");
        return NULL;
    }
    if (p->lifetime <= 0) {
        pki_err_set(err, PKI_ERR_USAGE, "the lifetime must be positive");
        return NULL;
    }
    if (p->ca_path_len < 0 || p->ca_path_len > 8) {
        pki_err_set(err, PKI_ERR_INPUT, "path length %d is out of range (0..8)", p->ca_path_len);
        return NULL;
    }
    if (p->lifetime > PKI_CERT_LIFETIME_MAX || p->now < 0 ||
        p->now > (time_t)(INT64_MAX - PKI_CERT_LIFETIME_MAX)) {
        pki_err_set(err, PKI_ERR_INPUT, "cannot represent the validity period (the lifetime "
                    "must be between 1s and 2562047h)");
        return NULL;
    }
    if (p->subject != NULL && X509_NAME_entry_count(p->subject) == 0 &&
        (is_ca_role(p->role) || p->nhosts == 0)) {
        pki_err_set(err, PKI_ERR_POLICY, "the subject is empty: a CA needs a subject, and a "
                    "leaf needs a subject or a SAN");
        return NULL;
    }
    if (check_issuer(p, err) != PKI_OK)
        return NULL;
    x = X509_new();
    if (x == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (X509_set_version(x, X509_VERSION_3) != 1) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the certificate's version");
        goto fail;
    }
    /* Sets the SPKI and caches the key, so X509_get0_pubkey works on the result. */
    if (X509_set_pubkey(x, p->subject_key) != 1) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the certificate's public key");
        goto fail;
    }
    if (set_serial(x, err) != PKI_OK || set_validity(x, p, err) != PKI_OK ||
        set_names(x, p, err) != PKI_OK || add_extensions(x, p, err) != PKI_OK)
        goto fail;
    if (X509_sign(x, signer, pki_key_sign_digest(signer)) <= 0) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "signing the certificate failed");
        goto fail;
    }
    return x;
fail:
    X509_free(x);
    return NULL;
}

static int asn1_to_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    *out = timegm(&tm);
    return 1;
}

int64_t pki_cert_cap_lifetime(X509 *issuer, time_t now, int64_t lifetime, int *capped)
{
    time_t nb, na;

    *capped = 0;
    if (issuer == NULL || pki_cert_validity(issuer, &nb, &na, NULL) != PKI_OK || na <= now ||
        (int64_t)(na - now) >= lifetime)
        return lifetime; /* nothing to cap, or pki_cert_issue will say why not */
    *capped = 1;
    return (int64_t)(na - now);
}

int pki_cert_validity(X509 *cert, time_t *not_before, time_t *not_after, struct pki_err *err)
{
    time_t nb, na;

    if (!asn1_to_time(X509_get0_notBefore(cert), &nb) ||
        !asn1_to_time(X509_get0_notAfter(cert), &na))
        return pki_err_set_ssl(err, PKI_ERR_INPUT, "the certificate's validity dates are malformed");
    *not_before = nb;
    *not_after = na;
    return PKI_OK;
}

/* Copies src into dst, replacing bytes that are not printable ASCII by '?',
 * so a hostile certificate cannot send escape sequences to a terminal. */
static void copy_printable(char *dst, size_t len, const unsigned char *src, int n)
{
    size_t i;

    if (len == 0)
        return;
    for (i = 0; i + 1 < len && (int)i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[i] = '\0';
}

void pki_cert_common_name(X509 *cert, char *buf, size_t len)
{
    X509_NAME *name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *s;

    if (len > 0)
        buf[0] = '\0';
    if (i < 0)
        return;
    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    copy_printable(buf, len, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
}

int pki_cert_is_ca(X509 *cert)
{
    return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

size_t pki_cert_hosts(X509 *cert, char (*out)[PKI_NAME_DNS_MAX + 1], size_t max)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    const ASN1_STRING *s;
    GENERAL_NAME *g;
    size_t n = 0;
    int i, type;

    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && n < max; i++) {
        g = sk_GENERAL_NAME_value(gens, i);
        s = GENERAL_NAME_get0_value(g, &type);
        if (type == GEN_DNS) {
            copy_printable(out[n++], PKI_NAME_DNS_MAX + 1, ASN1_STRING_get0_data(s),
                           ASN1_STRING_length(s));
        } else if (type == GEN_IPADD && (ASN1_STRING_length(s) == 4 || ASN1_STRING_length(s) == 16)) {
            inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s),
                      out[n++], PKI_NAME_DNS_MAX + 1);
        }
    }
    GENERAL_NAMES_free(gens);
    return n;
}

void pki_time_format(time_t t, int style, char *buf, size_t len)
{
    struct tm tm;
    size_t n = 0;

    if (gmtime_r(&t, &tm) != NULL) {
        if (style == 1)
            n = strftime(buf, len, "%Y-%m-%d", &tm);
        else if (style == 2)
            n = strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
        else
            n = strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    if (n == 0 && len > 0)
        snprintf(buf, len, "?");
}
