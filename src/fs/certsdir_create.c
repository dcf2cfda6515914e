/* certsdir_create.c - create-ca, create-node and create-client. */
#include "certsdir.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "chain.h"
#include "key.h"
#include "fsio.h"
#include "pem.h"

#define ORGANIZATION "pkictl"
#define CA_COMMON_NAME "pkictl CA"
#define INTERMEDIATE_COMMON_NAME "pkictl intermediate CA"

static void note_written(struct certsdir_written *w, const struct fs_file *files, size_t n)
{
    size_t i;

    w->n = 0;
    for (i = 0; i < n && i < sizeof(w->paths) / sizeof(w->paths[0]); i++) {
        snprintf(w->paths[i], sizeof(w->paths[i]), "%s", files[i].path);
        w->n++;
    }
}

/* The CA key for create-ca: a new one, or the existing file when reuse is
 * allowed. *fresh says whether it still has to be written. */
static EVP_PKEY *ca_key_for_create(const struct certsdir_opts *o, int *fresh, struct pki_err *err)
{
    *fresh = !fs_exists(o->ca_key_path);
    if (*fresh)
        return pki_key_generate(&o->key_spec, err);
    if (!o->allow_ca_key_reuse) {
        pki_err_set(err, PKI_ERR_EXISTS, "CA key %s already exists (pass --allow-ca-key-reuse "
                    "to sign the new CA certificate with it)", o->ca_key_path);
        return NULL;
    }
    return certsdir_load_key(o->ca_key_path, o->skip_key_mode_check, err);
}

/* The old ca.crt, kept after the new CA when overwriting; one that cannot be
 * read is refused rather than dropped. */
static STACK_OF(X509) *old_bundle(const char *path, struct pki_err *err)
{
    STACK_OF(X509) *old = certsdir_load_certs(path, err);

    if (old == NULL)
        pki_err_prefix(err, "refusing to replace a CA file that cannot be read");
    return old;
}

/* Appends each certificate of more to pem unless it is already in done. */
static int append_new_certs(STACK_OF(X509) *done, STACK_OF(X509) *more, struct pki_buf *pem,
                            struct pki_err *err)
{
    int i, rc = PKI_OK;

    for (i = 0; rc == PKI_OK && i < sk_X509_num(more); i++) {
        X509 *x = sk_X509_value(more, i);

        if (pki_certs_contain(done, x))
            continue;
        rc = pki_pem_append_cert(x, pem, err);
        if (rc == PKI_OK && sk_X509_push(done, x) <= 0)
            rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    return rc;
}

/* The parent CA for an intermediate: the certificate of parent_cert_path
 * that parent_key_path belongs to (borrowed from *certs). */
static X509 *load_parent(const struct certsdir_opts *o, STACK_OF(X509) **certs, EVP_PKEY **key,
                         struct pki_err *err)
{
    int i;

    *certs = certsdir_load_certs(o->parent_cert_path, err);
    if (*certs == NULL)
        return NULL;
    *key = certsdir_load_key(o->parent_key_path, o->skip_key_mode_check, err);
    if (*key == NULL)
        return NULL;
    i = pki_chain_find_by_key(*certs, *key);
    if (i < 0) {
        pki_err_set(err, PKI_ERR_POLICY, "parent CA key %s does not match any certificate in %s",
                    o->parent_key_path, o->parent_cert_path);
        return NULL;
    }
    return sk_X509_value(*certs, i);
}

/* ca.crt's new contents: the new CA, the parent's file, the old ca.crt. */
static int compose_ca_file(X509 *cert, STACK_OF(X509) *parent_certs, STACK_OF(X509) *old,
                           struct pki_buf *pem, struct pki_err *err)
{
    STACK_OF(X509) *done = sk_X509_new_null();
    int rc = done ? pki_pem_append_cert(cert, pem, err)
                  : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");

    if (rc == PKI_OK && sk_X509_push(done, cert) <= 0)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (rc == PKI_OK && parent_certs != NULL)
        rc = append_new_certs(done, parent_certs, pem, err);
    if (rc == PKI_OK && old != NULL)
        rc = append_new_certs(done, old, pem, err);
    sk_X509_free(done); /* borrowed pointers only */
    return rc;
}

/* A default lifetime ends with the issuer at the latest; says so in w. */
static void cap_default_lifetime(const struct certsdir_opts *o, struct pki_cert_params *p,
                                 struct certsdir_written *w)
{
    char when[40];
    time_t nb, na;
    int capped = 0;

    w->note[0] = '\0';
    if (o->lifetime_is_default)
        p->lifetime = pki_cert_cap_lifetime(p->issuer, p->now, p->lifetime, &capped);
    if (capped && pki_cert_validity(p->issuer, &nb, &na, NULL) == PKI_OK) {
        pki_time_format(na, 1, when, sizeof(when));
        snprintf(w->note, sizeof(w->note), "note: the default lifetime was shortened to end with "
                 "the CA certificate on %s", when);
    }
}

static int fail_code(const struct pki_err *err)
{
    return err != NULL && err->code != PKI_OK ? err->code : PKI_ERR_INTERNAL;
}

int certsdir_create_ca(const struct certsdir_opts *o, struct certsdir_written *w,
                       struct pki_err *err)
{
    struct pki_buf key_pem = {NULL, 0}, ca_pem = {NULL, 0};
    STACK_OF(X509) *old = NULL, *parent_certs = NULL;
    EVP_PKEY *key = NULL, *parent_key = NULL;
    X509 *cert = NULL, *parent = NULL;
    struct fs_file files[2];
    struct pki_cert_params p;
    char ca_path[PATH_MAX];
    int rc, fresh = 0;
    size_t n = 0;

    if ((o->parent_cert_path == NULL) != (o->parent_key_path == NULL))
        return pki_err_set(err, PKI_ERR_USAGE, "--parent-ca-cert and --parent-ca-key go together");
    rc = fs_check_dir(o->certs_dir, "certs dir", err);
    if (rc == PKI_OK)
        rc = fs_join(o->certs_dir, CERTSDIR_CA_CERT, ca_path, sizeof(ca_path), err);
    if (rc == PKI_OK && fs_exists(ca_path) && !o->overwrite)
        rc = pki_err_set(err, PKI_ERR_EXISTS, "%s already exists", ca_path);
    if (rc != PKI_OK)
        return rc;
    rc = PKI_ERR_INTERNAL; /* until the write says otherwise */
    if (fs_exists(ca_path) && (old = old_bundle(ca_path, err)) == NULL)
        goto out;
    if (o->parent_cert_path != NULL && (parent = load_parent(o, &parent_certs, &parent_key, err)) == NULL)
        goto out;
    if ((key = ca_key_for_create(o, &fresh, err)) == NULL)
        goto out;
    memset(&p, 0, sizeof(p));
    p.role = parent ? PKI_ROLE_INTERMEDIATE : PKI_ROLE_CA;
    p.organization = ORGANIZATION;
    p.common_name = parent ? INTERMEDIATE_COMMON_NAME : CA_COMMON_NAME;
    p.lifetime = o->lifetime;
    p.now = o->now;
    p.subject_key = key;
    p.issuer = parent;
    p.issuer_key = parent ? parent_key : key;
    p.ca_path_len = o->path_len;
    cap_default_lifetime(o, &p, w);
    if ((cert = pki_cert_issue(&p, err)) == NULL)
        goto out;
    rc = compose_ca_file(cert, parent_certs, old, &ca_pem, err);
    if (rc == PKI_OK && fresh)
        rc = pki_key_to_pem(key, &key_pem, err);
    if (rc != PKI_OK)
        goto out;
    if (fresh)
        files[n++] = (struct fs_file){o->ca_key_path, &key_pem, 1, 0};
    files[n++] = (struct fs_file){ca_path, &ca_pem, 0, o->overwrite};
    rc = fs_write_all(files, n, err);
    if (rc == PKI_OK)
        note_written(w, files, n);
out:
    if (rc == PKI_ERR_INTERNAL)
        rc = fail_code(err);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(parent_key);
    pki_certs_free(parent_certs);
    pki_certs_free(old);
    pki_buf_free(&key_pem);
    pki_buf_free(&ca_pem);
    return rc;
}

/* A leaf's files: NAME.crt, NAME.key and maybe NAME.key.pk8. */
struct leaf_paths {
    char crt[PATH_MAX], key[PATH_MAX], pk8[PATH_MAX];
};

static int leaf_paths(const struct certsdir_opts *o, const char *base, struct leaf_paths *lp,
                      struct pki_err *err)
{
    char name[NAME_MAX + 1];
    int rc = PKI_OK;

    snprintf(name, sizeof(name), "%s.crt", base);
    rc = fs_join(o->certs_dir, name, lp->crt, sizeof(lp->crt), err);
    snprintf(name, sizeof(name), "%s.key", base);
    if (rc == PKI_OK)
        rc = fs_join(o->certs_dir, name, lp->key, sizeof(lp->key), err);
    snprintf(name, sizeof(name), "%s.key.pk8", base);
    if (rc == PKI_OK)
        rc = fs_join(o->certs_dir, name, lp->pk8, sizeof(lp->pk8), err);
    return rc;
}

/* The CA certificate (borrowed from cas) that the CA key belongs to. */
static X509 *signing_ca(const struct certsdir_opts *o, STACK_OF(X509) *cas, EVP_PKEY *ca_key,
                        struct pki_err *err)
{
    int i = pki_chain_find_by_key(cas, ca_key);

    if (i < 0) {
        pki_err_set(err, PKI_ERR_POLICY, "CA key %s does not match any certificate in %s/%s",
                    o->ca_key_path, o->certs_dir, CERTSDIR_CA_CERT);
        return NULL;
    }
    return sk_X509_value(cas, i);
}

/* Encodes and writes a new leaf's files: key, certificate, optional PKCS#8. */
/* The leaf, then its issuer's chain from ca.crt up to, not including, the
 * root (nothing more when a root signed it). */
static int leaf_with_chain(X509 *cert, X509 *issuer, STACK_OF(X509) *cas, struct pki_buf *pem,
                           struct pki_err *err)
{
    STACK_OF(X509) *chain = NULL;
    int i, rc = pki_pem_append_cert(cert, pem, err);

    if (rc == PKI_OK)
        rc = pki_chain_build(issuer, cas, 0, &chain, err);
    for (i = 0; rc == PKI_OK && i < sk_X509_num(chain); i++)
        if (!pki_chain_is_root(sk_X509_value(chain, i)))
            rc = pki_pem_append_cert(sk_X509_value(chain, i), pem, err);
    pki_certs_free(chain);
    return rc;
}

static int write_leaf(const struct certsdir_opts *o, const struct leaf_paths *lp, EVP_PKEY *key,
                      X509 *cert, const struct pki_cert_params *p, STACK_OF(X509) *cas,
                      struct certsdir_written *w, struct pki_err *err)
{
    struct pki_buf key_pem = {NULL, 0}, crt_pem = {NULL, 0}, pk8 = {NULL, 0};
    struct fs_file files[3];
    size_t n = 0;
    int rc;

    rc = pki_key_to_pem(key, &key_pem, err);
    if (rc == PKI_OK)
        rc = leaf_with_chain(cert, p->issuer, cas, &crt_pem, err);
    if (rc == PKI_OK && o->pkcs8)
        rc = pki_key_to_pkcs8_der(key, &pk8, err);
    if (rc == PKI_OK) {
        files[n++] = (struct fs_file){lp->key, &key_pem, 1, o->overwrite};
        files[n++] = (struct fs_file){lp->crt, &crt_pem, 0, o->overwrite};
        if (o->pkcs8)
            files[n++] = (struct fs_file){lp->pk8, &pk8, 1, o->overwrite};
        rc = fs_write_all(files, n, err);
    }
    if (rc == PKI_OK)
        note_written(w, files, n);
    pki_buf_free(&key_pem);
    pki_buf_free(&crt_pem);
    pki_buf_free(&pk8);
    return rc;
}

/* Refuses early, before the CA key is loaded or a key is generated, when a
 * target exists and overwriting was not asked for. */
static int check_targets(const struct certsdir_opts *o, const struct leaf_paths *lp,
                         struct pki_err *err)
{
    const struct fs_file files[3] = {
        {lp->key, NULL, 1, o->overwrite},
        {lp->crt, NULL, 0, o->overwrite},
        {lp->pk8, NULL, 1, o->overwrite},
    };

    return fs_check_absent(files, o->pkcs8 ? 3 : 2, err);
}

static int create_leaf(const struct certsdir_opts *o, struct pki_cert_params *p, const char *base,
                       struct certsdir_written *w, struct pki_err *err)
{
    STACK_OF(X509) *cas = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    struct leaf_paths lp;
    X509 *cert = NULL;
    int rc;

    rc = fs_check_dir(o->certs_dir, "certs dir", err);
    if (rc == PKI_OK)
        rc = leaf_paths(o, base, &lp, err);
    if (rc == PKI_OK)
        rc = check_targets(o, &lp, err);
    if (rc != PKI_OK)
        return rc;
    rc = PKI_ERR_INTERNAL; /* until write_leaf says otherwise */
    cas = certsdir_load_ca_bundle(o->certs_dir, err);
    if (cas == NULL)
        goto out;
    ca_key = certsdir_load_key(o->ca_key_path, o->skip_key_mode_check, err);
    if (ca_key == NULL)
        goto out;
    p->issuer = signing_ca(o, cas, ca_key, err);
    if (p->issuer == NULL)
        goto out;
    p->issuer_key = ca_key;
    cap_default_lifetime(o, p, w);
    p->subject_key = key = pki_key_generate(&o->key_spec, err);
    if (key == NULL)
        goto out;
    cert = pki_cert_issue(p, err);
    if (cert == NULL)
        goto out;
    rc = write_leaf(o, &lp, key, cert, p, cas, w, err);
out:
    if (rc == PKI_ERR_INTERNAL && err != NULL && err->code != PKI_OK)
        rc = err->code; /* the code of the step that failed */
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    pki_certs_free(cas);
    return rc;
}

static void base_params(const struct certsdir_opts *o, struct pki_cert_params *p)
{
    memset(p, 0, sizeof(*p));
    p->organization = ORGANIZATION;
    p->lifetime = o->lifetime;
    p->now = o->now;
}

/* Parses hosts into out, keeping the first of any duplicates. */
static int parse_hosts(const char *const *hosts, size_t nhosts, struct pki_host *out,
                       size_t *nout, struct pki_err *err)
{
    size_t i, j, n = 0;
    int rc;

    for (i = 0; i < nhosts; i++) {
        rc = pki_host_parse(hosts[i], &out[n], err);
        if (rc != PKI_OK)
            return rc;
        for (j = 0; j < n; j++)
            if (out[j].kind == out[n].kind && strcmp(out[j].text, out[n].text) == 0)
                break;
        if (j == n)
            n++;
    }
    *nout = n;
    return PKI_OK;
}

int certsdir_create_node(const struct certsdir_opts *o, const char *const *hosts, size_t nhosts,
                         struct certsdir_written *w, struct pki_err *err)
{
    struct pki_cert_params p;
    struct pki_host *parsed;
    size_t n = 0;
    int rc;

    if (nhosts == 0)
        return pki_err_set(err, PKI_ERR_USAGE, "create-node needs at least one host name or IP");
    if (nhosts > PKI_NAME_HOSTS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "too many hosts (%zu; at most %d)", nhosts,
                           PKI_NAME_HOSTS_MAX);
    parsed = calloc(nhosts, sizeof(*parsed));
    if (parsed == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = parse_hosts(hosts, nhosts, parsed, &n, err);
    if (rc == PKI_OK) {
        base_params(o, &p);
        p.role = PKI_ROLE_NODE;
        p.common_name = "node";
        p.hosts = parsed;
        p.nhosts = n;
        rc = create_leaf(o, &p, "node", w, err);
    }
    free(parsed);
    return rc;
}

int certsdir_create_client(const struct certsdir_opts *o, const char *user,
                           struct certsdir_written *w, struct pki_err *err)
{
    struct pki_cert_params p;
    char base[PKI_NAME_USER_MAX + 16];
    int rc;

    rc = pki_user_check(user, err);
    if (rc != PKI_OK)
        return rc;
    base_params(o, &p);
    p.role = PKI_ROLE_CLIENT;
    p.common_name = user;
    snprintf(base, sizeof(base), "client.%s", user);
    return create_leaf(o, &p, base, w, err);
}
