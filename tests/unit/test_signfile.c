/* test_signfile.c - csr create, cert sign and cert bundle over files
 * (signfile.h), and create-ca under a parent CA with the leaves below it
 * (certsdir.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "certsdir.h"
#include "chain.h"
#include "csr.h"
#include "fsio.h"
#include "pem.h"
#include "signfile.h"
#include "subject.h"
#include "unit_util.h"

/* Shared CAs: R a root (10 years), I an intermediate under it (pathlen 0,
 * 5 years), X an unrelated root and S a client certificate under X. */
static EVP_PKEY *kR, *kI, *kX, *kS;
static X509 *R, *I, *X, *S;

static int group_setup(void **state)
{
    (void)state;
    kR = ut_ec();
    kI = ut_ec();
    kX = ut_ec();
    kS = ut_ec();
    R = ut_ca(kR, T0, 10 * YEAR);
    I = ut_leaf(PKI_ROLE_INTERMEDIATE, "intermediate", kI, R, kR, T0, 5 * YEAR);
    X = ut_ca(kX, T0, 10 * YEAR);
    S = ut_leaf(PKI_ROLE_CLIENT, "stranger", kS, X, kX, T0, YEAR);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(S);
    X509_free(X);
    X509_free(I);
    X509_free(R);
    EVP_PKEY_free(kR);
    EVP_PKEY_free(kI);
    EVP_PKEY_free(kX);
    EVP_PKEY_free(kS);
    return 0;
}

static int setup(void **state)
{
    *state = ut_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    ut_rmtree(*state);
    return 0;
}

/* dir/name in a buffer of the caller's. */
static char *pathof(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        fail_msg("path too long");
    return buf;
}

static void dir_state_into(FILE *f, const char *dir)
{
    struct dirent **names;
    char p[PATH_MAX];
    struct stat st;
    int i, n = scandir(dir, &names, NULL, alphasort);

    assert_true(n >= 0);
    for (i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            pathof(p, dir, names[i]->d_name);
            assert_int_equal(lstat(p, &st), 0);
            fprintf(f, "%s %o\n", p, (unsigned)(st.st_mode & 07777));
            if (S_ISDIR(st.st_mode)) {
                dir_state_into(f, p);
            } else {
                char *data = ut_read(p, NULL);

                fprintf(f, "%s\n", data ? data : "(unreadable)");
                free(data);
            }
        }
        free(names[i]);
    }
    free(names);
}

/* Every file under dir (names, modes and contents, sorted): to check that a
 * refused command changed nothing. malloc'd. */
static char *dir_state(const char *dir)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    assert_non_null(f);
    dir_state_into(f, dir);
    fclose(f);
    return out;
}

static void assert_dir_unchanged(const char *dir, char *before)
{
    char *now = dir_state(dir);

    if (strcmp(now, before) != 0)
        fail_msg("%s changed:\n--- before\n%s--- after\n%s", dir, before, now);
    free(now);
    free(before);
}

/* Writes certificates (NULL-ended) into one PEM file. */
static void write_certs(const char *path, X509 *const *certs)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};

    for (; *certs != NULL; certs++)
        assert_ok(pki_pem_append_cert(*certs, &b, &err), err);
    ut_write(path, b.data, b.len, 0644);
    pki_buf_free(&b);
}

static void write_csr(const char *path, EVP_PKEY *key, const char *subject, const char *san)
{
    struct pki_csr_params p;
    struct pki_host h;
    struct pki_buf pem = {NULL, 0};
    struct pki_err err = {0, ""};
    X509_NAME *name = pki_subject_parse(subject, &err);
    X509_REQ *req;

    assert_non_null(name);
    memset(&p, 0, sizeof(p));
    p.key = key;
    p.subject = name;
    if (san != NULL) {
        assert_ok(pki_san_parse(san, &h, &err), err);
        p.sans = &h;
        p.nsans = 1;
    }
    req = pki_csr_create(&p, &err);
    if (req == NULL)
        fail_msg("%s", err.msg);
    assert_ok(pki_csr_to_pem(req, &pem, &err), err);
    ut_write(path, pem.data, pem.len, 0644);
    pki_buf_free(&pem);
    X509_REQ_free(req);
    X509_NAME_free(name);
}

static X509_REQ *read_csr(const char *path)
{
    struct pki_err err = {0, ""};
    size_t len = 0;
    char *data = ut_read(path, &len);
    X509_REQ *r;

    if (data == NULL)
        fail_msg("%s is missing", path);
    r = pki_csr_read((const unsigned char *)data, len, &err);
    if (r == NULL)
        fail_msg("%s: %s", path, err.msg);
    free(data);
    return r;
}

static EVP_PKEY *load_key(const char *path)
{
    struct pki_err err = {0, ""};
    EVP_PKEY *k = certsdir_load_key(path, 0, &err);

    if (k == NULL)
        fail_msg("%s: %s", path, err.msg);
    return k;
}

static STACK_OF(X509) *load_certs(const char *path)
{
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s = certsdir_load_certs(path, &err);

    if (s == NULL)
        fail_msg("%s: %s", path, err.msg);
    return s;
}

static void sans_text(X509_REQ *req, char *buf, size_t len)
{
    struct pki_host h[8];
    struct pki_err err = {0, ""};
    size_t n, i;

    assert_ok(pki_csr_sans(req, h, 8, &n, &err), err);
    buf[0] = '\0';
    for (i = 0; i < n; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s:%s", i ? "," : "",
                 pki_san_type_name(h[i].kind), h[i].text);
}

static void eku_text(X509_REQ *req, char *buf, size_t len)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    int i = X509v3_get_ext_by_NID(exts, NID_ext_key_usage, -1);
    EXTENDED_KEY_USAGE *eku;

    assert_true(i >= 0);
    eku = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
    buf[0] = '\0';
    for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
                 OBJ_nid2sn(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))));
    EXTENDED_KEY_USAGE_free(eku);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static struct csrfile_opts csr_opts(const char *out)
{
    struct csrfile_opts o;

    memset(&o, 0, sizeof(o));
    o.key_spec.type = PKI_KEY_ECDSA;
    o.key_spec.bits = 256;
    o.out = out;
    return o;
}

/* ---- csr create ---------------------------------------------------------- */

static void csr_with_new_key(void **state)
{
    const char *dir = *state;
    static const char *const sans[] = {"dns:db.example.com,ip:10.0.0.1", "URI:spiffe://td/db"};
    char out[PATH_MAX], key[PATH_MAX], buf[512];
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509_REQ *req;
    EVP_PKEY *k;

    (void)state;
    o.subject = "/O=Example/CN=db.example.com";
    o.sans = sans;
    o.nsans = 2;
    memset(&w, 0, sizeof(w));
    assert_ok(csrfile_create(&o, &w, &err), err);
    pathof(key, dir, "db.key");
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[0], out);
    assert_string_equal(w.paths[1], key);
    assert_int_equal(ut_count_entries(dir), 2);
    assert_int_equal(ut_mode(out), 0644);
    assert_int_equal(ut_mode(key), 0600);

    req = read_csr(out);
    pki_subject_format(X509_REQ_get_subject_name(req), buf, sizeof(buf));
    assert_string_equal(buf, "CN=db.example.com,O=Example");
    sans_text(req, buf, sizeof(buf));
    assert_string_equal(buf, "dns:db.example.com,ip:10.0.0.1,uri:spiffe://td/db");
    eku_text(req, buf, sizeof(buf));
    assert_string_equal(buf, "serverAuth"); /* the default usage */
    k = load_key(key);
    assert_int_equal(EVP_PKEY_eq(k, X509_REQ_get0_pubkey(req)), 1);
    pki_key_describe(k, buf, sizeof(buf));
    assert_string_equal(buf, "ECDSA P-256");
    EVP_PKEY_free(k);
    X509_REQ_free(req);
}

static void csr_key_types(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX], desc[32];
    struct csrfile_opts o = csr_opts(pathof(out, dir, "ed.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509_REQ *req;
    EVP_PKEY *k;

    o.subject = "/CN=ed";
    o.key_spec.type = PKI_KEY_ED25519;
    o.key_spec.bits = 0;
    assert_ok(csrfile_create(&o, &w, &err), err);
    req = read_csr(out);
    assert_int_equal(X509_REQ_get_signature_nid(req), NID_ED25519);
    k = load_key(pathof(key, dir, "ed.key"));
    pki_key_describe(k, desc, sizeof(desc));
    assert_string_equal(desc, "Ed25519");
    EVP_PKEY_free(k);
    X509_REQ_free(req);
}

static void csr_default_key_out(void **state)
{
    static const struct { const char *out, *key; } cases[] = {
        {"req.csr", "req.key"},
        {"req.pem", "req.pem.key"},
        {"plain", "plain.key"},
        {"a.csr.csr", "a.csr.key"},
        {"b.CSR", "b.CSR.key"},
    };
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct csrfile_opts o = csr_opts(pathof(out, dir, cases[i].out));
        struct certsdir_written w;
        struct pki_err err = {0, ""};

        o.subject = "/CN=x";
        assert_ok(csrfile_create(&o, &w, &err), err);
        assert_int_equal(w.n, 2);
        assert_string_equal(w.paths[1], pathof(key, dir, cases[i].key));
        assert_int_equal(ut_mode(key), 0600);
    }
    assert_int_equal(ut_count_entries(dir), 10);
}

static void csr_explicit_key_out(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX];
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509_REQ *req;
    EVP_PKEY *k;

    o.subject = "/CN=x";
    o.key_out = pathof(key, dir, "private.pem");
    assert_ok(csrfile_create(&o, &w, &err), err);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[1], key);
    assert_int_equal(ut_count_entries(dir), 2); /* no db.key */
    req = read_csr(out);
    k = load_key(key);
    assert_int_equal(EVP_PKEY_eq(k, X509_REQ_get0_pubkey(req)), 1);
    EVP_PKEY_free(k);
    X509_REQ_free(req);
}

static void csr_with_existing_key(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX], *before;
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();
    X509_REQ *req;

    ut_write_key(pathof(key, dir, "mine.key"), k, 0600);
    before = ut_read(key, NULL);
    o.key_path = key;
    o.key_spec.type = PKI_KEY_RSA; /* not used: no key is made */
    o.key_spec.bits = 4096;
    o.subject = "/CN=db";
    assert_ok(csrfile_create(&o, &w, &err), err);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.paths[0], out);
    assert_int_equal(ut_count_entries(dir), 2); /* mine.key and db.csr; no db.key */
    req = read_csr(out);
    assert_int_equal(EVP_PKEY_eq(k, X509_REQ_get0_pubkey(req)), 1);
    X509_REQ_free(req);
    {
        char *after = ut_read(key, NULL);

        assert_string_equal(after, before);
        free(after);
    }
    free(before);
    EVP_PKEY_free(k);
}

static void csr_existing_key_mode(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX], *before;
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *k = ut_ec();

    ut_write_key(pathof(key, dir, "mine.key"), k, 0640);
    o.key_path = key;
    o.subject = "/CN=db";
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_POLICY, "too open");
    assert_msg_has(err, "mine.key");
    assert_dir_unchanged(dir, before);
    o.skip_key_mode_check = 1;
    assert_ok(csrfile_create(&o, &w, &err), err);
    EVP_PKEY_free(k);
}

static void csr_cluster_fqdn(void **state)
{
    const char *dir = *state;
    static const struct { const char *subject, *want; } cases[] = {
        {NULL, "CN=db.example.com"},
        {"/O=Example", "O=Example"}, /* CN added after what was given */
        {"/O=Example/CN=other", "CN=other,O=Example"},
    };
    char out[PATH_MAX], buf[512];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[32];
        struct csrfile_opts o;
        struct certsdir_written w;
        struct pki_err err = {0, ""};
        X509_REQ *req;

        snprintf(name, sizeof(name), "c%zu.csr", i);
        o = csr_opts(pathof(out, dir, name));
        o.subject = cases[i].subject;
        o.cluster_fqdn = "db.example.com";
        assert_ok(csrfile_create(&o, &w, &err), err);
        req = read_csr(out);
        pki_subject_format(X509_REQ_get_subject_name(req), buf, sizeof(buf));
        assert_str_has(buf, cases[i].want);
        assert_int_equal(pki_subject_has_cn(X509_REQ_get_subject_name(req)), 1);
        sans_text(req, buf, sizeof(buf));
        assert_string_equal(buf, "dns:db.example.com,dns:*.db.example.com,"
                                 "dns:internal.db.example.com,dns:*.internal.db.example.com");
        eku_text(req, buf, sizeof(buf));
        assert_string_equal(buf, "serverAuth,clientAuth"); /* usage defaults to both */
        X509_REQ_free(req);
    }
}

/* A valid FQDN longer than a CN may be (64): fine with a --subject CN; without
 * one it is refused by name, and nothing is written. */
static void csr_long_cluster_fqdn(void **state)
{
    const char *dir = *state;
    static const char *fqdn = "a-rather-long-cluster-name-for-the-database-tier.eu-west.example.com";
    char out[PATH_MAX], buf[512], *before;
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509_REQ *req;

    assert_true(strlen(fqdn) > 64);
    o.cluster_fqdn = fqdn;
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "--cluster-fqdn");
    assert_dir_unchanged(dir, before);
    o.subject = "/CN=db";
    assert_ok(csrfile_create(&o, &w, &err), err);
    req = read_csr(out);
    sans_text(req, buf, sizeof(buf));
    assert_str_has(buf, fqdn);
    X509_REQ_free(req);
}

static void csr_usage(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], buf[128];
    struct csrfile_opts o = csr_opts(pathof(out, dir, "u.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509_REQ *req;

    o.subject = "/CN=alice";
    o.usage = "client";
    o.cluster_fqdn = "db.example.com"; /* an explicit usage wins */
    assert_ok(csrfile_create(&o, &w, &err), err);
    req = read_csr(out);
    eku_text(req, buf, sizeof(buf));
    assert_string_equal(buf, "clientAuth");
    X509_REQ_free(req);
}

/* Outputs that exist are refused without overwrite, before a key is made,
 * and nothing in the folder changes. */
static void csr_refuses_existing_outputs(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX], *before;
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    X509_REQ *req;
    EVP_PKEY *k;

    o.subject = "/CN=db";
    pathof(key, dir, "db.key");

    ut_write(out, "old csr\n", 8, 0644);
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_EXISTS, "already exists");
    assert_msg_has(err, out);
    assert_dir_unchanged(dir, before);

    assert_int_equal(unlink(out), 0);
    ut_write(key, "old key\n", 8, 0600);
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_EXISTS, "already exists");
    assert_msg_has(err, key);
    assert_dir_unchanged(dir, before);

    ut_write(out, "old csr\n", 8, 0644);
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_EXISTS, "already exists");
    assert_dir_unchanged(dir, before);

    /* With an existing key as input, only --out counts. */
    o.key_path = key;
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_EXISTS, out);
    assert_dir_unchanged(dir, before);

    /* --overwrite replaces both, the key staying private. */
    o.key_path = NULL;
    o.overwrite = 1;
    assert_ok(csrfile_create(&o, &w, &err), err);
    assert_int_equal(ut_count_entries(dir), 2);
    assert_int_equal(ut_mode(key), 0600);
    assert_int_equal(ut_mode(out), 0644);
    req = read_csr(out);
    k = load_key(key);
    assert_int_equal(EVP_PKEY_eq(k, X509_REQ_get0_pubkey(req)), 1);
    EVP_PKEY_free(k);
    X509_REQ_free(req);
}

static void csr_refusals_write_nothing(void **state)
{
    static const char *const bad_san[] = {"dns:ok.example.com,dns:bad_name.example.com"};
    static const char *const bad_type[] = {"x400:whatever"};
    static const char *const empty_item[] = {"dns:a.example.com,,dns:b.example.com"};
    const char *dir = *state;
    char out[PATH_MAX], key[PATH_MAX], garbage[PATH_MAX], *before;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    struct csrfile_opts o;

    ut_write(pathof(garbage, dir, "garbage.key"), "not a key\n", 10, 0600);
    pathof(key, dir, "missing.key");
    pathof(out, dir, "db.csr");
    before = dir_state(dir);

    o = csr_opts(out);
    o.subject = "/CN=x";
    o.sans = bad_san;
    o.nsans = 1;
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "bad_name");

    o.sans = bad_type;
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "expected dns:NAME");

    o = csr_opts(out);
    o.subject = "/CN=x/E=a@b.c";
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "invalid subject");

    o = csr_opts(out);
    o.subject = "/O=only an organization";
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "needs a CN");

    o = csr_opts(out);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "needs a CN"); /* nothing */

    o = csr_opts(out);
    o.subject = "/CN=x";
    o.usage = "codeSigning";
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "unknown usage");

    o = csr_opts(out);
    o.cluster_fqdn = "-bad-.example.com";
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "--cluster-fqdn");

    o = csr_opts(out);
    o.subject = "/CN=x";
    o.key_path = key;
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_NOTFOUND, "missing.key");

    o.key_path = garbage;
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "garbage.key");

    /* An empty item between commas. */
    o = csr_opts(out);
    o.subject = "/CN=x";
    o.sans = empty_item;
    o.nsans = 1;
    err.code = 0;
    if (csrfile_create(&o, &w, &err) == PKI_OK) {
        /* strtok skips empty items: then both names must be there. */
        X509_REQ *req = read_csr(out);
        char buf[256];

        sans_text(req, buf, sizeof(buf));
        assert_string_equal(buf, "dns:a.example.com,dns:b.example.com");
        X509_REQ_free(req);
        assert_int_equal(unlink(out), 0);
        assert_int_equal(unlink(pathof(key, dir, "db.key")), 0);
    }
    assert_dir_unchanged(dir, before);
}

static void csr_too_many_sans(void **state)
{
    const char *dir = *state;
    char out[PATH_MAX], *list, *before;
    const char *sans[1];
    struct csrfile_opts o = csr_opts(pathof(out, dir, "db.csr"));
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    int i;

    list = malloc(257 * 32);
    assert_non_null(list);
    list[0] = '\0';
    for (i = 0; i < 257; i++)
        sprintf(list + strlen(list), "%sdns:h%d.example.com", i ? "," : "", i);
    sans[0] = list;
    o.sans = sans;
    o.nsans = 1;
    before = dir_state(dir);
    assert_err(csrfile_create(&o, &w, &err), err, PKI_ERR_INPUT, "more than 256 SANs");
    assert_dir_unchanged(dir, before);
    /* 256 are fine. */
    *strrchr(list, ',') = '\0';
    assert_ok(csrfile_create(&o, &w, &err), err);
    free(list);
}

static struct certsdir_opts ca_opts(const char *certs, const char *key, int64_t lifetime);

/* ---- cert sign ------------------------------------------------------------- */

struct sign_files {
    char root_crt[PATH_MAX], root_key[PATH_MAX];
    char inter_crt[PATH_MAX], inter_key[PATH_MAX]; /* inter_crt: I then R */
    char csr[PATH_MAX], out[PATH_MAX];
};

static void sign_files(const char *dir, struct sign_files *f, const char *san)
{
    X509 *root_only[] = {R, NULL}, *inter_chain[] = {I, R, NULL};
    EVP_PKEY *k = ut_ec();

    write_certs(pathof(f->root_crt, dir, "root.crt"), root_only);
    ut_write_key(pathof(f->root_key, dir, "root.key"), kR, 0600);
    write_certs(pathof(f->inter_crt, dir, "inter.crt"), inter_chain);
    ut_write_key(pathof(f->inter_key, dir, "inter.key"), kI, 0600);
    write_csr(pathof(f->csr, dir, "db.csr"), k, "/O=Example/CN=db.example.com", san);
    pathof(f->out, dir, "db.crt");
    EVP_PKEY_free(k);
}

static struct signfile_opts sign_opts(const struct sign_files *f, int intermediate)
{
    struct signfile_opts o;

    memset(&o, 0, sizeof(o));
    o.csr_path = f->csr;
    o.ca_cert_path = intermediate ? f->inter_crt : f->root_crt;
    o.ca_key_path = intermediate ? f->inter_key : f->root_key;
    o.out = f->out;
    o.profile = PKI_PROFILE_SERVER;
    o.lifetime = YEAR;
    o.now = T0;
    return o;
}

static void sign_under_intermediate(void **state)
{
    const char *dir = *state;
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *out, *anchors;
    X509_REQ *req;
    X509 *leaf;
    char buf[256];

    sign_files(dir, &f, "dns:db.example.com");
    o = sign_opts(&f, 1);
    memset(&w, 0, sizeof(w));
    assert_ok(signfile_sign(&o, &w, &err), err);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.paths[0], f.out);
    assert_int_equal(ut_mode(f.out), 0644);

    /* The leaf, then the non-root part of the CA file: I. */
    out = load_certs(f.out);
    assert_int_equal(sk_X509_num(out), 2);
    leaf = sk_X509_value(out, 0);
    assert_int_equal(X509_cmp(sk_X509_value(out, 1), I), 0);
    assert_int_equal(X509_verify(leaf, kI), 1);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(I)), 0);
    req = read_csr(f.csr);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), X509_REQ_get0_pubkey(req)), 1);
    pki_subject_format(X509_get_subject_name(leaf), buf, sizeof(buf));
    assert_string_equal(buf, "CN=db.example.com,O=Example");
    anchors = ut_stack(R, NULL);
    assert_ok(pki_chain_verify_with(leaf, out, anchors, &err), err);
    sk_X509_free(anchors);
    X509_REQ_free(req);
    pki_certs_free(out);
}

static void sign_under_root(void **state)
{
    const char *dir = *state;
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *out;
    time_t nb, na;

    sign_files(dir, &f, "ip:10.0.0.1");
    o = sign_opts(&f, 0);
    o.profile = PKI_PROFILE_NODE;
    o.lifetime = 30 * DAY;
    assert_ok(signfile_sign(&o, &w, &err), err);
    out = load_certs(f.out);
    assert_int_equal(sk_X509_num(out), 1); /* the root is not included */
    assert_int_equal(X509_verify(sk_X509_value(out, 0), kR), 1);
    assert_ok(pki_cert_validity(sk_X509_value(out, 0), &nb, &na, &err), err);
    assert_int_equal(na, T0 + 30 * DAY);
    pki_certs_free(out);
}

/* Every non-root certificate of the CA file, in the file's order. */
static void sign_chain_order(void **state)
{
    const char *dir = *state;
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *kI1 = ut_ec(), *kI2 = ut_ec();
    X509 *I1 = ut_leaf(PKI_ROLE_CA, "I1", kI1, R, kR, T0, 8 * YEAR);
    X509 *I2 = ut_leaf(PKI_ROLE_INTERMEDIATE, "I2", kI2, I1, kI1, T0, 6 * YEAR);
    X509 *file[] = {I2, R, I1, NULL};
    STACK_OF(X509) *out;

    sign_files(dir, &f, "dns:db.example.com");
    write_certs(f.inter_crt, file);
    ut_write_key(f.inter_key, kI2, 0600);
    o = sign_opts(&f, 1);
    assert_ok(signfile_sign(&o, &w, &err), err);
    out = load_certs(f.out);
    assert_int_equal(sk_X509_num(out), 3);
    assert_int_equal(X509_cmp(sk_X509_value(out, 1), I2), 0);
    assert_int_equal(X509_cmp(sk_X509_value(out, 2), I1), 0);
    pki_certs_free(out);
    X509_free(I2);
    X509_free(I1);
    EVP_PKEY_free(kI1);
    EVP_PKEY_free(kI2);
}

static void sign_default_lifetimes(void **state)
{
    const char *dir = *state;
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *out;
    time_t nb, na;

    sign_files(dir, &f, "dns:db.example.com");
    o = sign_opts(&f, 0);
    o.lifetime = 0;
    memset(&w, 0, sizeof(w));
    assert_ok(signfile_sign(&o, &w, &err), err);
    out = load_certs(f.out);
    assert_ok(pki_cert_validity(sk_X509_value(out, 0), &nb, &na, &err), err);
    assert_int_equal(na, T0 + 8760 * HOUR);
    pki_certs_free(out);
    assert_string_equal(w.note, "");

    o.profile = PKI_PROFILE_INTERMEDIATE;
    o.overwrite = 1;
    memset(&w, 0, sizeof(w));
    assert_ok(signfile_sign(&o, &w, &err), err);
    out = load_certs(f.out);
    assert_ok(pki_cert_validity(sk_X509_value(out, 0), &nb, &na, &err), err);
    assert_int_equal(na, T0 + 43920 * HOUR);
    assert_int_equal(pki_cert_is_ca(sk_X509_value(out, 0)), 1);
    pki_certs_free(out);
    assert_string_equal(w.note, "");

    /* Eight years on, the root has two left: the default ends with it. */
    o.now = T0 + 8 * YEAR;
    memset(&w, 0, sizeof(w));
    assert_ok(signfile_sign(&o, &w, &err), err);
    out = load_certs(f.out);
    assert_ok(pki_cert_validity(sk_X509_value(out, 0), &nb, &na, &err), err);
    assert_int_equal(na, T0 + 10 * YEAR);
    pki_certs_free(out);
    assert_str_has(w.note, "shortened");
}

/* certsdir.h: note is "something the user should know, or \"\"": when nothing
 * was shortened it is "", whatever the caller's struct held before. */
static void note_empty_when_nothing_shortened(void **state)
{
    const char *dir = *state;
    static const char *const hosts[] = {"node1.example.com"};
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_opts co;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char certs[PATH_MAX], key[PATH_MAX];

    sign_files(dir, &f, "dns:db.example.com");
    o = sign_opts(&f, 0);
    o.lifetime = 0;
    memset(&w, 'x', sizeof(w)); /* a reused struct, or one not zeroed */
    w.note[sizeof(w.note) - 1] = '\0';
    assert_ok(signfile_sign(&o, &w, &err), err);
    if (w.note[0] != '\0')
        fail_msg("signfile_sign: nothing was shortened, yet note is \"%.40s...\"", w.note);

    assert_int_equal(mkdir(pathof(certs, dir, "certs"), 0755), 0);
    co = ca_opts(certs, pathof(key, dir, "ca.key"), 10 * YEAR);
    assert_ok(certsdir_create_ca(&co, &w, &err), err);
    co.lifetime = YEAR;
    co.lifetime_is_default = 1;
    memset(&w, 'x', sizeof(w));
    w.note[sizeof(w.note) - 1] = '\0';
    assert_ok(certsdir_create_node(&co, hosts, 1, &w, &err), err);
    if (w.note[0] != '\0')
        fail_msg("certsdir_create_node: nothing was shortened, yet note is \"%.40s...\"",
                 w.note);
}

static void sign_refusals_write_nothing(void **state)
{
    const char *dir = *state;
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char bad[PATH_MAX], missing[PATH_MAX], *before;

    sign_files(dir, &f, "uri:spiffe://td/db");
    ut_write(pathof(bad, dir, "bad.csr"), "garbage\n", 8, 0644);
    pathof(missing, dir, "missing.csr");
    before = dir_state(dir);

    o = sign_opts(&f, 1);
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY,
               "server profile needs at least one DNS or IP SAN");
    o.profile = PKI_PROFILE_NODE;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY, "node profile");

    o = sign_opts(&f, 1);
    o.profile = PKI_PROFILE_INTERMEDIATE;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY, "path length constraint is 0");

    o = sign_opts(&f, 1);
    o.profile = PKI_PROFILE_CLIENT;
    o.lifetime = 5 * YEAR + 1;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY, "expires on 2028-11-12");

    o = sign_opts(&f, 1);
    o.profile = PKI_PROFILE_CLIENT;
    o.ca_key_path = f.root_key; /* R's key, I first in the file */
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY,
               "does not match the first certificate");

    o = sign_opts(&f, 1);
    o.profile = PKI_PROFILE_CLIENT;
    o.csr_path = missing;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_NOTFOUND, "missing.csr");
    o.csr_path = bad;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_INPUT, "bad.csr");
    o.csr_path = f.csr;
    o.ca_cert_path = bad;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_INPUT, "bad.csr");
    o.ca_cert_path = missing;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_NOTFOUND, "missing.csr");

    assert_dir_unchanged(dir, before);

    /* A CA key readable by others. */
    o = sign_opts(&f, 1);
    o.profile = PKI_PROFILE_CLIENT;
    assert_int_equal(chmod(f.inter_key, 0644), 0);
    before = dir_state(dir);
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY, "too open");
    assert_dir_unchanged(dir, before);
    before = dir_state(dir);

    /* The CA is expired, or not valid yet. */
    o = sign_opts(&f, 1);
    o.profile = PKI_PROFILE_CLIENT;
    o.skip_key_mode_check = 1;
    o.now = T0 + 5 * YEAR;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY, "expired");
    o.now = T0 - 2 * HOUR;
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_POLICY, "not valid yet");
    assert_dir_unchanged(dir, before);
}

static void sign_refuses_existing_out(void **state)
{
    const char *dir = *state;
    struct sign_files f;
    struct signfile_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char *before;
    STACK_OF(X509) *out;

    sign_files(dir, &f, "dns:db.example.com");
    ut_write(f.out, "old\n", 4, 0644);
    before = dir_state(dir);
    o = sign_opts(&f, 1);
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_EXISTS, "already exists");
    assert_dir_unchanged(dir, before);
    /* Checked first: even with a CSR that does not exist. */
    o.csr_path = "/nonexistent/x.csr";
    assert_err(signfile_sign(&o, &w, &err), err, PKI_ERR_EXISTS, "db.crt");

    o = sign_opts(&f, 1);
    o.overwrite = 1;
    assert_ok(signfile_sign(&o, &w, &err), err);
    out = load_certs(f.out);
    assert_int_equal(sk_X509_num(out), 2);
    pki_certs_free(out);
}

/* ---- cert bundle ----------------------------------------------------------- */

struct bundle_files {
    char leaf[PATH_MAX], inter[PATH_MAX], root[PATH_MAX], chain[PATH_MAX], other[PATH_MAX];
    X509 *L;
    EVP_PKEY *kL;
};

static void bundle_files(const char *dir, struct bundle_files *b)
{
    X509 *leaf_file[] = {NULL, I, NULL}, *inter[] = {I, NULL}, *root[] = {R, NULL};
    X509 *chain[] = {R, I, NULL}, *other[] = {S, NULL};

    b->kL = ut_ec();
    b->L = ut_leaf(PKI_ROLE_NODE, "node", b->kL, I, kI, T0, YEAR);
    leaf_file[0] = b->L;
    write_certs(pathof(b->leaf, dir, "node.crt"), leaf_file); /* as cert sign writes it */
    write_certs(pathof(b->inter, dir, "inter.crt"), inter);
    write_certs(pathof(b->root, dir, "root.crt"), root);
    write_certs(pathof(b->chain, dir, "chain.crt"), chain);
    write_certs(pathof(b->other, dir, "other.crt"), other);
}

static void bundle_free(struct bundle_files *b)
{
    X509_free(b->L);
    EVP_PKEY_free(b->kL);
}

static void expect_bundle(const struct bundle_files *b, const char *const *paths, size_t n)
{
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    STACK_OF(X509) *s;

    assert_ok(signfile_bundle(b->leaf, paths, n, &out, &err), err);
    s = pki_pem_read_certs(out.data, out.len, &err);
    assert_non_null(s);
    assert_int_equal(sk_X509_num(s), 3);
    assert_int_equal(X509_cmp(sk_X509_value(s, 0), b->L), 0);
    assert_int_equal(X509_cmp(sk_X509_value(s, 1), I), 0);
    assert_int_equal(X509_cmp(sk_X509_value(s, 2), R), 0);
    pki_certs_free(s);
    pki_buf_free(&out);
}

static void bundle_ok(void **state)
{
    const char *dir = *state;
    struct bundle_files b;
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};

    bundle_files(dir, &b);
    {
        const char *p[] = {b.root, b.inter};
        expect_bundle(&b, p, 2);
    }
    {
        const char *p[] = {b.chain}; /* root first in one file */
        expect_bundle(&b, p, 1);
    }
    {
        const char *p[] = {b.leaf, b.root}; /* node.crt again: the leaf's copy is dropped */
        expect_bundle(&b, p, 2);
    }
    {
        const char *p[] = {b.chain, b.inter, b.chain, b.root}; /* duplicates */
        expect_bundle(&b, p, 4);
    }
    {
        /* Appended to what out already holds. */
        const char *p[] = {b.chain};

        assert_ok(pki_buf_append(&out, "# bundle\n", 9, &err), err);
        assert_ok(signfile_bundle(b.leaf, p, 1, &out, &err), err);
        assert_memory_equal(out.data, "# bundle\n-----BEGIN CERTIFICATE-----", 36);
        pki_buf_free(&out);
    }
    bundle_free(&b);
}

static void bundle_refusals(void **state)
{
    const char *dir = *state;
    struct bundle_files b;
    char missing[PATH_MAX], garbage[PATH_MAX];
    static const struct { int files[3]; int n; int code; const char *word; } cases[] = {
        /* indexes into {root, inter, chain, other, missing, garbage} */
        {{0}, 1, PKI_ERR_POLICY, "gap"},                       /* no intermediate */
        {{1}, 1, PKI_ERR_POLICY, "gap"},                       /* no root */
        {{0}, 0, PKI_ERR_POLICY, "gap"},                       /* nothing */
        {{2, 3}, 2, PKI_ERR_POLICY, "not part of the chain"},  /* a stranger */
        {{3, 2}, 2, PKI_ERR_POLICY, "CN=stranger"},
        {{2, 4}, 2, PKI_ERR_NOTFOUND, "missing.crt"},
        {{5, 2}, 2, PKI_ERR_INPUT, "garbage.crt"},
    };
    size_t i;

    bundle_files(dir, &b);
    ut_write(pathof(garbage, dir, "garbage.crt"), "junk\n", 5, 0644);
    pathof(missing, dir, "missing.crt");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *all[] = {b.root, b.inter, b.chain, b.other, missing, garbage};
        const char *p[3];
        struct pki_buf out = {NULL, 0};
        struct pki_err err = {0, ""};
        int j, rc;

        for (j = 0; j < cases[i].n; j++)
            p[j] = all[cases[i].files[j]];
        rc = signfile_bundle(b.leaf, p, (size_t)cases[i].n, &out, &err);
        if (rc != cases[i].code || err.code != cases[i].code ||
            strstr(err.msg, cases[i].word) == NULL)
            fail_msg("case %zu: rc %d \"%s\", want %d with \"%s\"", i, rc, err.msg,
                     cases[i].code, cases[i].word);
        assert_int_equal(out.len, 0);
    }
    {
        const char *p[] = {b.chain};
        struct pki_buf out = {NULL, 0};
        struct pki_err err = {0, ""};

        assert_err(signfile_bundle(missing, p, 1, &out, &err), err, PKI_ERR_NOTFOUND,
                   "missing.crt");
        assert_err(signfile_bundle(garbage, p, 1, &out, &err), err, PKI_ERR_INPUT, "garbage.crt");
        assert_int_equal(out.len, 0);
    }
    bundle_free(&b);
}

/* docs/cli.md: "Refused: a certificate that is not part of the chain". One
 * that comes after 64 others in the --chain-from files must be refused too. */
static void bundle_stranger_after_64_certs(void **state)
{
    const char *dir = *state;
    struct bundle_files b;
    char many[PATH_MAX];
    X509 *copies[PKI_PEM_CERTS_MAX + 1];
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    int i, rc;

    bundle_files(dir, &b);
    for (i = 0; i < PKI_PEM_CERTS_MAX; i++)
        copies[i] = R;
    copies[PKI_PEM_CERTS_MAX] = NULL;
    write_certs(pathof(many, dir, "roots.crt"), copies);
    {
        const char *p[] = {b.inter, many, b.other};

        rc = signfile_bundle(b.leaf, p, 3, &out, &err);
        if (rc != PKI_ERR_POLICY || strstr(err.msg, "not part of the chain") == NULL)
            fail_msg("the stranger in other.crt was not refused: rc %d \"%s\" (%zu bytes out)",
                     rc, err.msg, out.len);
    }
    pki_buf_free(&out);
    bundle_free(&b);
}

/* All the certificates needed are given; 64 copies of I come first. */
static void bundle_root_after_64_certs(void **state)
{
    const char *dir = *state;
    struct bundle_files b;
    char many[PATH_MAX];
    X509 *copies[PKI_PEM_CERTS_MAX + 1];
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    int i, rc;

    bundle_files(dir, &b);
    for (i = 0; i < PKI_PEM_CERTS_MAX; i++)
        copies[i] = I;
    copies[PKI_PEM_CERTS_MAX] = NULL;
    write_certs(pathof(many, dir, "inters.crt"), copies);
    {
        const char *p[] = {many, b.root};

        rc = signfile_bundle(b.leaf, p, 2, &out, &err);
        if (rc != PKI_OK)
            fail_msg("the root in root.crt was ignored: rc %d \"%s\"", rc, err.msg);
    }
    assert_int_equal(ut_count_pem_certs((const char *)out.data), 3);
    pki_buf_free(&out);
    bundle_free(&b);
}

/* ---- create-ca under a parent ----------------------------------------------------- */

struct ca_dirs {
    char rootdir[PATH_MAX], certs[PATH_MAX], root_key[PATH_MAX], inter_key[PATH_MAX];
    char root_ca[PATH_MAX], ca[PATH_MAX];
};

static void ca_dirs(const char *dir, struct ca_dirs *d)
{
    pathof(d->rootdir, dir, "root");
    pathof(d->certs, dir, "certs");
    pathof(d->root_key, dir, "root.key");
    pathof(d->inter_key, dir, "inter.key");
    pathof(d->root_ca, d->rootdir, "ca.crt");
    pathof(d->ca, d->certs, "ca.crt");
    assert_int_equal(mkdir(d->rootdir, 0755), 0);
    assert_int_equal(mkdir(d->certs, 0755), 0);
}

static struct certsdir_opts ca_opts(const char *certs, const char *key, int64_t lifetime)
{
    struct certsdir_opts o;

    memset(&o, 0, sizeof(o));
    o.certs_dir = certs;
    o.ca_key_path = key;
    o.lifetime = lifetime;
    o.key_spec.type = PKI_KEY_ECDSA;
    o.key_spec.bits = 256;
    o.now = T0;
    return o;
}

/* A root in d->rootdir, then an intermediate in d->certs under it. */
static void make_root_and_intermediate(const struct ca_dirs *d)
{
    struct certsdir_opts o = ca_opts(d->rootdir, d->root_key, 10 * YEAR);
    struct certsdir_written w;
    struct pki_err err = {0, ""};

    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    o = ca_opts(d->certs, d->inter_key, 5 * YEAR);
    o.parent_cert_path = d->root_ca;
    o.parent_key_path = d->root_key;
    memset(&w, 0, sizeof(w));
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.paths[0], d->inter_key);
    assert_string_equal(w.paths[1], d->ca);
}

static void ca_under_parent(void **state)
{
    const char *dir = *state;
    struct ca_dirs d;
    STACK_OF(X509) *ca, *root;
    EVP_PKEY *ki, *kr;
    X509 *inter;
    char cn[64];
    time_t nb, na;
    struct pki_err err = {0, ""};

    ca_dirs(dir, &d);
    make_root_and_intermediate(&d);
    ca = load_certs(d.ca);
    root = load_certs(d.root_ca);
    assert_int_equal(sk_X509_num(ca), 2);
    inter = sk_X509_value(ca, 0);
    assert_int_equal(X509_cmp(sk_X509_value(ca, 1), sk_X509_value(root, 0)), 0);
    pki_cert_common_name(inter, cn, sizeof(cn));
    assert_string_equal(cn, "pkictl intermediate CA");
    assert_int_equal(pki_cert_is_ca(inter), 1);
    assert_int_equal(X509_get_pathlen(inter), 0);
    assert_int_equal(pki_chain_is_root(inter), 0);
    kr = load_key(d.root_key);
    ki = load_key(d.inter_key);
    assert_int_equal(X509_verify(inter, kr), 1);
    assert_int_equal(pki_key_matches_cert(ki, inter), 1);
    assert_int_equal(ut_mode(d.inter_key), 0600);
    assert_ok(pki_cert_validity(inter, &nb, &na, &err), err);
    assert_int_equal(na, T0 + 5 * YEAR);
    EVP_PKEY_free(kr);
    EVP_PKEY_free(ki);
    pki_certs_free(ca);
    pki_certs_free(root);
}

/* The parent's whole file follows the new CA (a parent with its own chain). */
static void ca_under_parent_with_chain(void **state)
{
    const char *dir = *state;
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    EVP_PKEY *kP = ut_ec();
    X509 *P = ut_leaf(PKI_ROLE_CA, "policy CA", kP, R, kR, T0, 8 * YEAR);
    X509 *parent_file[] = {P, R, NULL};
    char pcrt[PATH_MAX], pkey[PATH_MAX];
    STACK_OF(X509) *ca;

    ca_dirs(dir, &d);
    write_certs(pathof(pcrt, dir, "parent.crt"), parent_file);
    ut_write_key(pathof(pkey, dir, "parent.key"), kP, 0600);
    o = ca_opts(d.certs, d.inter_key, 5 * YEAR);
    o.parent_cert_path = pcrt;
    o.parent_key_path = pkey;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    ca = load_certs(d.ca);
    assert_int_equal(sk_X509_num(ca), 3);
    assert_int_equal(X509_verify(sk_X509_value(ca, 0), kP), 1);
    assert_int_equal(X509_cmp(sk_X509_value(ca, 1), P), 0);
    assert_int_equal(X509_cmp(sk_X509_value(ca, 2), R), 0);
    pki_certs_free(ca);

    /* The parent key may belong to any certificate of the file: here R's. */
    ut_write_key(pkey, kR, 0600);
    o.overwrite = 1;
    o.allow_ca_key_reuse = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    ca = load_certs(d.ca);
    assert_int_equal(X509_verify(sk_X509_value(ca, 0), kR), 1);
    pki_certs_free(ca);
    X509_free(P);
    EVP_PKEY_free(kP);
}

static int count_equal(STACK_OF(X509) *s, X509 *x)
{
    int i, n = 0;

    for (i = 0; i < sk_X509_num(s); i++)
        n += X509_cmp(sk_X509_value(s, i), x) == 0;
    return n;
}

static void ca_under_parent_overwrite_no_duplicates(void **state)
{
    const char *dir = *state;
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *first, *ca, *root;
    int i;

    ca_dirs(dir, &d);
    make_root_and_intermediate(&d);
    first = load_certs(d.ca);
    root = load_certs(d.root_ca);
    for (i = 0; i < 3; i++) {
        char key[PATH_MAX], name[32];
        int j;

        snprintf(name, sizeof(name), "inter%d.key", i + 2);
        o = ca_opts(d.certs, pathof(key, dir, name), 5 * YEAR);
        o.parent_cert_path = d.root_ca;
        o.parent_key_path = d.root_key;
        o.overwrite = 1;
        assert_ok(certsdir_create_ca(&o, &w, &err), err);
        ca = load_certs(d.ca);
        /* new, root, then the older intermediates, newest first; root once */
        assert_int_equal(sk_X509_num(ca), 3 + i);
        assert_int_equal(count_equal(ca, sk_X509_value(root, 0)), 1);
        assert_int_equal(X509_cmp(sk_X509_value(ca, 1), sk_X509_value(root, 0)), 0);
        assert_int_equal(X509_cmp(sk_X509_value(ca, 2 + i), sk_X509_value(first, 0)), 0);
        for (j = 0; j < sk_X509_num(ca); j++)
            assert_int_equal(count_equal(ca, sk_X509_value(ca, j)), 1);
        pki_certs_free(ca);
    }
    pki_certs_free(first);
    pki_certs_free(root);
}

static void ca_under_parent_refusals(void **state)
{
    const char *dir = *state;
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    char icrt[PATH_MAX], ikey[PATH_MAX], other_key[PATH_MAX], *before;
    X509 *inter_file[] = {I, R, NULL};
    struct certsdir_opts root_o;

    ca_dirs(dir, &d);
    root_o = ca_opts(d.rootdir, d.root_key, 10 * YEAR);
    assert_ok(certsdir_create_ca(&root_o, &w, &err), err);
    write_certs(pathof(icrt, dir, "i.crt"), inter_file);
    ut_write_key(pathof(ikey, dir, "i.key"), kI, 0600);
    ut_write_key(pathof(other_key, dir, "other.key"), kX, 0600);
    before = dir_state(dir);

    /* A parent with pathlen 0 signs no CA. */
    o = ca_opts(d.certs, d.inter_key, YEAR);
    o.parent_cert_path = icrt;
    o.parent_key_path = ikey;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_POLICY,
               "path length constraint is 0");

    /* Both or neither. */
    o = ca_opts(d.certs, d.inter_key, YEAR);
    o.parent_cert_path = d.root_ca;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_USAGE, "go together");
    o.parent_cert_path = NULL;
    o.parent_key_path = d.root_key;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_USAGE, "go together");

    /* A key that is no certificate's of the parent file. */
    o.parent_cert_path = d.root_ca;
    o.parent_key_path = other_key;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_POLICY, "does not match any");

    /* Outliving the parent, with an explicit lifetime. */
    o.parent_key_path = d.root_key;
    o.lifetime = 10 * YEAR + 1;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_POLICY, "expires on 2033-11-11");

    /* Parent files that are missing or not certificates. */
    o.lifetime = YEAR;
    o.parent_cert_path = other_key;
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_INPUT, "other.key");
    o.parent_cert_path = "/nonexistent/parent.crt";
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_NOTFOUND, "parent.crt");

    /* A parent key readable by others. */
    o.parent_cert_path = d.root_ca;
    assert_int_equal(chmod(d.root_key, 0644), 0);
    assert_err(certsdir_create_ca(&o, &w, &err), err, PKI_ERR_POLICY, "too open");
    assert_int_equal(chmod(d.root_key, 0600), 0);

    assert_dir_unchanged(dir, before);
}

/* Without --lifetime, the default is shortened to end with the parent. */
static void ca_under_parent_default_lifetime(void **state)
{
    const char *dir = *state;
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *ca;
    time_t nb, na;

    ca_dirs(dir, &d);
    o = ca_opts(d.rootdir, d.root_key, 10 * YEAR);
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    o = ca_opts(d.certs, d.inter_key, 87840 * HOUR);
    o.lifetime_is_default = 1;
    o.parent_cert_path = d.root_ca;
    o.parent_key_path = d.root_key;
    memset(&w, 0, sizeof(w));
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    ca = load_certs(d.ca);
    assert_ok(pki_cert_validity(sk_X509_value(ca, 0), &nb, &na, &err), err);
    assert_int_equal(na, T0 + 10 * YEAR);
    assert_str_has(w.note, "shortened");
    pki_certs_free(ca);
}

/* node.crt and client.U.crt under an intermediate: leaf, then the
 * intermediate (not the root). */
static void leaves_under_intermediate(void **state)
{
    const char *dir = *state;
    static const char *const hosts[] = {"node1.example.com", "10.0.0.1"};
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *ca, *node, *client, *anchors;
    char p[PATH_MAX];
    EVP_PKEY *ki;

    ca_dirs(dir, &d);
    make_root_and_intermediate(&d);
    ca = load_certs(d.ca);
    ki = load_key(d.inter_key);
    o = ca_opts(d.certs, d.inter_key, YEAR);
    assert_ok(certsdir_create_node(&o, hosts, 2, &w, &err), err);
    assert_ok(certsdir_create_client(&o, "alice", &w, &err), err);

    node = load_certs(pathof(p, d.certs, "node.crt"));
    client = load_certs(pathof(p, d.certs, "client.alice.crt"));
    anchors = ut_stack(sk_X509_value(ca, 1), NULL);
    assert_int_equal(sk_X509_num(node), 2);
    assert_int_equal(sk_X509_num(client), 2);
    assert_int_equal(X509_cmp(sk_X509_value(node, 1), sk_X509_value(ca, 0)), 0);
    assert_int_equal(X509_cmp(sk_X509_value(client, 1), sk_X509_value(ca, 0)), 0);
    assert_int_equal(X509_verify(sk_X509_value(node, 0), ki), 1);
    assert_int_equal(X509_verify(sk_X509_value(client, 0), ki), 1);
    assert_ok(pki_chain_verify_with(sk_X509_value(node, 0), node, anchors, &err), err);
    assert_ok(pki_chain_verify_with(sk_X509_value(client, 0), client, anchors, &err), err);
    sk_X509_free(anchors);
    pki_certs_free(node);
    pki_certs_free(client);
    pki_certs_free(ca);
    EVP_PKEY_free(ki);
}

/* After a rotation ca.crt is new, root, old: a leaf signed with the old
 * intermediate's key carries the old intermediate. */
static void leaves_under_older_intermediate(void **state)
{
    const char *dir = *state;
    static const char *const hosts[] = {"node1.example.com"};
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *first, *node;
    char key2[PATH_MAX], p[PATH_MAX];
    EVP_PKEY *ki;

    ca_dirs(dir, &d);
    make_root_and_intermediate(&d);
    first = load_certs(d.ca);
    o = ca_opts(d.certs, pathof(key2, dir, "inter2.key"), 5 * YEAR);
    o.parent_cert_path = d.root_ca;
    o.parent_key_path = d.root_key;
    o.overwrite = 1;
    assert_ok(certsdir_create_ca(&o, &w, &err), err);

    o = ca_opts(d.certs, d.inter_key, YEAR);
    assert_ok(certsdir_create_node(&o, hosts, 1, &w, &err), err);
    node = load_certs(pathof(p, d.certs, "node.crt"));
    ki = load_key(d.inter_key);
    assert_int_equal(sk_X509_num(node), 2);
    assert_int_equal(X509_verify(sk_X509_value(node, 0), ki), 1);
    assert_int_equal(X509_cmp(sk_X509_value(node, 1), sk_X509_value(first, 0)), 0);
    pki_certs_free(node);
    pki_certs_free(first);
    EVP_PKEY_free(ki);
}

/* Under a root, a leaf file holds the leaf alone. */
static void leaves_under_root(void **state)
{
    const char *dir = *state;
    static const char *const hosts[] = {"node1.example.com"};
    struct ca_dirs d;
    struct certsdir_opts o;
    struct certsdir_written w;
    struct pki_err err = {0, ""};
    STACK_OF(X509) *node;
    char p[PATH_MAX];

    ca_dirs(dir, &d);
    o = ca_opts(d.certs, d.root_key, 10 * YEAR);
    assert_ok(certsdir_create_ca(&o, &w, &err), err);
    o.lifetime = YEAR;
    assert_ok(certsdir_create_node(&o, hosts, 1, &w, &err), err);
    node = load_certs(pathof(p, d.certs, "node.crt"));
    assert_int_equal(sk_X509_num(node), 1);
    pki_certs_free(node);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(csr_with_new_key),
        T(csr_key_types),
        T(csr_default_key_out),
        T(csr_explicit_key_out),
        T(csr_with_existing_key),
        T(csr_existing_key_mode),
        T(csr_cluster_fqdn),
        T(csr_long_cluster_fqdn),
        T(csr_usage),
        T(csr_refuses_existing_outputs),
        T(csr_refusals_write_nothing),
        T(csr_too_many_sans),
        T(sign_under_intermediate),
        T(sign_under_root),
        T(sign_chain_order),
        T(sign_default_lifetimes),
        T(note_empty_when_nothing_shortened),
        T(sign_refusals_write_nothing),
        T(sign_refuses_existing_out),
        T(bundle_ok),
        T(bundle_refusals),
        T(bundle_stranger_after_64_certs),
        T(bundle_root_after_64_certs),
        T(ca_under_parent),
        T(ca_under_parent_with_chain),
        T(ca_under_parent_overwrite_no_duplicates),
        T(ca_under_parent_refusals),
        T(ca_under_parent_default_lifetime),
        T(leaves_under_intermediate),
        T(leaves_under_older_intermediate),
        T(leaves_under_root),
    };
#undef T

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
