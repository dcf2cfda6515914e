/* cacert.c - roots, intermediates and cross-signatures of the online CA. */
#include "cacert.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "key.h"
#include "leaf.h"

#define TD_MAX 253

/* The trust domain goes into OpenSSL's extension syntax below; only
 * DNS-name bytes may reach it, so no ',' or ';' can add a field. */
static int check_td(const char *td, struct pki_err *err)
{
    size_t i, n = td ? strnlen(td, TD_MAX + 1) : 0;

    if (n == 0 || n > TD_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the trust domain must be 1 to %d bytes", TD_MAX);
    for (i = 0; i < n; i++)
        if (!((td[i] >= 'a' && td[i] <= 'z') || (td[i] >= '0' && td[i] <= '9') ||
              td[i] == '-' || td[i] == '.'))
            return pki_err_set(err, PKI_ERR_INPUT, "invalid trust domain \"%.80s\" (a "
                               "lower-case DNS name)", td);
    return PKI_OK;
}

static int check_cn(const char *cn, struct pki_err *err)
{
    size_t i, n = cn ? strnlen(cn, PKI_CACERT_CN_MAX + 1) : 0;

    if (n == 0 || n > PKI_CACERT_CN_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the CA common name must be 1 to %d bytes",
                           PKI_CACERT_CN_MAX);
    for (i = 0; i < n; i++)
        if ((unsigned char)cn[i] < 0x20 || (unsigned char)cn[i] > 0x7e)
            return pki_err_set(err, PKI_ERR_INPUT, "the CA common name must be printable "
                               "ASCII");
    return PKI_OK;
}

/* 64 random bits, top bit clear: positive, and a uint64 for Consul's API. */
static int set_serial(X509 *x, struct pki_err *err)
{
    unsigned char b[8];
    BIGNUM *bn = NULL;
    int rc = PKI_OK;

    do {
        if (RAND_bytes(b, sizeof(b)) != 1)
            return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot draw a random serial number");
        b[0] &= 0x7f;
    } while (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0);
    bn = BN_bin2bn(b, sizeof(b), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the serial number");
    BN_free(bn);
    return rc;
}

static int add_extensions(X509 *x, const struct pki_cacert_params *p, struct pki_err *err)
{
    char uri[TD_MAX + 32], nc[TD_MAX + 32];
    X509V3_CTX ctx;
    int rc;

    /* The SKI goes in before the AKI: for a root the AKI copies it. */
    X509V3_set_ctx(&ctx, p->issuer ? p->issuer : x, x, NULL, NULL, 0);
    snprintf(uri, sizeof(uri), "URI:spiffe://%s", p->trust_domain);
    /* OpenSSL and Go match a URI constraint without a leading '.' against
     * the URI's host exactly: leaves can name no other trust domain. */
    snprintf(nc, sizeof(nc), "critical,permitted;URI:%s", p->trust_domain);
    rc = pki_cert_add_ext(x, &ctx, NID_basic_constraints,
                 p->issuer ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE", err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature",
                     err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_subject_alt_name, uri, err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_name_constraints, nc, err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
    if (rc == PKI_OK)
        rc = pki_cert_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
    return rc;
}

static int set_times(X509 *x, time_t nb, time_t na, struct pki_err *err)
{
    /* ASN1_TIME_set picks UTCTime through 2049 (RFC 5280 4.1.2.5). */
    if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL)
        return pki_err_set_ssl(err, PKI_ERR_INPUT, "cannot represent the validity period");
    return PKI_OK;
}

static int asn1_time(const ASN1_TIME *a, time_t *t)
{
    struct tm tm;

    if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
        return 0;
    *t = timegm(&tm);
    return 1;
}

/* The issuer of a CA certificate: a CA, its key, allowing a CA below it,
 * valid over [nb, na]. */
static int check_issuer(X509 *issuer, EVP_PKEY *key, time_t nb, time_t na, int for_ca,
                        struct pki_err *err)
{
    time_t inb, ina;

    if (key == NULL || !pki_key_matches_cert(key, issuer))
        return pki_err_set(err, PKI_ERR_POLICY, "the signing key does not match its "
                           "certificate");
    if (!(X509_get_extension_flags(issuer) & EXFLAG_CA))
        return pki_err_set(err, PKI_ERR_POLICY, "the signing certificate is not a CA");
    /* RFC 5280 4.2.1.9: pathLenConstraint 0 allows no CA below. */
    if (for_ca && X509_get_pathlen(issuer) == 0)
        return pki_err_set(err, PKI_ERR_POLICY, "the signing certificate has path length 0: "
                           "it cannot sign a CA");
    if (!asn1_time(X509_get0_notBefore(issuer), &inb) ||
        !asn1_time(X509_get0_notAfter(issuer), &ina))
        return pki_err_set(err, PKI_ERR_INPUT, "the signing certificate's dates are malformed");
    if (na > ina || nb >= ina)
        return pki_err_set(err, PKI_ERR_POLICY, "the signing certificate expires before the "
                           "new one would");
    return PKI_OK;
}

static X509 *sign_or_free(X509 *x, EVP_PKEY *key, struct pki_err *err)
{
    if (X509_sign(x, key, pki_key_sign_digest(key)) <= 0) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "signing the CA certificate failed");
        X509_free(x);
        return NULL;
    }
    return x;
}

X509 *pki_cacert_issue(const struct pki_cacert_params *p, struct pki_err *err)
{
    EVP_PKEY *signer = p->issuer ? p->issuer_key : p->key;
    X509_NAME *name;
    X509 *x = NULL;

    if (check_cn(p->common_name, err) != PKI_OK || check_td(p->trust_domain, err) != PKI_OK)
        return NULL;
    if (p->key == NULL || p->not_before < 0 || p->not_before >= p->not_after) {
        pki_err_set(err, PKI_ERR_USAGE, "CA certificate: no key or an empty validity period");
        return NULL;
    }
    if (p->issuer != NULL &&
        check_issuer(p->issuer, p->issuer_key, p->not_before, p->not_after, 1, err) != PKI_OK)
        return NULL;
    if ((x = X509_new()) == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    name = X509_get_subject_name(x);
    if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_pubkey(x, p->key) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)p->common_name, -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, p->issuer ? X509_get_subject_name(p->issuer) : name) != 1) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot build the CA certificate");
        goto fail;
    }
    if (set_serial(x, err) != PKI_OK || set_times(x, p->not_before, p->not_after, err) != PKI_OK ||
        add_extensions(x, p, err) != PKI_OK)
        goto fail;
    return sign_or_free(x, signer, err);
fail:
    X509_free(x);
    return NULL;
}

static int replace_aki(X509 *y, X509 *signer, struct pki_err *err)
{
    X509V3_CTX ctx;
    int i;

    while ((i = X509_get_ext_by_NID(y, NID_authority_key_identifier, -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(y, i));
    X509V3_set_ctx(&ctx, signer, y, NULL, NULL, 0);
    return pki_cert_add_ext(y, &ctx, NID_authority_key_identifier, "keyid:always", err);
}

X509 *pki_cacert_cross_sign(X509 *cert, X509 *signer, EVP_PKEY *signer_key, time_t now,
                            struct pki_err *err)
{
    time_t nb, na, sna;
    X509 *y = NULL;

    if (cert == NULL || signer == NULL || !(X509_get_extension_flags(cert) & EXFLAG_CA)) {
        pki_err_set(err, PKI_ERR_POLICY, "only a CA certificate can be cross-signed");
        return NULL;
    }
    if (!asn1_time(X509_get0_notBefore(cert), &nb) || !asn1_time(X509_get0_notAfter(cert), &na) ||
        !asn1_time(X509_get0_notAfter(signer), &sna)) {
        pki_err_set(err, PKI_ERR_INPUT, "a certificate's dates are malformed");
        return NULL;
    }
    if (na > sna)
        na = sna;
    if (now >= sna) {
        pki_err_set(err, PKI_ERR_POLICY, "the signing certificate has expired");
        return NULL;
    }
    if (check_issuer(signer, signer_key, nb, na, 1, err) != PKI_OK)
        return NULL;
    if ((y = X509_dup(cert)) == NULL) {
        pki_err_set_ssl(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (X509_set_issuer_name(y, X509_get_subject_name(signer)) != 1) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot set the cross-signed issuer name");
        goto fail;
    }
    if (set_serial(y, err) != PKI_OK || set_times(y, nb, na, err) != PKI_OK ||
        replace_aki(y, signer, err) != PKI_OK)
        goto fail;
    return sign_or_free(y, signer_key, err);
fail:
    X509_free(y);
    return NULL;
}

int pki_cacert_key_id(EVP_PKEY *key, char out[PKI_KEY_ID_LEN], struct pki_err *err)
{
    X509_PUBKEY *xp = NULL;
    const unsigned char *bits = NULL;
    unsigned char md[20];
    int n = 0, rc = PKI_OK;

    if (key == NULL || X509_PUBKEY_set(&xp, key) != 1 ||
        X509_PUBKEY_get0_param(NULL, &bits, &n, NULL, xp) != 1 ||
        EVP_Digest(bits, (size_t)n, md, NULL, EVP_sha1(), NULL) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot compute the key id");
    else
        pki_hex_colon(md, sizeof(md), out);
    X509_PUBKEY_free(xp);
    return rc;
}
