/*
 * csrfast_verify.c - the CSR's signature (RFC 2986 section 4.2: over the
 * DER of certificationRequestInfo, with the key it holds). The algorithm
 * must suit the key; the key is built from the SPKI's fields, never through
 * a decoder (EC: the point set on the curve's key, which is reused; RSA:
 * EVP_PKEY_fromdata; Ed25519: raw bytes), and ECDSA and RSA verify a digest
 * made with a fetched SHA-2.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "csrfast_int.h"

#define CURVES 3

/* One EC key per curve, made once and given each CSR's point in place; its
 * verify context is initialised once (EVP_PKEY_verify_init fetches the
 * signature method each time) and used for every CSR on that curve, which
 * sees the new point: the context holds the same provider key. Setting a
 * point and then building a fresh key and context cost ~60k instructions
 * per CSR, a tenth of the P-256 verify. */
struct pki_csr_verifier {
    EVP_MD *md[PKI__CSR_MD_COUNT];
    EVP_MD_CTX *mctx;           /* the digest, or Ed25519's DigestVerify */
    EVP_PKEY *ec[CURVES];       /* the curve's parameters and the last CSR's point */
    EVP_PKEY_CTX *ec_ctx[CURVES]; /* verify_init'ed on ec[], made at the first point */
    EVP_PKEY_CTX *rsa_from;     /* EVP_PKEY_fromdata_init'ed once, used per CSR */
};

static const char *const md_names[PKI__CSR_MD_COUNT] = {"SHA256", "SHA384", "SHA512"};

#define OID_MAX 9

static const struct {
    unsigned char oid[OID_MAX];
    size_t len;
    enum pki__spki_kind kind;
    enum pki__csr_md md;
    const char *name;
} sig_algs[] = {
    /* RFC 5758 3.2: ecdsa-with-SHA*, the parameters absent. */
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, 8, PKI__SPKI_EC, PKI__CSR_SHA256,
     "ecdsa-with-SHA256"},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, 8, PKI__SPKI_EC, PKI__CSR_SHA384,
     "ecdsa-with-SHA384"},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, 8, PKI__SPKI_EC, PKI__CSR_SHA512,
     "ecdsa-with-SHA512"},
    /* RFC 4055 5: NULL parameters, and "implementations MUST accept the
     * parameters being absent as well as present". */
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, 9, PKI__SPKI_RSA, PKI__CSR_SHA256,
     "sha256WithRSAEncryption"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c}, 9, PKI__SPKI_RSA, PKI__CSR_SHA384,
     "sha384WithRSAEncryption"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d}, 9, PKI__SPKI_RSA, PKI__CSR_SHA512,
     "sha512WithRSAEncryption"},
    /* RFC 8410 3: id-Ed25519, the parameters absent. */
    {{0x2b, 0x65, 0x70}, 3, PKI__SPKI_ED25519, PKI__CSR_MD_NONE, "Ed25519"},
};

/* Broken digests, named so the client knows what to change. */
static const struct {
    unsigned char oid[OID_MAX];
    size_t len;
    const char *name;
} weak_algs[] = {
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01}, 7, "ecdsa-with-SHA1"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05}, 9, "sha1WithRSAEncryption"},
    {{0x2b, 0x0e, 0x03, 0x02, 0x1d}, 5, "sha1WithRSASignature"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04}, 9, "md5WithRSAEncryption"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x03}, 9, "md4WithRSAEncryption"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x02}, 9, "md2WithRSAEncryption"},
};

static const struct {
    unsigned char oid[8];
    size_t len;
    const char *group;
} curves[CURVES] = {
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 8, "prime256v1"},
    {{0x2b, 0x81, 0x04, 0x00, 0x22}, 5, "secp384r1"},
    {{0x2b, 0x81, 0x04, 0x00, 0x23}, 5, "secp521r1"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *kind_name(enum pki__spki_kind kind)
{
    return kind == PKI__SPKI_EC ? "EC" : kind == PKI__SPKI_RSA ? "RSA" : "Ed25519";
}

static int same(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

int pki__csr_sig_alg(const unsigned char *alg, size_t len, struct pki__csr_sig *s,
                     struct pki_err *err)
{
    const unsigned char *oid;
    size_t olen, i;
    unsigned char tag;

    if (pki__der_next(&alg, &len, &tag, &oid, &olen) != PKI_OK || tag != PKI__DER_OID)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is not DER: signature algorithm OBJECT "
                           "IDENTIFIER expected");
    for (i = 0; i < COUNT(weak_algs); i++)
        if (same(oid, olen, weak_algs[i].oid, weak_algs[i].len))
            return pki_err_set(err, PKI_ERR_INPUT, "the CSR is signed with %s: SHA-1 and MD5 "
                               "signatures are refused, sign it with SHA-256 or better",
                               weak_algs[i].name);
    for (i = 0; i < COUNT(sig_algs) && !same(oid, olen, sig_algs[i].oid, sig_algs[i].len); i++)
        ;
    if (i == COUNT(sig_algs))
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's signature algorithm is not supported "
                           "(use ECDSA or RSA PKCS #1 v1.5 with SHA-256/384/512, or Ed25519)");
    if (len != 0 && !(sig_algs[i].kind == PKI__SPKI_RSA && len == 2 && alg[0] == PKI__DER_NULL &&
                      alg[1] == 0))
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's %s algorithm has parameters it must "
                           "not have", sig_algs[i].name);
    if (sig_algs[i].kind != s->kind)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR is signed with %s, which does not suit "
                           "its %s key", sig_algs[i].name, kind_name(s->kind));
    s->md = sig_algs[i].md;
    return PKI_OK;
}

/* The namedCurve of an SPKI pki__spki_walk accepted: its index in curves. */
static int ec_curve(const unsigned char *spki, size_t len)
{
    const unsigned char *body, *alg, *oid;
    size_t blen, alen, olen, i;
    unsigned char tag;

    if (pki__der_next(&spki, &len, &tag, &body, &blen) != PKI_OK ||
        pki__der_next(&body, &blen, &tag, &alg, &alen) != PKI_OK ||
        pki__der_next(&alg, &alen, &tag, &oid, &olen) != PKI_OK ||
        pki__der_next(&alg, &alen, &tag, &oid, &olen) != PKI_OK)
        return -1;
    for (i = 0; i < COUNT(curves); i++)
        if (same(oid, olen, curves[i].oid, curves[i].len))
            return (int)i;
    return -1;
}

/* The curve's key, holding the CSR's point now (the import checks it is on
 * the curve, SEC 1 3.2.2.1), and its verify context. NULL if the point is
 * not valid: the key then holds no point a later CSR could meet, because
 * every CSR sets its own before it is verified. */
static EVP_PKEY_CTX *ec_ctx(struct pki_csr_verifier *v, const struct pki__csr_sig *s,
                            const unsigned char *spki, size_t spki_len)
{
    int c = ec_curve(spki, spki_len);

    if (c < 0 || EVP_PKEY_set1_encoded_public_key(v->ec[c], s->key, s->key_len) != 1)
        return NULL;
    if (v->ec_ctx[c] == NULL) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, v->ec[c], NULL);

        if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1) {
            EVP_PKEY_CTX_free(ctx);
            return NULL;
        }
        v->ec_ctx[c] = ctx;
    }
    return v->ec_ctx[c];
}

/* RSAPublicKey ::= SEQUENCE { modulus, publicExponent } (RFC 8017 A.1.1),
 * already checked by the SPKI walk. */
static EVP_PKEY *rsa_key(struct pki_csr_verifier *v, const struct pki__csr_sig *s)
{
    const unsigned char *p = s->key, *seq, *mod, *exp;
    size_t n = s->key_len, slen, mlen, elen;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *key = NULL;
    unsigned char tag;

    if (pki__der_next(&p, &n, &tag, &seq, &slen) != PKI_OK ||
        pki__der_next(&seq, &slen, &tag, &mod, &mlen) != PKI_OK ||
        pki__der_next(&seq, &slen, &tag, &exp, &elen) != PKI_OK)
        return NULL;
    if ((bn_n = BN_bin2bn(mod, (int)mlen, NULL)) != NULL &&
        (bn_e = BN_bin2bn(exp, (int)elen, NULL)) != NULL && (bld = OSSL_PARAM_BLD_new()) != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
        EVP_PKEY_fromdata(v->rsa_from, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL; /* already: fromdata frees the key it made when it fails */
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_e);
    BN_free(bn_n);
    return key;
}

/* The CRI's digest. */
static int digest(struct pki_csr_verifier *v, const struct pki__csr_sig *s,
                  unsigned char dg[EVP_MAX_MD_SIZE], unsigned int *dlen)
{
    return EVP_DigestInit_ex2(v->mctx, v->md[s->md], NULL) == 1 &&
                   EVP_DigestUpdate(v->mctx, s->tbs, s->tbs_len) == 1 &&
                   EVP_DigestFinal_ex(v->mctx, dg, dlen) == 1
               ? 0
               : -1;
}

/* ECDSA: a digest of the CRI, verified with the curve's context. 1
 * verified, 0 not, -1 error. */
static int check_ecdsa(struct pki_csr_verifier *v, EVP_PKEY_CTX *ctx,
                       const struct pki__csr_sig *s)
{
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;

    if (digest(v, s, dg, &dlen) < 0)
        return -1;
    return EVP_PKEY_verify(ctx, s->sig, s->sig_len, dg, dlen) == 1;
}

/* RSA PKCS #1 v1.5: a digest of the CRI, verified. */
static int check_rsa(struct pki_csr_verifier *v, EVP_PKEY *key, const struct pki__csr_sig *s)
{
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_PKEY_CTX *ctx;
    int ok;

    if (digest(v, s, dg, &dlen) < 0)
        return -1;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, v->md[s->md]) != 1)
        ok = -1;
    else
        ok = EVP_PKEY_verify(ctx, s->sig, s->sig_len, dg, dlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Ed25519 (RFC 8032 5.1.7) hashes the message itself. */
static int check_ed25519(struct pki_csr_verifier *v, EVP_PKEY *key, const struct pki__csr_sig *s)
{
    int ok;

    if (EVP_DigestVerifyInit_ex(v->mctx, NULL, NULL, NULL, NULL, key, NULL) != 1)
        ok = -1;
    else
        ok = EVP_DigestVerify(v->mctx, s->sig, s->sig_len, s->tbs, s->tbs_len) == 1;
    EVP_MD_CTX_reset(v->mctx);
    return ok;
}

int pki__csr_sig_verify(struct pki_csr_verifier *v, const struct pki__csr_sig *s,
                        const unsigned char *spki, size_t spki_len, struct pki_err *err)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;
    int ok = -1;

    if (s->kind == PKI__SPKI_EC)
        ctx = ec_ctx(v, s, spki, spki_len);
    else if (s->kind == PKI__SPKI_RSA)
        key = rsa_key(v, s);
    else
        key = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, s->key, s->key_len);
    if (ctx == NULL && key == NULL) {
        ERR_clear_error();
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's public key is not a valid %s key%s",
                           kind_name(s->kind), s->kind == PKI__SPKI_EC ? " (the point is not "
                           "on its curve)" : "");
    }
    if (s->kind == PKI__SPKI_EC)
        ok = check_ecdsa(v, ctx, s);
    else if (s->kind == PKI__SPKI_RSA)
        ok = check_rsa(v, key, s);
    else
        ok = check_ed25519(v, key, s);
    EVP_PKEY_free(key);
    if (ok < 0)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot check the CSR's signature");
    ERR_clear_error();
    if (!ok)
        return pki_err_set(err, PKI_ERR_INPUT, "the CSR's signature does not verify (it was "
                           "altered, or not made by the key the CSR holds)");
    return PKI_OK;
}

void pki_csr_verifier_free(struct pki_csr_verifier *v)
{
    if (v == NULL)
        return;
    EVP_PKEY_CTX_free(v->rsa_from);
    for (int i = 0; i < CURVES; i++) {
        EVP_PKEY_CTX_free(v->ec_ctx[i]);
        EVP_PKEY_free(v->ec[i]);
    }
    EVP_MD_CTX_free(v->mctx);
    for (int i = 0; i < PKI__CSR_MD_COUNT; i++)
        EVP_MD_free(v->md[i]);
    free(v);
}

/* An EC key holding only the domain parameters of a named curve. */
static EVP_PKEY *ec_params(const char *group)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[2];
    EVP_PKEY *key = NULL;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEY_PARAMETERS, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

struct pki_csr_verifier *pki_csr_verifier_new(struct pki_err *err)
{
    struct pki_csr_verifier *v = calloc(1, sizeof(*v));
    int ok;

    if (v == NULL) {
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    ok = (v->mctx = EVP_MD_CTX_new()) != NULL &&
         (v->rsa_from = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) != NULL &&
         EVP_PKEY_fromdata_init(v->rsa_from) == 1;
    for (int i = 0; ok && i < PKI__CSR_MD_COUNT; i++)
        ok = (v->md[i] = EVP_MD_fetch(NULL, md_names[i], NULL)) != NULL;
    for (int i = 0; ok && i < CURVES; i++)
        ok = (v->ec[i] = ec_params(curves[i].group)) != NULL;
    if (!ok) {
        pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot prepare the CSR verifier (SHA-2, EC or RSA "
                        "missing from the providers)");
        pki_csr_verifier_free(v);
        return NULL;
    }
    return v;
}
