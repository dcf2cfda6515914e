/*
 * bench_leaf.c - issues N P-256 leaves under a P-256 intermediate with the
 * fast path (pki_leaf_issue), and for comparison with the X509-object path
 * (pki_cert_issue) and a bare ECDSA P-256 signature of a digest (the limit
 * `openssl speed ecdsap256` measures). Prints leaves per second and
 * microseconds per leaf.
 *
 *   bench_leaf [N] [all|fast|old|sign]     (N defaults to 20000)
 *
 * For instructions per leaf: valgrind --tool=callgrind bench_leaf 2000 fast
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"
#include "key.h"
#include "leaf.h"
#include "name.h"

#include "bench_util.h"

static void report(const char *what, long n, double secs)
{
    bench_report(34, what, n, secs);
}

static void die(const char *what, const struct pki_err *err)
{
    bench_die("bench_leaf", what, err);
}

static X509 *make_ca(EVP_PKEY *key, time_t now, struct pki_err *err)
{
    struct pki_cert_params p;

    memset(&p, 0, sizeof(p));
    p.role = PKI_ROLE_CA;
    p.common_name = "bench CA";
    p.lifetime = INT64_C(10) * 365 * 86400;
    p.now = now;
    p.subject_key = key;
    p.issuer_key = key;
    return pki_cert_issue(&p, err);
}

static double bench_fast(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *leaf_key, time_t now, long n)
{
    struct pki_leaf_issuer *iss;
    struct pki_err err = {0, ""};
    struct pki_buf der = {NULL, 0};
    unsigned char serial[PKI_LEAF_SERIAL_LEN], *spki = NULL;
    struct pki_leaf_req req;
    int len = i2d_PUBKEY(leaf_key, &spki);
    double t0;

    if (len <= 0 || (iss = pki_leaf_issuer_new(ca, ca_key, &err)) == NULL)
        die("issuer", &err);
    memset(&req, 0, sizeof(req));
    req.profile = PKI_LEAF_SERVICE;
    req.spki = spki;
    req.spki_len = (size_t)len;
    req.common_name = "web";
    req.uri = URI;
    req.not_before = now - 60;
    req.not_after = now + 72 * 3600;
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (pki_leaf_issue(iss, &req, &der, serial, &err) != PKI_OK)
            die("pki_leaf_issue", &err);
        pki_buf_free(&der);
    }
    t0 = now_s() - t0;
    pki_leaf_issuer_free(iss);
    OPENSSL_free(spki);
    return t0;
}

/* The X509-object path, DER-encoded as the fast path's output is. */
static double bench_old(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *leaf_key, time_t now, long n)
{
    struct pki_err err = {0, ""};
    struct pki_cert_params p;
    struct pki_host uri;
    unsigned char *der;
    double t0;
    X509 *x;

    if (pki_san_parse("uri:" URI, &uri, &err) != PKI_OK)
        die("uri", &err);
    memset(&p, 0, sizeof(p));
    p.role = PKI_ROLE_NODE;
    p.common_name = "web";
    p.hosts = &uri;
    p.nhosts = 1;
    p.lifetime = 72 * 3600;
    p.now = now;
    p.subject_key = leaf_key;
    p.issuer = ca;
    p.issuer_key = ca_key;
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        der = NULL;
        if ((x = pki_cert_issue(&p, &err)) == NULL || i2d_X509(x, &der) <= 0)
            die("pki_cert_issue", &err);
        OPENSSL_free(der);
        X509_free(x);
    }
    return now_s() - t0;
}

/* A signature of a SHA-256 digest and nothing else. */
static double bench_sign(EVP_PKEY *key, long n)
{
    unsigned char dg[32] = {1}, sig[80];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t len;
    double t0;

    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1) {
        fprintf(stderr, "bench_leaf: sign init failed\n");
        exit(1);
    }
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        len = sizeof(sig);
        if (EVP_PKEY_sign(ctx, sig, &len, dg, sizeof(dg)) != 1) {
            fprintf(stderr, "bench_leaf: sign failed\n");
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
    time_t now = time(NULL);
    EVP_PKEY *ca_key = NULL, *leaf_key = NULL;
    double fast = 0, sign = 0;
    X509 *ca = NULL;

    if (n <= 0 || argc > 3 || (strcmp(mode, "all") != 0 && strcmp(mode, "fast") != 0 &&
                               strcmp(mode, "old") != 0 && strcmp(mode, "sign") != 0)) {
        fprintf(stderr, "usage: bench_leaf [N] [all|fast|old|sign]\n");
        return 2;
    }
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    if ((ca_key = pki_key_generate(&ec, &err)) == NULL ||
        (leaf_key = pki_key_generate(&ec, &err)) == NULL || (ca = make_ca(ca_key, now, &err)) == NULL)
        die("setup", &err);
    if (strcmp(mode, "all") == 0 || strcmp(mode, "fast") == 0)
        report("pki_leaf_issue (fast path)", n, fast = bench_fast(ca, ca_key, leaf_key, now, n));
    if (strcmp(mode, "all") == 0 || strcmp(mode, "old") == 0)
        report("pki_cert_issue (X509 objects)", n, bench_old(ca, ca_key, leaf_key, now, n));
    if (strcmp(mode, "all") == 0 || strcmp(mode, "sign") == 0)
        report("ECDSA P-256 sign of a digest only", n, sign = bench_sign(ca_key, n));
    if (fast > 0 && sign > 0)
        printf("fast path runs at %.0f%% of the bare signing rate\n", 100.0 * sign / fast);
    X509_free(ca);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(ca_key);
    return 0;
}
