/* test_signer.c - the signer process: its store key file, the CA
 * certificates it makes, wrapped keys across restarts, the policy it holds
 * leaves to, its isolation, and what the front end sees when it dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "cacert.h"
#include "keywrap.h"
#include "signer.h"
#include "signer_proto.h"
#include "signer_test_util.h"

static char *dir;
static char key_path[4096], other_key_path[4096];

static int group_setup(void **state)
{
    (void)state;
    dir = ut_mkdtemp();
    snprintf(key_path, sizeof(key_path), "%s/store.key", dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other.key", dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ut_rmtree(dir);
    return 0;
}

static void ski_hex(X509 *x, char out[PKI_KEY_ID_LEN])
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);

    assert_non_null(ski);
    assert_int_equal(ASN1_STRING_length(ski), 20);
    pki_hex_colon(ASN1_STRING_get0_data(ski), 20, out);
}

/* A /proc file (its size reads as 0, so ut_read cannot), NUL-terminated. */
static void read_proc(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    size_t len = 0;

    assert_true(fd >= 0);
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
}

static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* The one URI SAN of x. */
static void check_uri_san(X509 *x, const char *want)
{
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    const ASN1_STRING *s;
    int type;

    assert_non_null(g);
    assert_int_equal(sk_GENERAL_NAME_num(g), 1);
    s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, 0), &type);
    assert_int_equal(type, GEN_URI);
    assert_string_equal((const char *)ASN1_STRING_get0_data(s), want);
    GENERAL_NAMES_free(g);
}

/* A critical nameConstraints with one permitted URI subtree: the trust domain. */
static void check_name_constraint(X509 *x)
{
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
    GENERAL_SUBTREE *t;
    const ASN1_STRING *s;
    int type;

    assert_non_null(nc);
    assert_int_equal(ext_critical(x, NID_name_constraints), 1);
    assert_null(nc->excludedSubtrees);
    assert_int_equal(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 1);
    t = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, 0);
    s = GENERAL_NAME_get0_value(t->base, &type);
    assert_int_equal(type, GEN_URI);
    assert_string_equal((const char *)ASN1_STRING_get0_data(s), TD);
    NAME_CONSTRAINTS_free(nc);
}

static void check_ca_cert(X509 *x, const struct srv_ca_made *m, long pathlen)
{
    char id[PKI_KEY_ID_LEN], cn[80];
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);

    assert_true(X509_get_extension_flags(x) & EXFLAG_CA);
    assert_int_equal(X509_get_pathlen(x), pathlen);
    assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
    assert_int_equal(ext_critical(x, NID_key_usage), 1);
    assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
    check_uri_san(x, TD_URI);
    check_name_constraint(x);
    ski_hex(x, id);
    assert_string_equal(m->key_id, id);
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                           X509_get0_subject_key_id(x)) == 0, pathlen == -1);
    /* Serial: Consul's uint64, positive. */
    assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
    assert_true(ASN1_STRING_length(sn) >= 1 && ASN1_STRING_length(sn) <= 8);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), T0 - 60), 0);
    pki_cert_common_name(x, cn, sizeof(cn));
    assert_true(cn[0] != '\0');
    assert_int_equal(m->wrapped_key.len > PKI_KEYWRAP_OVERHEAD, 1);
    assert_memory_equal(m->wrapped_key.data, "PKW1", 4);
}

/* ---- the store key file ---------------------------------------------------- */

static void start_creates_store_key_0600(void **state)
{
    struct pki_err err = {0, ""};
    char *path = strdup(ut_path(dir, "fresh.key"));
    struct srv_signer *s;
    size_t len = 0;
    char *k1, *k2;

    (void)state;
    assert_null(srv_signer_start(path, 0, &err));
    assert_err(err.code, err, PKI_ERR_NOTFOUND, "no such file");
    s = start_ok(path);
    assert_int_equal(ut_mode(path), 0600);
    k1 = ut_read(path, &len);
    assert_int_equal(len, PKI_STORE_KEY_LEN);
    srv_signer_stop(s);
    /* A second start reads the same key instead of making another. */
    s = srv_signer_start(path, 1, &err);
    assert_non_null(s);
    k2 = ut_read(path, &len);
    assert_memory_equal(k1, k2, PKI_STORE_KEY_LEN);
    srv_signer_stop(s);
    free(k1);
    free(k2);
    free(path);
}

static void expect_start_refused(const char *path, int code, const char *word)
{
    struct pki_err err = {0, ""};

    assert_null(srv_signer_start(path, 1, &err));
    assert_err(err.code, err, code, word);
}

static void start_refuses_bad_store_key_files(void **state)
{
    static const unsigned char k[PKI_STORE_KEY_LEN + 1] = {1};
    char *p = strdup(ut_path(dir, "bad.key"));
    char msg[300];

    (void)state;
    ut_write(p, k, PKI_STORE_KEY_LEN, 0644);
    snprintf(msg, sizeof(msg), "store key %s: permissions 0644 are too open; expected 0600", p);
    expect_start_refused(p, PKI_ERR_POLICY, msg);
    ut_write(p, k, PKI_STORE_KEY_LEN, 0640);
    expect_start_refused(p, PKI_ERR_POLICY, "permissions 0640 are too open");
    ut_write(p, k, PKI_STORE_KEY_LEN - 1, 0600);
    expect_start_refused(p, PKI_ERR_INPUT, "31 bytes; expected 32");
    ut_write(p, k, PKI_STORE_KEY_LEN + 1, 0600);
    expect_start_refused(p, PKI_ERR_INPUT, "33 bytes; expected 32");
    /* A symbolic link, even to a good key file, is refused (not replaced). */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink(key_path, p), 0);
    expect_start_refused(p, PKI_ERR_POLICY, "symbolic link");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkdir(p, 0700), 0);
    expect_start_refused(p, PKI_ERR_INPUT, "not a regular file");
    assert_int_equal(rmdir(p), 0);
    expect_start_refused("", PKI_ERR_USAGE, "no store key file");
    free(p);
}

/* ---- isolation ------------------------------------------------------------- */

/* A descriptor the front end had open before the fork (a pipe's write end,
 * not close-on-exec) must not live on in the signer: once the front end
 * closes its copy, the read end sees EOF at once. */
static void signer_keeps_no_inherited_descriptor(void **state)
{
    struct pollfd pfd;
    struct srv_signer *s;
    char path[64], st[8192], *p;
    int fds[2], n = 0;
    DIR *d;
    struct dirent *e;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    s = start_ok(key_path);
    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    assert_int_equal(poll(&pfd, 1, 0), 1);
    assert_true(pfd.revents & POLLHUP);
    close(fds[0]);
    /* PR_SET_NO_NEW_PRIVS shows in its status. */
    snprintf(path, sizeof(path), "/proc/%d/status", srv_signer_pid(s));
    read_proc(path, st, sizeof(st));
    p = strstr(st, "NoNewPrivs:");
    assert_non_null(p);
    assert_int_equal(atoi(p + strlen("NoNewPrivs:")), 1);
    /* Root may list its descriptors: exactly stderr and its two pipes. Its own
     * user may not: PR_SET_DUMPABLE 0 hands the files under /proc/PID to
     * root and closes its fd folder to everyone else. */
    snprintf(path, sizeof(path), "/proc/%d/fd", srv_signer_pid(s));
    d = opendir(path);
    if (geteuid() == 0) {
        assert_non_null(d);
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.') {
                n++;
                assert_true(strcmp(e->d_name, "2") == 0 || strcmp(e->d_name, "3") == 0 ||
                            strcmp(e->d_name, "4") == 0);
            }
        closedir(d);
        assert_int_equal(n, 3);
    } else {
        struct stat sb;

        assert_null(d);
        assert_int_equal(errno, EACCES);
        snprintf(path, sizeof(path), "/proc/%d/status", srv_signer_pid(s));
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_uid, 0);
    }
    srv_signer_stop(s);
}

/* ---- CA certificates ------------------------------------------------------- */

static void gen_root_makes_a_constrained_root(void **state)
{
    struct srv_ca_made m = {{NULL, 0}, {NULL, 0}, ""};
    struct srv_signer *s = start_ok(key_path);
    X509 *root;

    (void)state;
    root = gen_root(s, "pkictl CA Primary Cert", &m);
    check_ca_cert(root, &m, -1);
    assert_int_equal(X509_verify(root, X509_get0_pubkey(root)), 1);
    assert_int_equal(X509_check_issued(root, root), X509_V_OK);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(root), T0 + 10 * YEAR), 0);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(root)), 256);
    assert_int_equal(verify(root, NULL, root, 0), X509_V_OK);
    X509_free(root);
    srv_ca_made_clear(&m);
    srv_signer_stop(s);
}

static void gen_root_refusals(void **state)
{
    struct srv_ca_made m = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    char cn[70];
    struct srv_ca_req r;

    (void)state;
    ca_req(&r, "root", YEAR);
    r.spec.type = PKI_KEY_RSA;
    r.spec.bits = 3072;
    assert_err(srv_signer_gen_root(s, &r, &m, &err), err, PKI_ERR_INPUT, "unsupported CA key");
    ca_req(&r, "root", YEAR);
    r.trust_domain = "Not_A.Domain";
    assert_int_equal(srv_signer_gen_root(s, &r, &m, &err), PKI_ERR_INPUT);
    ca_req(&r, "root", YEAR);
    r.trust_domain = NULL;
    assert_int_equal(srv_signer_gen_root(s, &r, &m, &err), PKI_ERR_INPUT);
    memset(cn, 'c', 65);
    cn[65] = '\0';
    ca_req(&r, cn, YEAR);
    assert_err(srv_signer_gen_root(s, &r, &m, &err), err, PKI_ERR_INPUT, "1 to 64");
    ca_req(&r, "root", 0);
    assert_err(srv_signer_gen_root(s, &r, &m, &err), err, PKI_ERR_INPUT, "out of range");
    assert_null(m.cert.data);
    assert_string_equal(m.key_id, "");
    srv_signer_stop(s);
}

static void gen_intermediate_verifies_under_root(void **state)
{
    struct srv_ca_made rm = {{NULL, 0}, {NULL, 0}, ""}, im = {{NULL, 0}, {NULL, 0}, ""};
    struct srv_ca_made im2 = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    struct srv_ca_req r;
    X509 *root, *inter, *inter2;
    char id[PKI_KEY_ID_LEN];

    (void)state;
    root = gen_root(s, "root", &rm);
    inter = gen_inter(s, &rm, "intermediate", YEAR, &im);
    check_ca_cert(inter, &im, 0);
    assert_int_equal(X509_check_issued(root, inter), X509_V_OK);
    ski_hex(root, id);
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(inter),
                                           X509_get0_subject_key_id(root)), 0);
    assert_int_equal(verify(root, NULL, inter, 0), X509_V_OK);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(inter), T0 + YEAR), 0);
    /* Longer than the root: capped at the root's notAfter. */
    inter2 = gen_inter(s, &rm, "long", 20 * YEAR, &im2);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(inter2), X509_get0_notAfter(root)), 0);
    /* Under an intermediate (pathlen 0): refused. */
    ca_req(&r, "third", DAY);
    assert_err(srv_signer_gen_intermediate(s, im.key_id, im.cert.data, im.cert.len, &r, &im2,
                                           &err), err, PKI_ERR_POLICY, "path length 0");
    /* A parent key that is not loaded. */
    assert_err(srv_signer_gen_intermediate(s, "00:11", rm.cert.data, rm.cert.len, &r, &im2,
                                           &err), err, PKI_ERR_NOTFOUND, "not loaded");
    /* The parent certificate must be the parent key's. */
    assert_err(srv_signer_gen_intermediate(s, rm.key_id, im.cert.data, im.cert.len, &r, &im2,
                                           &err), err, PKI_ERR_POLICY, "does not match");
    X509_free(inter2);
    X509_free(inter);
    X509_free(root);
    srv_ca_made_clear(&im2);
    srv_ca_made_clear(&im);
    srv_ca_made_clear(&rm);
    srv_signer_stop(s);
}

static void cross_sign_chains_to_the_old_root(void **state)
{
    struct srv_ca_made r1 = {{NULL, 0}, {NULL, 0}, ""}, r2 = {{NULL, 0}, {NULL, 0}, ""};
    struct srv_ca_made i2 = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_buf xder = {NULL, 0}, leafder = {NULL, 0};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    X509 *root1, *root2, *inter2, *cross;

    (void)state;
    root1 = gen_root(s, "old root", &r1);
    root2 = gen_root(s, "new root", &r2);
    inter2 = gen_inter(s, &r2, "new intermediate", YEAR, &i2);
    assert_ok(srv_signer_cross_sign(s, r1.key_id, r1.cert.data, r1.cert.len, i2.cert.data,
                                    i2.cert.len, T0, &xder, &err), err);
    cross = der_x509(xder.data, xder.len);
    assert_int_equal(verify(root1, NULL, cross, 0), X509_V_OK);
    assert_int_equal(verify(root2, NULL, cross, 0), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(cross), X509_get_subject_name(inter2)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cross), X509_get_subject_name(root1)), 0);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cross), X509_get0_pubkey(inter2)), 1);
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(cross),
                                           X509_get0_subject_key_id(inter2)), 0);
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cross),
                                           X509_get0_subject_key_id(root1)), 0);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(cross),
                                          X509_get0_serialNumber(inter2)), 0);
    assert_int_equal(X509_get_pathlen(cross), 0);
    check_name_constraint(cross);
    assert_int_equal(X509_get_ext_count(cross), X509_get_ext_count(inter2));
    /* A non-CA certificate is not cross-signed: make a leaf to try it with. */
    assert_ok(srv_signer_set_issuer(s, i2.key_id, i2.cert.data, i2.cert.len, 72 * HOUR, TD, &err),
              err);
    {
        unsigned char serial[PKI_LEAF_SERIAL_LEN], *spki = NULL;
        EVP_PKEY *k = ut_ec();
        int n = i2d_PUBKEY(k, &spki);
        struct pki_leaf_req q = {.profile = PKI_LEAF_SERVICE, .spki = spki,
                                 .spki_len = (size_t)n, .common_name = "web", .uri = WEB_URI,
                                 .not_before = T0 - 60, .not_after = T0 + HOUR};

        assert_ok(srv_signer_issue(s, &q, &leafder, serial, &err), err);
        OPENSSL_free(spki);
        EVP_PKEY_free(k);
    }
    pki_buf_free(&xder);
    assert_err(srv_signer_cross_sign(s, r1.key_id, r1.cert.data, r1.cert.len, leafder.data,
                                     leafder.len, T0, &xder, &err), err, PKI_ERR_POLICY,
               "only a CA certificate");
    assert_null(xder.data);
    assert_err(srv_signer_cross_sign(s, r1.key_id, r1.cert.data, r1.cert.len, i2.cert.data, 10,
                                     T0, &xder, &err), err, PKI_ERR_INPUT, "not one DER");
    pki_buf_free(&leafder);
    X509_free(cross);
    X509_free(inter2);
    X509_free(root2);
    X509_free(root1);
    srv_ca_made_clear(&i2);
    srv_ca_made_clear(&r2);
    srv_ca_made_clear(&r1);
    srv_signer_stop(s);
}

/* ---- keys across restarts, and leaves -------------------------------------- */

static void expect_issue_refused(struct srv_signer *s, const struct pki_leaf_req *q, int code,
                                 const char *word)
{
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};

    assert_err(srv_signer_issue(s, q, &der, serial, &err), err, code, word);
    assert_null(der.data);
}

static void keys_survive_restart_and_leaves_chain_to_root(void **state)
{
    static const char *const dns[] = {"web.service.consul"};
    static const unsigned char ip[1][16] = {{10, 1, 2, 3}};
    static const size_t ip_len[] = {4};
    struct srv_ca_made rm = {{NULL, 0}, {NULL, 0}, ""}, im = {{NULL, 0}, {NULL, 0}, ""};
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    struct pki_leaf_req q;
    EVP_PKEY *k = ut_ec();
    size_t len;
    unsigned char *spki = spki_der(k, &len);
    X509 *root, *inter, *leaf;

    (void)state;
    root = gen_root(s, "root", &rm);
    inter = gen_inter(s, &rm, "intermediate", YEAR, &im);
    srv_signer_stop(s);
    s = start_ok(key_path);
    leaf_req(&q, spki, len);
    expect_issue_refused(s, &q, PKI_ERR_USAGE, "no leaf issuer");
    assert_err(srv_signer_set_issuer(s, im.key_id, im.cert.data, im.cert.len, 72 * HOUR, TD,
                                     &err), err, PKI_ERR_NOTFOUND, "not loaded");
    assert_ok(srv_signer_load_key(s, rm.key_id, rm.wrapped_key.data, rm.wrapped_key.len, &err),
              err);
    assert_ok(srv_signer_load_key(s, im.key_id, im.wrapped_key.data, im.wrapped_key.len, &err),
              err);
    /* The certificate must be the key's. */
    assert_err(srv_signer_set_issuer(s, im.key_id, rm.cert.data, rm.cert.len, 72 * HOUR, TD,
                                     &err), err, PKI_ERR_POLICY, "does not match");
    assert_ok(srv_signer_set_issuer(s, im.key_id, im.cert.data, im.cert.len, 72 * HOUR, TD, &err),
              err);
    q.dns = dns;
    q.ndns = 1;
    q.ips = ip;
    q.ip_lens = ip_len;
    q.nips = 1;
    assert_ok(srv_signer_issue(s, &q, &der, serial, &err), err);
    leaf = der_x509(der.data, der.len);
    assert_memory_equal(ASN1_STRING_get0_data(X509_get0_serialNumber(leaf)), serial,
                        PKI_LEAF_SERIAL_LEN);
    assert_int_equal(verify(root, inter, leaf, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    assert_int_equal(verify(root, inter, leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    assert_int_equal(verify(root, NULL, leaf, 0), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    /* The root itself signs after its key was loaded: a second intermediate. */
    srv_ca_made_clear(&im);
    X509_free(gen_inter(s, &rm, "again", DAY, &im));
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
    pki_buf_free(&der);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    srv_ca_made_clear(&im);
    srv_ca_made_clear(&rm);
    srv_signer_stop(s);
}

/* Every CA key type the signer makes: root, intermediate and a leaf that
 * verifies through them. */
static void every_ca_key_type_issues_verifiable_leaves(void **state)
{
    static const struct pki_key_spec specs[] = {
        {PKI_KEY_ED25519, 0}, {PKI_KEY_RSA, 2048}, {PKI_KEY_ECDSA, 384}, {PKI_KEY_ECDSA, 521},
        {PKI_KEY_ED25519, 256}};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    EVP_PKEY *k = ut_key(PKI_KEY_RSA, 2048);
    size_t len;
    unsigned char *spki = spki_der(k, &len);

    (void)state;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct srv_ca_made rm = {{NULL, 0}, {NULL, 0}, ""}, im = {{NULL, 0}, {NULL, 0}, ""};
        unsigned char serial[PKI_LEAF_SERIAL_LEN];
        struct pki_buf der = {NULL, 0};
        struct pki_leaf_req q;
        struct srv_ca_req r;
        X509 *root, *inter, *leaf;

        ca_req(&r, "root", 10 * YEAR);
        r.spec = specs[i];
        assert_ok(srv_signer_gen_root(s, &r, &rm, &err), err);
        root = der_x509(rm.cert.data, rm.cert.len);
        r.common_name = "intermediate";
        assert_ok(srv_signer_gen_intermediate(s, rm.key_id, rm.cert.data, rm.cert.len, &r, &im,
                                              &err), err);
        inter = der_x509(im.cert.data, im.cert.len);
        check_ca_cert(root, &rm, -1);
        check_ca_cert(inter, &im, 0);
        assert_ok(srv_signer_set_issuer(s, im.key_id, im.cert.data, im.cert.len, 72 * HOUR, TD,
                                        &err), err);
        leaf_req(&q, spki, len);
        assert_ok(srv_signer_issue(s, &q, &der, serial, &err), err);
        leaf = der_x509(der.data, der.len);
        assert_int_equal(verify(root, inter, leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
        assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
        X509_free(leaf);
        X509_free(inter);
        X509_free(root);
        pki_buf_free(&der);
        srv_ca_made_clear(&im);
        srv_ca_made_clear(&rm);
    }
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    srv_signer_stop(s);
}

static void issue_enforces_policy(void **state)
{
    struct srv_ca_made rm = {{NULL, 0}, {NULL, 0}, ""}, im = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    const char *many[PKI_LEAF_DNS_MAX + 1];
    struct pki_leaf_req q;
    EVP_PKEY *k = ut_ec();
    size_t len;
    unsigned char *spki = spki_der(k, &len);
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_buf der = {NULL, 0};

    (void)state;
    X509_free(gen_root(s, "root", &rm));
    X509_free(gen_inter(s, &rm, "intermediate", YEAR, &im));
    assert_ok(srv_signer_set_issuer(s, im.key_id, im.cert.data, im.cert.len, 72 * HOUR, TD, &err),
              err);
    leaf_req(&q, spki, len);
    q.uri = "spiffe://other.consul/ns/default/dc/dc1/svc/web";
    expect_issue_refused(s, &q, PKI_ERR_POLICY, "outside the trust domain");
    q.uri = TD_URI;                          /* the domain itself, no path */
    expect_issue_refused(s, &q, PKI_ERR_POLICY, "outside the trust domain");
    q.uri = TD_URI ".evil.com/ns/x";          /* a longer host sharing the prefix */
    expect_issue_refused(s, &q, PKI_ERR_POLICY, "outside the trust domain");
    q.uri = NULL;
    expect_issue_refused(s, &q, PKI_ERR_POLICY, "needs a URI SAN");
    leaf_req(&q, spki, len);
    q.not_after = q.not_before + 72 * HOUR + 61;
    expect_issue_refused(s, &q, PKI_ERR_POLICY, "longer than the maximum");
    q.not_after = q.not_before + 72 * HOUR + 60; /* the TTL plus the 60 s backdate */
    assert_ok(srv_signer_issue(s, &q, &der, serial, &err), err);
    pki_buf_free(&der);
    leaf_req(&q, spki, len - 1);
    expect_issue_refused(s, &q, PKI_ERR_INPUT, "malformed SubjectPublicKeyInfo");
    leaf_req(&q, spki, len);
    for (int i = 0; i <= PKI_LEAF_DNS_MAX; i++)
        many[i] = "a.example.com";
    q.dns = many;
    q.ndns = PKI_LEAF_DNS_MAX + 1;
    expect_issue_refused(s, &q, PKI_ERR_INPUT, "too many SANs");
    q.ndns = 1;
    q.common_name = "bad\ncn";
    expect_issue_refused(s, &q, PKI_ERR_INPUT, "printable");
    /* The server's own certificate: no URI needed, EKU serverAuth. */
    leaf_req(&q, spki, len);
    q.profile = PKI_LEAF_SERVER_TLS;
    q.uri = NULL;
    q.dns = many;
    q.ndns = 1;
    assert_ok(srv_signer_issue(s, &q, &der, serial, &err), err);
    pki_buf_free(&der);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    srv_ca_made_clear(&im);
    srv_ca_made_clear(&rm);
    srv_signer_stop(s);
}

/* The root's name constraint binds leaves to the trust domain even when the
 * signer's own check is bypassed (here: by signing with the key directly). */
static void name_constraint_rejects_foreign_uri(void **state)
{
    struct srv_ca_made rm = {{NULL, 0}, {NULL, 0}, ""}, im = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_buf p8 = {NULL, 0}, der = {NULL, 0};
    unsigned char serial[PKI_LEAF_SERIAL_LEN];
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    struct pki_leaf_issuer *iss;
    struct pki_leaf_req q;
    const unsigned char *p;
    EVP_PKEY *ik, *k = ut_ec();
    size_t len, klen = 0;
    unsigned char *spki = spki_der(k, &len), *store = (unsigned char *)ut_read(key_path, &klen);
    X509 *root = gen_root(s, "root", &rm), *inter = gen_inter(s, &rm, "inter", YEAR, &im), *leaf;

    (void)state;
    assert_int_equal(klen, PKI_STORE_KEY_LEN);
    assert_ok(pki_keywrap_open(store, im.key_id, im.wrapped_key.data, im.wrapped_key.len, &p8,
                               &err), err);
    p = p8.data;
    ik = d2i_AutoPrivateKey(NULL, &p, (long)p8.len);
    assert_non_null(ik);
    iss = pki_leaf_issuer_new(inter, ik, &err);
    assert_non_null(iss);
    leaf_req(&q, spki, len);
    assert_ok(pki_leaf_issue(iss, &q, &der, serial, &err), err);
    leaf = der_x509(der.data, der.len);
    assert_int_equal(verify(root, inter, leaf, 0), X509_V_OK);
    X509_free(leaf);
    pki_buf_free(&der);
    q.uri = "spiffe://other.consul/ns/default/dc/dc1/svc/web";
    assert_ok(pki_leaf_issue(iss, &q, &der, serial, &err), err);
    leaf = der_x509(der.data, der.len);
    assert_int_equal(verify(root, inter, leaf, 0), X509_V_ERR_PERMITTED_VIOLATION);
    X509_free(leaf);
    pki_buf_free(&der);
    pki_leaf_issuer_free(iss);
    EVP_PKEY_free(ik);
    pki_buf_free(&p8);
    OPENSSL_cleanse(store, klen);
    free(store);
    X509_free(inter);
    X509_free(root);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    srv_ca_made_clear(&im);
    srv_ca_made_clear(&rm);
    srv_signer_stop(s);
}

static void load_key_refusals(void **state)
{
    struct srv_ca_made rm = {{NULL, 0}, {NULL, 0}, ""}, other = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_buf p8 = {NULL, 0}, blob = {NULL, 0};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path), *s2;
    size_t klen = 0;
    unsigned char *store = (unsigned char *)ut_read(key_path, &klen);

    (void)state;
    X509_free(gen_root(s, "root", &rm));
    X509_free(gen_root(s, "other", &other));
    /* Another store key: every wrapped key fails to open. */
    s2 = start_ok(other_key_path);
    assert_err(srv_signer_load_key(s2, rm.key_id, rm.wrapped_key.data, rm.wrapped_key.len, &err),
               err, PKI_ERR_INPUT, "does not open: wrong store key or altered data");
    srv_signer_stop(s2);
    /* A blob under another key id (the AAD) does not open. */
    assert_err(srv_signer_load_key(s, other.key_id, rm.wrapped_key.data, rm.wrapped_key.len,
                                   &err), err, PKI_ERR_INPUT, "does not open");
    /* A key sealed under the wrong id opens but is refused. */
    assert_ok(pki_keywrap_open(store, rm.key_id, rm.wrapped_key.data, rm.wrapped_key.len, &p8,
                               &err), err);
    assert_ok(pki_keywrap_seal(store, other.key_id, p8.data, p8.len, &blob, &err), err);
    assert_err(srv_signer_load_key(s, other.key_id, blob.data, blob.len, &err), err, PKI_ERR_INPUT,
               "holds the key");
    assert_err(srv_signer_load_key(s, rm.key_id, rm.wrapped_key.data, 10, &err), err,
               PKI_ERR_INPUT, "truncated");
    pki_buf_free(&blob);
    pki_buf_free(&p8);
    OPENSSL_cleanse(store, klen);
    free(store);
    srv_ca_made_clear(&other);
    srv_ca_made_clear(&rm);
    srv_signer_stop(s);
}

/* At most 16 keys stay loaded: the least recently used goes first. */
static void seventeenth_key_evicts_the_oldest(void **state)
{
    struct srv_ca_made m[17];
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);

    (void)state;
    memset(m, 0, sizeof(m));
    for (int i = 0; i < 17; i++) {
        X509_free(gen_root(s, "root", &m[i]));
        if (i == 15) /* touch the first: the second becomes the oldest */
            assert_ok(srv_signer_set_issuer(s, m[0].key_id, m[0].cert.data, m[0].cert.len, HOUR,
                                            TD, &err), err);
    }
    assert_ok(srv_signer_set_issuer(s, m[0].key_id, m[0].cert.data, m[0].cert.len, HOUR, TD,
                                    &err), err);
    assert_err(srv_signer_set_issuer(s, m[1].key_id, m[1].cert.data, m[1].cert.len, HOUR, TD,
                                     &err), err, PKI_ERR_NOTFOUND, "not loaded");
    assert_ok(srv_signer_set_issuer(s, m[16].key_id, m[16].cert.data, m[16].cert.len, HOUR, TD,
                                    &err), err);
    assert_ok(srv_signer_load_key(s, m[1].key_id, m[1].wrapped_key.data, m[1].wrapped_key.len,
                                  &err), err);
    assert_ok(srv_signer_set_issuer(s, m[1].key_id, m[1].cert.data, m[1].cert.len, HOUR, TD,
                                    &err), err);
    for (int i = 0; i < 17; i++)
        srv_ca_made_clear(&m[i]);
    srv_signer_stop(s);
}

static void import_root_wraps_a_supplied_root(void **state)
{
    struct srv_ca_made m = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_buf p8 = {NULL, 0}, p8b = {NULL, 0};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    EVP_PKEY *k = ut_key(PKI_KEY_ED25519, 0), *k2 = ut_ec();
    X509 *ca = ut_ca(k, T0, YEAR);
    X509 *leaf = ut_leaf(PKI_ROLE_SERVER, "srv", k2, ca, k, T0, DAY);
    unsigned char *der = NULL, *lder = NULL;
    int n = i2d_X509(ca, &der), ln = i2d_X509(leaf, &lder);
    char id[PKI_KEY_ID_LEN];

    (void)state;
    assert_ok(pki_key_to_pkcs8_der(k, &p8, &err), err);
    assert_ok(pki_key_to_pkcs8_der(k2, &p8b, &err), err);
    assert_err(srv_signer_import_root(s, p8b.data, p8b.len, der, (size_t)n, &m, &err), err,
               PKI_ERR_POLICY, "does not match");
    assert_err(srv_signer_import_root(s, p8b.data, p8b.len, lder, (size_t)ln, &m, &err), err,
               PKI_ERR_POLICY, "not a CA");
    assert_err(srv_signer_import_root(s, p8.data, p8.len - 1, der, (size_t)n, &m, &err), err,
               PKI_ERR_INPUT, "PKCS#8");
    assert_null(m.cert.data);
    assert_ok(srv_signer_import_root(s, p8.data, p8.len, der, (size_t)n, &m, &err), err);
    ski_hex(ca, id);
    assert_string_equal(m.key_id, id);
    assert_int_equal(m.cert.len, (size_t)n);
    assert_memory_equal(m.cert.data, der, (size_t)n);
    srv_signer_stop(s);
    s = start_ok(key_path);
    assert_ok(srv_signer_load_key(s, m.key_id, m.wrapped_key.data, m.wrapped_key.len, &err), err);
    assert_ok(srv_signer_set_issuer(s, m.key_id, der, (size_t)n, HOUR, TD, &err), err);
    pki_buf_free(&p8);
    pki_buf_free(&p8b);
    OPENSSL_free(der);
    OPENSSL_free(lder);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    srv_ca_made_clear(&m);
    srv_signer_stop(s);
}

/* ---- the process boundary -------------------------------------------------- */

static void killed_signer_fails_calls_without_hanging(void **state)
{
    struct srv_ca_made m = {{NULL, 0}, {NULL, 0}, ""};
    struct pki_err err = {0, ""};
    struct srv_signer *s = start_ok(key_path);
    struct srv_ca_req r;

    (void)state;
    assert_int_equal(kill(srv_signer_pid(s), SIGKILL), 0);
    ca_req(&r, "root", YEAR);
    assert_err(srv_signer_gen_root(s, &r, &m, &err), err, PKI_ERR_INTERNAL,
               "signer process exited (status: killed by signal 9)");
    assert_err(srv_signer_load_key(s, "aa", (const unsigned char *)"x", 1, &err), err,
               PKI_ERR_INTERNAL, "signer process exited");
    assert_null(m.cert.data);
    srv_signer_stop(s); /* reaped already: returns at once */
}

/* A signer process on two pipes of our own, as a taken-over front end
 * could talk to it: req to write, rep to read (through in). */
struct direct {
    struct srv__in in;
    int req, rep;
    pid_t pid;
};

static void direct_start(struct direct *d)
{
    const unsigned char *m;
    int a[2], b[2];

    assert_true(srv__in_init(&d->in));
    assert_int_equal(pipe2(a, O_CLOEXEC), 0);
    assert_int_equal(pipe2(b, O_CLOEXEC), 0);
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0)
        srv__signer_child(a[0], b[1], key_path, 0);
    close(a[0]);
    close(b[1]);
    d->req = a[1];
    d->rep = b[0];
    assert_true(srv__in_next(d->rep, &d->in, SRV__MSG_MAX, &m, 1) > 0); /* ready */
}

/* The next reply: its status, with *r set to read its fields. */
static int32_t direct_reply(struct direct *d, struct srv__rd *r)
{
    const unsigned char *m;
    long n = srv__in_next(d->rep, &d->in, SRV__MSG_MAX, &m, 1);
    int32_t head;

    assert_true(n >= 4);
    srv__rd_start(r, m, (size_t)n, &head);
    return head;
}

/* The next reply is a refusal whose message has word in it. */
static void direct_refused(struct direct *d, const char *word)
{
    char msg[PKI_ERR_MSG_MAX];
    struct srv__rd r;

    assert_true(direct_reply(d, &r) < 0);
    assert_int_equal(srv__get_str(&r, msg, sizeof(msg)), 1);
    assert_str_has(msg, word);
}

/* The signer has exited with code; everything is closed. */
static void direct_end(struct direct *d, int code)
{
    int status;

    assert_int_equal(waitpid(d->pid, &status, 0), d->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == code);
    close(d->req);
    close(d->rep);
    srv__in_free(&d->in);
}

/* Malformed requests are refused one by one, and it keeps serving. */
static void child_refuses_malformed_requests(void **state)
{
    static unsigned char buf[SRV__MSG_MAX];
    struct srv__msg m;
    struct srv__rd r;
    struct direct d;
    struct {
        int32_t op;
        int fields; /* 0: none; 1: a length word past the end; 2: an i64 of 3 bytes */
        const char *word;
    } cases[] = {
        {SRV__OP_GEN_ROOT, 0, "malformed GEN_ROOT request"},
        {SRV__OP_ISSUE, 1, "malformed ISSUE request"},
        {SRV__OP_SET_ISSUER, 2, "malformed SET_ISSUER request"},
        {99, 0, "unknown operation 99"},
        {SRV__OP_STOP, 2, "malformed STOP request"},
    };

    (void)state;
    direct_start(&d);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        srv__msg_start(&m, buf, cases[i].op);
        if (cases[i].fields == 1) {
            static const unsigned char huge[4] = {0x00, 0x01, 0x00, 0x00};
            memcpy(buf + m.len, huge, 4);
            m.len += 4;
        } else if (cases[i].fields == 2) {
            srv__put_bytes(&m, "abc", 3);
        }
        assert_int_equal(srv__send(d.req, buf, m.len), 0);
        direct_refused(&d, cases[i].word);
    }
    /* Still serving: a well-formed STOP ends it cleanly. */
    srv__msg_start(&m, buf, SRV__OP_STOP);
    assert_int_equal(srv__send(d.req, buf, m.len), 0);
    assert_int_equal(direct_reply(&d, &r), PKI_OK);
    direct_end(&d, 0);
}

/* Requests that arrive together (one read takes them all) are each
 * answered, in order. */
static void child_answers_a_batch_in_order(void **state)
{
    unsigned char three[3 * 8];
    char word[32];
    struct direct d;

    (void)state;
    direct_start(&d);
    for (int i = 0; i < 3; i++) {
        srv__frame_head(three + 8 * i, 4);
        srv__frame_head(three + 8 * i + 4, (size_t)(91 + i)); /* an unknown op */
    }
    assert_int_equal(write(d.req, three, sizeof(three)), (ssize_t)sizeof(three));
    for (int i = 0; i < 3; i++) {
        snprintf(word, sizeof(word), "unknown operation %d", 91 + i);
        direct_refused(&d, word);
    }
    close(d.req); /* EOF: it ends cleanly */
    d.req = open("/dev/null", O_WRONLY);
    direct_end(&d, 0);
}

/* A request that arrives in pieces, and one longer than a pipe's atomic
 * write (PIPE_BUF), are read whole: each gets its own answer. */
static void child_reads_frames_in_pieces(void **state)
{
    static unsigned char buf[SRV__MSG_MAX];
    unsigned char head4[4] = {0, 0, 0, 0};
    const unsigned char *m;
    struct srv__msg msg;
    struct direct d;

    (void)state;
    direct_start(&d);
    /* An unknown op, its frame written in three pieces. */
    srv__msg_start(&msg, buf, 98);
    head4[3] = (unsigned char)msg.len;
    assert_int_equal(write(d.req, head4, 2), 2);
    assert_int_equal(write(d.req, head4 + 2, 2), 2);
    assert_int_equal(write(d.req, buf, msg.len), (ssize_t)msg.len);
    direct_refused(&d, "unknown operation 98");
    /* A 60 KB ISSUE request: malformed (one field of 60 KB), answered. */
    srv__msg_start(&msg, buf, SRV__OP_ISSUE);
    memset(buf + 8, 'a', 60000);
    srv__put_bytes(&msg, buf + 8, 60000);
    assert_true(msg.len > 60000 && !msg.overflow);
    assert_int_equal(srv__send(d.req, buf, msg.len), 0);
    direct_refused(&d, "malformed ISSUE request");
    /* A frame longer than any message: the stream cannot be read on, so
     * the signer stops (exit 1) rather than read garbage as requests. */
    head4[1] = 0x10;
    head4[3] = 0;
    assert_int_equal(write(d.req, head4, 4), 4);
    assert_int_equal(srv__in_next(d.rep, &d.in, SRV__MSG_MAX, &m, 1), 0); /* EOF */
    direct_end(&d, 1);
}

/* A non-blocking pipe and a reader on its read end: p[1] is closed by the
 * tests that want EOF (and then set to -1). */
struct piped {
    int p[2];
    struct srv__in in;
};

static void piped_open(struct piped *f)
{
    assert_true(srv__in_init(&f->in));
    assert_int_equal(pipe2(f->p, O_NONBLOCK), 0);
}

static void piped_close(struct piped *f)
{
    close(f->p[0]);
    if (f->p[1] >= 0)
        close(f->p[1]);
    srv__in_free(&f->in);
}

static void writer_done(struct piped *f)
{
    close(f->p[1]);
    f->p[1] = -1;
}

/* The transport alone: nothing there yet, a message too short to send, one
 * longer than the reader's bound, EOF inside a frame, and EOF after one. */
static void transport_refuses_broken_frames(void **state)
{
    static const unsigned char short_frame[7] = {0, 0, 0, 8, 'a', 'b', 'c'}; /* 8 said, 3 sent */
    const unsigned char msg[8] = {0, 0, 0, 1, 'a', 'b', 'c', 'd'};
    const unsigned char *m;
    struct piped f;

    (void)state;
    piped_open(&f);
    errno = 0;
    assert_int_equal(srv__in_next(f.p[0], &f.in, 64, &m, 0), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(srv__send(f.p[1], msg, 3), -1); /* shorter than a head */
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(srv__send(f.p[1], msg, sizeof(msg)), 0);
    assert_int_equal(srv__in_next(f.p[0], &f.in, 7, &m, 0), -1); /* 8 bytes, at most 7 */
    assert_int_equal(errno, EMSGSIZE);
    piped_close(&f);

    piped_open(&f);
    assert_int_equal(write(f.p[1], short_frame, sizeof(short_frame)), 7);
    writer_done(&f);
    assert_int_equal(srv__in_next(f.p[0], &f.in, 64, &m, 0), -1);
    assert_int_equal(errno, EPROTO);
    piped_close(&f);

    piped_open(&f);
    assert_int_equal(srv__send(f.p[1], msg, sizeof(msg)), 0);
    writer_done(&f);
    assert_int_equal(srv__in_next(f.p[0], &f.in, 64, &m, 0), (long)sizeof(msg));
    assert_memory_equal(m, msg, sizeof(msg));
    assert_int_equal(srv__in_next(f.p[0], &f.in, 64, &m, 0), 0); /* then EOF */
    piped_close(&f);
}

/* Messages written back to back come out whole and in order, whichever
 * read brought them: 60 KB, 8 bytes, 60 KB, then 30 KB, which cannot fit
 * behind what was taken, so the buffer must be compacted (a writer
 * process, as a pipe holds 64 KiB). */
static void transport_reads_ahead_in_order(void **state)
{
    static unsigned char big[60000];
    static const size_t sizes[] = {sizeof(big), 8, sizeof(big), 30000, 8, 4};
    const size_t count = sizeof(sizes) / sizeof(sizes[0]);
    const unsigned char *m;
    struct srv__in in;
    int p[2], status;
    pid_t pid;

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 7 + i / 251);
    assert_true(srv__in_init(&in));
    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        for (size_t i = 0; i < count; i++) {
            big[0] = (unsigned char)i; /* which message this is */
            if (srv__send(p[1], big, sizes[i]) != 0)
                _exit(1);
        }
        _exit(0);
    }
    close(p[1]);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(srv__in_next(p[0], &in, SRV__MSG_MAX, &m, 1), (long)sizes[i]);
        assert_int_equal(m[0], i);
        assert_memory_equal(m + 1, big + 1, sizes[i] - 1);
    }
    assert_int_equal(srv__in_next(p[0], &in, SRV__MSG_MAX, &m, 1), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(p[0]);
    srv__in_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_creates_store_key_0600),
        cmocka_unit_test(start_refuses_bad_store_key_files),
        cmocka_unit_test(signer_keeps_no_inherited_descriptor),
        cmocka_unit_test(gen_root_makes_a_constrained_root),
        cmocka_unit_test(gen_root_refusals),
        cmocka_unit_test(gen_intermediate_verifies_under_root),
        cmocka_unit_test(cross_sign_chains_to_the_old_root),
        cmocka_unit_test(keys_survive_restart_and_leaves_chain_to_root),
        cmocka_unit_test(every_ca_key_type_issues_verifiable_leaves),
        cmocka_unit_test(issue_enforces_policy),
        cmocka_unit_test(name_constraint_rejects_foreign_uri),
        cmocka_unit_test(load_key_refusals),
        cmocka_unit_test(seventeenth_key_evicts_the_oldest),
        cmocka_unit_test(import_root_wraps_a_supplied_root),
        cmocka_unit_test(killed_signer_fails_calls_without_hanging),
        cmocka_unit_test(child_refuses_malformed_requests),
        cmocka_unit_test(child_answers_a_batch_in_order),
        cmocka_unit_test(child_reads_frames_in_pieces),
        cmocka_unit_test(transport_refuses_broken_frames),
        cmocka_unit_test(transport_reads_ahead_in_order),
    };

    signal(SIGPIPE, SIG_IGN); /* as pkictl server does: srv_signer_start */
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
