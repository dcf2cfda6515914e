/*
 * unit_util.h - helpers shared by the cmocka unit tests (header-only; every
 * helper is static inline so each test executable stays warning-free).
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h>, <stdint.h> and <cmocka.h>.
 */
#ifndef PKI_UNIT_UTIL_H
#define PKI_UNIT_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "err.h"
#include "key.h"
#include "name.h"

/* 2023-11-14 22:13:20 UTC: the fixed clock of every test. */
#define T0 ((time_t)1700000000)
#define HOUR ((int64_t)3600)
#define DAY ((int64_t)86400)
#define YEAR ((int64_t)365 * DAY)

/* rc and err.code are both `want`, and err.msg contains `word`. */
#define assert_err(rc, err, want, word)                                                    \
    do {                                                                                   \
        int rc_ = (rc);                                                                    \
        if (rc_ != (want) || (err).code != (want))                                         \
            fail_msg("expected code %d, got rc %d / err.code %d (\"%s\")", (int)(want),    \
                     rc_, (err).code, (err).msg);                                          \
        assert_msg_has(err, word);                                                         \
    } while (0)

#define assert_msg_has(err, word)                                                          \
    do {                                                                                   \
        if (strstr((err).msg, (word)) == NULL)                                             \
            fail_msg("message \"%s\" lacks \"%s\"", (err).msg, (word));                    \
    } while (0)

#define assert_str_has(s, word)                                                            \
    do {                                                                                   \
        if (strstr((s), (word)) == NULL)                                                   \
            fail_msg("\"%s\" lacks \"%s\"", (s), (word));                                  \
    } while (0)

#define assert_ok(rc, err)                                                                 \
    do {                                                                                   \
        int rc_ = (rc);                                                                    \
        if (rc_ != PKI_OK)                                                                 \
            fail_msg("expected PKI_OK, got %d (\"%s\")", rc_, (err).msg);                  \
    } while (0)

static inline EVP_PKEY *ut_key(enum pki_key_type type, int bits)
{
    struct pki_key_spec spec = {type, bits};
    struct pki_err err = {0, ""};
    EVP_PKEY *k = pki_key_generate(&spec, &err);

    if (k == NULL)
        fail_msg("key generation failed: %s", err.msg);
    return k;
}

static inline EVP_PKEY *ut_ec(void)
{
    return ut_key(PKI_KEY_ECDSA, 256);
}

/* A copy of x as it reads back from DER (frees x), the way certificates
 * come to the library from files. pki_cert_issue's own result is tested
 * as such in test_cert.c and test_chain.c. */
static inline X509 *ut_reparse(X509 *x)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_X509(x, &der);
    X509 *y;

    assert_true(len > 0);
    p = der;
    y = d2i_X509(NULL, &p, len);
    assert_non_null(y);
    OPENSSL_free(der);
    X509_free(x);
    return y;
}

/* A self-signed CA (reparsed); fails the test if issuing fails. */
static inline X509 *ut_ca(EVP_PKEY *key, time_t now, int64_t lifetime)
{
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *x;

    memset(&p, 0, sizeof(p));
    p.role = PKI_ROLE_CA;
    p.organization = "test";
    p.common_name = "test CA";
    p.lifetime = lifetime;
    p.now = now;
    p.subject_key = key;
    p.issuer_key = key;
    x = pki_cert_issue(&p, &err);
    if (x == NULL)
        fail_msg("CA issue failed: %s", err.msg);
    return ut_reparse(x);
}

/* A certificate signed by ca (reparsed). */
static inline X509 *ut_leaf(enum pki_cert_role role, const char *cn, EVP_PKEY *key, X509 *ca,
                            EVP_PKEY *ca_key, time_t now, int64_t lifetime)
{
    struct pki_cert_params p;
    struct pki_err err = {0, ""};
    X509 *x;

    memset(&p, 0, sizeof(p));
    p.role = role;
    p.organization = "test";
    p.common_name = cn;
    p.lifetime = lifetime;
    p.now = now;
    p.subject_key = key;
    p.issuer = ca;
    p.issuer_key = ca_key;
    x = pki_cert_issue(&p, &err);
    if (x == NULL)
        fail_msg("leaf issue failed: %s", err.msg);
    return ut_reparse(x);
}

static inline STACK_OF(X509) *ut_stack(X509 *a, X509 *b)
{
    STACK_OF(X509) *s = sk_X509_new_null();

    assert_non_null(s);
    if (a != NULL)
        assert_true(sk_X509_push(s, a) > 0);
    if (b != NULL)
        assert_true(sk_X509_push(s, b) > 0);
    return s;
}

/* ---- files ---------------------------------------------------------------- */

static inline char *ut_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);

    assert_non_null(path);
    snprintf(path, 4096, "%s/pkictl-unit-XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(path) == NULL)
        fail_msg("mkdtemp %s failed", path);
    return path;
}

static inline int ut_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static inline void ut_rmtree(char *path)
{
    if (path == NULL)
        return;
    nftw(path, ut_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

/* dir/name into a static buffer (one of four, so a few may be live at once). */
static inline const char *ut_path(const char *dir, const char *name)
{
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];

    if (snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name) >= (int)sizeof(bufs[0]))
        fail_msg("path too long");
    return b;
}

static inline void ut_write(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0)
        fail_msg("cannot create %s", path);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* Reads a whole file into a NUL-terminated malloc'd buffer; NULL if absent. */
static inline char *ut_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    data[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return data;
}

static inline mode_t ut_mode(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        fail_msg("stat %s failed", path);
    return st.st_mode & 07777;
}

/* Number of directory entries other than . and .. */
static inline int ut_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        fail_msg("cannot open %s", dir);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* What a memory BIO holds, as malloc'd NUL-terminated text; frees the BIO. */
static inline char *ut_bio_text(BIO *b)
{
    char *data, *out;
    long n = BIO_get_mem_data(b, &data);

    assert_true(n >= 0);
    out = malloc((size_t)n + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

/* PEM text of a certificate (malloc'd, NUL-terminated). */
static inline char *ut_cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());

    assert_non_null(b);
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    return ut_bio_text(b);
}

static inline void ut_write_cert(const char *path, X509 *x, mode_t mode)
{
    char *pem = ut_cert_pem(x);

    ut_write(path, pem, strlen(pem), mode);
    free(pem);
}

static inline void ut_write_key(const char *path, EVP_PKEY *k, mode_t mode)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};

    assert_ok(pki_key_to_pem(k, &b, &err), err);
    ut_write(path, b.data, b.len, mode);
    pki_buf_free(&b);
}

/* ---- requests, names and extensions (OpenSSL directly) ------------------- */

/* An X509_NAME with O (may be NULL) then CN (may be NULL), both UTF8String. */
static inline X509_NAME *ut_name(const char *o, const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    assert_non_null(n);
    if (o != NULL)
        assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
                                                    (const unsigned char *)o, -1, -1, 0), 1);
    if (cn != NULL)
        assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                                    (const unsigned char *)cn, -1, -1, 0), 1);
    return n;
}

/* An extension from OpenSSL's config syntax ("critical,CA:TRUE", ...). */
static inline X509_EXTENSION *ut_ext(int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, NULL, nid, value);

    if (e == NULL)
        fail_msg("cannot build extension %s = %s", OBJ_nid2sn(nid), value);
    return e;
}

/* A DER round trip of a request (frees r). */
static inline X509_REQ *ut_req_reparse(X509_REQ *r)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_X509_REQ(r, &der);
    X509_REQ *y;

    assert_true(len > 0);
    p = der;
    y = d2i_X509_REQ(NULL, &p, len);
    assert_non_null(y);
    OPENSSL_free(der);
    X509_REQ_free(r);
    return y;
}

/* A request built with OpenSSL alone: subject (copied; NULL for an empty
 * one), key, the extensions in exts (may be NULL; not freed), signed with
 * md (NULL: the digest pkictl would use). Reparsed from DER. */
static inline X509_REQ *ut_req_raw(EVP_PKEY *key, const X509_NAME *subject,
                                   STACK_OF(X509_EXTENSION) *exts, const EVP_MD *md)
{
    X509_REQ *r = X509_REQ_new();

    assert_non_null(r);
    assert_int_equal(X509_REQ_set_version(r, X509_REQ_VERSION_1), 1);
    if (subject != NULL)
        assert_int_equal(X509_REQ_set_subject_name(r, subject), 1);
    assert_int_equal(X509_REQ_set_pubkey(r, key), 1);
    if (exts != NULL)
        assert_int_equal(X509_REQ_add_extensions(r, exts), 1);
    if (X509_REQ_sign(r, key, md != NULL ? md : pki_key_sign_digest(key)) <= 0)
        fail_msg("X509_REQ_sign failed");
    return ut_req_reparse(r);
}

/* DER of a request (OPENSSL_free it). */
static inline unsigned char *ut_req_der(X509_REQ *r, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509_REQ(r, &der);

    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

/* PEM text of a request (malloc'd, NUL-terminated). */
static inline char *ut_req_pem(X509_REQ *r)
{
    BIO *b = BIO_new(BIO_s_mem());

    assert_non_null(b);
    assert_int_equal(PEM_write_bio_X509_REQ(b, r), 1);
    return ut_bio_text(b);
}

/* Replaces (or adds) cert's extension nid with ext's, then re-signs with k
 * (the issuer's key). ext is freed. */
static inline void ut_set_ext(X509 *x, X509_EXTENSION *ext, EVP_PKEY *k)
{
    int i = X509_get_ext_by_OBJ(x, X509_EXTENSION_get_object(ext), -1);

    if (i >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, i));
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, k, pki_key_sign_digest(k)) > 0);
}

/* The number of certificates in a PEM text. */
static inline int ut_count_pem_certs(const char *pem)
{
    int n = 0;

    for (; (pem = strstr(pem, "-----BEGIN CERTIFICATE-----")) != NULL; pem++)
        n++;
    return n;
}

/* Every certificate of a PEM file (a new stack; pki_certs_free it). */
static inline STACK_OF(X509) *ut_read_certs(const char *path)
{
    STACK_OF(X509) *s = sk_X509_new_null();
    FILE *f = fopen(path, "rb");
    X509 *x;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_non_null(s);
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        assert_true(sk_X509_push(s, x) > 0);
    ERR_clear_error();
    fclose(f);
    return s;
}

/* ---- the audit log (only where audit.h was included first) --------------- */
#ifdef SRV_AUDIT_H

/* A log of n records at dir/audit.log ("bootstrap", then "leaf.issue", one
 * second apart from T0); returns its path. */
static inline const char *ut_audit_log(const char *dir, int n)
{
    const char *path = ut_path(dir, "audit.log");
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    int i;

    if (a == NULL)
        fail_msg("open: %s", err.msg);
    for (i = 0; i < n; i++) {
        json_t *f = json_pack("{s:s, s:i}", "service", "web", "n", i);

        assert_ok(srv_audit_append(a, T0 + i, i == 0 ? "bootstrap" : "leaf.issue", f, &err),
                  err);
        json_decref(f);
    }
    assert_ok(srv_audit_sync(a, &err), err);
    srv_audit_close(a);
    return path;
}

#endif /* SRV_AUDIT_H */

#endif
