/* test_csrfast.c - the CSR fast path: every CSR it accepts is one OpenSSL
 * also decodes and verifies, with the same key bytes and the same SANs as
 * the X509_REQ path reads; and every refusal, with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "csr.h"
#include "csrfast.h"
#include "leaf_der.h"
#include "unit_util.h"

#define URI "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web"
#define BUF_MAX 24576

enum { K_P256, K_P384, K_P521, K_RSA, K_ED, K_COUNT };
static EVP_PKEY *keys[K_COUNT], *other_p256, *rsa1024;
static struct pki_csr_verifier *ver;
static struct pki_csr_fast *got;

static int group_setup(void **state)
{
    struct pki_err err = {0, ""};

    (void)state;
    keys[K_P256] = ut_ec();
    keys[K_P384] = ut_key(PKI_KEY_ECDSA, 384);
    keys[K_P521] = ut_key(PKI_KEY_ECDSA, 521);
    keys[K_RSA] = ut_key(PKI_KEY_RSA, 2048);
    keys[K_ED] = ut_key(PKI_KEY_ED25519, 0);
    other_p256 = ut_ec();
    rsa1024 = EVP_RSA_gen(1024);
    ver = pki_csr_verifier_new(&err);
    got = calloc(1, sizeof(*got));
    return ver == NULL || got == NULL || rsa1024 == NULL;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < K_COUNT; i++)
        EVP_PKEY_free(keys[i]);
    EVP_PKEY_free(other_p256);
    EVP_PKEY_free(rsa1024);
    pki_csr_verifier_free(ver);
    free(got);
    return 0;
}

/* ---- making CSRs -------------------------------------------------------- */

/* PEM text of der under label, 64 columns (malloc'd). */
static char *pem_of(const unsigned char *der, size_t len, const char *label)
{
    size_t cap = len * 2 + 200, o;
    char *s = malloc(cap);

    assert_non_null(s);
    o = (size_t)snprintf(s, cap, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < len; i += 48) {
        o += (size_t)EVP_EncodeBlock((unsigned char *)s + o, der + i,
                                     (int)(len - i < 48 ? len - i : 48));
        s[o++] = '\n';
    }
    snprintf(s + o, cap - o, "-----END %s-----\n", label);
    return s;
}

static char *csr_pem(const unsigned char *der, size_t len)
{
    return pem_of(der, len, "CERTIFICATE REQUEST");
}

/* A CSR made by the core (pki_csr_create), CN "web", SANs as typed text. */
static char *core_csr(EVP_PKEY *key, const char *const *sans, size_t n)
{
    struct pki_host h[PKI_LEAF_DNS_MAX + 2];
    struct pki_buf pem = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_csr_params p;
    X509_NAME *name = ut_name(NULL, "web");
    X509_REQ *req;
    char *s;

    for (size_t i = 0; i < n; i++)
        assert_ok(pki_san_parse(sans[i], &h[i], &err), err);
    memset(&p, 0, sizeof(p));
    p.key = key;
    p.subject = name;
    p.sans = h;
    p.nsans = n;
    p.usage = PKI_USAGE_BOTH;
    req = pki_csr_create(&p, &err);
    assert_non_null(req);
    assert_ok(pki_csr_to_pem(req, &pem, &err), err);
    s = strndup((const char *)pem.data, pem.len);
    pki_buf_free(&pem);
    X509_REQ_free(req);
    X509_NAME_free(name);
    return s;
}

enum { X_CHALLENGE = 1, X_CRITICAL = 2 };

/* A CSR made with OpenSSL's X509_REQ calls: the public half of pub, signed
 * by signer with md, SANs in OpenSSL's config syntax (NULL: none). DER. */
static unsigned char *x509_csr(EVP_PKEY *pub, EVP_PKEY *signer, const EVP_MD *md,
                               const char *san, int extra, size_t *len)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_NAME *name = ut_name("test", "web");
    X509_REQ *r = X509_REQ_new();
    unsigned char *der;

    assert_non_null(r);
    assert_int_equal(X509_REQ_set_version(r, X509_REQ_VERSION_1), 1);
    assert_int_equal(X509_REQ_set_subject_name(r, name), 1);
    assert_int_equal(X509_REQ_set_pubkey(r, pub), 1);
    if (san != NULL)
        assert_true(sk_X509_EXTENSION_push(exts, ut_ext(NID_subject_alt_name, san)) > 0);
    if (extra & X_CRITICAL)
        assert_true(sk_X509_EXTENSION_push(exts, ut_ext(NID_basic_constraints,
                                                        "critical,CA:TRUE")) > 0);
    if (sk_X509_EXTENSION_num(exts) > 0)
        assert_int_equal(X509_REQ_add_extensions(r, exts), 1);
    if (extra & X_CHALLENGE)
        assert_int_equal(X509_REQ_add1_attr_by_NID(r, NID_pkcs9_challengePassword, MBSTRING_ASC,
                                                   (const unsigned char *)"secret", -1), 1);
    if (md == NULL)
        md = pki_key_sign_digest(signer);
    assert_true(X509_REQ_sign(r, signer, md) > 0);
    der = ut_req_der(r, len);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(r);
    return der;
}

static char *x509_csr_pem(EVP_PKEY *key, const EVP_MD *md, const char *san, int extra)
{
    size_t len;
    unsigned char *der = x509_csr(key, key, md, san, extra, &len);
    char *s = csr_pem(der, len);

    OPENSSL_free(der);
    return s;
}

/* ---- hand-made DER (leaf_der.h's writer), for what OpenSSL will not make */

struct parts {
    EVP_PKEY *key;             /* its SPKI goes in, and it signs */
    const unsigned char *spki; /* or these bytes instead of key's SPKI */
    size_t spki_len;
    const unsigned char *attrs; /* contents of [0] */
    size_t attrs_len;
    int no_attrs;              /* leave [0] out */
    const unsigned char *tail; /* after [0], inside the CRI */
    size_t tail_len;
    const unsigned char *name; /* subject contents (default: CN=web) */
    size_t name_len;
    int version;
    const unsigned char *alg;  /* signatureAlgorithm (default: SHA-256 for the key) */
    size_t alg_len;
    int unused_bits;
};

static const unsigned char alg_es256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x04, 0x03, 0x02};
static const unsigned char alg_rs256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                          0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const unsigned char oid_ext_req[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
static const unsigned char oid_san[] = {0x55, 0x1d, 0x11};
static const unsigned char oid_cn[] = {0x55, 0x04, 0x03};
static const unsigned char no_crit[1] = {0}; /* with length 0: critical left out */

static void write_cri(struct pki__der *d, const struct parts *p)
{
    unsigned char ver_byte = (unsigned char)p->version, *spki = NULL;
    size_t m = pki__der_begin(d), k;
    int n = 0;

    pki__der_tlv(d, PKI__DER_INTEGER, &ver_byte, 1);
    k = pki__der_begin(d);
    if (p->name != NULL) {
        pki__der_raw(d, p->name, p->name_len);
    } else {
        size_t r = pki__der_begin(d), a = pki__der_begin(d);

        pki__der_tlv(d, PKI__DER_OID, oid_cn, sizeof(oid_cn));
        pki__der_tlv(d, PKI__DER_UTF8STRING, "web", 3);
        pki__der_end(d, a, PKI__DER_SEQUENCE);
        pki__der_end(d, r, PKI__DER_SET);
    }
    pki__der_end(d, k, PKI__DER_SEQUENCE);
    if (p->spki != NULL) {
        pki__der_raw(d, p->spki, p->spki_len);
    } else {
        n = i2d_PUBKEY(p->key, &spki);
        assert_true(n > 0);
        pki__der_raw(d, spki, (size_t)n);
        OPENSSL_free(spki);
    }
    if (!p->no_attrs) {
        k = pki__der_begin(d);
        pki__der_raw(d, p->attrs, p->attrs_len);
        pki__der_end(d, k, 0xa0);
    }
    pki__der_raw(d, p->tail, p->tail_len);
    pki__der_end(d, m, PKI__DER_SEQUENCE);
}

/* The whole request, signed by p->key over the CRI; PEM (malloc'd). */
static char *hand_csr(const struct parts *p)
{
    static unsigned char buf[BUF_MAX];
    unsigned char sig[1024];
    size_t siglen = sizeof(sig), cri, m;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rsa = EVP_PKEY_is_a(p->key, "RSA"), ed = EVP_PKEY_is_a(p->key, "ED25519");
    struct pki__der d;

    pki__der_init(&d, buf, sizeof(buf));
    m = pki__der_begin(&d);
    cri = d.len;
    write_cri(&d, p);
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, ed ? NULL : EVP_sha256(), NULL, p->key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig + 1, &siglen, buf + cri, d.len - cri), 1);
    EVP_MD_CTX_free(ctx);
    if (p->alg != NULL)
        pki__der_raw(&d, p->alg, p->alg_len);
    else if (ed)
        pki__der_raw(&d, "\x30\x05\x06\x03\x2b\x65\x70", 7);
    else
        pki__der_raw(&d, rsa ? alg_rs256 : alg_es256, rsa ? sizeof(alg_rs256) : sizeof(alg_es256));
    sig[0] = (unsigned char)p->unused_bits;
    pki__der_tlv(&d, PKI__DER_BIT_STRING, sig, siglen + 1);
    pki__der_end(&d, m, PKI__DER_SEQUENCE);
    assert_false(d.overflow);
    return csr_pem(buf, d.len);
}

/* An attribute of type attr (an extension request) holding one extension
 * (oid, critical encoding crit/ncrit, value) into out; its length. */
static size_t ext_req_as(const unsigned char *attr, size_t alen, unsigned char *out, size_t cap,
                         const unsigned char *oid, size_t olen, const unsigned char *crit,
                         size_t ncrit, const unsigned char *val, size_t vlen)
{
    struct pki__der d;
    size_t a, s, e, x;

    pki__der_init(&d, out, cap);
    a = pki__der_begin(&d);
    pki__der_tlv(&d, PKI__DER_OID, attr, alen);
    s = pki__der_begin(&d);
    e = pki__der_begin(&d);
    x = pki__der_begin(&d);
    pki__der_tlv(&d, PKI__DER_OID, oid, olen);
    pki__der_raw(&d, crit, ncrit);
    pki__der_tlv(&d, PKI__DER_OCTET_STRING, val, vlen);
    pki__der_end(&d, x, PKI__DER_SEQUENCE);
    pki__der_end(&d, e, PKI__DER_SEQUENCE);
    pki__der_end(&d, s, PKI__DER_SET);
    pki__der_end(&d, a, PKI__DER_SEQUENCE);
    assert_false(d.overflow);
    return d.len;
}

/* The PKCS #9 extensionRequest attribute. */
static size_t ext_req(unsigned char *out, size_t cap, const unsigned char *oid, size_t olen,
                      const unsigned char *crit, size_t ncrit, const unsigned char *val,
                      size_t vlen)
{
    return ext_req_as(oid_ext_req, sizeof(oid_ext_req), out, cap, oid, olen, crit, ncrit, val,
                      vlen);
}

/* ---- reading them --------------------------------------------------------- */

/* What the fast path accepted, OpenSSL decodes and verifies too, and its
 * key re-encodes to the very bytes extracted. */
static void differential(const struct pki_csr_fast *c)
{
    const unsigned char *p = c->der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)c->der_len);
    unsigned char *spki = NULL;
    EVP_PKEY *pub;
    int n;

    assert_non_null(req);
    assert_ptr_equal(p, c->der + c->der_len);
    pub = X509_REQ_get0_pubkey(req);
    assert_non_null(pub);
    assert_int_equal(X509_REQ_verify(req, pub), 1);
    n = i2d_PUBKEY(pub, &spki);
    assert_int_equal(n, (int)c->spki_len);
    assert_memory_equal(spki, c->spki, c->spki_len);
    OPENSSL_free(spki);
    X509_REQ_free(req);
}

static void read_ok(const char *pem)
{
    struct pki_err err = {0, ""};

    assert_ok(pki_csr_fast_read(ver, pem, strlen(pem), got, &err), err);
    differential(got);
}

static void read_err(const char *pem, size_t len, int code, const char *word)
{
    struct pki_err err = {0, ""};

    got->der = (unsigned char *)"junk";
    got->ndns = 3;
    assert_err(pki_csr_fast_read(ver, pem, len, got, &err), err, code, word);
    assert_null(got->der);
    assert_int_equal(got->ndns, 0);
    assert_int_equal(got->has_uri, 0);
}

static void read_err_s(char *pem, int code, const char *word)
{
    read_err(pem, strlen(pem), code, word);
    free(pem);
}

/* The fields are those of key, URI and the names in dns, in order; and
 * pki_csr_read + pki_csr_sans read the same from the same text. */
static void expect_fields(EVP_PKEY *key, const char *uri, const char *const *dns, size_t ndns,
                          const char *pem)
{
    struct pki_host sans[PKI_LEAF_DNS_MAX + 1];
    struct pki_err err = {0, ""};
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(key, &spki);
    size_t nsans = 0, d = 0;
    X509_REQ *req;

    assert_int_equal(n, (int)got->spki_len);
    assert_memory_equal(spki, got->spki, got->spki_len);
    OPENSSL_free(spki);
    assert_int_equal(got->has_uri, uri != NULL);
    if (uri != NULL)
        assert_string_equal(got->uri, uri);
    assert_int_equal(got->ndns, ndns);
    for (size_t i = 0; i < ndns; i++)
        assert_string_equal(got->dns[i], dns[i]);
    req = pki_csr_read((const unsigned char *)pem, strlen(pem), &err);
    assert_non_null(req);
    assert_ok(pki_csr_sans(req, sans, PKI_LEAF_DNS_MAX + 1, &nsans, &err), err);
    for (size_t i = 0; i < nsans; i++) {
        if (sans[i].kind == PKI_HOST_URI)
            assert_string_equal(sans[i].text, uri);
        else
            assert_string_equal(sans[i].text, got->dns[d++]);
    }
    assert_int_equal(d, ndns);
    X509_REQ_free(req);
}

/* ---- accepted --------------------------------------------------------------- */

static const char *const dns2[] = {"web.example.com", "*.web.example.com"};

static void reads_core_csrs_of_every_key_type(void **state)
{
    const char *const sans[] = {"uri:" URI, "dns:web.example.com", "dns:*.web.example.com"};

    (void)state;
    for (int k = 0; k < K_COUNT; k++) {
        char *pem = core_csr(keys[k], sans, 3);

        read_ok(pem);
        expect_fields(keys[k], URI, dns2, 2, pem);
        pki_csr_fast_clear(got);
        free(pem);
    }
}

static void reads_openssl_csrs_of_every_digest(void **state)
{
    static const struct {
        int key;
        const char *md; /* NULL: Ed25519 */
    } cases[] = {{K_P256, "SHA256"}, {K_P256, "SHA384"}, {K_P256, "SHA512"}, {K_P384, "SHA384"},
                 {K_P521, "SHA512"}, {K_RSA, "SHA256"}, {K_RSA, "SHA384"}, {K_RSA, "SHA512"},
                 {K_ED, NULL}};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_MD *md = cases[i].md ? EVP_MD_fetch(NULL, cases[i].md, NULL) : NULL;
        char *pem = x509_csr_pem(keys[cases[i].key], md,
                                 "URI:" URI ",DNS:web.example.com,DNS:*.web.example.com", 0);

        read_ok(pem);
        expect_fields(keys[cases[i].key], URI, dns2, 2, pem);
        pki_csr_fast_clear(got);
        EVP_MD_free(md);
        free(pem);
    }
}

static void reads_csr_without_sans(void **state)
{
    char *pem = x509_csr_pem(keys[K_P256], NULL, NULL, 0);

    (void)state;
    read_ok(pem);
    expect_fields(keys[K_P256], NULL, NULL, 0, pem);
    pki_csr_fast_clear(got);
    free(pem);
}

static void reads_sixteen_dns_names(void **state)
{
    char conf[2048] = "URI:" URI, names[16][32];
    const char *dns[16];
    char *pem;

    (void)state;
    for (int i = 0; i < 16; i++) {
        snprintf(names[i], sizeof(names[i]), "n%d.example.com", i);
        dns[i] = names[i];
        strcat(conf, ",DNS:");
        strcat(conf, names[i]);
    }
    pem = x509_csr_pem(keys[K_P256], NULL, conf, 0);
    read_ok(pem);
    expect_fields(keys[K_P256], URI, dns, 16, pem);
    pki_csr_fast_clear(got);
    free(pem);
}

/* challengePassword is skipped; so is a requested critical extension (the
 * leaf's extensions are the server's). */
static void skips_other_attributes_and_extensions(void **state)
{
    char *pem = x509_csr_pem(keys[K_P256], NULL, "URI:" URI, X_CHALLENGE | X_CRITICAL);

    (void)state;
    read_ok(pem);
    assert_string_equal(got->uri, URI);
    pki_csr_fast_clear(got);
    free(pem);
}

static void reads_pem_variants(void **state)
{
    size_t len;
    unsigned char *der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &len);
    char *pem = pem_of(der, len, "NEW CERTIFICATE REQUEST"), *crlf, *p, *q;

    (void)state;
    read_ok(pem);
    pki_csr_fast_clear(got);
    /* CRLF line ends, blank lines around the block. */
    crlf = calloc(1, strlen(pem) * 2 + 16);
    assert_non_null(crlf);
    q = crlf + sprintf(crlf, "\r\n  \n");
    for (p = pem; *p; p++) {
        if (*p == '\n')
            *q++ = '\r';
        *q++ = *p;
    }
    strcpy(q, "\r\n\n");
    read_ok(crlf);
    pki_csr_fast_clear(got);
    free(crlf);
    free(pem);
    OPENSSL_free(der);
}

static void reads_csr_without_attributes(void **state)
{
    struct parts p = {.key = keys[K_P256], .no_attrs = 1};
    char *pem = hand_csr(&p);

    (void)state;
    read_ok(pem);
    assert_int_equal(got->has_uri, 0);
    pki_csr_fast_clear(got);
    free(pem);
}

static void verifier_is_reusable_across_key_types(void **state)
{
    char *pems[K_COUNT];

    (void)state;
    for (int k = 0; k < K_COUNT; k++)
        pems[k] = x509_csr_pem(keys[k], NULL, "URI:" URI, 0);
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < K_COUNT; k++) {
            read_ok(pems[k]);
            pki_csr_fast_clear(got);
        }
    for (int k = 0; k < K_COUNT; k++)
        free(pems[k]);
}

/* ---- signatures --------------------------------------------------------------- */

static void refuses_altered_request(void **state)
{
    size_t len;
    unsigned char *der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &len);
    unsigned char *web = memmem(der, len, "web", 3);

    (void)state;
    assert_non_null(web);
    web[2] = 'c'; /* the subject CN, inside the signed CRI */
    read_err_s(csr_pem(der, len), PKI_ERR_INPUT, "signature does not verify");
    OPENSSL_free(der);
}

static void refuses_signature_by_another_key(void **state)
{
    size_t len;
    unsigned char *der = x509_csr(keys[K_P256], other_p256, NULL, "URI:" URI, 0, &len);

    (void)state;
    read_err_s(csr_pem(der, len), PKI_ERR_INPUT, "signature does not verify");
    OPENSSL_free(der);
    der = x509_csr(keys[K_ED], keys[K_ED], NULL, "URI:" URI, 0, &len);
    der[len - 1] ^= 1;
    read_err_s(csr_pem(der, len), PKI_ERR_INPUT, "signature does not verify");
    OPENSSL_free(der);
    der = x509_csr(keys[K_RSA], keys[K_RSA], EVP_sha256(), "URI:" URI, 0, &len);
    der[len - 1] ^= 1;
    read_err_s(csr_pem(der, len), PKI_ERR_INPUT, "signature does not verify");
    OPENSSL_free(der);
}

/* The verifier gives each curve's key the CSR's point in place: no point
 * may carry over to the next CSR, whatever came before it (a valid CSR, a
 * forged one, a point off the curve). */
static void no_key_outlives_its_csr(void **state)
{
    size_t alen, flen, blen;
    unsigned char *der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &alen);
    char *a = csr_pem(der, alen), *forged, *b, *off;
    struct parts p = {.key = keys[K_P256]};
    unsigned char *spki = NULL;
    int n = i2d_PUBKEY(keys[K_P256], &spki);

    (void)state;
    OPENSSL_free(der);
    der = x509_csr(other_p256, keys[K_P256], NULL, "URI:" URI, 0, &flen);
    forged = csr_pem(der, flen); /* signed by a's key, carrying another */
    OPENSSL_free(der);
    der = x509_csr(other_p256, other_p256, NULL, "URI:" URI, 0, &blen);
    b = csr_pem(der, blen);
    OPENSSL_free(der);
    assert_true(n == 91);
    spki[n - 1] ^= 1; /* off the curve, signed by a's key */
    p.spki = spki;
    p.spki_len = (size_t)n;
    off = hand_csr(&p);
    for (int round = 0; round < 2; round++) {
        read_ok(a);
        pki_csr_fast_clear(got);
        read_err(forged, strlen(forged), PKI_ERR_INPUT, "signature does not verify");
        read_ok(b);
        pki_csr_fast_clear(got);
        read_ok(a);
        pki_csr_fast_clear(got);
        read_err(off, strlen(off), PKI_ERR_INPUT, "not a valid EC key");
        read_err(forged, strlen(forged), PKI_ERR_INPUT, "signature does not verify");
        read_ok(b);
        pki_csr_fast_clear(got);
    }
    free(off);
    OPENSSL_free(spki);
    free(b);
    free(forged);
    free(a);
}

static void refuses_sha1_and_md5(void **state)
{
    (void)state;
    read_err_s(x509_csr_pem(keys[K_RSA], EVP_sha1(), "URI:" URI, 0), PKI_ERR_INPUT,
               "signed with sha1WithRSAEncryption: SHA-1 and MD5");
    read_err_s(x509_csr_pem(keys[K_P256], EVP_sha1(), "URI:" URI, 0), PKI_ERR_INPUT,
               "signed with ecdsa-with-SHA1");
    read_err_s(x509_csr_pem(keys[K_RSA], EVP_md5(), "URI:" URI, 0), PKI_ERR_INPUT,
               "signed with md5WithRSAEncryption");
    read_err_s(x509_csr_pem(keys[K_P256], EVP_sha224(), "URI:" URI, 0), PKI_ERR_INPUT,
               "signature algorithm is not supported");
}

static void refuses_algorithm_of_another_key_type(void **state)
{
    struct parts p = {.key = keys[K_P256], .alg = alg_rs256, .alg_len = sizeof(alg_rs256)};
    static const unsigned char es256_null[] = {0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                               0x3d, 0x04, 0x03, 0x02, 0x05, 0x00};
    static const unsigned char rs256_absent[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                 0xf7, 0x0d, 0x01, 0x01, 0x0b};

    (void)state;
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "sha256WithRSAEncryption, which does not suit its "
               "EC key");
    p.alg = es256_null;
    p.alg_len = sizeof(es256_null);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "parameters it must not have");
    /* RFC 4055: absent RSA parameters are accepted. */
    p.key = keys[K_RSA];
    p.alg = rs256_absent;
    p.alg_len = sizeof(rs256_absent);
    {
        char *pem = hand_csr(&p);

        read_ok(pem);
        pki_csr_fast_clear(got);
        free(pem);
    }
    p.alg = NULL;
    p.unused_bits = 1;
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "unused bits");
}

/* ---- names ---------------------------------------------------------------------- */

static void refuses_two_uris(void **state)
{
    (void)state;
    read_err_s(x509_csr_pem(keys[K_P256], NULL, "URI:" URI ",URI:spiffe://x/y", 0),
               PKI_ERR_INPUT, "the CSR holds more than one URI SAN");
}

static void refuses_other_name_types(void **state)
{
    static const struct {
        const char *conf, *word;
    } cases[] = {
        {"URI:" URI ",IP:127.0.0.1", "requests an IP address SAN"},
        {"email:a@example.com", "requests an email (rfc822Name) SAN"},
        {"otherName:1.2.3.4;UTF8:x", "requests an otherName SAN"},
        {"RID:1.2.3.4", "requests a registeredID SAN"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        read_err_s(x509_csr_pem(keys[K_P256], NULL, cases[i].conf, 0), PKI_ERR_INPUT,
                   cases[i].word);
}

static void refuses_seventeen_dns_names(void **state)
{
    char conf[2048] = "URI:" URI, one[40];

    (void)state;
    for (int i = 0; i < 17; i++) {
        snprintf(one, sizeof(one), ",DNS:n%d.example.com", i);
        strcat(conf, one);
    }
    read_err_s(x509_csr_pem(keys[K_P256], NULL, conf, 0), PKI_ERR_INPUT,
               "more than 16 DNS SANs");
}

static void refuses_bad_dns_names(void **state)
{
    static const unsigned char nul_name[] = {0x30, 0x07, 0x82, 0x05, 'a', 0, '.', 'c', 'o'};
    unsigned char attr[256];
    struct parts p = {.key = keys[K_P256], .attrs = attr};

    (void)state;
    read_err_s(x509_csr_pem(keys[K_P256], NULL, "DNS:bad_name!.example.com", 0), PKI_ERR_INPUT,
               "the CSR: invalid");
    read_err_s(x509_csr_pem(keys[K_P256], NULL, "DNS:10.0.0.1", 0), PKI_ERR_INPUT,
               "invalid DNS SAN");
    read_err_s(x509_csr_pem(keys[K_P256], NULL, "DNS:example.com.", 0), PKI_ERR_INPUT,
               "trailing dot");
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0, nul_name,
                          sizeof(nul_name));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "holds a NUL");
}

static void refuses_bad_uris(void **state)
{
    static const unsigned char space[] = {0x30, 0x07, 0x86, 0x05, 'a', ':', ' ', 'b', 'c'};
    static const unsigned char empty[] = {0x30, 0x02, 0x86, 0x00};
    static const unsigned char no_names[] = {0x30, 0x00};
    static const unsigned char dns_constructed[] = {0x30, 0x04, 0xa2, 0x02, 0x04, 0x00};
    unsigned char attr[1024], big[600] = {0x30, 0x82, 0x02, 0x54, 0x86, 0x82, 0x02, 0x50};
    struct parts p = {.key = keys[K_P256], .attrs = attr};

    (void)state;
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0, space,
                          sizeof(space));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "not printable ASCII");
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0, empty,
                          sizeof(empty));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "URI SAN is empty or longer than 512");
    memset(big + 8, 'a', 0x250); /* a URI of 592 bytes */
    memcpy(big + 8, "spiffe://", 9);
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0, big,
                          8 + 0x250);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "URI SAN is empty or longer than 512");
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0, no_names,
                          sizeof(no_names));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "subjectAltName is empty");
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0,
                          dns_constructed, sizeof(dns_constructed));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "GeneralName expected at offset");
}

/* ---- structure -------------------------------------------------------------------- */

static void refuses_duplicate_requests(void **state)
{
    static const unsigned char uri[] = {0x30, 0x06, 0x86, 0x04, 'a', ':', 'b', 'c'};
    unsigned char attr[512];
    struct parts p = {.key = keys[K_P256], .attrs = attr};
    size_t n;

    (void)state;
    /* Two extensionRequest attributes (OpenSSL 3 will not add a second). */
    n = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit, 0, uri, sizeof(uri));
    memcpy(attr + n, attr, n);
    p.attrs_len = 2 * n;
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "more than one extension request");
    /* Two SAN extensions in one request. */
    {
        unsigned char two[600];
        struct pki__der d;
        size_t a, s, e;

        pki__der_init(&d, two, sizeof(two));
        a = pki__der_begin(&d);
        pki__der_tlv(&d, PKI__DER_OID, oid_ext_req, sizeof(oid_ext_req));
        s = pki__der_begin(&d);
        e = pki__der_begin(&d);
        for (int i = 0; i < 2; i++) {
            size_t x = pki__der_begin(&d);

            pki__der_tlv(&d, PKI__DER_OID, oid_san, sizeof(oid_san));
            pki__der_tlv(&d, PKI__DER_OCTET_STRING, uri, sizeof(uri));
            pki__der_end(&d, x, PKI__DER_SEQUENCE);
        }
        pki__der_end(&d, e, PKI__DER_SEQUENCE);
        pki__der_end(&d, s, PKI__DER_SET);
        pki__der_end(&d, a, PKI__DER_SEQUENCE);
        p.attrs = two;
        p.attrs_len = d.len;
        read_err_s(hand_csr(&p), PKI_ERR_INPUT, "requests subjectAltName twice");
    }
}

/* Microsoft's extension request (1.3.6.1.4.1.311.2.1.14) is read as
 * OpenSSL reads it; with a PKCS #9 one as well, the CSR is refused. */
static void reads_microsoft_extension_request(void **state)
{
    static const unsigned char oid_ms[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02,
                                           0x01, 0x0e};
    static const unsigned char uri[] = {0x30, 0x06, 0x86, 0x04, 'a', ':', 'b', 'c'};
    unsigned char attr[512];
    struct parts p = {.key = keys[K_P256], .attrs = attr};
    size_t n;
    char *pem;

    (void)state;
    n = ext_req_as(oid_ms, sizeof(oid_ms), attr, sizeof(attr), oid_san, sizeof(oid_san), no_crit,
                   0, uri, sizeof(uri));
    p.attrs_len = n;
    pem = hand_csr(&p);
    read_ok(pem);
    assert_string_equal(got->uri, "a:bc");
    pki_csr_fast_clear(got);
    free(pem);
    p.attrs_len = n + ext_req(attr + n, sizeof(attr) - n, oid_san, sizeof(oid_san), no_crit, 0,
                              uri, sizeof(uri));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "more than one extension request");
}

/* critical FALSE written out is not DER (X.690 11.5); TRUE is read. */
static void critical_flag_must_be_der(void **state)
{
    static const unsigned char uri[] = {0x30, 0x06, 0x86, 0x04, 'a', ':', 'b', 'c'};
    static const unsigned char false_crit[] = {0x01, 0x01, 0x00};
    static const unsigned char true_crit[] = {0x01, 0x01, 0xff};
    unsigned char attr[512];
    struct parts p = {.key = keys[K_P256], .attrs = attr};
    char *pem;

    (void)state;
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), false_crit,
                          sizeof(false_crit), uri, sizeof(uri));
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "critical BOOLEAN TRUE");
    p.attrs_len = ext_req(attr, sizeof(attr), oid_san, sizeof(oid_san), true_crit,
                          sizeof(true_crit), uri, sizeof(uri));
    pem = hand_csr(&p);
    read_ok(pem);
    assert_string_equal(got->uri, "a:bc");
    pki_csr_fast_clear(got);
    free(pem);
}

static void refuses_malformed_der(void **state)
{
    static const unsigned char bmp_name[] = {0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04,
                                             0x03, 0x1e, 0x02, 0x00, 0x41};
    static const unsigned char bad_utf8[] = {0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04,
                                             0x03, 0x0c, 0x01, 0xc0};
    static const unsigned char bad_oid[] = {0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x80, 0x04,
                                            0x03, 0x0c, 0x01, 0x41};
    static const unsigned char empty_rdn[] = {0x31, 0x00};
    struct parts p = {.key = keys[K_P256], .version = 1};
    static const unsigned char null[] = {0x05, 0x00};

    (void)state;
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "version is not v1");
    p.version = 0;
    p.name = bmp_name;
    p.name_len = sizeof(bmp_name);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "is not a UTF8String, PrintableString or IA5String");
    p.name = bad_utf8;
    p.name_len = sizeof(bad_utf8);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "invalid characters");
    p.name = bad_oid;
    p.name_len = sizeof(bad_oid);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "attribute type OBJECT IDENTIFIER expected");
    p.name = empty_rdn;
    p.name_len = sizeof(empty_rdn);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "empty RDN");
    p.name = NULL;
    p.tail = null;
    p.tail_len = sizeof(null);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "unexpected bytes at the end of the "
               "certificationRequestInfo");
    p.no_attrs = 1;
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "attributes [0] expected");
}


static void refuses_trailing_and_long_lengths(void **state)
{
    size_t len;
    unsigned char *der, *big;
    char *pem;

    (void)state;
    /* Bytes after the request, inside the base64. */
    der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &len);
    big = malloc(len + 2);
    assert_non_null(big);
    memcpy(big, der, len);
    big[len] = 0x05;
    big[len + 1] = 0x00;
    pem = csr_pem(big, len + 2);
    read_err_s(pem, PKI_ERR_INPUT, "unexpected bytes at the end of the CSR at offset");
    /* A length in more octets than it needs (X.690 10.1). */
    assert_int_equal(der[1], 0x82);
    big = realloc(big, len + 1);
    assert_non_null(big);
    big[0] = 0x30;
    big[1] = 0x83;
    big[2] = 0x00;
    memcpy(big + 3, der + 2, len - 2);
    read_err_s(csr_pem(big, len + 1), PKI_ERR_INPUT, "the CSR is not DER: CertificationRequest "
               "SEQUENCE expected at offset 0");
    free(big);
    OPENSSL_free(der);
}

static void refuses_keys_pkictl_does_not_sign_for(void **state)
{
    EVP_PKEY *compressed = EVP_PKEY_dup(keys[K_P256]);
    struct parts p = {.key = rsa1024};
    unsigned char *spki = NULL;
    int n;

    (void)state;
    read_err_s(hand_csr(&p), PKI_ERR_POLICY, "RSA key of 1024 bits");
    assert_non_null(compressed);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(compressed,
                     OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
    p.key = compressed;
    read_err_s(hand_csr(&p), PKI_ERR_POLICY, "compressed EC point");
    /* A point off the curve: the key cannot be built. */
    n = i2d_PUBKEY(keys[K_P256], &spki);
    assert_true(n == 91);
    spki[n - 1] ^= 1;
    p.key = keys[K_P256];
    p.spki = spki;
    p.spki_len = (size_t)n;
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "not a valid EC key");
    OPENSSL_free(spki);
    EVP_PKEY_free(compressed);
}

/* ---- the PEM text ------------------------------------------------------------------- */

static void refuses_bad_pem(void **state)
{
    size_t len, n;
    unsigned char *der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &len);
    char *pem = csr_pem(der, len), *two, *s, *end;

    (void)state;
    n = strlen(pem);
    read_err("", 0, PKI_ERR_INPUT, "the CSR is empty");
    read_err(" \n\t\r\n", 5, PKI_ERR_INPUT, "the CSR is empty");
    read_err_s(pem_of(der, len, "CERTIFICATE"), PKI_ERR_INPUT,
               "the PEM block is a \"CERTIFICATE\", not a CERTIFICATE REQUEST");
    read_err_s(pem_of(der, len, "CERTIFICATE REQUEST2"), PKI_ERR_INPUT, "\"CERTIFICATE REQUEST2\"");
    two = malloc(2 * n + 1);
    assert_non_null(two);
    memcpy(two, pem, n);
    memcpy(two + n, pem, n + 1);
    read_err_s(two, PKI_ERR_INPUT, "more than one PEM block");
    /* A second BEGIN before the first END. */
    s = malloc(n + 64);
    end = strchr(pem, '\n') + 1;
    sprintf(s, "%.*s-----BEGIN CERTIFICATE REQUEST-----\n%s", (int)(end - pem), pem, end);
    read_err_s(s, PKI_ERR_INPUT, "more than one PEM block");
    /* Truncated: no END line; then a base64 body short of a quantum. */
    read_err(pem, n / 2, PKI_ERR_INPUT, "no END line");
    s = strdup(pem);
    end = strstr(s, "\n-----END");
    memmove(end - 1, end, strlen(end) + 1);
    read_err_s(s, PKI_ERR_INPUT, "truncated");
    s = malloc(n + 32);
    sprintf(s, "hello\n%s", pem);
    read_err_s(s, PKI_ERR_INPUT, "the CSR is not PEM");
    s = malloc(n + 32);
    sprintf(s, "%sbye\n", pem);
    read_err_s(s, PKI_ERR_INPUT, "text after its PEM END line");
    s = strdup(pem);
    memcpy(strstr(s, "-----END CERTIFICATE REQUEST"), "-----END CERTIFICATE REQUESX", 28);
    read_err_s(s, PKI_ERR_INPUT, "END line does not match");
    free(pem);
    OPENSSL_free(der);
}

/* The decoder takes whole quanta of four at a time and the rest one
 * character at a time: lines of every width, so quanta straddle line
 * breaks, must decode to the same CSR. */
static void reads_any_line_width(void **state)
{
    static const size_t widths[] = {1, 2, 3, 5, 6, 7, 63, 65, 76, 1000};
    size_t len, b64len;
    unsigned char *der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &len);
    char *b64 = malloc(len * 2 + 8), *pem = malloc(len * 4 + 200), *q;

    (void)state;
    assert_non_null(b64);
    assert_non_null(pem);
    b64len = (size_t)EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        q = pem + sprintf(pem, "-----BEGIN CERTIFICATE REQUEST-----\n");
        for (size_t i = 0; i < b64len; i += widths[w]) {
            size_t n = b64len - i < widths[w] ? b64len - i : widths[w];

            memcpy(q, b64 + i, n);
            q += n;
            *q++ = '\n';
        }
        strcpy(q, "-----END CERTIFICATE REQUEST-----\n");
        read_ok(pem);
        pki_csr_fast_clear(got);
    }
    /* An error after a run of whole quanta keeps its offset. */
    q = strchr(pem, '\n') + 1;
    q[41] = '!';
    read_err_s(strdup(pem), PKI_ERR_INPUT, "invalid character at offset 41");
    free(b64);
    free(pem);
    OPENSSL_free(der);
}

static void refuses_bad_base64(void **state)
{
    size_t len, n;
    unsigned char *der = x509_csr(keys[K_P256], keys[K_P256], NULL, "URI:" URI, 0, &len);
    char *pem = csr_pem(der, len), *s, *body;

    (void)state;
    n = strlen(pem);
    s = malloc(n + 64);
    body = strchr(pem, '\n') + 1;
    sprintf(s, "%.*sProc-Type: 4,ENCRYPTED\n\n%s", (int)(body - pem), pem, body);
    read_err_s(s, PKI_ERR_INPUT, "has headers");
    s = strdup(pem);
    s[body - pem + 10] = '*';
    read_err_s(s, PKI_ERR_INPUT, "invalid character at offset 10");
    s = strdup(pem);
    s[body - pem + 10] = '=';
    read_err_s(s, PKI_ERR_INPUT, "misplaced padding");
    /* 2 bytes of DER end in "xx8=" style; a non-zero spare bit is refused. */
    OPENSSL_free(der);
    free(pem);
    {
        static const unsigned char two[] = {0x30, 0x00}; /* "MAA=" */
        const char *txt = "-----BEGIN CERTIFICATE REQUEST-----\nMAB=\n"
                          "-----END CERTIFICATE REQUEST-----\n";
        const char *after = "-----BEGIN CERTIFICATE REQUEST-----\nMAA=MAA=\n"
                            "-----END CERTIFICATE REQUEST-----\n";
        const char *ok = "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n"
                         "-----END CERTIFICATE REQUEST-----\n";

        (void)two;
        read_err(txt, strlen(txt), PKI_ERR_INPUT, "not canonical");
        read_err(after, strlen(after), PKI_ERR_INPUT, "goes on after its padding");
        /* Decodes (0x30 0x00), then the DER walk refuses it. */
        read_err(ok, strlen(ok), PKI_ERR_INPUT, "certificationRequestInfo SEQUENCE expected at "
                 "offset 2");
    }
}

static void refuses_a_certificate(void **state)
{
    X509 *x = ut_ca(keys[K_P256], T0, YEAR);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);

    (void)state;
    assert_true(n > 0);
    read_err_s(pem_of(der, (size_t)n, "CERTIFICATE"), PKI_ERR_INPUT, "\"CERTIFICATE\"");
    /* Its DER under the request's label: the walk finds no version INTEGER. */
    read_err_s(csr_pem(der, (size_t)n), PKI_ERR_INPUT, "version INTEGER expected at offset 8");
    OPENSSL_free(der);
    X509_free(x);
}

static void refuses_oversize_pem(void **state)
{
    struct pki_err err = {0, ""};
    size_t n = PKI_CSR_FAST_PEM_MAX + 1;
    char *big = malloc(n);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    read_err(big, n, PKI_ERR_INPUT, "larger than 32768 bytes of PEM");
    free(big);
    assert_int_equal(pki_csr_fast_read(NULL, "x", 1, got, &err), PKI_ERR_USAGE);
}

/* A challengePassword attribute of n bytes (skipped when read) into attr. */
static size_t password_attr(unsigned char *attr, size_t cap, const unsigned char *pw, size_t n)
{
    static const unsigned char oid_challenge[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                                  0x09, 0x07};
    struct pki__der d;
    size_t a, s;

    pki__der_init(&d, attr, cap);
    a = pki__der_begin(&d);
    pki__der_tlv(&d, PKI__DER_OID, oid_challenge, sizeof(oid_challenge));
    s = pki__der_begin(&d);
    pki__der_tlv(&d, PKI__DER_UTF8STRING, pw, n);
    pki__der_end(&d, s, PKI__DER_SET);
    pki__der_end(&d, a, PKI__DER_SEQUENCE);
    assert_false(d.overflow);
    return d.len;
}

/* DER over 16 KiB in PEM under 32 KiB is refused; 15 KB is read. */
static void refuses_oversize_der(void **state)
{
    unsigned char *attr = malloc(17100), *pw = malloc(17000);
    struct parts p = {.key = keys[K_P256]};
    char *pem;

    (void)state;
    assert_non_null(attr);
    assert_non_null(pw);
    memset(pw, 'x', 17000);
    p.attrs = attr;
    p.attrs_len = password_attr(attr, 17100, pw, 17000);
    read_err_s(hand_csr(&p), PKI_ERR_INPUT, "larger than 16384 bytes");
    p.attrs_len = password_attr(attr, 17100, pw, 15000);
    pem = hand_csr(&p);
    read_ok(pem);
    pki_csr_fast_clear(got);
    free(pem);
    free(pw);
    free(attr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_core_csrs_of_every_key_type),
        cmocka_unit_test(reads_openssl_csrs_of_every_digest),
        cmocka_unit_test(reads_csr_without_sans),
        cmocka_unit_test(reads_sixteen_dns_names),
        cmocka_unit_test(skips_other_attributes_and_extensions),
        cmocka_unit_test(reads_pem_variants),
        cmocka_unit_test(reads_any_line_width),
        cmocka_unit_test(reads_csr_without_attributes),
        cmocka_unit_test(verifier_is_reusable_across_key_types),
        cmocka_unit_test(refuses_altered_request),
        cmocka_unit_test(refuses_signature_by_another_key),
        cmocka_unit_test(no_key_outlives_its_csr),
        cmocka_unit_test(refuses_sha1_and_md5),
        cmocka_unit_test(refuses_algorithm_of_another_key_type),
        cmocka_unit_test(refuses_two_uris),
        cmocka_unit_test(refuses_other_name_types),
        cmocka_unit_test(refuses_seventeen_dns_names),
        cmocka_unit_test(refuses_bad_dns_names),
        cmocka_unit_test(refuses_bad_uris),
        cmocka_unit_test(refuses_duplicate_requests),
        cmocka_unit_test(reads_microsoft_extension_request),
        cmocka_unit_test(critical_flag_must_be_der),
        cmocka_unit_test(refuses_malformed_der),
        cmocka_unit_test(refuses_trailing_and_long_lengths),
        cmocka_unit_test(refuses_keys_pkictl_does_not_sign_for),
        cmocka_unit_test(refuses_bad_pem),
        cmocka_unit_test(refuses_bad_base64),
        cmocka_unit_test(refuses_a_certificate),
        cmocka_unit_test(refuses_oversize_pem),
        cmocka_unit_test(refuses_oversize_der),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
