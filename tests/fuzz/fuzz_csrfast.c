/* fuzz_csrfast.c - pki_csr_fast_read (the server's CSR fast path) against
 * OpenSSL's own reading of the same bytes.
 *
 * The first byte says how the rest is fed:
 *   'D'  DER, wrapped in CERTIFICATE REQUEST PEM, so that mutations land in
 *        the DER walk rather than in the base64;
 *   'R'  a CertificationRequestInfo, signed with the fixed key below
 *        (ecdsa-with-SHA256) and wrapped: mutated names, attributes and
 *        extensions of a CRI that holds that key get past the signature,
 *        so the accepting paths are reached, not only the refusals;
 *   else the whole input is the PEM text.
 * Whenever the fast path accepts, OpenSSL must decode the DER whole, verify
 * its signature, and re-encode its key to exactly the SPKI bytes extracted;
 * and when pki_csr_read takes the DER too, pki_csr_sans must list the same
 * URI and DNS names. */
#include "fuzz_common.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "csr.h"
#include "csrfast.h"
#include "leaf_der.h"

/* A throwaway test key (the seeds under corpus/fuzz_csrfast/R_* hold its
 * public half); not a secret. */
static const char fixed_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNvXHB4/sJjOpm5Kz\n"
    "6O//Qv35UA4OIs4vxcvRjFEPz4qhRANCAARcuP3hj1F4baDSReCa/Y+ebCbZx69h\n"
    "zcjYcaM61tf3juBZe7fCgx+89PHV7C9DmbpAWGdbcMa160WfQjeqxdlE\n"
    "-----END PRIVATE KEY-----\n";

static const unsigned char alg_es256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x04, 0x03, 0x02};

#define IN_MAX 20000

static struct pki_csr_verifier *ver;
static EVP_PKEY *fixed_key;
static struct pki_csr_fast out;
static struct pki_host sans[PKI_LEAF_DNS_MAX + 2];

static void init(void)
{
    struct pki_err err = {0, ""};
    BIO *b;

    if (ver != NULL)
        return;
    ver = pki_csr_verifier_new(&err);
    b = BIO_new_mem_buf(fixed_key_pem, -1);
    FUZZ_CHECK(ver != NULL && b != NULL);
    fixed_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    FUZZ_CHECK(fixed_key != NULL);
    BIO_free(b);
}

/* der as CERTIFICATE REQUEST PEM in 64 columns (malloc'd); its length. */
static char *pem_wrap(const unsigned char *der, size_t len, size_t *n)
{
    size_t cap = len * 2 + 128, o;
    char *s = malloc(cap);

    FUZZ_CHECK(s != NULL);
    o = (size_t)snprintf(s, cap, "-----BEGIN CERTIFICATE REQUEST-----\n");
    for (size_t i = 0; i < len; i += 48) {
        o += (size_t)EVP_EncodeBlock((unsigned char *)s + o, der + i,
                                     (int)(len - i < 48 ? len - i : 48));
        s[o++] = '\n';
    }
    o += (size_t)snprintf(s + o, cap - o, "-----END CERTIFICATE REQUEST-----\n");
    *n = o;
    return s;
}

/* SEQUENCE { cri, ecdsa-with-SHA256, BIT STRING sig } with the fixed key. */
static unsigned char *resign(const unsigned char *cri, size_t len, size_t *n)
{
    unsigned char *buf = malloc(len + 128), sig[80];
    size_t siglen = sizeof(sig) - 1, m;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    struct pki__der d;

    FUZZ_CHECK(buf != NULL && ctx != NULL);
    FUZZ_CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, fixed_key) == 1);
    FUZZ_CHECK(EVP_DigestSign(ctx, sig + 1, &siglen, cri, len) == 1);
    EVP_MD_CTX_free(ctx);
    sig[0] = 0;
    pki__der_init(&d, buf, len + 128);
    m = pki__der_begin(&d);
    pki__der_raw(&d, cri, len);
    pki__der_raw(&d, alg_es256, sizeof(alg_es256));
    pki__der_tlv(&d, PKI__DER_BIT_STRING, sig, siglen + 1);
    pki__der_end(&d, m, PKI__DER_SEQUENCE);
    FUZZ_CHECK(!d.overflow);
    *n = d.len;
    return buf;
}

/* The names the fast path read are the ones pki_csr_sans reads, when the
 * X509_REQ path accepts the request at all (it is stricter on subjects). */
static void same_as_core(void)
{
    struct pki_err err = {0, ""};
    X509_REQ *req = pki_csr_read(out.der, out.der_len, &err);
    size_t n = 0, d = 0, uris = 0;

    ERR_clear_error();
    if (req == NULL || pki_csr_sans(req, sans, PKI_LEAF_DNS_MAX + 2, &n, &err) != PKI_OK) {
        X509_REQ_free(req);
        ERR_clear_error();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (sans[i].kind == PKI_HOST_URI) {
            FUZZ_CHECK(out.has_uri && strcmp(sans[i].text, out.uri) == 0);
            uris++;
        } else {
            FUZZ_CHECK(sans[i].kind == PKI_HOST_DNS && d < out.ndns);
            FUZZ_CHECK(strcmp(sans[i].text, out.dns[d++]) == 0);
        }
    }
    FUZZ_CHECK(uris == (size_t)out.has_uri && d == out.ndns);
    X509_REQ_free(req);
}

static void check_accepted(void)
{
    struct pki_err err = {0, ""};
    const unsigned char *p = out.der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)out.der_len);
    unsigned char *spki = NULL;
    EVP_PKEY *pub;
    int n;

    FUZZ_CHECK(out.der_len > 0 && out.der_len <= PKI_CSR_FAST_DER_MAX);
    FUZZ_CHECK(out.spki > out.der && out.spki + out.spki_len <= out.der + out.der_len);
    FUZZ_CHECK(pki_leaf_spki_check(out.spki, out.spki_len, &err) == PKI_OK);
    FUZZ_CHECK(out.ndns <= PKI_LEAF_DNS_MAX);
    for (size_t i = 0; i < out.ndns; i++)
        FUZZ_CHECK(out.dns[i][0] != '\0' && strlen(out.dns[i]) <= PKI_NAME_DNS_MAX);
    FUZZ_CHECK(!out.has_uri || (out.uri[0] != '\0' && strlen(out.uri) <= PKI_SPIFFE_URI_MAX));
    FUZZ_CHECK(req != NULL && p == out.der + out.der_len);
    pub = X509_REQ_get0_pubkey(req);
    FUZZ_CHECK(pub != NULL);
    FUZZ_CHECK(X509_REQ_verify(req, pub) == 1);
    n = i2d_PUBKEY(pub, &spki);
    FUZZ_CHECK(n > 0 && (size_t)n == out.spki_len && memcmp(spki, out.spki, out.spki_len) == 0);
    OPENSSL_free(spki);
    X509_REQ_free(req);
    same_as_core();
}

static void run(const char *text, size_t len)
{
    struct pki_err err = {0, ""};
    char *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    int rc;

    FUZZ_CHECK(copy != NULL);
    if (len > 0)
        memcpy(copy, text, len);
    rc = pki_csr_fast_read(ver, copy, len, &out, &err);
    free(copy);
    if (rc != PKI_OK) {
        FUZZ_CHECK(rc == err.code && (rc == PKI_ERR_INPUT || rc == PKI_ERR_POLICY));
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL && err.msg[0] != '\0');
        FUZZ_CHECK(out.der == NULL && out.ndns == 0 && !out.has_uri);
        ERR_clear_error();
        return;
    }
    check_accepted();
    pki_csr_fast_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *der = NULL;
    char *pem;
    size_t n;

    init();
    if (size > 0 && (data[0] == 'D' || data[0] == 'R') && size <= IN_MAX) {
        if (data[0] == 'R')
            der = resign(data + 1, size - 1, &n);
        pem = der ? pem_wrap(der, n, &n) : pem_wrap(data + 1, size - 1, &n);
        run(pem, n);
        free(pem);
        free(der);
        return 0;
    }
    run((const char *)data, size);
    return 0;
}
