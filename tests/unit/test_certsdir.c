/* test_certsdir.c - create-ca/node/client and list over a certs dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "certsdir.h"
#include "chain.h"
#include "fsio.h"
#include "pem.h"
#include "unit_util.h"

struct fixture {
    char *tmp;          /* removed at teardown */
    char certs[4096];   /* tmp/certs */
    char ca_key[4096];  /* tmp/ca.key, outside the certs dir */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->tmp = ut_mkdtemp();
    snprintf(f->certs, sizeof(f->certs), "%s/certs", f->tmp);
    snprintf(f->ca_key, sizeof(f->ca_key), "%s/ca.key", f->tmp);
    assert_int_equal(mkdir(f->certs, 0755), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    ut_rmtree(f->tmp);
    free(f);
    return 0;
}

static struct certsdir_opts opts(const struct fixture *f, int64_t lifetime, time_t now)
{
    struct certsdir_opts o;

    memset(&o, 0, sizeof(o));
    o.certs_dir = f->certs;
    o.ca_key_path = f->ca_key;
    o.lifetime = lifetime;
    o.key_spec.type = PKI_KEY_ECDSA;
    o.key_spec.bits = 256;
    o.now = now;
    return o;
}

static const char *cpath(const struct fixture *f, const char *name)
{
    return ut_path(f->certs, name);
}

static STACK_OF(X509) *load_bundle(const struct fixture *f)
{
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s = certsdir_load_ca_bundle(f->certs, &err);

    if (s == NULL)
        fail_msg("cannot load ca.crt: %s", err.msg);
    return s;
}

static X509 *load_cert(const char *path)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s;
    X509 *x;

    assert_ok(fs_read_file(path, PKI_PEM_FILE_MAX, &b, NULL, &err), err);
    s = pki_pem_read_certs(b.data, b.len, &err);
    if (s == NULL)
        fail_msg("%s: %s", path, err.msg);
    assert_int_equal(sk_X509_num(s), 1);
    x = sk_X509_shift(s);
    pki_certs_free(s);
    pki_buf_free(&b);
    return x;
}

static EVP_PKEY *load_key(const char *path)
{
    struct pki_err err = {0, ""};
    EVP_PKEY *k = certsdir_load_key(path, 0, &err);

    if (k == NULL)
        fail_msg("%s: %s", path, err.msg);
    return k;
}

static void make_ca(const struct fixture *f, int64_t lifetime, time_t now)
{
    struct certsdir_opts o = opts(f, lifetime, now);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    assert_ok(certsdir_create_ca(&o, &w, &err), err);
}

static void make_node(const struct fixture *f, int64_t lifetime, time_t now)
{
    static const char *const hosts[] = {"node1.example.com", "127.0.0.1"};
    struct certsdir_opts o = opts(f, lifetime, now);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    assert_ok(certsdir_create_node(&o, hosts, 2, &w, &err), err);
}

static void make_client(const struct fixture *f, const char *user, int64_t lifetime, time_t now)
{
    struct certsdir_opts o = opts(f, lifetime, now);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    assert_ok(certsdir_create_client(&o, user, &w, &err), err);
}

/* The bytes of a file, for "unchanged" checks (malloc'd; "" if missing). */
static char *snap(const char *path)
{
    char *d = ut_read(path, NULL);

    return d != NULL ? d : strdup("");
}

static void assert_unchanged(const char *path, char *before)
{
    char *now = snap(path);

    if (strcmp(now, before) != 0)
        fail_msg("%s changed", path);
    free(now);
    free(before);
}

/* ---- create-ca ---------------------------------------------------------- */

static void create_ca_fresh(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *cas;
    EVP_PKEY *key;
    X509 *ca;
    time_t nb, na;
    char cn[64];

    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[0], f->ca_key);
    assert_string_equal(w.paths[1], cpath(f, "ca.crt"));
    assert_int_equal(ut_mode(f->ca_key), 0600);
    assert_int_equal(ut_mode(cpath(f, "ca.crt")), 0644);
    assert_int_equal(ut_count_entries(f->certs), 1); /* only ca.crt; the key is outside */

    cas = load_bundle(f);
    assert_int_equal(sk_X509_num(cas), 1);
    ca = sk_X509_value(cas, 0);
    assert_int_equal(pki_cert_is_ca(ca), 1);
    assert_ok(pki_cert_validity(ca, &nb, &na, &err), err);
    assert_int_equal(nb, T0 - 3600);
    assert_int_equal(na, T0 + 10 * YEAR);
    pki_cert_common_name(ca, cn, sizeof(cn));
    assert_string_equal(cn, "pkictl CA");
    key = load_key(f->ca_key);
    assert_int_equal(pki_key_matches_cert(key, ca), 1);
    assert_int_equal(X509_verify(ca, key), 1);
    EVP_PKEY_free(key);
    pki_certs_free(cas);
}

static void create_ca_key_types(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *key;
    char desc[32];

    o.key_spec.type = PKI_KEY_ED25519;
    o.key_spec.bits = 0;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    key = load_key(f->ca_key);
    pki_key_describe(key, desc, sizeof(desc));
    assert_string_equal(desc, "Ed25519");
    EVP_PKEY_free(key);
}

static void create_ca_refuses_existing_cert(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char *crt, *key;

    make_ca(f, 10 * YEAR, T0);
    crt = snap(cpath(f, "ca.crt"));
    key = snap(f->ca_key);
    /* Also with another key path: the existing ca.crt alone stops it. */
    snprintf(f->ca_key + strlen(f->ca_key), 8, ".2");
    o = opts(f, 10 * YEAR, T0);
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_EXISTS, "ca.crt already exists");
    assert_int_equal(fs_exists(f->ca_key), 0);
    f->ca_key[strlen(f->ca_key) - 2] = '\0';
    assert_unchanged(cpath(f, "ca.crt"), crt);
    assert_unchanged(f->ca_key, key);
}

static void create_ca_refuses_existing_key(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();
    char *key;

    ut_write_key(f->ca_key, k, 0600);
    key = snap(f->ca_key);
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_EXISTS, "--allow-ca-key-reuse");
    assert_msg_has(err, f->ca_key);
    assert_int_equal(fs_exists(cpath(f, "ca.crt")), 0);
    assert_unchanged(f->ca_key, key);
    EVP_PKEY_free(k);
}

static void create_ca_reuses_key(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();
    STACK_OF(X509) *cas;
    char *key;

    ut_write_key(f->ca_key, k, 0600);
    key = snap(f->ca_key);
    o.allow_ca_key_reuse = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    assert_int_equal(w.n, 1); /* only ca.crt was written */
    assert_string_equal(w.paths[0], cpath(f, "ca.crt"));
    assert_unchanged(f->ca_key, key);
    cas = load_bundle(f);
    assert_int_equal(pki_key_matches_cert(k, sk_X509_value(cas, 0)), 1);
    pki_certs_free(cas);
    EVP_PKEY_free(k);
}

static void create_ca_reuse_checks_key_mode(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();

    ut_write_key(f->ca_key, k, 0644);
    o.allow_ca_key_reuse = 1;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_POLICY, "0644 are too open");
    assert_msg_has(err, f->ca_key);
    assert_int_equal(fs_exists(cpath(f, "ca.crt")), 0);
    o.skip_key_mode_check = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    EVP_PKEY_free(k);
}

static void create_ca_reuse_refuses_garbage_key(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    ut_write(f->ca_key, "not a key\n", 10, 0600);
    o.allow_ca_key_reuse = 1;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_INPUT, "not a valid PEM private key");
    assert_msg_has(err, f->ca_key); /* prefixed with the file */
    assert_int_equal(fs_exists(cpath(f, "ca.crt")), 0);
}

/* Rotation: the new CA first, every older one kept after it, in order. */
static void create_ca_overwrite_keeps_old(void **state)
{
    struct fixture *f = *state;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    struct certsdir_opts o;
    STACK_OF(X509) *before, *after;
    EVP_PKEY *k1, *k2, *k3;
    char key1[4096], key2[4096], key3[4096];

    snprintf(key1, sizeof(key1), "%s", f->ca_key);
    snprintf(key2, sizeof(key2), "%s/ca2.key", f->tmp);
    snprintf(key3, sizeof(key3), "%s/ca3.key", f->tmp);
    make_ca(f, 10 * YEAR, T0);
    before = load_bundle(f);

    o = opts(f, 10 * YEAR, T0 + DAY);
    o.ca_key_path = key2;
    o.overwrite = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[0], key2);
    after = load_bundle(f);
    assert_int_equal(sk_X509_num(after), 2);
    k1 = load_key(key1);
    k2 = load_key(key2);
    assert_int_equal(pki_key_matches_cert(k2, sk_X509_value(after, 0)), 1);
    assert_int_equal(X509_cmp(sk_X509_value(after, 1), sk_X509_value(before, 0)), 0);
    assert_int_equal(ut_mode(cpath(f, "ca.crt")), 0644);
    pki_certs_free(after);

    /* A third rotation keeps both older ones, newest first. */
    o.ca_key_path = key3;
    o.now = T0 + 2 * DAY;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    after = load_bundle(f);
    assert_int_equal(sk_X509_num(after), 3);
    k3 = load_key(key3);
    assert_int_equal(pki_chain_find_by_key(after, k3), 0);
    assert_int_equal(pki_chain_find_by_key(after, k2), 1);
    assert_int_equal(pki_chain_find_by_key(after, k1), 2);
    assert_int_equal(X509_cmp(sk_X509_value(after, 2), sk_X509_value(before, 0)), 0);
    pki_certs_free(after);
    pki_certs_free(before);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
}

static void create_ca_overwrite_refuses_unreadable_old(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char *crt;

    ut_write(cpath(f, "ca.crt"), "garbage\n", 8, 0644);
    crt = snap(cpath(f, "ca.crt"));
    o.overwrite = 1;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_INPUT,
               "refusing to replace a CA file that cannot be read");
    assert_msg_has(err, "no PEM certificate found");
    assert_unchanged(cpath(f, "ca.crt"), crt);
    assert_int_equal(fs_exists(f->ca_key), 0); /* no key was written */
}

static void create_ca_bad_dirs(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 10 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char missing[4096], keyless[4096];

    snprintf(missing, sizeof(missing), "%s/missing", f->tmp);
    o.certs_dir = missing;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_NOTFOUND, "does not exist");
    assert_int_equal(fs_exists(f->ca_key), 0);

    ut_write(missing, "x", 1, 0644);
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_INPUT, "is not a directory");

    /* The key's folder does not exist: nothing is left in the certs dir. */
    snprintf(keyless, sizeof(keyless), "%s/no-such-folder/ca.key", f->tmp);
    o = opts(f, 10 * YEAR, T0);
    o.ca_key_path = keyless;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_IO, "no-such-folder");
    assert_int_equal(ut_count_entries(f->certs), 0);
}

/* ---- create-node / create-client ----------------------------------------- */

static void create_node_ok(void **state)
{
    static const char *const hosts[] = {"node1.example.com", "localhost", "127.0.0.1",
                                        "localhost", "[::1]", "::1", "127.0.0.1"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0 + DAY);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char out[8][PKI_NAME_DNS_MAX + 1];
    STACK_OF(X509) *cas;
    EVP_PKEY *key;
    X509 *node;
    time_t nb, na;
    char cn[32];
    size_t n;

    make_ca(f, 10 * YEAR, T0);
    assert_ok(certsdir_create_node(&o, hosts, 7, &w, &err), err);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[0], cpath(f, "node.key"));
    assert_string_equal(w.paths[1], cpath(f, "node.crt"));
    assert_int_equal(ut_mode(cpath(f, "node.key")), 0600);
    assert_int_equal(ut_mode(cpath(f, "node.crt")), 0644);
    assert_int_equal(fs_exists(cpath(f, "node.key.pk8")), 0);

    node = load_cert(cpath(f, "node.crt"));
    key = load_key(cpath(f, "node.key"));
    assert_int_equal(pki_key_matches_cert(key, node), 1);
    n = pki_cert_hosts(node, out, 8);
    assert_int_equal(n, 4); /* duplicates kept once, in first-seen order */
    assert_string_equal(out[0], "node1.example.com");
    assert_string_equal(out[1], "localhost");
    assert_string_equal(out[2], "127.0.0.1");
    assert_string_equal(out[3], "::1");
    pki_cert_common_name(node, cn, sizeof(cn));
    assert_string_equal(cn, "node");
    assert_int_equal(pki_cert_is_ca(node), 0);
    assert_int_equal(X509_get_extended_key_usage(node), XKU_SSL_SERVER | XKU_SSL_CLIENT);
    assert_int_equal(X509_get_key_usage(node), KU_DIGITAL_SIGNATURE);
    assert_ok(pki_cert_validity(node, &nb, &na, &err), err);
    assert_int_equal(na, T0 + DAY + YEAR);
    cas = load_bundle(f);
    assert_ok(pki_chain_verify(node, cas, &err), err);
    pki_certs_free(cas);
    EVP_PKEY_free(key);
    X509_free(node);
}

static void create_node_pkcs8(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    struct pki_buf der = {NULL, 0};
    const unsigned char *p;
    EVP_PKEY *key, *from_der;

    make_ca(f, 10 * YEAR, T0);
    o.pkcs8 = 1;
    assert_ok(certsdir_create_node(&o, hosts, 1, &w, &err), err);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.paths[2], cpath(f, "node.key.pk8"));
    assert_int_equal(ut_mode(cpath(f, "node.key.pk8")), 0600);
    assert_ok(fs_read_file(cpath(f, "node.key.pk8"), 65536, &der, NULL, &err), err);
    p = der.data;
    from_der = d2i_AutoPrivateKey(NULL, &p, (long)der.len);
    assert_non_null(from_der);
    key = load_key(cpath(f, "node.key"));
    assert_int_equal(EVP_PKEY_eq(key, from_der), 1);
    EVP_PKEY_free(key);
    EVP_PKEY_free(from_der);
    pki_buf_free(&der);
}

static void create_node_refuses_existing_first(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char *crt, *key;
    EVP_PKEY *k_old, *k_new;

    make_ca(f, 10 * YEAR, T0);
    make_node(f, YEAR, T0);
    crt = snap(cpath(f, "node.crt"));
    key = snap(cpath(f, "node.key"));

    /* Refused before the CA key is even looked at. */
    o.ca_key_path = "/nonexistent/ca.key";
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_EXISTS,
               "node.key already exists");
    assert_unchanged(cpath(f, "node.crt"), crt);
    assert_unchanged(cpath(f, "node.key"), key);

    /* Only the certificate present: still refused, naming it. */
    assert_int_equal(unlink(cpath(f, "node.key")), 0);
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_EXISTS,
               "node.crt already exists");

    /* With pkcs8, an existing .pk8 alone refuses too. */
    assert_int_equal(unlink(cpath(f, "node.crt")), 0);
    ut_write(cpath(f, "node.key.pk8"), "x", 1, 0600);
    o.pkcs8 = 1;
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_EXISTS,
               "node.key.pk8 already exists");
    assert_int_equal(unlink(cpath(f, "node.key.pk8")), 0);

    /* overwrite replaces, with a new key. */
    make_node(f, YEAR, T0);
    k_old = load_key(cpath(f, "node.key"));
    o = opts(f, YEAR, T0);
    o.overwrite = 1;
    assert_ok(certsdir_create_node(&o, hosts, 1, &w, &err), err);
    k_new = load_key(cpath(f, "node.key"));
    assert_int_not_equal(EVP_PKEY_eq(k_old, k_new), 1);
    assert_int_equal(ut_mode(cpath(f, "node.key")), 0600);
    EVP_PKEY_free(k_old);
    EVP_PKEY_free(k_new);
}

static void create_node_bad_hosts(void **state)
{
    static const char *const bad[] = {"good.example", "bad_host.example"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    make_ca(f, 10 * YEAR, T0);
    assert_err(certsdir_create_node(&o, bad, 0, &w, &err), err, PKI_ERR_USAGE,
               "at least one host");
    assert_err(certsdir_create_node(&o, bad, 2, &w, &err), err, PKI_ERR_INPUT, "bad_host.example");
    assert_int_equal(ut_count_entries(f->certs), 1);
}

static void create_node_too_many_hosts(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    const char *hosts[PKI_NAME_HOSTS_MAX + 1];
    size_t i;

    for (i = 0; i <= PKI_NAME_HOSTS_MAX; i++)
        hosts[i] = "localhost";
    make_ca(f, 10 * YEAR, T0);
    assert_err(certsdir_create_node(&o, hosts, PKI_NAME_HOSTS_MAX + 1, &w, &err), err,
               PKI_ERR_INPUT, "too many hosts");
    assert_int_equal(ut_count_entries(f->certs), 1);
}

static void create_node_wrong_ca_key(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char other[4096];
    EVP_PKEY *k = ut_ec();

    make_ca(f, 10 * YEAR, T0);
    snprintf(other, sizeof(other), "%s/other.key", f->tmp);
    ut_write_key(other, k, 0600);
    o.ca_key_path = other;
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_POLICY,
               "does not match any certificate");
    assert_msg_has(err, other);
    assert_int_equal(ut_count_entries(f->certs), 1);
    EVP_PKEY_free(k);
}

static void create_node_ca_key_problems(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char missing[4096];

    make_ca(f, 10 * YEAR, T0);

    snprintf(missing, sizeof(missing), "%s/missing.key", f->tmp);
    o.ca_key_path = missing;
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_NOTFOUND, missing);

    o.ca_key_path = f->ca_key;
    assert_int_equal(chmod(f->ca_key, 0640), 0);
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_POLICY,
               "permissions 0640 are too open");
    assert_int_equal(ut_count_entries(f->certs), 1);
    o.skip_key_mode_check = 1;
    assert_ok(certsdir_create_node(&o, hosts, 1, &w, &err), err);
    assert_int_equal(ut_mode(cpath(f, "node.key")), 0600); /* the new key is still private */
}

static void create_node_without_ca(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_NOTFOUND, "ca.crt");
    ut_write(cpath(f, "ca.crt"), "junk", 4, 0644);
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_INPUT, "ca.crt");
    assert_int_equal(ut_count_entries(f->certs), 1);
}

static void create_node_outliving_ca(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, 2 * YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    make_ca(f, YEAR, T0);
    assert_err(certsdir_create_node(&o, hosts, 1, &w, &err), err, PKI_ERR_POLICY,
               "expires on 2024-11-13 22:13:20 UTC");
    assert_int_equal(ut_count_entries(f->certs), 1);

    o = opts(f, YEAR, T0 + 2 * YEAR);
    assert_err(certsdir_create_client(&o, "alice", &w, &err), err, PKI_ERR_POLICY,
               "expired on 2024-11-13");
    assert_int_equal(ut_count_entries(f->certs), 1);
}

/* After a rotation, each CA key signs with its own certificate. */
static void create_node_picks_ca_by_key(void **state)
{
    static const char *const hosts[] = {"db"};
    struct fixture *f = *state;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char key2[4096];
    STACK_OF(X509) *cas;
    X509 *leaf;

    make_ca(f, 10 * YEAR, T0);
    snprintf(key2, sizeof(key2), "%s/ca2.key", f->tmp);
    o = opts(f, 10 * YEAR, T0 + DAY);
    o.ca_key_path = key2;
    o.overwrite = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    cas = load_bundle(f);

    o = opts(f, YEAR, T0 + DAY); /* the old key */
    assert_ok(certsdir_create_node(&o, hosts, 1, &w, &err), err);
    leaf = load_cert(cpath(f, "node.crt"));
    assert_int_equal(X509_check_issued(sk_X509_value(cas, 1), leaf), X509_V_OK);
    assert_int_not_equal(X509_check_issued(sk_X509_value(cas, 0), leaf), X509_V_OK);
    X509_free(leaf);

    o.ca_key_path = key2; /* the new key */
    assert_ok(certsdir_create_client(&o, "alice", &w, &err), err);
    leaf = load_cert(cpath(f, "client.alice.crt"));
    assert_int_equal(X509_check_issued(sk_X509_value(cas, 0), leaf), X509_V_OK);
    X509_free(leaf);
    pki_certs_free(cas);
}

static void create_client_ok(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509 *x;
    EVP_PKEY *key;
    char cn[64];

    make_ca(f, 10 * YEAR, T0);
    assert_ok(certsdir_create_client(&o, "user@example.com", &w, &err), err);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[0], cpath(f, "client.user@example.com.key"));
    assert_string_equal(w.paths[1], cpath(f, "client.user@example.com.crt"));
    assert_int_equal(ut_mode(w.paths[0]), 0600);
    assert_int_equal(ut_mode(w.paths[1]), 0644);
    x = load_cert(w.paths[1]);
    key = load_key(w.paths[0]);
    assert_int_equal(pki_key_matches_cert(key, x), 1);
    pki_cert_common_name(x, cn, sizeof(cn));
    assert_string_equal(cn, "user@example.com");
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
    assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
    EVP_PKEY_free(key);
    X509_free(x);
}

static void create_client_rsa(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509 *x;
    char desc[32];

    make_ca(f, 10 * YEAR, T0);
    o.key_spec.type = PKI_KEY_RSA;
    o.key_spec.bits = 2048;
    assert_ok(certsdir_create_client(&o, "root", &w, &err), err);
    x = load_cert(cpath(f, "client.root.crt"));
    pki_key_describe(X509_get0_pubkey(x), desc, sizeof(desc));
    assert_string_equal(desc, "RSA 2048");
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    X509_free(x);
}

static void create_client_bad_user(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o = opts(f, YEAR, T0);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    make_ca(f, 10 * YEAR, T0);
    assert_err(certsdir_create_client(&o, "../../etc/x", &w, &err), err, PKI_ERR_INPUT,
               "path separators");
    assert_err(certsdir_create_client(&o, "", &w, &err), err, PKI_ERR_INPUT, "empty user name");
    assert_err(certsdir_create_client(&o, "..", &w, &err), err, PKI_ERR_INPUT, "\"..\"");
    assert_int_equal(ut_count_entries(f->certs), 1);
    assert_int_equal(ut_count_entries(f->tmp), 2); /* certs and ca.key */
}

/* ---- loaders ------------------------------------------------------------ */

static void load_key_and_bundle_errors(void **state)
{
    struct fixture *f = *state;
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();

    assert_null(certsdir_load_key(f->ca_key, 0, &err));
    assert_int_equal(err.code, PKI_ERR_NOTFOUND);
    ut_write_key(f->ca_key, k, 0604);
    assert_null(certsdir_load_key(f->ca_key, 0, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "0604");
    {
        EVP_PKEY *t = certsdir_load_key(f->ca_key, 1, &err); /* skipping the check: fine */

        assert_non_null(t);
        EVP_PKEY_free(t);
    }
    ut_write(f->ca_key, "nope", 4, 0600);
    assert_null(certsdir_load_key(f->ca_key, 0, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, f->ca_key);

    assert_null(certsdir_load_ca_bundle(f->certs, &err));
    assert_int_equal(err.code, PKI_ERR_NOTFOUND);
    ut_write(cpath(f, "ca.crt"), "nope", 4, 0644);
    assert_null(certsdir_load_ca_bundle(f->certs, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "ca.crt: no PEM certificate found");
    EVP_PKEY_free(k);

    assert_string_equal(certsdir_usage_name(CERTSDIR_CA), "Certificate Authority");
    assert_string_equal(certsdir_usage_name(CERTSDIR_NODE), "Node");
    assert_string_equal(certsdir_usage_name(CERTSDIR_CLIENT), "Client");
    assert_string_equal(certsdir_usage_name(CERTSDIR_UI), "UI");
}

/* ---- list --------------------------------------------------------------- */

static const struct certsdir_entry *row(const struct certsdir_listing *l, enum certsdir_usage u,
                                        const char *user)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (l->entries[i].usage == u && strcmp(l->entries[i].user, user) == 0)
            return &l->entries[i];
    fail_msg("no row for usage %d user \"%s\"", (int)u, user);
    abort(); /* not reached: fail_msg ends the test (cmocka does not mark it noreturn) */
}

static void list_at(const struct fixture *f, time_t now, int skip, struct certsdir_listing *l)
{
    struct pki_err err = {0, ""};

    assert_ok(certsdir_list(f->certs, now, skip, l, &err), err);
}

static void assert_row_ok(const struct certsdir_entry *e)
{
    if (e->error[0] != '\0')
        fail_msg("row %s/%s has error \"%s\"", e->cert_file, e->key_file, e->error);
}

static void list_healthy(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    const struct certsdir_entry *e;

    make_ca(f, 10 * YEAR, T0);
    make_client(f, "zed", YEAR, T0);
    make_node(f, 2 * YEAR, T0);
    make_client(f, "alice", YEAR, T0);
    ut_write(cpath(f, "README"), "hi", 2, 0644);          /* ignored */
    ut_write(cpath(f, "ca.key"), "x", 1, 0600);           /* not a row */
    ut_write(cpath(f, "node.key.pk8"), "x", 1, 0600);     /* not a row */
    list_at(f, T0 + DAY, 0, &l);
    assert_int_equal(l.n, 4);
    /* Sorted: CA, node, then clients by user. */
    assert_int_equal(l.entries[0].usage, CERTSDIR_CA);
    assert_int_equal(l.entries[1].usage, CERTSDIR_NODE);
    assert_int_equal(l.entries[2].usage, CERTSDIR_CLIENT);
    assert_string_equal(l.entries[2].user, "alice");
    assert_string_equal(l.entries[3].user, "zed");

    e = &l.entries[0];
    assert_row_ok(e);
    assert_string_equal(e->cert_file, "ca.crt");
    assert_string_equal(e->key_file, "");
    assert_int_equal(e->num_certs, 1);
    assert_string_equal(e->notes, "num certs: 1");
    assert_true(e->has_expiry);
    assert_int_equal(e->expires, T0 + 10 * YEAR);

    e = &l.entries[1];
    assert_row_ok(e);
    assert_string_equal(e->cert_file, "node.crt");
    assert_string_equal(e->key_file, "node.key");
    assert_int_equal(e->expires, T0 + 2 * YEAR);
    assert_int_equal(e->naddresses, 2);
    assert_string_equal(e->addresses[0], "node1.example.com");
    assert_string_equal(e->addresses[1], "127.0.0.1");
    assert_string_equal(e->notes, "addresses: node1.example.com,127.0.0.1");

    e = &l.entries[2];
    assert_row_ok(e);
    assert_string_equal(e->cert_file, "client.alice.crt");
    assert_string_equal(e->key_file, "client.alice.key");
    assert_string_equal(e->notes, "user: alice");
    assert_int_equal(e->expires, T0 + YEAR);
    certsdir_listing_free(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.entries);
}

static void list_expired_later(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    const struct certsdir_entry *e;

    make_ca(f, 2 * YEAR, T0);
    make_node(f, YEAR, T0);
    make_client(f, "alice", 2 * YEAR, T0);

    /* A year and a day on: the node has expired, the rest is fine. */
    list_at(f, T0 + YEAR + DAY, 0, &l);
    assert_row_ok(row(&l, CERTSDIR_CA, ""));
    assert_row_ok(row(&l, CERTSDIR_CLIENT, "alice"));
    e = row(&l, CERTSDIR_NODE, "");
    assert_str_has(e->error, "expired on 2024-11-13 22:13:20 UTC");
    certsdir_listing_free(&l);

    /* Exactly at notAfter counts as expired. */
    list_at(f, T0 + YEAR, 0, &l);
    assert_str_has(row(&l, CERTSDIR_NODE, "")->error, "expired on");
    certsdir_listing_free(&l);

    /* Three years on: everything has expired. */
    list_at(f, T0 + 3 * YEAR, 0, &l);
    assert_str_has(row(&l, CERTSDIR_CA, "")->error, "expired on 2025-11-13");
    assert_str_has(row(&l, CERTSDIR_CLIENT, "alice")->error, "expired on 2025-11-13");
    certsdir_listing_free(&l);

    /* Before notBefore: not valid yet. */
    list_at(f, T0 - 2 * HOUR, 0, &l);
    assert_str_has(row(&l, CERTSDIR_NODE, "")->error, "not valid until 2023-11-14 21:13:20 UTC");
    assert_str_has(row(&l, CERTSDIR_CA, "")->error, "not valid until");
    certsdir_listing_free(&l);
}

static void list_key_mismatch(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    EVP_PKEY *k = ut_ec();

    make_ca(f, 10 * YEAR, T0);
    make_node(f, YEAR, T0);
    ut_write_key(cpath(f, "node.key"), k, 0600);
    list_at(f, T0, 0, &l);
    assert_string_equal(row(&l, CERTSDIR_NODE, "")->error, "node.key does not match node.crt");
    certsdir_listing_free(&l);
    EVP_PKEY_free(k);
}

static void list_key_mode(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    const struct certsdir_entry *e;

    make_ca(f, 10 * YEAR, T0);
    make_client(f, "alice", YEAR, T0);
    assert_int_equal(chmod(cpath(f, "client.alice.key"), 0644), 0);
    list_at(f, T0, 0, &l);
    e = row(&l, CERTSDIR_CLIENT, "alice");
    assert_str_has(e->error, "client.alice.key: permissions 0644 are too open");
    assert_null(strstr(e->error, "does not match"));
    certsdir_listing_free(&l);

    list_at(f, T0, 1, &l);
    assert_row_ok(row(&l, CERTSDIR_CLIENT, "alice"));
    certsdir_listing_free(&l);
}

static void list_orphans(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    EVP_PKEY *k = ut_ec();
    const struct certsdir_entry *e;

    make_ca(f, 10 * YEAR, T0);
    make_client(f, "carol", YEAR, T0);
    ut_write_key(cpath(f, "client.bob.key"), k, 0600);
    assert_int_equal(unlink(cpath(f, "client.carol.key")), 0);
    list_at(f, T0, 0, &l);
    assert_int_equal(l.n, 3);
    e = row(&l, CERTSDIR_CLIENT, "bob");
    assert_string_equal(e->key_file, "client.bob.key");
    assert_string_equal(e->cert_file, "");
    assert_str_has(e->error, "no certificate for this key");
    e = row(&l, CERTSDIR_CLIENT, "carol");
    assert_str_has(e->error, "key file is missing");
    certsdir_listing_free(&l);
    EVP_PKEY_free(k);
}

static void list_leaf_from_other_ca(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    EVP_PKEY *ok = ut_ec(), *lk = ut_ec();
    X509 *other = ut_ca(ok, T0, 10 * YEAR);
    X509 *eve = ut_leaf(PKI_ROLE_CLIENT, "eve", lk, other, ok, T0, YEAR);
    X509 *ui = ut_leaf(PKI_ROLE_NODE, "ui", lk, other, ok, T0, YEAR);

    make_ca(f, 10 * YEAR, T0);
    ut_write_cert(cpath(f, "client.eve.crt"), eve, 0644);
    ut_write_key(cpath(f, "client.eve.key"), lk, 0600);
    ut_write_cert(cpath(f, "ui.crt"), ui, 0644);
    ut_write_key(cpath(f, "ui.key"), lk, 0600);
    list_at(f, T0, 0, &l);
    assert_str_has(row(&l, CERTSDIR_CLIENT, "eve")->error, "not signed by any CA in the CA bundle");
    /* The UI certificate comes from a public CA: its chain is not checked. */
    assert_row_ok(row(&l, CERTSDIR_UI, ""));
    assert_row_ok(row(&l, CERTSDIR_CA, ""));
    certsdir_listing_free(&l);
    X509_free(eve);
    X509_free(ui);
    X509_free(other);
    EVP_PKEY_free(ok);
    EVP_PKEY_free(lk);
}

static void list_client_cn_mismatch(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;

    make_ca(f, 10 * YEAR, T0);
    make_client(f, "alice", YEAR, T0);
    assert_int_equal(rename(cpath(f, "client.alice.crt"), cpath(f, "client.bob.crt")), 0);
    assert_int_equal(rename(cpath(f, "client.alice.key"), cpath(f, "client.bob.key")), 0);
    list_at(f, T0, 0, &l);
    assert_str_has(row(&l, CERTSDIR_CLIENT, "bob")->error, "CN is \"alice\", expected \"bob\"");
    certsdir_listing_free(&l);
}

static void list_rotated_bundle(void **state)
{
    struct fixture *f = *state;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    struct certsdir_listing l;
    const struct certsdir_entry *e;
    char key2[4096];

    make_ca(f, YEAR, T0);
    make_node(f, YEAR / 2, T0);
    snprintf(key2, sizeof(key2), "%s/ca2.key", f->tmp);
    o = opts(f, 10 * YEAR, T0 + DAY);
    o.ca_key_path = key2;
    o.overwrite = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);

    /* The node signed by the old CA still verifies against the bundle. */
    list_at(f, T0 + 2 * DAY, 0, &l);
    e = row(&l, CERTSDIR_CA, "");
    assert_row_ok(e);
    assert_int_equal(e->num_certs, 2);
    assert_string_equal(e->notes, "num certs: 2");
    assert_int_equal(e->expires, T0 + DAY + 10 * YEAR); /* the newest CA */
    assert_row_ok(row(&l, CERTSDIR_NODE, ""));
    certsdir_listing_free(&l);

    /* Once the old CA expires, the row says which certificate. */
    list_at(f, T0 + 2 * YEAR, 0, &l);
    e = row(&l, CERTSDIR_CA, "");
    assert_str_has(e->error, "certificate 2: expired on 2024-11-13");
    assert_null(strstr(e->error, "certificate 1"));
    certsdir_listing_free(&l);
}

static void list_ca_problems(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l;
    const struct certsdir_entry *e;
    EVP_PKEY *k = ut_ec();
    X509 *ca, *leaf;
    char *pem_ca, *pem_leaf, both[16384];

    make_ca(f, 10 * YEAR, T0);
    make_node(f, YEAR, T0);

    /* ca.crt missing: no CA row, and leaves cannot be checked. */
    assert_int_equal(rename(cpath(f, "ca.crt"), cpath(f, "ca.crt.bak")), 0);
    list_at(f, T0, 0, &l);
    assert_int_equal(l.n, 1);
    assert_str_has(row(&l, CERTSDIR_NODE, "")->error, "cannot check the signature");
    certsdir_listing_free(&l);

    /* ca.crt garbage: the CA row and the leaves say so. */
    ut_write(cpath(f, "ca.crt"), "garbage", 7, 0644);
    list_at(f, T0, 0, &l);
    assert_int_equal(l.n, 2);
    assert_str_has(row(&l, CERTSDIR_CA, "")->error, "no PEM certificate found");
    assert_str_has(row(&l, CERTSDIR_NODE, "")->error, "cannot check the signature");
    certsdir_listing_free(&l);

    /* A non-CA certificate in the bundle. */
    ca = ut_ca(k, T0, 10 * YEAR);
    leaf = ut_leaf(PKI_ROLE_NODE, "n", k, ca, k, T0, YEAR);
    pem_ca = ut_cert_pem(ca);
    pem_leaf = ut_cert_pem(leaf);
    snprintf(both, sizeof(both), "%s%s", pem_ca, pem_leaf);
    ut_write(cpath(f, "ca.crt"), both, strlen(both), 0644);
    list_at(f, T0, 0, &l);
    e = row(&l, CERTSDIR_CA, "");
    assert_str_has(e->error, "certificate 2: not a CA certificate");
    assert_int_equal(e->num_certs, 2);
    certsdir_listing_free(&l);

    /* A leaf certificate file that is garbage. */
    ut_write(cpath(f, "node.crt"), "junk", 4, 0644);
    list_at(f, T0, 0, &l);
    assert_str_has(row(&l, CERTSDIR_NODE, "")->error, "node.crt: no PEM certificate found");
    certsdir_listing_free(&l);
    free(pem_ca);
    free(pem_leaf);
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(k);
}

static void list_empty_and_missing(void **state)
{
    struct fixture *f = *state;
    struct certsdir_listing l = {NULL, 0};
    struct pki_err err = {0, ""};
    char missing[4096];

    list_at(f, T0, 0, &l);
    assert_int_equal(l.n, 0);
    certsdir_listing_free(&l);
    snprintf(missing, sizeof(missing), "%s/missing", f->tmp);
    assert_err(certsdir_list(missing, T0, 0, &l, &err), err, PKI_ERR_NOTFOUND, "does not exist");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(create_ca_fresh),
        T(create_ca_key_types),
        T(create_ca_refuses_existing_cert),
        T(create_ca_refuses_existing_key),
        T(create_ca_reuses_key),
        T(create_ca_reuse_checks_key_mode),
        T(create_ca_reuse_refuses_garbage_key),
        T(create_ca_overwrite_keeps_old),
        T(create_ca_overwrite_refuses_unreadable_old),
        T(create_ca_bad_dirs),
        T(create_node_ok),
        T(create_node_pkcs8),
        T(create_node_refuses_existing_first),
        T(create_node_bad_hosts),
        T(create_node_too_many_hosts),
        T(create_node_wrong_ca_key),
        T(create_node_ca_key_problems),
        T(create_node_without_ca),
        T(create_node_outliving_ca),
        T(create_node_picks_ca_by_key),
        T(create_client_ok),
        T(create_client_rsa),
        T(create_client_bad_user),
        T(load_key_and_bundle_errors),
        T(list_healthy),
        T(list_expired_later),
        T(list_key_mismatch),
        T(list_key_mode),
        T(list_orphans),
        T(list_leaf_from_other_ca),
        T(list_client_cn_mismatch),
        T(list_rotated_bundle),
        T(list_ca_problems),
        T(list_empty_and_missing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
