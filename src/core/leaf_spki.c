/*
 * leaf_spki.c - the SubjectPublicKeyInfo a leaf may carry, checked by
 * walking its DER (RFC 5280 4.1.2.7) without handing it to a decoder: the
 * bytes go into the certificate verbatim, so they must be exactly one
 * well-formed SPKI of a supported algorithm and nothing more.
 */
#include <string.h>

#include "leaf.h"
#include "leaf_der.h"

static const unsigned char oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const unsigned char oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const unsigned char oid_ed25519[] = {0x2b, 0x65, 0x70};

static const struct {
    unsigned char oid[8];
    size_t oid_len, point_len; /* 0x04 || X || Y (SEC 1 2.3.3, uncompressed) */
    const char *name;
} curves[] = {
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 8, 65, "P-256"},
    {{0x2b, 0x81, 0x04, 0x00, 0x22}, 5, 97, "P-384"},
    {{0x2b, 0x81, 0x04, 0x00, 0x23}, 5, 133, "P-521"},
};

#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 8192

static int malformed(struct pki_err *err, const char *what)
{
    return pki_err_set(err, PKI_ERR_INPUT, "malformed SubjectPublicKeyInfo: %s", what);
}

static int same(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* RFC 5480 2.1.1: the parameters are a namedCurve OID (no implicitCurve,
 * no explicit parameters); 2.2: the point uncompressed. */
static int check_ec(const unsigned char *params, size_t plen, const unsigned char *key,
                    size_t klen, struct pki_err *err)
{
    const unsigned char *v;
    unsigned char tag;
    size_t i, n;

    if (pki__der_next(&params, &plen, &tag, &v, &n) != PKI_OK || plen != 0)
        return malformed(err, "EC parameters");
    if (tag != PKI__DER_OID)
        return pki_err_set(err, PKI_ERR_POLICY, "EC key without a named curve (use P-256, "
                           "P-384 or P-521)");
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (!same(v, n, curves[i].oid, curves[i].oid_len))
            continue;
        if (klen > 0 && (key[0] == 0x02 || key[0] == 0x03))
            return pki_err_set(err, PKI_ERR_POLICY, "compressed EC point: pkictl takes "
                               "uncompressed %s points only", curves[i].name);
        if (klen != curves[i].point_len || key[0] != 0x04)
            return malformed(err, "EC point of the wrong form or length");
        return PKI_OK;
    }
    return pki_err_set(err, PKI_ERR_POLICY, "unsupported EC curve (use P-256, P-384 or P-521)");
}

/* A positive INTEGER in minimal form (X.690 8.3.2); its size in bits. */
static int positive_int(const unsigned char *v, size_t n, size_t *bits)
{
    unsigned char top;

    if (n == 0 || (v[0] & 0x80) || (n > 1 && v[0] == 0 && !(v[1] & 0x80)))
        return 0;
    if (v[0] == 0) {
        v++;
        n--;
    }
    if (n == 0)
        return 0; /* the value zero */
    *bits = n * 8;
    for (top = v[0]; !(top & 0x80); top = (unsigned char)(top << 1))
        (*bits)--;
    return 1;
}

/* RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }. */
static int check_rsa(const unsigned char *key, size_t klen, struct pki_err *err)
{
    const unsigned char *seq, *mod, *exp;
    size_t slen, mlen, elen, mbits, ebits;
    unsigned char tag;

    if (pki__der_next(&key, &klen, &tag, &seq, &slen) != PKI_OK || klen != 0 ||
        tag != PKI__DER_SEQUENCE ||
        pki__der_next(&seq, &slen, &tag, &mod, &mlen) != PKI_OK || tag != PKI__DER_INTEGER ||
        pki__der_next(&seq, &slen, &tag, &exp, &elen) != PKI_OK || tag != PKI__DER_INTEGER ||
        slen != 0)
        return malformed(err, "RSAPublicKey");
    if (!positive_int(mod, mlen, &mbits) || !positive_int(exp, elen, &ebits))
        return malformed(err, "RSA modulus or exponent is not a positive minimal INTEGER");
    if (mbits < RSA_BITS_MIN || mbits > RSA_BITS_MAX)
        return pki_err_set(err, PKI_ERR_POLICY, "RSA key of %zu bits is refused (use %d to %d "
                           "bits)", mbits, RSA_BITS_MIN, RSA_BITS_MAX);
    /* An even exponent or one of 1 is no RSA key; over 64 bits OpenSSL refuses it. */
    if (ebits < 2 || ebits > 64 || !(exp[elen - 1] & 1))
        return pki_err_set(err, PKI_ERR_POLICY, "RSA public exponent is invalid");
    return PKI_OK;
}

static int check_alg(const unsigned char *oid, size_t olen, const unsigned char *params,
                     size_t plen, const unsigned char *key, size_t klen,
                     enum pki__spki_kind *kind, struct pki_err *err)
{
    if (same(oid, olen, oid_ec, sizeof(oid_ec))) {
        *kind = PKI__SPKI_EC;
        return check_ec(params, plen, key, klen, err);
    }
    if (same(oid, olen, oid_rsa, sizeof(oid_rsa))) {
        /* RFC 3279 2.3.1: the parameters MUST be NULL. */
        if (plen != 2 || params[0] != PKI__DER_NULL || params[1] != 0)
            return malformed(err, "rsaEncryption parameters must be NULL");
        *kind = PKI__SPKI_RSA;
        return check_rsa(key, klen, err);
    }
    if (same(oid, olen, oid_ed25519, sizeof(oid_ed25519))) {
        /* RFC 8410 3: the parameters MUST be absent. */
        if (plen != 0)
            return malformed(err, "Ed25519 parameters must be absent");
        if (klen != 32)
            return malformed(err, "an Ed25519 key is 32 bytes");
        *kind = PKI__SPKI_ED25519;
        return PKI_OK;
    }
    return pki_err_set(err, PKI_ERR_POLICY, "unsupported public key algorithm (pkictl takes "
                       "EC P-256/P-384/P-521, RSA and Ed25519 keys)");
}

int pki__spki_walk(const unsigned char *der, size_t len, enum pki__spki_kind *kind,
                   const unsigned char **bits, size_t *bits_len, struct pki_err *err)
{
    const unsigned char *spki, *alg, *oid, *bs;
    size_t slen, alen, olen, blen;
    unsigned char tag;
    int rc;

    if (der == NULL || len == 0 || len > PKI_LEAF_SPKI_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "SubjectPublicKeyInfo is empty or larger "
                           "than %d bytes", PKI_LEAF_SPKI_MAX);
    if (pki__der_next(&der, &len, &tag, &spki, &slen) != PKI_OK || tag != PKI__DER_SEQUENCE)
        return malformed(err, "not a DER SEQUENCE");
    if (len != 0)
        return malformed(err, "trailing bytes after the SEQUENCE");
    if (pki__der_next(&spki, &slen, &tag, &alg, &alen) != PKI_OK || tag != PKI__DER_SEQUENCE ||
        pki__der_next(&alg, &alen, &tag, &oid, &olen) != PKI_OK || tag != PKI__DER_OID)
        return malformed(err, "AlgorithmIdentifier");
    if (pki__der_next(&spki, &slen, &tag, &bs, &blen) != PKI_OK ||
        tag != PKI__DER_BIT_STRING || slen != 0)
        return malformed(err, "subjectPublicKey BIT STRING");
    /* Every key format here is whole octets: no unused bits. */
    if (blen < 1 || bs[0] != 0)
        return malformed(err, "subjectPublicKey has unused bits");
    rc = check_alg(oid, olen, alg, alen, bs + 1, blen - 1, kind, err);
    if (rc == PKI_OK) {
        *bits = bs + 1;
        *bits_len = blen - 1;
    }
    return rc;
}

int pki_leaf_spki_check(const unsigned char *der, size_t len, struct pki_err *err)
{
    enum pki__spki_kind kind;
    const unsigned char *bits;
    size_t n;

    return pki__spki_walk(der, len, &kind, &bits, &n, err);
}
