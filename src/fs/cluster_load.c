/* cluster_load.c - a cluster folder in memory, its state file, leaf chains
 * and reports: what the commands that change a cluster share. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certsdir.h"
#include "chain.h"
#include "cluster_int.h"
#include "fsio.h"
#include "pem.h"
#include "subject.h"

#define STATE_MAX (4 * 1024 * 1024)

int cl_report_add(struct cluster_report *r, int kind, const char *fmt, ...)
{
    va_list ap;

    if (r->n == r->cap) {
        size_t cap = r->cap * 2 + 16;
        void *p = realloc(r->lines, cap * sizeof(*r->lines));

        if (p == NULL)
            return PKI_ERR_INTERNAL;
        r->lines = p;
        r->cap = cap;
    }
    r->lines[r->n].kind = kind;
    va_start(ap, fmt);
    vsnprintf(r->lines[r->n].text, sizeof(r->lines[r->n].text), fmt, ap);
    va_end(ap);
    r->n++;
    return PKI_OK;
}

void cluster_report_free(struct cluster_report *r)
{
    free(r->lines);
    memset(r, 0, sizeof(*r));
}

int cl_cert_sha256(X509 *cert, unsigned char out[32])
{
    unsigned char *der = NULL;
    unsigned int len = 32;
    int n = i2d_X509(cert, &der), rc;

    if (n <= 0)
        return PKI_ERR_CRYPTO;
    rc = EVP_Digest(der, (size_t)n, out, &len, EVP_sha256(), NULL) == 1 ? PKI_OK
                                                                        : PKI_ERR_CRYPTO;
    OPENSSL_free(der);
    return rc;
}

void cl_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int unhex(const char *s, unsigned char *out, size_t len)
{
    size_t i;
    unsigned v;

    if (strlen(s) != 2 * len)
        return -1;
    for (i = 0; i < len; i++) {
        if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
            !strchr("0123456789abcdef", s[2 * i]) || !strchr("0123456789abcdef", s[2 * i + 1]))
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* ---- the state file -------------------------------------------------------- */

static int manifest_ca_index(const struct pki_manifest *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->ncas; i++)
        if (strcmp(m->cas[i].name, name) == 0)
            return (int)i;
    return -1;
}

void cl_state_free(struct cl_state *s, size_t ncas)
{
    size_t i;

    for (i = 0; s->cross != NULL && i < ncas; i++)
        X509_free(s->cross[i]);
    free(s->cross);
    free(s->retired);
    memset(s, 0, sizeof(*s));
}

static int state_parse(json_t *root, const struct pki_manifest *m, struct cl_state *s,
                       struct pki_err *err)
{
    json_t *cross, *retired, *v;
    const char *k;
    size_t i;

    if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != 1)
        return pki_err_set(err, PKI_ERR_INPUT, "not a version 1 state file");
    cross = json_object_get(root, "cross");
    retired = json_object_get(root, "retired");
    if ((cross != NULL && !json_is_object(cross)) || (retired != NULL && !json_is_array(retired)))
        return pki_err_set(err, PKI_ERR_INPUT, "\"cross\" must be an object and \"retired\" "
                           "an array");
    json_object_foreach(cross, k, v) {
        int ca = manifest_ca_index(m, k);
        STACK_OF(X509) *certs;

        if (ca < 0 || !json_is_string(v))
            return pki_err_set(err, PKI_ERR_INPUT, "cross.%.64s: no such CA, or not a PEM "
                               "string", k);
        certs = pki_pem_read_certs((const unsigned char *)json_string_value(v),
                                   json_string_length(v), err);
        if (certs == NULL) {
            pki_err_prefix(err, "cross.%s", k);
            return err ? err->code : PKI_ERR_INPUT;
        }
        X509_free(s->cross[ca]);
        s->cross[ca] = sk_X509_shift(certs);
        pki_certs_free(certs);
    }
    s->nretired = json_array_size(retired);
    s->retired = calloc(s->nretired + 1, sizeof(*s->retired));
    if (s->retired == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    json_array_foreach(retired, i, v) {
        struct cl_retired *r = &s->retired[i];
        const char *ca = json_string_value(json_object_get(v, "ca"));
        const char *sha = json_string_value(json_object_get(v, "sha256"));
        json_t *at = json_object_get(v, "rotated_at"), *until = json_object_get(v, "valid_until");

        if (ca == NULL || sha == NULL || !json_is_integer(at) || !json_is_integer(until) ||
            strlen(ca) > PKI_MANIFEST_NAME_MAX || unhex(sha, r->sha256, 32) != 0)
            return pki_err_set(err, PKI_ERR_INPUT, "retired[%zu] needs ca, sha256 (64 hex "
                               "digits), rotated_at and valid_until (seconds)", i);
        snprintf(r->ca, sizeof(r->ca), "%s", ca);
        r->rotated_at = json_integer_value(at);
        r->valid_until = json_integer_value(until);
    }
    return PKI_OK;
}

int cl_state_parse_text(const char *text, size_t len, const struct pki_manifest *m,
                        struct cl_state *s, struct pki_err *err)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    memset(s, 0, sizeof(*s));
    if ((s->cross = calloc(m->ncas + 1, sizeof(*s->cross))) == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (text == NULL)
        return PKI_OK;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "invalid JSON at line %d: %s", jerr.line,
                           jerr.text);
    rc = state_parse(root, m, s, err);
    json_decref(root);
    return rc;
}

int cl_state_read(const char *dir, const struct pki_manifest *m, struct cl_state *s,
                  struct pki_err *err)
{
    struct pki_buf text = {NULL, 0};
    char path[PATH_MAX];
    int rc;

    memset(s, 0, sizeof(*s));
    rc = fs_join(dir, CLUSTER_STATE_FILE, path, sizeof(path), err);
    if (rc == PKI_OK && !fs_exists(path))
        return cl_state_parse_text(NULL, 0, m, s, err);
    if (rc == PKI_OK)
        rc = fs_read_file(path, STATE_MAX, &text, NULL, err);
    if (rc == PKI_OK) {
        /* an empty file is invalid JSON, not a missing one */
        rc = cl_state_parse_text(text.data ? (const char *)text.data : "", text.len, m, s, err);
        if (rc != PKI_OK)
            pki_err_prefix(err, "%s", path);
    }
    pki_buf_free(&text);
    return rc;
}

int cl_state_encode(const struct cl_state *s, const struct pki_manifest *m, struct pki_buf *out,
                    struct pki_err *err)
{
    json_t *root = json_object(), *cross = json_object(), *retired = json_array();
    char hex[65];
    size_t i;
    int rc = PKI_OK;

    for (i = 0; rc == PKI_OK && i < m->ncas; i++) {
        struct pki_buf pem = {NULL, 0};

        if (s->cross[i] == NULL)
            continue;
        rc = pki_pem_append_cert(s->cross[i], &pem, err);
        if (rc == PKI_OK)
            json_object_set_new(cross, m->cas[i].name,
                                json_stringn((const char *)pem.data, pem.len));
        pki_buf_free(&pem);
    }
    for (i = 0; i < s->nretired; i++) {
        json_t *o = json_object();

        cl_hex(s->retired[i].sha256, 32, hex);
        json_object_set_new(o, "ca", json_string(s->retired[i].ca));
        json_object_set_new(o, "sha256", json_string(hex));
        json_object_set_new(o, "rotated_at", json_integer(s->retired[i].rotated_at));
        json_object_set_new(o, "valid_until", json_integer(s->retired[i].valid_until));
        json_array_append_new(retired, o);
    }
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "cross", cross);
    json_object_set_new(root, "retired", retired);
    if (rc == PKI_OK)
        rc = cl_json_text(root, out, err);
    json_decref(root);
    return rc;
}

int cl_json_text(json_t *root, struct pki_buf *out, struct pki_err *err)
{
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc;

    if (text == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = pki_buf_set(out, text, strlen(text), err);
    if (rc == PKI_OK)
        rc = pki_buf_append(out, "\n", 1, err);
    free(text);
    return rc;
}

/* Reads every key of a key list file; a missing file is no keys. */
int cl_read_keys(const char *path, int skip_mode, EVP_PKEY **keys, size_t *n,
                     struct pki_err *err)
{
    struct pki_buf text = {NULL, 0};
    mode_t mode = 0;
    int rc;

    *n = 0;
    if (!fs_exists(path))
        return PKI_ERR_NOTFOUND;
    rc = fs_read_file(path, CLUSTER_KEYS_FILE_MAX, &text, &mode, err);
    if (rc == PKI_OK && !skip_mode)
        rc = fs_check_key_mode(path, mode, err);
    if (rc == PKI_OK)
        rc = pki_keys_from_pem(text.data, text.len, keys, CLUSTER_KEYS_PER_FILE_MAX, n, err);
    if (rc != PKI_OK)
        pki_err_prefix(err, "%s", path);
    pki_buf_free(&text);
    return rc;
}

/* ---- loading the folder --------------------------------------------------------- */

static void load_file(const char *dir, const char *cert_rel, const char *key_rel, int skip_mode,
                      struct cl_file *f)
{
    struct pki_err err = {0, ""};
    char path[PATH_MAX];

    if (fs_join(dir, cert_rel, path, sizeof(path), &err) == PKI_OK) {
        f->cert_missing = !fs_exists(path);
        if (!f->cert_missing)
            f->certs = certsdir_load_certs(path, &err);
    }
    if (f->certs == NULL)
        snprintf(f->cert_err, sizeof(f->cert_err), "%s", f->cert_missing ? "missing" : err.msg);
    pki_err_clear(&err);
    if (fs_join(dir, key_rel, path, sizeof(path), &err) == PKI_OK) {
        f->key_missing = !fs_exists(path);
        if (!f->key_missing)
            f->key = certsdir_load_key(path, skip_mode, &err);
    }
    if (f->key == NULL)
        snprintf(f->key_err, sizeof(f->key_err), "%s", f->key_missing ? "missing" : err.msg);
}

static void free_file(struct cl_file *f)
{
    pki_certs_free(f->certs);
    EVP_PKEY_free(f->key);
}

int cl_open(const char *dir, int skip_key_mode_check, struct cluster *c, struct pki_err *err)
{
    size_t i;
    int rc;

    memset(c, 0, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "%s", dir);
    rc = cl_read_manifest(dir, &c->m, &c->manifest_text, err);
    if (rc != PKI_OK)
        return rc;
    c->cas = calloc(c->m.ncas + 1, sizeof(*c->cas));
    c->leaves = calloc(c->m.nleaves + 1, sizeof(*c->leaves));
    if (c->cas == NULL || c->leaves == NULL) {
        cl_close(c);
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    rc = cl_state_read(dir, &c->m, &c->state, err);
    if (rc != PKI_OK) {
        cl_close(c);
        return rc;
    }
    for (i = 0; i < c->m.ncas; i++)
        load_file(dir, c->m.cas[i].cert, c->m.cas[i].key, skip_key_mode_check, &c->cas[i]);
    for (i = 0; i < c->m.nleaves; i++)
        load_file(dir, c->m.leaves[i].cert, c->m.leaves[i].key, skip_key_mode_check,
                  &c->leaves[i]);
    return PKI_OK;
}

void cl_close(struct cluster *c)
{
    size_t i;

    for (i = 0; c->cas != NULL && i < c->m.ncas; i++)
        free_file(&c->cas[i]);
    for (i = 0; c->leaves != NULL && i < c->m.nleaves; i++)
        free_file(&c->leaves[i]);
    free(c->cas);
    free(c->leaves);
    cl_state_free(&c->state, c->m.ncas);
    pki_manifest_free(&c->m);
    pki_buf_free(&c->manifest_text);
    memset(c, 0, sizeof(*c));
}

/* ---- chains ------------------------------------------------------------------------ */

int cl_leaf_pem(const struct pki_manifest *m, size_t i, X509 *leaf, X509 *const *ca_cert,
                STACK_OF(X509) *const *ca_file, X509 *const *cross, struct pki_buf *out,
                struct pki_err *err)
{
    int a, top = -1, rc = pki_pem_append_cert(leaf, out, err);
    int k;

    for (a = m->leaves[i].ca; rc == PKI_OK && a >= 0; a = m->cas[a].parent) {
        top = a;
        if (!pki_chain_is_root(ca_cert[a]))
            rc = pki_pem_append_cert(ca_cert[a], out, err);
    }
    for (k = 1; rc == PKI_OK && ca_file[top] != NULL && k < sk_X509_num(ca_file[top]); k++) {
        X509 *x = sk_X509_value(ca_file[top], k);

        if (pki_cert_is_ca(x) && !pki_chain_is_root(x) && X509_cmp(x, ca_cert[top]) != 0 &&
            !(cross && cross[top] && X509_cmp(x, cross[top]) == 0))
            rc = pki_pem_append_cert(x, out, err);
    }
    if (rc == PKI_OK && cross != NULL && cross[top] != NULL)
        rc = pki_pem_append_cert(cross[top], out, err);
    return rc;
}

X509 *cl_issue_leaf(const struct pki_manifest *m, size_t i, X509 *ca_cert, EVP_PKEY *ca_key,
                    EVP_PKEY *key, time_t now, struct pki_err *err)
{
    const struct pki_manifest_leaf *l = &m->leaves[i];
    X509_NAME *name = pki_subject_parse(l->subject, err);
    struct pki_cert_params p;
    X509 *cert;

    if (name == NULL)
        return NULL;
    memset(&p, 0, sizeof(p));
    p.role = cl_usage_role(l->usage);
    p.now = now;
    p.lifetime = l->lifetime;
    p.hosts = l->sans;
    p.nhosts = l->nsans;
    p.issuer = ca_cert;
    p.issuer_key = ca_key;
    /* a re-issued leaf ends with its CA at the latest, whatever its lifetime */
    cert = cl_issue(&p, name, 1, key, err);
    X509_NAME_free(name);
    if (cert == NULL)
        pki_err_prefix(err, "leaf %s", l->name);
    return cert;
}

/* ---- writes ---------------------------------------------------------------------- */

int cl_writes_add(struct cl_writes *ws, const char *rel, struct pki_buf *data, int secret,
                  struct pki_err *err)
{
    if (ws->n == ws->cap) {
        size_t cap = ws->cap * 2 + 16;
        void *p = realloc(ws->w, cap * sizeof(*ws->w));

        if (p == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        ws->w = p;
        ws->cap = cap;
    }
    snprintf(ws->w[ws->n].rel, sizeof(ws->w[ws->n].rel), "%s", rel);
    ws->w[ws->n].data = *data;
    ws->w[ws->n].secret = secret;
    ws->n++;
    data->data = NULL;
    data->len = 0;
    return PKI_OK;
}

void cl_writes_free(struct cl_writes *ws)
{
    size_t i;

    for (i = 0; i < ws->n; i++)
        pki_buf_free(&ws->w[i].data);
    free(ws->w);
    memset(ws, 0, sizeof(*ws));
}

int cl_writes_apply(struct fs_txn *t, const struct cl_writes *ws, struct pki_err *err)
{
    size_t i;
    int rc;

    fs_txn_step(t, "built", 0, 0);
    rc = fs_txn_shadow(t, err);
    for (i = 0; rc == PKI_OK && i < ws->n; i++)
        rc = fs_txn_write(t, ws->w[i].rel, &ws->w[i].data, ws->w[i].secret, err);
    if (rc == PKI_OK)
        rc = fs_txn_commit(t, err);
    return rc;
}

/* ---- a command's work ------------------------------------------------------------ */

/* What a command is working with: the lock, the folder in memory, what to write. */

int cl_work_begin(const struct cluster_change_opts *o, struct cl_work *w, struct pki_err *err)
{
    int rc;

    memset(w, 0, sizeof(*w));
    rc = fs_txn_begin(&w->t, o->dir, o->step, o->step_ctx, err);
    if (rc == PKI_OK && (rc = cl_open(w->t.dir, o->skip_key_mode_check, &w->c, err)) != PKI_OK)
        fs_txn_end(&w->t);
    return rc;
}

void cl_work_end(struct cl_work *w)
{
    cl_writes_free(&w->ws);
    cl_close(&w->c);
    fs_txn_end(&w->t);
}


int cl_refuse(const struct cl_work *w, const char *what, struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_POLICY, "cannot %s: %d problem%s (listed above); nothing "
                       "was changed", what, w->problems, w->problems == 1 ? "" : "s");
}

X509 *cl_first_cert(const struct cl_file *f)
{
    return f->certs ? sk_X509_value(f->certs, 0) : NULL;
}

/* The certs of every CA's file and its first certificate, for cl_leaf_pem. */

int cl_view_current(const struct cluster *c, struct cl_view *v, struct pki_err *err)
{
    size_t i;

    if (cl_view_alloc(v, c->m.ncas, err) != PKI_OK)
        return err ? err->code : PKI_ERR_INTERNAL;
    for (i = 0; i < c->m.ncas; i++) {
        v->file[i] = c->cas[i].certs;
        v->cert[i] = cl_first_cert(&c->cas[i]);
        v->key[i] = c->cas[i].key;
        v->cross[i] = c->state.cross[i];
    }
    return PKI_OK;
}

int cl_view_alloc(struct cl_view *v, size_t n, struct pki_err *err)
{
    v->cert = calloc(n + 1, sizeof(*v->cert));
    v->file = calloc(n + 1, sizeof(*v->file));
    v->key = calloc(n + 1, sizeof(*v->key));
    v->cross = calloc(n + 1, sizeof(*v->cross));
    if (v->cert == NULL || v->file == NULL || v->key == NULL || v->cross == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    return PKI_OK;
}

void cl_view_free(struct cl_view *v)
{
    free(v->cert);
    free(v->file);
    free(v->key);
    free(v->cross);
    memset(v, 0, sizeof(*v));
}

/* Issues leaf i (with key, or a new key if key is NULL) and adds its files. */
int cl_add_leaf(struct cl_work *w, size_t i, EVP_PKEY *key, const struct cl_view *v, time_t now,
                    struct cluster_report *r, const char *verb, const char *reason,
                    struct pki_err *err)
{
    const struct pki_manifest_leaf *l = &w->c.m.leaves[i];
    const struct pki_manifest_ca *ca = &w->c.m.cas[l->ca];
    struct pki_buf pem = {NULL, 0}, key_pem = {NULL, 0};
    EVP_PKEY *fresh = NULL;
    X509 *cert = NULL;
    time_t nb, na;
    char when[40];
    int rc = PKI_OK;

    if (key == NULL && (key = fresh = pki_key_generate(&l->key_spec, err)) == NULL)
        return err ? err->code : PKI_ERR_CRYPTO;
    cert = cl_issue_leaf(&w->c.m, i, v->cert[l->ca], v->key[l->ca], key, now, err);
    if (cert == NULL)
        rc = err ? err->code : PKI_ERR_CRYPTO;
    if (rc == PKI_OK)
        rc = cl_leaf_pem(&w->c.m, i, cert, v->cert, v->file, v->cross, &pem, err);
    if (rc == PKI_OK && fresh != NULL && (rc = pki_key_to_pem(fresh, &key_pem, err)) == PKI_OK)
        rc = cl_writes_add(&w->ws, l->key, &key_pem, 1, err);
    if (rc == PKI_OK)
        rc = cl_writes_add(&w->ws, l->cert, &pem, 0, err);
    if (rc == PKI_OK && pki_cert_validity(cert, &nb, &na, err) == PKI_OK) {
        pki_time_format(na, 0, when, sizeof(when));
        rc = cl_report_add(r, 0, "%s %s%s%s%s until %s%s, signed by %s", verb, l->name,
                           reason ? " (" : "", reason ? reason : "", reason ? ")" : "", when,
                           fresh ? ", new key" : "", ca->name);
    }
    pki_buf_free(&pem);
    pki_buf_free(&key_pem);
    X509_free(cert);
    EVP_PKEY_free(fresh);
    return rc;
}

