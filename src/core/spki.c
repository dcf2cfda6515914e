/* spki.c - subjectPublicKeyInfo and key identifiers without a decoder round trip. */
#include "spki.h"

#include <openssl/core_names.h>
#include <openssl/x509v3.h>
#include <string.h>

#define EC_POINT_MAX 133 /* uncompressed P-521 point */

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 3279). */
static int rsa_public_der(EVP_PKEY *key, unsigned char **out, int *outlen)
{
    BIGNUM *n = NULL, *e = NULL;
    ASN1_INTEGER *an = NULL, *ae = NULL;
    unsigned char *der = NULL, *p;
    int ln, le, body, hdr, ok = 0;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
        (an = BN_to_ASN1_INTEGER(n, NULL)) == NULL || (ae = BN_to_ASN1_INTEGER(e, NULL)) == NULL)
        goto out;
    ln = i2d_ASN1_INTEGER(an, NULL);
    le = i2d_ASN1_INTEGER(ae, NULL);
    if (ln <= 0 || le <= 0)
        goto out;
    body = ln + le;
    hdr = ASN1_object_size(1, body, V_ASN1_SEQUENCE) - body;
    der = OPENSSL_malloc((size_t)(hdr + body));
    if (der == NULL)
        goto out;
    p = der;
    ASN1_put_object(&p, 1, body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
    i2d_ASN1_INTEGER(an, &p);
    i2d_ASN1_INTEGER(ae, &p);
    *out = der;
    *outlen = hdr + body;
    der = NULL;
    ok = 1;
out:
    OPENSSL_free(der);
    ASN1_INTEGER_free(an);
    ASN1_INTEGER_free(ae);
    BN_free(n);
    BN_free(e);
    return ok;
}

/* The EC point, uncompressed (RFC 5480 section 2.2), and the curve's OID. */
static int ec_public(EVP_PKEY *key, unsigned char **out, int *outlen, ASN1_OBJECT **curve)
{
    char group[64];
    size_t len = 0;
    int nid;

    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1 ||
        (nid = OBJ_txt2nid(group)) == NID_undef ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0,
                                        &len) != 1 ||
        len == 0 || len > EC_POINT_MAX || (*out = OPENSSL_malloc(len)) == NULL)
        return 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, *out, len,
                                        &len) != 1) {
        OPENSSL_free(*out);
        return 0;
    }
    *outlen = (int)len;
    *curve = OBJ_nid2obj(nid);
    return 1;
}

/* The raw 32-byte key (RFC 8410 section 4); the algorithm has no parameters. */
static int ed25519_public(EVP_PKEY *key, unsigned char **out, int *outlen)
{
    size_t len = 32;

    *out = OPENSSL_malloc(len);
    if (*out == NULL)
        return 0;
    if (EVP_PKEY_get_raw_public_key(key, *out, &len) != 1 || len != 32) {
        OPENSSL_free(*out);
        return 0;
    }
    *outlen = (int)len;
    return 1;
}

int pki_spki_set(X509 *x, EVP_PKEY *key, struct pki_err *err)
{
    X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
    unsigned char *penc = NULL;
    ASN1_OBJECT *curve = NULL;
    int len = 0, ok = 0;

    if (EVP_PKEY_is_a(key, "RSA") && rsa_public_der(key, &penc, &len))
        ok = X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, NULL,
                                    penc, len);
    else if (EVP_PKEY_is_a(key, "EC") && ec_public(key, &penc, &len, &curve))
        ok = X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                                    curve, penc, len);
    else if (EVP_PKEY_is_a(key, "ED25519") && ed25519_public(key, &penc, &len))
        ok = X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, NULL, penc,
                                    len);
    if (ok != 1) {
        OPENSSL_free(penc); /* set0 took it only on success */
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot encode the %s public key",
                               EVP_PKEY_get0_type_name(key));
    }
    return PKI_OK;
}

/* SHA-1 of the subjectPublicKey BIT STRING's value: a name, not a security use. */
static ASN1_OCTET_STRING *key_id_of(X509 *x)
{
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ASN1_OCTET_STRING *id;

    if (bits == NULL ||
        EVP_Digest(bits->data, (size_t)bits->length, md, &mdlen, EVP_sha1(), NULL) != 1)
        return NULL;
    id = ASN1_OCTET_STRING_new();
    if (id != NULL && ASN1_OCTET_STRING_set(id, md, (int)mdlen) != 1) {
        ASN1_OCTET_STRING_free(id);
        id = NULL;
    }
    return id;
}

/* The issuer's own key identifier, or one computed from its key if it has none. */
static ASN1_OCTET_STRING *issuer_key_id(X509 *issuer)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);

    return ski != NULL ? ASN1_OCTET_STRING_dup(ski) : key_id_of(issuer);
}

int pki_spki_add_key_ids(X509 *x, X509 *issuer, struct pki_err *err)
{
    ASN1_OCTET_STRING *ski = key_id_of(x);
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    int rc = PKI_OK;

    if (ski == NULL || akid == NULL) {
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot compute the key identifier");
        goto out;
    }
    akid->keyid = issuer != NULL ? issuer_key_id(issuer) : ASN1_OCTET_STRING_dup(ski);
    if (akid->keyid == NULL ||
        X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) != 1 ||
        X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot add the key identifier extensions");
out:
    ASN1_OCTET_STRING_free(ski);
    AUTHORITY_KEYID_free(akid);
    return rc;
}
