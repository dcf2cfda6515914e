/* cluster.c - cluster init and cluster status over a manifest. */
#include "cluster.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cert.h"
#include "certsdir.h"
#include "chain.h"
#include "fsio.h"
#include "key.h"
#include "pem.h"
#include "san.h"
#include "subject.h"
#include "cluster_int.h"

/* What init builds in memory before anything is written. */
struct built {
    X509 *cert;
    EVP_PKEY *key;
    struct pki_buf cert_pem, key_pem;
};

void cl_custom_free(struct custom_issuer *c)
{
    pki_certs_free(c->root_certs);
    pki_certs_free(c->inter_certs);
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->inter_key);
}

int cl_load_custom(const struct cluster_custom *o, struct custom_issuer *c, struct pki_err *err)
{
    memset(c, 0, sizeof(*c));
    if (o->root_cert == NULL)
        return PKI_OK;
    if ((c->root_certs = certsdir_load_certs(o->root_cert, err)) == NULL ||
        (c->root_key = certsdir_load_key(o->root_key, o->skip_key_mode_check, err)) == NULL)
        return err ? err->code : PKI_ERR_INPUT;
    if (!pki_key_matches_cert(c->root_key, sk_X509_value(c->root_certs, 0)))
        return pki_err_set(err, PKI_ERR_POLICY, "--root-ca: %s does not match %s", o->root_key,
                           o->root_cert);
    c->issuer = sk_X509_value(c->root_certs, 0);
    c->issuer_key = c->root_key;
    if (o->inter_cert == NULL)
        return PKI_OK;
    if ((c->inter_certs = certsdir_load_certs(o->inter_cert, err)) == NULL ||
        (c->inter_key = certsdir_load_key(o->inter_key, o->skip_key_mode_check, err)) == NULL)
        return err ? err->code : PKI_ERR_INPUT;
    if (!pki_key_matches_cert(c->inter_key, sk_X509_value(c->inter_certs, 0)))
        return pki_err_set(err, PKI_ERR_POLICY, "--intermediate-ca: %s does not match %s",
                           o->inter_key, o->inter_cert);
    if (!pki_chain_issued_by(sk_X509_value(c->inter_certs, 0), c->issuer))
        return pki_err_set(err, PKI_ERR_POLICY, "--intermediate-ca %s was not issued by the "
                           "--root-ca certificate", o->inter_cert);
    c->issuer = sk_X509_value(c->inter_certs, 0);
    c->issuer_key = c->inter_key;
    return PKI_OK;
}

X509 *cl_issue(struct pki_cert_params *p, const X509_NAME *name, int lifetime_is_default,
               EVP_PKEY *key, struct pki_err *err)
{
    int capped;

    p->subject = name;
    p->subject_key = key;
    if (p->issuer == NULL)
        p->issuer_key = key;
    if (lifetime_is_default)
        p->lifetime = pki_cert_cap_lifetime(p->issuer, p->now, p->lifetime, &capped);
    return pki_cert_issue(p, err);
}

/* Issues one certificate with a new key; a default lifetime ends with its issuer. */
static int issue(struct pki_cert_params *p, const char *subject, int lifetime_is_default,
                 const struct pki_key_spec *spec, struct built *b, struct pki_err *err)
{
    X509_NAME *name = pki_subject_parse(subject, err);

    if (name == NULL)
        return err ? err->code : PKI_ERR_INPUT;
    b->key = pki_key_generate(spec, err);
    b->cert = b->key ? cl_issue(p, name, lifetime_is_default, b->key, err) : NULL;
    X509_NAME_free(name);
    if (b->cert == NULL)
        return err ? err->code : PKI_ERR_CRYPTO;
    return pki_key_to_pem(b->key, &b->key_pem, err);
}

static int build_ca(const struct pki_manifest *m, size_t i, struct built *cas,
                    const struct custom_issuer *c, time_t now, struct pki_err *err)
{
    const struct pki_manifest_ca *ca = &m->cas[i];
    struct pki_cert_params p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.now = now;
    p.lifetime = ca->lifetime;
    p.issuer = ca->parent >= 0 ? cas[ca->parent].cert : c->issuer;
    p.issuer_key = ca->parent >= 0 ? cas[ca->parent].key : c->issuer_key;
    /* An intermediate that signs no CA is limited to leaves (pathlen 0). */
    p.role = p.issuer != NULL && !ca->signs_ca ? PKI_ROLE_INTERMEDIATE : PKI_ROLE_CA;
    rc = issue(&p, ca->subject, ca->lifetime_is_default, &ca->key_spec, &cas[i], err);
    if (rc == PKI_OK)
        rc = pki_pem_append_cert(cas[i].cert, &cas[i].cert_pem, err);
    /* Under a custom issuer, the custom chain follows, so peers can reach its root. */
    if (rc == PKI_OK && ca->parent < 0 && c->inter_certs)
        rc = pki_pem_append_cert(sk_X509_value(c->inter_certs, 0), &cas[i].cert_pem, err);
    if (rc == PKI_OK && ca->parent < 0 && c->root_certs)
        rc = pki_pem_append_cert(sk_X509_value(c->root_certs, 0), &cas[i].cert_pem, err);
    if (rc != PKI_OK)
        pki_err_prefix(err, "CA %s", ca->name);
    return rc;
}

enum pki_cert_role cl_usage_role(enum pki_usage u)
{
    return u == PKI_USAGE_SERVER ? PKI_ROLE_SERVER
         : u == PKI_USAGE_CLIENT ? PKI_ROLE_CLIENT : PKI_ROLE_NODE;
}

/* The leaf, then every ancestor that is not a root: its CA, that CA's
 * parent, ..., and the custom intermediate. */
static int build_leaf(const struct pki_manifest *m, size_t i, struct built *cas,
                      struct built *leaf, const struct custom_issuer *c, time_t now,
                      struct pki_err *err)
{
    const struct pki_manifest_leaf *l = &m->leaves[i];
    struct pki_cert_params p;
    int rc, a;

    memset(&p, 0, sizeof(p));
    p.role = cl_usage_role(l->usage);
    p.now = now;
    p.lifetime = l->lifetime;
    p.hosts = l->sans;
    p.nhosts = l->nsans;
    p.issuer = cas[l->ca].cert;
    p.issuer_key = cas[l->ca].key;
    rc = issue(&p, l->subject, l->lifetime_is_default, &l->key_spec, leaf, err);
    if (rc == PKI_OK)
        rc = pki_pem_append_cert(leaf->cert, &leaf->cert_pem, err);
    for (a = l->ca; rc == PKI_OK && a >= 0; a = m->cas[a].parent)
        if (!pki_chain_is_root(cas[a].cert))
            rc = pki_pem_append_cert(cas[a].cert, &leaf->cert_pem, err);
    if (rc == PKI_OK && c->inter_certs && !pki_chain_is_root(sk_X509_value(c->inter_certs, 0)))
        rc = pki_pem_append_cert(sk_X509_value(c->inter_certs, 0), &leaf->cert_pem, err);
    if (rc != PKI_OK)
        pki_err_prefix(err, "leaf %s", l->name);
    return rc;
}

/* ---- writing -------------------------------------------------------------- */

struct dirs {
    char (*made)[PATH_MAX];
    size_t n, cap;
};

/* Creates the folders under dir that path needs (mode 0700), noting each. */
static int make_parents(const char *dir, const char *path, struct dirs *d, struct pki_err *err)
{
    char full[PATH_MAX];
    size_t i;

    for (i = 0; path[i] != '\0'; i++) {
        if (path[i] != '/')
            continue;
        if (snprintf(full, sizeof(full), "%s/%.*s", dir, (int)i, path) >= (int)sizeof(full))
            return pki_err_set(err, PKI_ERR_INPUT, "path %s/%s is too long", dir, path);
        if (mkdir(full, 0700) == 0) {
            if (d->n == d->cap) {
                void *p = realloc(d->made, (d->cap * 2 + 8) * sizeof(*d->made));

                if (p == NULL)
                    return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
                d->made = p;
                d->cap = d->cap * 2 + 8;
            }
            memcpy(d->made[d->n++], full, sizeof(full));
        } else if (errno != EEXIST) {
            return pki_err_set(err, PKI_ERR_IO, "cannot create folder %s: %s", full,
                               strerror(errno));
        }
    }
    return PKI_OK;
}

struct plan {
    struct fs_file *files;
    char (*paths)[PATH_MAX];
    size_t n;
};

static int plan_add(struct plan *pl, const char *dir, const char *rel, const struct pki_buf *data,
                    int secret, struct pki_err *err)
{
    if (fs_join(dir, rel, pl->paths[pl->n], PATH_MAX, err) != PKI_OK)
        return err ? err->code : PKI_ERR_INPUT;
    pl->files[pl->n] = (struct fs_file){pl->paths[pl->n], data, secret, 0};
    pl->n++;
    return PKI_OK;
}

static int plan_files(const struct cluster_init_opts *o, const struct pki_manifest *m,
                      struct built *cas, struct built *leaves, struct pki_buf *keys,
                      const struct pki_buf *manifest, struct plan *pl, struct pki_err *err)
{
    size_t i;
    int rc = PKI_OK;

    for (i = 0; rc == PKI_OK && i < m->ncas; i++) {
        rc = plan_add(pl, o->dir, m->cas[i].key, &cas[i].key_pem, 1, err);
        if (rc == PKI_OK)
            rc = plan_add(pl, o->dir, m->cas[i].cert, &cas[i].cert_pem, 0, err);
    }
    for (i = 0; rc == PKI_OK && i < m->nleaves; i++) {
        rc = plan_add(pl, o->dir, m->leaves[i].key, &leaves[i].key_pem, 1, err);
        if (rc == PKI_OK)
            rc = plan_add(pl, o->dir, m->leaves[i].cert, &leaves[i].cert_pem, 0, err);
    }
    for (i = 0; rc == PKI_OK && i < m->nkeys; i++)
        rc = plan_add(pl, o->dir, m->keys[i].key, &keys[i], 1, err);
    if (rc == PKI_OK)
        rc = plan_add(pl, o->dir, CLUSTER_MANIFEST_FILE, manifest, 0, err);
    return rc;
}

static int write_plan(const struct cluster_init_opts *o, const struct pki_manifest *m,
                      struct plan *pl, struct pki_err *err)
{
    struct dirs d = {NULL, 0, 0};
    size_t i;
    int rc = PKI_OK;

    for (i = 0; rc == PKI_OK && i < m->ncas; i++)
        if ((rc = make_parents(o->dir, m->cas[i].cert, &d, err)) == PKI_OK)
            rc = make_parents(o->dir, m->cas[i].key, &d, err);
    for (i = 0; rc == PKI_OK && i < m->nleaves; i++)
        if ((rc = make_parents(o->dir, m->leaves[i].cert, &d, err)) == PKI_OK)
            rc = make_parents(o->dir, m->leaves[i].key, &d, err);
    for (i = 0; rc == PKI_OK && i < m->nkeys; i++)
        rc = make_parents(o->dir, m->keys[i].key, &d, err);
    if (rc == PKI_OK)
        rc = fs_write_all(pl->files, pl->n, err);
    if (rc != PKI_OK) /* leave the folder as it was: remove what we made, newest first */
        while (d.n-- > 0)
            rmdir(d.made[d.n]);
    free(d.made);
    return rc;
}

/* ---- cluster init ----------------------------------------------------------- */

static int build_all(const struct cluster_init_opts *o, const struct pki_manifest *m,
                     struct built *cas, struct built *leaves, struct pki_buf *keys,
                     const struct custom_issuer *c, struct pki_err *err)
{
    EVP_PKEY *k;
    size_t i;
    int depth, rc = PKI_OK;

    for (depth = 0; rc == PKI_OK && depth <= PKI_MANIFEST_DEPTH_MAX; depth++)
        for (i = 0; rc == PKI_OK && i < m->ncas; i++)
            if (m->cas[i].depth == depth)
                rc = build_ca(m, i, cas, c, o->now, err);
    for (i = 0; rc == PKI_OK && i < m->nleaves; i++)
        rc = build_leaf(m, i, cas, &leaves[i], c, o->now, err);
    for (i = 0; rc == PKI_OK && i < m->nkeys; i++) {
        k = pki_key_generate(&m->keys[i].key_spec, err);
        rc = k ? pki_key_to_pem(k, &keys[i], err) : (err ? err->code : PKI_ERR_CRYPTO);
        EVP_PKEY_free(k);
    }
    return rc;
}

static void built_free(struct built *b, size_t n)
{
    size_t i;

    for (i = 0; b != NULL && i < n; i++) {
        X509_free(b[i].cert);
        EVP_PKEY_free(b[i].key);
        pki_buf_free(&b[i].cert_pem);
        pki_buf_free(&b[i].key_pem);
    }
    free(b);
}

void cluster_written_free(struct cluster_written *w)
{
    free(w->paths);
    w->paths = NULL;
    w->n = 0;
}

int cluster_init(const struct cluster_init_opts *o, struct cluster_written *w, struct pki_err *err)
{
    struct pki_manifest m;
    struct custom_issuer c;
    struct built *cas = NULL, *leaves = NULL;
    struct pki_buf *keys = NULL, manifest = {NULL, 0};
    struct plan pl = {NULL, NULL, 0};
    size_t i, nfiles;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = fs_check_dir(o->dir, "cluster dir", err);
    if (rc != PKI_OK)
        return rc;
    rc = pki_manifest_parse(o->manifest_json, o->manifest_len, &m, err);
    if (rc != PKI_OK)
        return rc;
    nfiles = 2 * (m.ncas + m.nleaves) + m.nkeys + 1;
    cas = calloc(m.ncas + 1, sizeof(*cas));
    leaves = calloc(m.nleaves + 1, sizeof(*leaves));
    keys = calloc(m.nkeys + 1, sizeof(*keys));
    pl.files = calloc(nfiles, sizeof(*pl.files));
    pl.paths = calloc(nfiles, sizeof(*pl.paths));
    if (!cas || !leaves || !keys || !pl.files || !pl.paths)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (rc == PKI_OK)
        rc = pki_buf_set(&manifest, o->manifest_json, o->manifest_len, err);
    /* Refuse existing files before the expensive part. */
    if (rc == PKI_OK && (rc = plan_files(o, &m, cas, leaves, keys, &manifest, &pl, err)) == PKI_OK)
        rc = fs_check_absent(pl.files, pl.n, err);
    if (rc == PKI_OK)
        rc = cl_load_custom(&o->custom, &c, err);
    if (rc == PKI_OK)
        rc = build_all(o, &m, cas, leaves, keys, &c, err);
    if (rc == PKI_OK)
        rc = write_plan(o, &m, &pl, err);
    if (rc == PKI_OK) { /* the caller takes the list of paths */
        w->paths = pl.paths;
        w->n = pl.n;
        pl.paths = NULL;
    }
    built_free(cas, m.ncas);
    built_free(leaves, m.nleaves);
    for (i = 0; keys != NULL && i < m.nkeys; i++)
        pki_buf_free(&keys[i]);
    free(keys);
    free(pl.files);
    free(pl.paths);
    pki_buf_free(&manifest);
    cl_custom_free(&c);
    pki_manifest_free(&m);
    return rc;
}

/* ---- cluster status ------------------------------------------------------------ */

int cl_read_manifest(const char *dir, struct pki_manifest *m, struct pki_buf *keep,
                     struct pki_err *err)
{
    struct pki_buf text = {NULL, 0};
    char path[PATH_MAX];
    int rc = fs_join(dir, CLUSTER_MANIFEST_FILE, path, sizeof(path), err);

    if (rc == PKI_OK)
        rc = fs_read_file(path, PKI_MANIFEST_MAX, &text, NULL, err);
    if (rc == PKI_OK) {
        rc = pki_manifest_parse((const char *)text.data, text.len, m, err);
        if (rc != PKI_OK)
            pki_err_prefix(err, "%s", path);
    } else if (err != NULL && err->code == PKI_ERR_NOTFOUND) {
        pki_err_set(err, PKI_ERR_NOTFOUND, "%s has no %s: is it a cluster made by "
                    "'pkictl cluster init'?", dir, CLUSTER_MANIFEST_FILE);
    }
    if (rc == PKI_OK && keep != NULL) {
        *keep = text;
        return rc;
    }
    pki_buf_free(&text);
    return rc;
}

/* The first certificate of DIR/rel, or NULL with row->verdict set. */
static STACK_OF(X509) *load_row_certs(const char *dir, const char *rel, struct cluster_row *row)
{
    struct pki_err err = {0, ""};
    STACK_OF(X509) *certs = NULL;
    char path[PATH_MAX];

    if (fs_join(dir, rel, path, sizeof(path), &err) == PKI_OK && !fs_exists(path)) {
        row->verdict = "missing";
        snprintf(row->detail, sizeof(row->detail), "%s does not exist", rel);
        return NULL;
    }
    certs = certsdir_load_certs(path, &err);
    if (certs == NULL) {
        row->verdict = "unreadable";
        snprintf(row->detail, sizeof(row->detail), "%s", err.msg);
    }
    return certs;
}

static int key_matches(const char *dir, const char *rel, X509 *cert, struct cluster_row *row)
{
    struct pki_err err = {0, ""};
    char path[PATH_MAX];
    EVP_PKEY *key = NULL;
    int ok;

    if (fs_join(dir, rel, path, sizeof(path), &err) == PKI_OK)
        key = certsdir_load_key(path, 0, &err);
    ok = key != NULL && pki_key_matches_cert(key, cert);
    if (!ok) {
        row->verdict = key ? "key mismatch" : "unreadable";
        snprintf(row->detail, sizeof(row->detail), "%s", key ? "the key does not match the "
                 "certificate" : err.msg);
    }
    EVP_PKEY_free(key);
    return ok;
}

/* The certificate's DNS/IP/URI/email SANs equal the declared ones (as sets). */
int cl_sans_match(X509 *cert, const struct pki_manifest_leaf *l)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    struct pki_host *have = calloc(PKI_NAME_HOSTS_MAX, sizeof(*have));
    size_t n = 0, i, j;
    int same;

    same = have != NULL &&
           (gens == NULL || pki_san_from_general_names(gens, have, PKI_NAME_HOSTS_MAX, &n,
                                                       NULL) == PKI_OK) &&
           n == l->nsans;
    for (i = 0; same && i < n; i++) {
        for (j = 0; j < l->nsans; j++)
            if (have[i].kind == l->sans[j].kind && strcmp(have[i].text, l->sans[j].text) == 0)
                break;
        same = j < l->nsans;
    }
    GENERAL_NAMES_free(gens);
    free(have);
    return same;
}

static void judge_time(X509 *cert, time_t now, int64_t within, struct cluster_row *row)
{
    char when[40];
    time_t nb, na;

    if (pki_cert_validity(cert, &nb, &na, NULL) != PKI_OK) {
        row->verdict = "unreadable";
        return;
    }
    row->has_expiry = 1;
    row->expires = na;
    pki_time_format(na, 0, when, sizeof(when));
    if (now >= na) {
        row->verdict = "expired";
        snprintf(row->detail, sizeof(row->detail), "expired on %s", when);
    } else if (now < nb) {
        row->verdict = "not yet valid";
    } else if ((int64_t)(na - now) <= within) {
        row->verdict = "renew soon";
        snprintf(row->detail, sizeof(row->detail), "expires on %s", when);
    }
}

/* Checks one certificate: file, key, signer, validity (and SANs for leaves). */
static void check_row(const char *dir, const char *cert_rel, const char *key_rel, X509 *signer,
                      const struct pki_manifest_leaf *leaf, time_t now, int64_t within,
                      struct cluster_row *row, X509 **keep)
{
    STACK_OF(X509) *certs = load_row_certs(dir, cert_rel, row);
    X509 *cert = certs ? sk_X509_value(certs, 0) : NULL;

    row->verdict = row->verdict ? row->verdict : "ok";
    if (cert == NULL)
        goto out;
    if (!key_matches(dir, key_rel, cert, row))
        goto out;
    if (signer != NULL ? !pki_chain_issued_by(cert, signer)
                       : !(pki_chain_is_root(cert) ||
                           (sk_X509_num(certs) > 1 &&
                            pki_chain_issued_by(cert, sk_X509_value(certs, 1))))) {
        row->verdict = "broken chain";
        snprintf(row->detail, sizeof(row->detail), "not signed by %s",
                 signer ? "its declared CA's certificate" : "itself or the next certificate");
        goto out;
    }
    judge_time(cert, now, within, row);
    if (leaf != NULL && strcmp(row->verdict, "ok") == 0 && !cl_sans_match(cert, leaf)) {
        row->verdict = "drift";
        snprintf(row->detail, sizeof(row->detail), "its SANs differ from the manifest's; "
                 "re-issue it");
    }
out:
    if (keep != NULL && cert != NULL && X509_up_ref(cert) == 1)
        *keep = cert;
    pki_certs_free(certs);
}

int cluster_status(const char *dir, time_t now, int64_t within, struct cluster_status *out,
                   struct pki_err *err)
{
    struct pki_manifest m;
    struct cluster_row *rows;
    X509 **ca_certs;
    size_t i, n;
    int rc = cl_read_manifest(dir, &m, NULL, err);

    if (rc != PKI_OK)
        return rc;
    n = m.ncas + m.nleaves;
    rows = calloc(n + 1, sizeof(*rows));
    ca_certs = calloc(m.ncas + 1, sizeof(*ca_certs));
    if (rows == NULL || ca_certs == NULL) {
        free(rows);
        free(ca_certs);
        pki_manifest_free(&m);
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    for (i = 0; i < m.ncas; i++) { /* parents come before children in depth order only */
        struct cluster_row *r = &rows[i];

        snprintf(r->name, sizeof(r->name), "%s", m.cas[i].name);
        snprintf(r->file, sizeof(r->file), "%s", m.cas[i].cert);
        r->is_ca = 1;
        if (m.cas[i].parent >= 0)
            snprintf(r->signer, sizeof(r->signer), "%s", m.cas[m.cas[i].parent].name);
    }
    for (int depth = 0; depth <= PKI_MANIFEST_DEPTH_MAX; depth++)
        for (i = 0; i < m.ncas; i++)
            if (m.cas[i].depth == depth)
                check_row(dir, m.cas[i].cert, m.cas[i].key,
                          m.cas[i].parent >= 0 ? ca_certs[m.cas[i].parent] : NULL, NULL, now,
                          within, &rows[i], &ca_certs[i]);
    for (i = 0; i < m.nleaves; i++) {
        struct cluster_row *r = &rows[m.ncas + i];

        snprintf(r->name, sizeof(r->name), "%s", m.leaves[i].name);
        snprintf(r->file, sizeof(r->file), "%s", m.leaves[i].cert);
        snprintf(r->signer, sizeof(r->signer), "%s", m.cas[m.leaves[i].ca].name);
        if (ca_certs[m.leaves[i].ca] == NULL) {
            r->verdict = "broken chain";
            snprintf(r->detail, sizeof(r->detail), "its CA %s cannot be read", r->signer);
            continue;
        }
        check_row(dir, m.leaves[i].cert, m.leaves[i].key, ca_certs[m.leaves[i].ca],
                  &m.leaves[i], now, within, r, NULL);
    }
    for (i = 0; i < m.ncas; i++)
        X509_free(ca_certs[i]);
    free(ca_certs);
    pki_manifest_free(&m);
    out->rows = rows;
    out->n = n;
    return PKI_OK;
}

void cluster_status_free(struct cluster_status *s)
{
    free(s->rows);
    s->rows = NULL;
    s->n = 0;
}
