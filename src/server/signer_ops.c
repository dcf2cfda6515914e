/*
 * signer_ops.c - the signer's operations (docs/server.md, "Signer
 * operations"). Every field is bounded by the reader; every value is
 * checked here, because the front end that sent it parses network input
 * and may be in an attacker's hands.
 */
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/x509v3.h>

#include "cacert.h"
#include "cert.h"
#include "key.h"
#include "signer_child.h"

#define DER_MAX (16 * 1024)       /* a certificate or a PKCS#8 key */
#define CN_CAP 256                /* longer than any valid value: the checks name it */
#define NAME_CAP 1024
#define BACKDATE 60               /* docs/server.md: notBefore = now - 60 s */
#define TIME_MAX INT64_C(253402300799) /* 9999-12-31 23:59:59 UTC */

/* ---- loaded keys ----------------------------------------------------------- */

static EVP_PKEY *key_find(struct srv__child *c, const char *id, struct pki_err *err)
{
    for (size_t i = 0; i < SRV__KEYS_MAX; i++) {
        if (c->keys[i].key != NULL && strcmp(c->keys[i].id, id) == 0) {
            c->keys[i].used = ++c->tick;
            return c->keys[i].key;
        }
    }
    pki_err_set(err, PKI_ERR_NOTFOUND, "signer: key %.80s is not loaded", id);
    return NULL;
}

/* The slot for id: its own, else a free one, else the least recently used. */
static size_t key_slot(const struct srv__child *c, const char *id)
{
    size_t i, pick = 0;

    for (i = 0; i < SRV__KEYS_MAX; i++)
        if (c->keys[i].key != NULL && strcmp(c->keys[i].id, id) == 0)
            return i;
    for (i = 0; i < SRV__KEYS_MAX; i++)
        if (c->keys[i].key == NULL)
            return i;
    for (i = 1; i < SRV__KEYS_MAX; i++)
        if (c->keys[i].used < c->keys[pick].used)
            pick = i;
    return pick;
}

/* Keeps key (takes it) under id. */
static void key_put(struct srv__child *c, const char *id, EVP_PKEY *key)
{
    size_t i = key_slot(c, id);

    EVP_PKEY_free(c->keys[i].key);
    snprintf(c->keys[i].id, sizeof(c->keys[i].id), "%s", id);
    c->keys[i].key = key;
    c->keys[i].used = ++c->tick;
}

/* ---- decoding -------------------------------------------------------------- */

static X509 *der_cert(const unsigned char *der, size_t len, const char *what,
                      struct pki_err *err)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);

    if (x == NULL || p != der + len) {
        X509_free(x);
        pki_err_set_ssl(err, PKI_ERR_INPUT, "signer: the %s is not one DER certificate", what);
        return NULL;
    }
    return x;
}

static EVP_PKEY *der_pkcs8(const unsigned char *der, size_t len, struct pki_err *err)
{
    OSSL_DECODER_CTX *d;
    EVP_PKEY *key = NULL;
    const unsigned char *p = der;
    size_t left = len;

    d = OSSL_DECODER_CTX_new_for_pkey(&key, "DER", "PrivateKeyInfo", NULL, EVP_PKEY_KEYPAIR,
                                      NULL, NULL);
    if (d == NULL || OSSL_DECODER_from_data(d, &p, &left) != 1 || left != 0 || key == NULL) {
        EVP_PKEY_free(key);
        key = NULL;
        pki_err_set_ssl(err, PKI_ERR_INPUT, "signer: not a PKCS#8 private key");
    }
    OSSL_DECODER_CTX_free(d);
    if (key != NULL && pki_key_check_supported(key, err) != PKI_OK) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

static int cert_not_after(X509 *x, time_t *t)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return 0;
    *t = timegm(&tm);
    return 1;
}

static int malformed(const char *op, struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_INPUT, "signer: malformed %s request", op);
}

/* ---- new CA certificates ---------------------------------------------------- */

struct ca_fields {
    struct pki_key_spec spec;
    char cn[CN_CAP];
    char td[NAME_CAP];
    int64_t ttl, now;
};

static void read_ca_fields(struct srv__rd *r, struct ca_fields *f)
{
    f->spec.type = (enum pki_key_type)srv__get_i64(r);
    f->spec.bits = (int)srv__get_i64(r);
    srv__get_str(r, f->cn, sizeof(f->cn));
    srv__get_str(r, f->td, sizeof(f->td));
    f->ttl = srv__get_i64(r);
    f->now = srv__get_i64(r);
}

static int check_ca_fields(struct ca_fields *f, struct pki_err *err)
{
    int b = f->spec.bits;

    if (!((f->spec.type == PKI_KEY_ECDSA && (b == 256 || b == 384 || b == 521)) ||
          (f->spec.type == PKI_KEY_RSA && (b == 2048 || b == 4096)) ||
          (f->spec.type == PKI_KEY_ED25519 && (b == 0 || b == 256))))
        return pki_err_set(err, PKI_ERR_INPUT, "signer: unsupported CA key (ec 256/384/521, "
                           "rsa 2048/4096 or ed25519)");
    if (f->spec.type == PKI_KEY_ED25519)
        f->spec.bits = 0;
    if (f->ttl <= 0 || f->ttl > PKI_CERT_LIFETIME_MAX || f->now < BACKDATE ||
        f->now > TIME_MAX - f->ttl)
        return pki_err_set(err, PKI_ERR_INPUT, "signer: CA lifetime or clock out of range");
    return pki_trust_domain_check(f->td, err);
}

/* Seals key under its id; the PKCS#8 copy is wiped at once. */
static int wrap_key(struct srv__child *c, EVP_PKEY *key, const char *id,
                    struct pki_buf *wrapped, struct pki_err *err)
{
    struct pki_buf p8 = {NULL, 0};
    int rc = pki_key_to_pkcs8_der(key, &p8, err);

    if (rc == PKI_OK)
        rc = pki_keywrap_seal(c->store_key, id, p8.data, p8.len, wrapped, err);
    pki_buf_free(&p8);
    return rc;
}

/* Replies cert DER, wrapped key and key id; keeps key loaded (takes it). */
static int reply_made(struct srv__child *c, X509 *x, EVP_PKEY *key, struct srv__msg *reply,
                      struct pki_err *err)
{
    struct pki_buf wrapped = {NULL, 0};
    char id[PKI_KEY_ID_LEN];
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der), rc;

    if (n <= 0)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "signer: cannot encode the certificate");
    else if ((rc = pki_cacert_key_id(key, id, err)) == PKI_OK &&
             (rc = wrap_key(c, key, id, &wrapped, err)) == PKI_OK) {
        srv__put_bytes(reply, der, (size_t)n);
        srv__put_bytes(reply, wrapped.data, wrapped.len);
        srv__put_str(reply, id);
        key_put(c, id, key);
        key = NULL;
    }
    EVP_PKEY_free(key);
    OPENSSL_free(der);
    pki_buf_free(&wrapped);
    return rc;
}

static int make_ca(struct srv__child *c, struct ca_fields *f, X509 *parent, EVP_PKEY *pkey,
                   struct srv__msg *reply, struct pki_err *err)
{
    struct pki_cacert_params p = {f->cn, f->td, (time_t)(f->now - BACKDATE),
                                  (time_t)(f->now + f->ttl), NULL, parent, pkey};
    time_t cap;
    X509 *x;
    int rc;

    if (parent != NULL && cert_not_after(parent, &cap) && p.not_after > cap)
        p.not_after = cap; /* an intermediate ends with its parent */
    if ((p.key = pki_key_generate(&f->spec, err)) == NULL)
        return err->code;
    if ((x = pki_cacert_issue(&p, err)) == NULL) {
        EVP_PKEY_free(p.key);
        return err->code;
    }
    rc = reply_made(c, x, p.key, reply, err);
    X509_free(x);
    return rc;
}

static int op_gen_root(struct srv__child *c, struct srv__rd *r, struct srv__msg *reply,
                       struct pki_err *err)
{
    struct ca_fields f;

    read_ca_fields(r, &f);
    if (!srv__rd_ok(r))
        return malformed("GEN_ROOT", err);
    if (check_ca_fields(&f, err) != PKI_OK)
        return err->code;
    return make_ca(c, &f, NULL, NULL, reply, err);
}

static int op_gen_intermediate(struct srv__child *c, struct srv__rd *r, struct srv__msg *reply,
                               struct pki_err *err)
{
    char id[SRV_KEY_ID_MAX];
    const unsigned char *der;
    struct ca_fields f;
    EVP_PKEY *pkey;
    X509 *parent;
    size_t n;
    int rc;

    srv__get_str(r, id, sizeof(id));
    der = srv__get_bytes(r, DER_MAX, &n);
    read_ca_fields(r, &f);
    if (!srv__rd_ok(r))
        return malformed("GEN_INTERMEDIATE", err);
    if (check_ca_fields(&f, err) != PKI_OK || (pkey = key_find(c, id, err)) == NULL ||
        (parent = der_cert(der, n, "parent certificate", err)) == NULL)
        return err->code;
    rc = make_ca(c, &f, parent, pkey, reply, err);
    X509_free(parent);
    return rc;
}

static int op_cross_sign(struct srv__child *c, struct srv__rd *r, struct srv__msg *reply,
                         struct pki_err *err)
{
    const unsigned char *sder, *cder;
    char id[SRV_KEY_ID_MAX];
    X509 *signer = NULL, *cert = NULL, *y = NULL;
    unsigned char *out = NULL;
    size_t sn, cn;
    EVP_PKEY *key;
    int64_t now;
    int n = 0, rc;

    srv__get_str(r, id, sizeof(id));
    sder = srv__get_bytes(r, DER_MAX, &sn);
    cder = srv__get_bytes(r, DER_MAX, &cn);
    now = srv__get_i64(r);
    if (!srv__rd_ok(r))
        return malformed("CROSS_SIGN", err);
    if ((key = key_find(c, id, err)) == NULL ||
        (signer = der_cert(sder, sn, "signing certificate", err)) == NULL ||
        (cert = der_cert(cder, cn, "certificate to cross-sign", err)) == NULL ||
        (y = pki_cacert_cross_sign(cert, signer, key, (time_t)now, err)) == NULL)
        rc = err->code;
    else if ((n = i2d_X509(y, &out)) <= 0)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "signer: cannot encode the certificate");
    else
        rc = PKI_OK;
    if (rc == PKI_OK)
        srv__put_bytes(reply, out, (size_t)n);
    OPENSSL_free(out);
    X509_free(y);
    X509_free(cert);
    X509_free(signer);
    return rc;
}

static int op_import_root(struct srv__child *c, struct srv__rd *r, struct srv__msg *reply,
                          struct pki_err *err)
{
    const unsigned char *kder, *cder;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    size_t kn, cn;
    int rc;

    kder = srv__get_bytes(r, DER_MAX, &kn);
    cder = srv__get_bytes(r, DER_MAX, &cn);
    if (!srv__rd_ok(r))
        return malformed("IMPORT_ROOT", err);
    if ((cert = der_cert(cder, cn, "root certificate", err)) == NULL ||
        (key = der_pkcs8(kder, kn, err)) == NULL)
        rc = err->code;
    else if (!(X509_get_extension_flags(cert) & EXFLAG_CA))
        rc = pki_err_set(err, PKI_ERR_POLICY, "the root certificate is not a CA (it lacks "
                         "basicConstraints CA:TRUE)");
    else if (!pki_key_matches_cert(key, cert))
        rc = pki_err_set(err, PKI_ERR_POLICY, "the private key does not match the root "
                         "certificate");
    else {
        rc = reply_made(c, cert, key, reply, err);
        key = NULL;
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

static int op_load_key(struct srv__child *c, struct srv__rd *r, struct pki_err *err)
{
    struct pki_buf p8 = {NULL, 0};
    char id[SRV_KEY_ID_MAX], real[PKI_KEY_ID_LEN];
    const unsigned char *blob;
    EVP_PKEY *key = NULL;
    size_t n;
    int rc;

    srv__get_str(r, id, sizeof(id));
    blob = srv__get_bytes(r, DER_MAX + PKI_KEYWRAP_OVERHEAD, &n);
    if (!srv__rd_ok(r) || id[0] == '\0')
        return malformed("LOAD_KEY", err);
    if ((rc = pki_keywrap_open(c->store_key, id, blob, n, &p8, err)) != PKI_OK)
        return rc;
    key = der_pkcs8(p8.data, p8.len, err);
    pki_buf_free(&p8);
    if (key == NULL || (rc = pki_cacert_key_id(key, real, err)) != PKI_OK) {
        EVP_PKEY_free(key);
        return err->code;
    }
    /* The AAD already binds blob and id; this catches a key wrapped under
     * the wrong id by a bug before it signs anything. */
    if (strcmp(real, id) != 0) {
        EVP_PKEY_free(key);
        return pki_err_set(err, PKI_ERR_INPUT, "wrapped key %.80s holds the key %s", id, real);
    }
    key_put(c, id, key);
    return PKI_OK;
}

static int op_set_issuer(struct srv__child *c, struct srv__rd *r, struct pki_err *err)
{
    char id[SRV_KEY_ID_MAX], td[NAME_CAP];
    struct pki_leaf_issuer *iss;
    const unsigned char *der;
    EVP_PKEY *key;
    int64_t ttl;
    X509 *cert;
    size_t n;

    srv__get_str(r, id, sizeof(id));
    der = srv__get_bytes(r, DER_MAX, &n);
    ttl = srv__get_i64(r);
    srv__get_str(r, td, sizeof(td));
    if (!srv__rd_ok(r))
        return malformed("SET_ISSUER", err);
    if (ttl <= 0 || ttl > PKI_CERT_LIFETIME_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "signer: the longest leaf lifetime is out of "
                           "range");
    if (strlen(td) >= sizeof(c->td))
        return pki_err_set(err, PKI_ERR_INPUT, "signer: the trust domain is too long");
    if (pki_trust_domain_check(td, err) != PKI_OK || (key = key_find(c, id, err)) == NULL ||
        (cert = der_cert(der, n, "issuer certificate", err)) == NULL)
        return err->code;
    iss = pki_leaf_issuer_new(cert, key, err);
    X509_free(cert);
    if (iss == NULL)
        return err->code;
    pki_leaf_issuer_free(c->issuer);
    c->issuer = iss;
    c->max_leaf_ttl = ttl;
    memcpy(c->td, td, strlen(td) + 1);
    return PKI_OK;
}

/* ---- leaves ----------------------------------------------------------------- */

struct issue_fields {
    char cn[CN_CAP], uri[NAME_CAP], dns[PKI_LEAF_DNS_MAX][NAME_CAP];
    const char *dnsp[PKI_LEAF_DNS_MAX];
    unsigned char ips[PKI_LEAF_DNS_MAX][16];
    size_t ip_lens[PKI_LEAF_DNS_MAX];
};

/* Reads the request into q (pointing into f); 0 if it is malformed. */
static int read_issue(struct srv__rd *r, struct pki_leaf_req *q, struct issue_fields *f)
{
    const unsigned char *ip;
    int64_t nd, ni;
    size_t i;

    memset(q, 0, sizeof(*q));
    q->profile = (enum pki_leaf_profile)srv__get_i64(r);
    q->spki = srv__get_bytes(r, PKI_LEAF_SPKI_MAX, &q->spki_len);
    q->common_name = srv__get_str(r, f->cn, sizeof(f->cn)) ? f->cn : NULL;
    q->uri = srv__get_str(r, f->uri, sizeof(f->uri)) ? f->uri : NULL;
    nd = srv__get_i64(r);
    if (nd < 0 || nd > PKI_LEAF_DNS_MAX)
        return 0;
    for (q->ndns = (size_t)nd, i = 0; i < q->ndns; i++) {
        if (!srv__get_str(r, f->dns[i], sizeof(f->dns[i])))
            return 0;
        f->dnsp[i] = f->dns[i];
    }
    ni = srv__get_i64(r);
    if (ni < 0 || ni > PKI_LEAF_DNS_MAX)
        return 0;
    for (q->nips = (size_t)ni, i = 0; i < q->nips; i++) {
        if ((ip = srv__get_bytes(r, 16, &f->ip_lens[i])) == NULL)
            return 0;
        memcpy(f->ips[i], ip, f->ip_lens[i]);
    }
    q->dns = f->dnsp;
    q->ips = (const unsigned char (*)[16])f->ips;
    q->ip_lens = f->ip_lens;
    q->not_before = (time_t)srv__get_i64(r);
    q->not_after = (time_t)srv__get_i64(r);
    return srv__rd_ok(r);
}

/* The policy given at SET_ISSUER: a service leaf names a workload of our
 * trust domain, so a taken-over front end cannot mint another domain's
 * identity; no leaf outlives the configured TTL (plus the backdate). */
static int check_policy(const struct srv__child *c, const struct pki_leaf_req *q,
                        struct pki_err *err)
{
    size_t n = strlen(c->td);

    if (c->issuer == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "signer: no leaf issuer is set yet");
    if (q->uri == NULL && q->profile == PKI_LEAF_SERVICE)
        return pki_err_set(err, PKI_ERR_POLICY, "a service leaf needs a URI SAN "
                           "spiffe://%s/...", c->td);
    if (q->uri != NULL && (strncmp(q->uri, "spiffe://", 9) != 0 ||
                           strncmp(q->uri + 9, c->td, n) != 0 || q->uri[9 + n] != '/'))
        return pki_err_set(err, PKI_ERR_POLICY, "URI SAN \"%.100s\" is outside the trust "
                           "domain (expected spiffe://%s/...)", q->uri, c->td);
    if (q->not_before >= 0 && q->not_after > q->not_before &&
        (int64_t)(q->not_after - q->not_before) > c->max_leaf_ttl + BACKDATE)
        return pki_err_set(err, PKI_ERR_POLICY, "the leaf lifetime of %llds is longer than "
                           "the maximum %llds", (long long)(q->not_after - q->not_before),
                           (long long)c->max_leaf_ttl + BACKDATE);
    return PKI_OK;
}

static int op_issue(struct srv__child *c, struct srv__rd *r, struct srv__msg *reply,
                    struct pki_err *err)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct issue_fields f;
    struct pki_leaf_req q;
    int rc;

    if (!read_issue(r, &q, &f))
        return malformed("ISSUE", err);
    if ((rc = check_policy(c, &q, err)) != PKI_OK ||
        (rc = pki_leaf_issue(c->issuer, &q, &der, serial, err)) != PKI_OK)
        return rc;
    /* The front end sizes its reply pipe by this bound (signer_proto.h); the
     * request limits (read_issue) keep real leaves far below it. */
    if (der.len > SRV__ISSUE_REPLY_MAX - 64) {
        rc = pki_err_set(err, PKI_ERR_INPUT, "the leaf would be %zu bytes; at most %d can be "
                         "issued", der.len, SRV__ISSUE_REPLY_MAX - 64);
        pki_buf_free(&der);
        return rc;
    }
    srv__put_bytes(reply, der.data, der.len);
    srv__put_bytes(reply, serial, sizeof(serial));
    pki_buf_free(&der);
    return PKI_OK;
}

int srv__child_handle(struct srv__child *c, const unsigned char *req, size_t len,
                      struct srv__msg *reply, int32_t *op, struct pki_err *err)
{
    struct srv__rd r;
    int rc;

    srv__rd_start(&r, req, len, op);
    srv__msg_start(reply, c->out, PKI_OK);
    switch (*op) {
    case SRV__OP_GEN_ROOT: rc = op_gen_root(c, &r, reply, err); break;
    case SRV__OP_GEN_INTERMEDIATE: rc = op_gen_intermediate(c, &r, reply, err); break;
    case SRV__OP_CROSS_SIGN: rc = op_cross_sign(c, &r, reply, err); break;
    case SRV__OP_IMPORT_ROOT: rc = op_import_root(c, &r, reply, err); break;
    case SRV__OP_LOAD_KEY: rc = op_load_key(c, &r, err); break;
    case SRV__OP_SET_ISSUER: rc = op_set_issuer(c, &r, err); break;
    case SRV__OP_ISSUE: rc = op_issue(c, &r, reply, err); break;
    case SRV__OP_STOP: rc = srv__rd_ok(&r) ? PKI_OK : malformed("STOP", err); break;
    default: rc = pki_err_set(err, PKI_ERR_USAGE, "signer: unknown operation %d", (int)*op);
    }
    if (rc == PKI_OK && reply->overflow)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "signer: the reply is too large");
    return rc;
}
