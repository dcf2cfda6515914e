/*
 * leaf.c - issuing leaf certificates on the fast path: the TBSCertificate
 * is written with leaf_der.c from fields prepared once per issuer, hashed
 * and signed with contexts prepared once. Building an X509 object per leaf
 * cost ~5.2M instructions, three quarters of them outside the signature.
 */
#include "leaf.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "leaf_der.h"
#include "name.h"
#include "spiffe.h"

#define ISSUER_NAME_MAX 1024
#define KEYID_MAX 64
#define ALG_MAX 16
#define CN_MAX 64
/* The largest leaf: SPKI 2 KiB, 16 DNS names of 253, a 512-byte URI, a
 * 1 KiB issuer name and an RSA 8192 signature fit with room to spare. */
#define ARENA_SIZE 16384
#define SERIAL_POOL 32

struct pki_leaf_issuer {
    EVP_PKEY *key;
    EVP_MD *md;             /* NULL for Ed25519, which hashes by its own scheme */
    EVP_MD *sha1;           /* the SKI (RFC 5280 4.2.1.2 method 1) */
    EVP_PKEY_CTX *sign_ctx; /* ECDSA and RSA: sign_init'ed once, signs digests */
    EVP_MD_CTX *md_ctx;     /* the TBS digest, or Ed25519's DigestSign */
    EVP_MD_CTX *ski_ctx;
    unsigned char name[ISSUER_NAME_MAX];
    size_t name_len;
    unsigned char keyid[KEYID_MAX];
    size_t keyid_len;
    unsigned char alg[ALG_MAX]; /* signature AlgorithmIdentifier DER */
    size_t alg_len;
    time_t not_before, not_after;
    unsigned char *sig;
    size_t sig_max;
    /* Serials drawn SERIAL_POOL at a time (one trip through the DRBG
     * instead of one per leaf); refilled in a forked child, which must not
     * hand out its parent's. */
    unsigned char serials[SERIAL_POOL * PKI_LEAF_SERIAL_LEN];
    size_t serials_left;
    pid_t serials_pid;
    unsigned char arena[ARENA_SIZE];
};

static const struct {
    const char *digest; /* NULL: Ed25519 */
    unsigned char der[ALG_MAX];
    size_t len;
} algs[] = {
    /* RFC 5758 3.2: ecdsa-with-SHA* with the parameters absent. */
    {"SHA256", {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, 12},
    {"SHA384", {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, 12},
    {"SHA512", {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, 12},
    /* RFC 4055 5: sha256WithRSAEncryption with NULL parameters. */
    {"SHA256", {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
                0x05, 0x00}, 15},
    /* RFC 8410 3: id-Ed25519, parameters absent. */
    {NULL, {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70}, 7},
};
enum { ALG_ES256, ALG_ES384, ALG_ES512, ALG_RS256, ALG_ED25519, ALG_NONE };

static const unsigned char oid_cn[] = {0x55, 0x04, 0x03};
static const unsigned char oid_bc[] = {0x55, 0x1d, 0x13};
static const unsigned char oid_ku[] = {0x55, 0x1d, 0x0f};
static const unsigned char oid_eku[] = {0x55, 0x1d, 0x25};
static const unsigned char oid_ski[] = {0x55, 0x1d, 0x0e};
static const unsigned char oid_aki[] = {0x55, 0x1d, 0x23};
static const unsigned char oid_san[] = {0x55, 0x1d, 0x11};
static const unsigned char oid_server_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const unsigned char oid_client_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};

/* ---- the issuer, prepared once ------------------------------------------ */

/* The issuer's algorithm: only the keys pkictl signs with (key.h). */
static int issuer_alg(EVP_PKEY *key)
{
    char group[32] = "";

    if (EVP_PKEY_is_a(key, "ED25519"))
        return ALG_ED25519;
    if (EVP_PKEY_is_a(key, "RSA"))
        return EVP_PKEY_get_bits(key) >= 2048 ? ALG_RS256 : ALG_NONE;
    if (!EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1)
        return ALG_NONE;
    return strcmp(group, "prime256v1") == 0 ? ALG_ES256
         : strcmp(group, "secp384r1") == 0  ? ALG_ES384
         : strcmp(group, "secp521r1") == 0  ? ALG_ES512 : ALG_NONE;
}

static int asn1_time(const ASN1_TIME *a, time_t *t)
{
    struct tm tm;

    if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
        return 0;
    *t = timegm(&tm);
    return 1;
}

static int sha1(EVP_MD_CTX *ctx, const EVP_MD *md, const unsigned char *p, size_t n,
                unsigned char out[20])
{
    return EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 &&
           EVP_DigestFinal_ex(ctx, out, NULL) == 1;
}

/* What the leaves copy from the certificate: subject, key id, validity. */
static int issuer_copy_cert(struct pki_leaf_issuer *iss, X509 *cert, struct pki_err *err)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
    const ASN1_BIT_STRING *pub = X509_get0_pubkey_bitstr(cert);
    unsigned char *p = iss->name;
    int n = i2d_X509_NAME(X509_get_subject_name(cert), NULL);

    if (n <= 2 || n > ISSUER_NAME_MAX || i2d_X509_NAME(X509_get_subject_name(cert), &p) != n)
        return pki_err_set_ssl(err, PKI_ERR_INPUT, "the issuer's subject is empty or longer "
                               "than %d bytes", ISSUER_NAME_MAX);
    iss->name_len = (size_t)n;
    if (ski != NULL && ASN1_STRING_length(ski) > 0 && ASN1_STRING_length(ski) <= KEYID_MAX) {
        iss->keyid_len = (size_t)ASN1_STRING_length(ski);
        memcpy(iss->keyid, ASN1_STRING_get0_data(ski), iss->keyid_len);
    } else if (pub != NULL && sha1(iss->ski_ctx, iss->sha1, ASN1_STRING_get0_data(pub),
                                   (size_t)ASN1_STRING_length(pub), iss->keyid)) {
        iss->keyid_len = 20; /* no usable SKI: the AKI names the key by method 1 */
    } else {
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot compute the issuer's key id");
    }
    if (!asn1_time(X509_get0_notBefore(cert), &iss->not_before) ||
        !asn1_time(X509_get0_notAfter(cert), &iss->not_after))
        return pki_err_set(err, PKI_ERR_INPUT, "the issuer's validity dates are malformed");
    return PKI_OK;
}

static int issuer_check(X509 *cert, EVP_PKEY *key, int alg, struct pki_err *err)
{
    uint32_t flags = X509_get_extension_flags(cert);

    if (EVP_PKEY_eq(key, X509_get0_pubkey(cert)) != 1)
        return pki_err_set(err, PKI_ERR_POLICY, "the CA key does not match the CA certificate");
    if (!(flags & EXFLAG_CA))
        return pki_err_set(err, PKI_ERR_POLICY, "the issuer certificate is not a CA "
                           "(it lacks basicConstraints CA:TRUE)");
    /* RFC 5280 4.2.1.3: a CA key signs certificates only with keyCertSign. */
    if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN))
        return pki_err_set(err, PKI_ERR_POLICY, "the issuer's keyUsage lacks keyCertSign");
    if (alg == ALG_NONE)
        return pki_err_set(err, PKI_ERR_POLICY, "unsupported issuer key (pkictl signs with "
                           "EC P-256/P-384/P-521, RSA 2048+ and Ed25519 keys)");
    return PKI_OK;
}

static int issuer_contexts(struct pki_leaf_issuer *iss, int alg, struct pki_err *err)
{
    iss->sig_max = (size_t)EVP_PKEY_get_size(iss->key);
    iss->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    iss->md_ctx = EVP_MD_CTX_new();
    iss->ski_ctx = EVP_MD_CTX_new();
    iss->sig = OPENSSL_malloc(iss->sig_max > 0 ? iss->sig_max : 1);
    if (iss->sha1 == NULL || iss->md_ctx == NULL || iss->ski_ctx == NULL || iss->sig == NULL)
        return pki_err_set_ssl(err, PKI_ERR_INTERNAL, "cannot prepare the issuer's digests");
    if (algs[alg].digest == NULL)
        return PKI_OK;
    iss->md = EVP_MD_fetch(NULL, algs[alg].digest, NULL);
    iss->sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, iss->key, NULL);
    if (iss->md == NULL || iss->sign_ctx == NULL || EVP_PKEY_sign_init(iss->sign_ctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(iss->sign_ctx, iss->md) != 1)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot prepare the issuer's signing key");
    return PKI_OK;
}

struct pki_leaf_issuer *pki_leaf_issuer_new(X509 *cert, EVP_PKEY *key, struct pki_err *err)
{
    struct pki_leaf_issuer *iss = NULL;
    int alg;

    if (cert == NULL || key == NULL) {
        pki_err_set(err, PKI_ERR_USAGE, "leaf issuer: no certificate or key");
        return NULL;
    }
    alg = issuer_alg(key);
    if (issuer_check(cert, key, alg, err) != PKI_OK)
        return NULL;
    if ((iss = OPENSSL_zalloc(sizeof(*iss))) == NULL) {
        pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (EVP_PKEY_up_ref(key) != 1) {
        OPENSSL_free(iss);
        pki_err_set(err, PKI_ERR_INTERNAL, "cannot take a reference to the issuer key");
        return NULL;
    }
    iss->key = key;
    memcpy(iss->alg, algs[alg].der, algs[alg].len);
    iss->alg_len = algs[alg].len;
    if (issuer_contexts(iss, alg, err) != PKI_OK || issuer_copy_cert(iss, cert, err) != PKI_OK) {
        pki_leaf_issuer_free(iss);
        return NULL;
    }
    return iss;
}

void pki_leaf_issuer_free(struct pki_leaf_issuer *iss)
{
    if (iss == NULL)
        return;
    EVP_PKEY_CTX_free(iss->sign_ctx);
    EVP_MD_CTX_free(iss->md_ctx);
    EVP_MD_CTX_free(iss->ski_ctx);
    EVP_MD_free(iss->md);
    EVP_MD_free(iss->sha1);
    EVP_PKEY_free(iss->key);
    OPENSSL_free(iss->sig);
    OPENSSL_clear_free(iss, sizeof(*iss));
}

time_t pki_leaf_issuer_not_after(const struct pki_leaf_issuer *iss)
{
    return iss->not_after;
}

void pki_hex_colon(const unsigned char *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[3 * i] = hex[data[i] >> 4];
        out[3 * i + 1] = hex[data[i] & 15];
        out[3 * i + 2] = i + 1 < len ? ':' : '\0';
    }
}

/* ---- the request --------------------------------------------------------- */

static void fmt_time(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
}

static int check_times(const struct pki_leaf_issuer *iss, const struct pki_leaf_req *req,
                       struct pki_err *err)
{
    char a[40], b[40];

    if (req->not_before < 0 || req->not_after > PKI__DER_TIME_MAX ||
        req->not_before >= req->not_after)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid leaf validity: notBefore must come "
                           "before notAfter, both between 1970 and 9999");
    if (req->not_after > iss->not_after) {
        fmt_time(req->not_after, a, sizeof(a));
        fmt_time(iss->not_after, b, sizeof(b));
        return pki_err_set(err, PKI_ERR_POLICY, "the leaf would end on %s, after its issuer "
                           "expires on %s", a, b);
    }
    if (req->not_before < iss->not_before) {
        fmt_time(req->not_before, a, sizeof(a));
        fmt_time(iss->not_before, b, sizeof(b));
        return pki_err_set(err, PKI_ERR_POLICY, "the leaf would start on %s, before its "
                           "issuer is valid (%s)", a, b);
    }
    return PKI_OK;
}

static int check_cn(const char *cn, struct pki_err *err)
{
    size_t i, n;

    if (cn == NULL)
        return PKI_OK;
    n = strnlen(cn, CN_MAX + 1);
    if (n == 0 || n > CN_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the common name must be 1 to %d bytes", CN_MAX);
    for (i = 0; i < n; i++)
        if ((unsigned char)cn[i] < 0x20 || (unsigned char)cn[i] > 0x7e)
            return pki_err_set(err, PKI_ERR_INPUT, "the common name has a byte that is not "
                               "printable ASCII (0x%02x)", (unsigned char)cn[i]);
    return PKI_OK;
}

static int check_sans(const struct pki_leaf_req *req, struct pki_err *err)
{
    struct pki_host h;
    size_t i;

    if (req->uri != NULL && strnlen(req->uri, PKI_SPIFFE_URI_MAX + 1) > PKI_SPIFFE_URI_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "the URI SAN is longer than %d characters",
                           PKI_SPIFFE_URI_MAX);
    if (req->uri != NULL && pki_san_check(PKI_HOST_URI, req->uri, &h, err) != PKI_OK)
        return err ? err->code : PKI_ERR_INPUT;
    if (req->ndns > PKI_LEAF_DNS_MAX || req->nips > PKI_LEAF_DNS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "too many SANs: at most %d DNS names and %d IP "
                           "addresses", PKI_LEAF_DNS_MAX, PKI_LEAF_DNS_MAX);
    if ((req->ndns > 0 && req->dns == NULL) ||
        (req->nips > 0 && (req->ips == NULL || req->ip_lens == NULL)))
        return pki_err_set(err, PKI_ERR_USAGE, "leaf request: SAN counts without SANs");
    for (i = 0; i < req->ndns; i++) {
        if (req->dns[i] == NULL || strnlen(req->dns[i], PKI_NAME_DNS_MAX + 1) > PKI_NAME_DNS_MAX)
            return pki_err_set(err, PKI_ERR_INPUT, "DNS SAN %zu is missing or longer than %d "
                               "characters", i + 1, PKI_NAME_DNS_MAX);
        /* A host name only: an IP literal in a dNSName would be misread. */
        if (pki_san_check(PKI_HOST_DNS, req->dns[i], &h, err) != PKI_OK)
            return err ? err->code : PKI_ERR_INPUT;
    }
    for (i = 0; i < req->nips; i++)
        if (req->ip_lens[i] != 4 && req->ip_lens[i] != 16)
            return pki_err_set(err, PKI_ERR_INPUT, "IP SAN %zu is %zu bytes (4 or 16)", i + 1,
                               req->ip_lens[i]);
    if (req->common_name == NULL && req->uri == NULL && req->ndns == 0 && req->nips == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the leaf has neither a subject nor a SAN");
    return PKI_OK;
}

/* ---- writing the certificate -------------------------------------------- */

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue
 * OCTET STRING }; DER leaves out a FALSE critical (X.690 11.5). */
static void ext_begin(struct pki__der *d, const unsigned char *oid, size_t n, int critical,
                      size_t mark[2])
{
    static const unsigned char yes = 0xff;

    mark[0] = pki__der_begin(d);
    pki__der_tlv(d, PKI__DER_OID, oid, n);
    if (critical)
        pki__der_tlv(d, PKI__DER_BOOLEAN, &yes, 1);
    mark[1] = pki__der_begin(d);
}

static void ext_end(struct pki__der *d, const size_t mark[2])
{
    pki__der_end(d, mark[1], PKI__DER_OCTET_STRING);
    pki__der_end(d, mark[0], PKI__DER_SEQUENCE);
}

static void write_key_usage(struct pki__der *d, enum pki__spki_kind kind)
{
    /* BIT STRING, named bits with trailing zeros removed (X.690 11.2.2):
     * digitalSignature(0), keyEncipherment(2), keyAgreement(4). RSA keys
     * transport keys; EC keys agree on them; Ed25519 keys only sign. */
    static const unsigned char ec[] = {0x03, 0x02, 0x03, 0x88};
    static const unsigned char rsa[] = {0x03, 0x02, 0x05, 0xa0};
    static const unsigned char ed[] = {0x03, 0x02, 0x07, 0x80};
    size_t m[2];

    ext_begin(d, oid_ku, sizeof(oid_ku), 1, m);
    pki__der_raw(d, kind == PKI__SPKI_EC ? ec : kind == PKI__SPKI_RSA ? rsa : ed, 4);
    ext_end(d, m);
}

static void write_san(struct pki__der *d, const struct pki_leaf_req *req)
{
    size_t m[2], seq, i;

    if (req->uri == NULL && req->ndns == 0 && req->nips == 0)
        return;
    /* RFC 5280 4.2.1.6: with an empty subject the SAN MUST be critical. */
    ext_begin(d, oid_san, sizeof(oid_san), req->common_name == NULL, m);
    seq = pki__der_begin(d);
    if (req->uri != NULL)
        pki__der_tlv(d, 0x86, req->uri, strlen(req->uri)); /* [6] IA5String */
    for (i = 0; i < req->ndns; i++)
        pki__der_tlv(d, 0x82, req->dns[i], strlen(req->dns[i])); /* [2] IA5String */
    for (i = 0; i < req->nips; i++)
        pki__der_tlv(d, 0x87, req->ips[i], req->ip_lens[i]); /* [7] OCTET STRING */
    pki__der_end(d, seq, PKI__DER_SEQUENCE);
    ext_end(d, m);
}

static void write_extensions(struct pki__der *d, const struct pki_leaf_issuer *iss,
                             const struct pki_leaf_req *req, enum pki__spki_kind kind,
                             const unsigned char ski[20])
{
    static const unsigned char ca_false[] = {0x30, 0x00}; /* cA DEFAULT FALSE */
    size_t outer = pki__der_begin(d), seq, inner, m[2];

    seq = pki__der_begin(d);
    ext_begin(d, oid_bc, sizeof(oid_bc), 1, m);
    pki__der_raw(d, ca_false, sizeof(ca_false));
    ext_end(d, m);
    write_key_usage(d, kind);
    ext_begin(d, oid_eku, sizeof(oid_eku), 0, m);
    inner = pki__der_begin(d);
    pki__der_tlv(d, PKI__DER_OID, oid_server_auth, sizeof(oid_server_auth));
    if (req->profile == PKI_LEAF_SERVICE)
        pki__der_tlv(d, PKI__DER_OID, oid_client_auth, sizeof(oid_client_auth));
    pki__der_end(d, inner, PKI__DER_SEQUENCE);
    ext_end(d, m);
    ext_begin(d, oid_ski, sizeof(oid_ski), 0, m);
    pki__der_tlv(d, PKI__DER_OCTET_STRING, ski, 20);
    ext_end(d, m);
    ext_begin(d, oid_aki, sizeof(oid_aki), 0, m);
    inner = pki__der_begin(d);
    pki__der_tlv(d, 0x80, iss->keyid, iss->keyid_len); /* [0] keyIdentifier */
    pki__der_end(d, inner, PKI__DER_SEQUENCE);
    ext_end(d, m);
    write_san(d, req);
    pki__der_end(d, seq, PKI__DER_SEQUENCE);
    pki__der_end(d, outer, 0xa3); /* [3] EXPLICIT Extensions */
}

static void write_subject(struct pki__der *d, const char *cn)
{
    size_t name = pki__der_begin(d), set, atv;

    if (cn != NULL) {
        set = pki__der_begin(d);
        atv = pki__der_begin(d);
        pki__der_tlv(d, PKI__DER_OID, oid_cn, sizeof(oid_cn));
        pki__der_tlv(d, PKI__DER_UTF8STRING, cn, strlen(cn));
        pki__der_end(d, atv, PKI__DER_SEQUENCE);
        pki__der_end(d, set, PKI__DER_SET);
    }
    pki__der_end(d, name, PKI__DER_SEQUENCE);
}

/* RFC 5280 4.1.2.2: positive, at most 20 octets. 16 random bytes with the
 * top bit cleared, redrawn while the first byte is zero, so the INTEGER is
 * always exactly 16 octets (127 random bits less a sliver). */
static int draw_serial(struct pki_leaf_issuer *iss, unsigned char serial[PKI_LEAF_SERIAL_LEN],
                       struct pki_err *err)
{
    unsigned char *next;
    int tries;

    for (tries = 0; tries < 64; tries++) {
        if (iss->serials_left == 0 || iss->serials_pid != getpid()) {
            if (RAND_bytes(iss->serials, sizeof(iss->serials)) != 1)
                return pki_err_set_ssl(err, PKI_ERR_CRYPTO,
                                       "cannot draw a random serial number");
            iss->serials_left = SERIAL_POOL;
            iss->serials_pid = getpid();
        }
        next = iss->serials + --iss->serials_left * PKI_LEAF_SERIAL_LEN;
        memcpy(serial, next, PKI_LEAF_SERIAL_LEN);
        OPENSSL_cleanse(next, PKI_LEAF_SERIAL_LEN); /* each is handed out once */
        serial[0] &= 0x7f;
        if (serial[0] != 0)
            return PKI_OK;
    }
    return pki_err_set(err, PKI_ERR_CRYPTO, "the random generator keeps returning zeros");
}

static void write_tbs(struct pki__der *d, const struct pki_leaf_issuer *iss,
                      const struct pki_leaf_req *req, enum pki__spki_kind kind,
                      const unsigned char ski[20], const unsigned char *serial)
{
    static const unsigned char v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02}; /* [0] INTEGER 2 */
    size_t tbs = pki__der_begin(d), validity;

    pki__der_raw(d, v3, sizeof(v3));
    pki__der_uint(d, serial, PKI_LEAF_SERIAL_LEN);
    pki__der_raw(d, iss->alg, iss->alg_len);
    pki__der_raw(d, iss->name, iss->name_len);
    validity = pki__der_begin(d);
    pki__der_time(d, req->not_before);
    pki__der_time(d, req->not_after);
    pki__der_end(d, validity, PKI__DER_SEQUENCE);
    write_subject(d, req->common_name);
    pki__der_raw(d, req->spki, req->spki_len);
    write_extensions(d, iss, req, kind, ski);
    pki__der_end(d, tbs, PKI__DER_SEQUENCE);
}

static int sign_tbs(struct pki_leaf_issuer *iss, const unsigned char *tbs, size_t len,
                    size_t *sig_len)
{
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dg_len = 0;

    *sig_len = iss->sig_max;
    if (iss->md == NULL)
        return EVP_DigestSignInit_ex(iss->md_ctx, NULL, NULL, NULL, NULL, iss->key, NULL) == 1 &&
               EVP_DigestSign(iss->md_ctx, iss->sig, sig_len, tbs, len) == 1;
    return EVP_DigestInit_ex2(iss->md_ctx, iss->md, NULL) == 1 &&
           EVP_DigestUpdate(iss->md_ctx, tbs, len) == 1 &&
           EVP_DigestFinal_ex(iss->md_ctx, dg, &dg_len) == 1 &&
           EVP_PKEY_sign(iss->sign_ctx, iss->sig, sig_len, dg, dg_len) == 1;
}

int pki_leaf_issue(struct pki_leaf_issuer *iss, const struct pki_leaf_req *req,
                   struct pki_buf *out, unsigned char serial[PKI_LEAF_SERIAL_LEN],
                   struct pki_err *err)
{
    unsigned char sn[PKI_LEAF_SERIAL_LEN], ski[20];
    enum pki__spki_kind kind;
    const unsigned char *bits;
    struct pki__der d;
    size_t bits_len, cert, tbs, sig_len;
    int rc;

    if (iss == NULL || req == NULL ||
        (req->profile != PKI_LEAF_SERVICE && req->profile != PKI_LEAF_SERVER_TLS))
        return pki_err_set(err, PKI_ERR_USAGE, "leaf request: no issuer, request or profile");
    if ((rc = pki__spki_walk(req->spki, req->spki_len, &kind, &bits, &bits_len, err)) != PKI_OK ||
        (rc = check_cn(req->common_name, err)) != PKI_OK ||
        (rc = check_sans(req, err)) != PKI_OK || (rc = check_times(iss, req, err)) != PKI_OK ||
        (rc = draw_serial(iss, sn, err)) != PKI_OK)
        return rc;
    if (!sha1(iss->ski_ctx, iss->sha1, bits, bits_len, ski))
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot hash the subject key");
    pki__der_init(&d, iss->arena, sizeof(iss->arena));
    cert = pki__der_begin(&d);
    tbs = pki__der_begin(&d);
    write_tbs(&d, iss, req, kind, ski, sn);
    if (d.overflow)
        return pki_err_set(err, PKI_ERR_INPUT, "the leaf would be larger than %d bytes",
                           ARENA_SIZE);
    if (!sign_tbs(iss, d.buf + tbs, d.len - tbs, &sig_len))
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "signing the leaf failed");
    pki__der_raw(&d, iss->alg, iss->alg_len);
    pki__der_bits(&d, iss->sig, sig_len);
    pki__der_end(&d, cert, PKI__DER_SEQUENCE);
    if (d.overflow)
        return pki_err_set(err, PKI_ERR_INPUT, "the leaf would be larger than %d bytes",
                           ARENA_SIZE);
    if ((rc = pki_buf_set(out, d.buf, d.len, err)) != PKI_OK)
        return rc;
    memcpy(serial, sn, PKI_LEAF_SERIAL_LEN);
    return PKI_OK;
}
