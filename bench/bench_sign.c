/*
 * bench_sign.c - signs one CSR N times in-process with pkictl's core
 * (pki_profile_sign under the server profile, then PEM encoding), after
 * loading the CA and the request once, and prints the time per signature.
 *
 *   bench_sign CA_CERT CA_KEY CSR N
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "certsdir.h"
#include "csr.h"
#include "fsio.h"
#include "pem.h"
#include "profile.h"

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct pki_err err = {0, ""};
    struct pki_buf csr_der = {NULL, 0}, pem = {NULL, 0};
    STACK_OF(X509) *cas = NULL;
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    double t0, t1;
    long i, n;
    X509 *cert;

    if (argc != 5 || (n = atol(argv[4])) <= 0) {
        fprintf(stderr, "usage: bench_sign CA_CERT CA_KEY CSR N\n");
        return 2;
    }
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    if ((cas = certsdir_load_certs(argv[1], &err)) == NULL ||
        (key = certsdir_load_key(argv[2], 1, &err)) == NULL ||
        fs_read_file(argv[3], PKI_CSR_MAX, &csr_der, NULL, &err) != PKI_OK ||
        (req = pki_csr_read(csr_der.data, csr_der.len, &err)) == NULL) {
        fprintf(stderr, "bench_sign: %s\n", err.msg);
        return 1;
    }
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        cert = pki_profile_sign(req, PKI_PROFILE_SERVER, sk_X509_value(cas, 0), key,
                                INT64_C(8760) * 3600, time(NULL), &err);
        if (cert == NULL || pki_pem_append_cert(cert, &pem, &err) != PKI_OK) {
            fprintf(stderr, "bench_sign: %s\n", err.msg);
            return 1;
        }
        X509_free(cert);
        pki_buf_free(&pem);
    }
    t1 = now_ns();
    printf("%ld signatures, %.1f us each, %.0f per second\n", n, (t1 - t0) / n / 1e3,
           n / ((t1 - t0) / 1e9));
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    pki_certs_free(cas);
    pki_buf_free(&csr_der);
    return 0;
}
