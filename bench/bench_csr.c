/*
 * bench_csr.c - reads N copies of one P-256 CSR (a SPIFFE URI and two DNS
 * SANs, as `POST /v1/connect/ca/sign` gets them) with the fast path
 * (pki_csr_fast_read), and for comparison with the X509_REQ path the server
 * used before (pki_csr_read + pki_csr_sans + i2d_PUBKEY), and a bare ECDSA
 * P-256 verify of a digest (the limit `openssl speed ecdsap256` measures).
 * Prints CSRs per second and microseconds per CSR.
 *
 *   bench_csr [N] [all|fast|old|verify]     (N defaults to 20000)
 *
 * Instructions per CSR: run callgrind at two N and divide the difference,
 *   valgrind --tool=callgrind bench_csr 1000 fast; ... bench_csr 2000 fast
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "csr.h"
#include "csrfast.h"
#include "key.h"
#include "name.h"

#include "bench_util.h"

static void report(const char *what, long n, double secs)
{
    bench_report(44, what, n, secs);
}

static void die(const char *what, const struct pki_err *err)
{
    bench_die("bench_csr", what, err);
}

/* The CSR's PEM text (malloc'd), made by the core as `pkictl csr` would. */
static char *make_csr(EVP_PKEY *key)
{
    static const char *const sans[] = {("uri:" URI), "dns:web.example.com", "dns:web.internal"};
    struct pki_host h[3];
    struct pki_buf pem = {NULL, 0};
    struct pki_err err = {0, ""};
    struct pki_csr_params p;
    X509_NAME *name = X509_NAME_new();
    X509_REQ *req;
    char *s;

    for (int i = 0; i < 3; i++)
        if (pki_san_parse(sans[i], &h[i], &err) != PKI_OK)
            die("san", &err);
    if (name == NULL || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                   (const unsigned char *)"web", -1, -1, 0) != 1)
        die("name", &err);
    memset(&p, 0, sizeof(p));
    p.key = key;
    p.subject = name;
    p.sans = h;
    p.nsans = 3;
    p.usage = PKI_USAGE_BOTH;
    if ((req = pki_csr_create(&p, &err)) == NULL || pki_csr_to_pem(req, &pem, &err) != PKI_OK)
        die("csr", &err);
    s = strndup((const char *)pem.data, pem.len);
    pki_buf_free(&pem);
    X509_REQ_free(req);
    X509_NAME_free(name);
    return s;
}

static double bench_fast(const char *pem, long n)
{
    struct pki_err err = {0, ""};
    struct pki_csr_verifier *v = pki_csr_verifier_new(&err);
    struct pki_csr_fast *c = calloc(1, sizeof(*c));
    size_t len = strlen(pem);
    double t0;

    if (v == NULL || c == NULL)
        die("verifier", &err);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (pki_csr_fast_read(v, pem, len, c, &err) != PKI_OK)
            die("pki_csr_fast_read", &err);
        if (!c->has_uri || c->ndns != 2)
            die("pki_csr_fast_read: wrong SANs", &err);
        pki_csr_fast_clear(c);
    }
    t0 = now_s() - t0;
    free(c);
    pki_csr_verifier_free(v);
    return t0;
}

/* What srv_api_sign did per request before the fast path. */
static double bench_old(const char *pem, long n)
{
    struct pki_host *sans = calloc(17, sizeof(*sans));
    struct pki_err err = {0, ""};
    unsigned char *spki;
    size_t len = strlen(pem), nsans;
    X509_REQ *req;
    double t0 = now_s();

    for (long i = 0; i < n; i++) {
        spki = NULL;
        if ((req = pki_csr_read((const unsigned char *)pem, len, &err)) == NULL ||
            pki_csr_sans(req, sans, 17, &nsans, &err) != PKI_OK || nsans != 3 ||
            i2d_PUBKEY(X509_REQ_get0_pubkey(req), &spki) <= 0)
            die("pki_csr_read", &err);
        OPENSSL_free(spki);
        X509_REQ_free(req);
    }
    t0 = now_s() - t0;
    free(sans);
    return t0;
}

/* An ECDSA P-256 verify of a SHA-256 digest and nothing else. */
static double bench_verify(EVP_PKEY *key, long n)
{
    unsigned char dg[32] = {1}, sig[80];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t len = sizeof(sig);
    double t0;

    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
        EVP_PKEY_sign(ctx, sig, &len, dg, sizeof(dg)) != 1 || EVP_PKEY_verify_init(ctx) != 1) {
        fprintf(stderr, "bench_csr: verify setup failed\n");
        exit(1);
    }
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (EVP_PKEY_verify(ctx, sig, len, dg, sizeof(dg)) != 1) {
            fprintf(stderr, "bench_csr: verify failed\n");
            exit(1);
        }
    }
    t0 = now_s() - t0;
    EVP_PKEY_CTX_free(ctx);
    return t0;
}

int main(int argc, char **argv)
{
    struct pki_err err = {0, ""};
    struct pki_key_spec ec = {PKI_KEY_ECDSA, 256};
    const char *mode = argc > 2 ? argv[2] : "all";
    long n = argc > 1 ? atol(argv[1]) : 20000;
    int all = strcmp(mode, "all") == 0;
    double fast = 0, verify = 0;
    EVP_PKEY *key;
    char *pem;

    if (n <= 0 || argc > 3 || (!all && strcmp(mode, "fast") != 0 && strcmp(mode, "old") != 0 &&
                               strcmp(mode, "verify") != 0)) {
        fprintf(stderr, "usage: bench_csr [N] [all|fast|old|verify]\n");
        return 2;
    }
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    if ((key = pki_key_generate(&ec, &err)) == NULL)
        die("key", &err);
    pem = make_csr(key);
    if (all || strcmp(mode, "fast") == 0)
        report("pki_csr_fast_read (fast path)", n, fast = bench_fast(pem, n));
    if (all || strcmp(mode, "old") == 0)
        report("pki_csr_read + pki_csr_sans + i2d_PUBKEY", n, bench_old(pem, n));
    if (all || strcmp(mode, "verify") == 0)
        report("ECDSA P-256 verify of a digest only", n, verify = bench_verify(key, n));
    if (fast > 0 && verify > 0)
        printf("fast path runs at %.0f%% of the bare verify rate\n", 100.0 * verify / fast);
    free(pem);
    EVP_PKEY_free(key);
    return 0;
}
