/* ca_stage.c - ca stage: new CA keys and certificates, cross-signed,
 * written to a staging folder with a trust bundle (docs/rotation.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "ca_int.h"
#include "chain.h"
#include "cluster_int.h"
#include "fsio.h"
#include "pem.h"
#include "subject.h"

/* The new CA's subject: the declared one with "@UNIXTIME" on its last common
 * name (a CN "NAME@UNIXTIME" if it has none), unlike any name in avoid. */
static X509_NAME *new_subject(const struct pki_manifest_ca *ca, time_t now, STACK_OF(X509) *avoid,
                              struct pki_err *err)
{
    X509_NAME *name = NULL;
    char base[CN_MAX * 4 + 1], value[CN_MAX * 4 + 1], suffix[40];
    int attempt, k;

    for (attempt = 0; attempt < 100; attempt++) {
        int last = -1, loc = -1, clash = 0;
        size_t keep;

        X509_NAME_free(name);
        if ((name = pki_subject_parse(ca->subject, err)) == NULL)
            return NULL;
        while ((loc = X509_NAME_get_index_by_NID(name, NID_commonName, loc)) >= 0)
            last = loc;
        snprintf(base, sizeof(base), "%s", ca->name);
        if (last >= 0) {
            unsigned char *utf8 = NULL;
            int len = ASN1_STRING_to_UTF8(&utf8,
                                          X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));

            if (len >= 0)
                snprintf(base, sizeof(base), "%.*s", len, (const char *)utf8);
            OPENSSL_free(utf8);
            X509_NAME_ENTRY_free(X509_NAME_delete_entry(name, last));
        }
        snprintf(suffix, sizeof(suffix), attempt ? "@%lld.%d" : "@%lld", (long long)now, attempt);
        /* at most 64 characters: shorten the base on a UTF-8 boundary */
        keep = strlen(base);
        while (keep > 0 && (keep + strlen(suffix) > CN_MAX ||
                            ((unsigned char)base[keep] & 0xC0) == 0x80))
            keep--;
        snprintf(value, sizeof(value), "%.*s%s", (int)keep, base, suffix);
        if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                       (const unsigned char *)value, -1, last, 0) != 1) {
            X509_NAME_free(name);
            pki_err_set_ssl(err, PKI_ERR_INTERNAL, "cannot name the new CA %s", ca->name);
            return NULL;
        }
        for (k = 0; avoid != NULL && k < sk_X509_num(avoid); k++)
            clash |= X509_NAME_cmp(X509_get_subject_name(sk_X509_value(avoid, k)), name) == 0;
        if (!clash)
            return name;
    }
    X509_NAME_free(name);
    pki_err_set(err, PKI_ERR_INTERNAL, "cannot find a fresh name for the new CA %s", ca->name);
    return NULL;
}

void ca_staged_free(struct cl_view *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s->cert)
            X509_free(s->cert[i]);
        if (s->cross)
            X509_free(s->cross[i]);
        if (s->key)
            EVP_PKEY_free(s->key[i]);
        if (s->file)
            pki_certs_free(s->file[i]);
    }
    cl_view_free(s);
}

/* Makes CA i's new key, certificate, file and cross-signature. */
static int stage_ca(struct cl_work *w, size_t i, const struct custom_issuer *cu, struct cl_view *s,
                    time_t now, struct cluster_report *r, struct pki_err *err)
{
    const struct pki_manifest_ca *ca = &w->c.m.cas[i];
    struct cl_file *f = &w->c.cas[i];
    X509 *cur = cl_first_cert(f);
    X509_NAME *name = NULL;
    struct pki_cert_params p;
    int top = ca->parent < 0, cur_root = cur && pki_chain_is_root(cur), k, rc = PKI_OK;

    if (cur == NULL) {
        PROBLEM(w, r, "CA %s: %s: %s (stage starts from the current CAs; 'pkictl cluster "
                "recover' re-issues a lost CA certificate)", ca->name, ca->cert, f->cert_err);
        return PKI_OK;
    }
    if (top && !cur_root && cu->issuer == NULL) {
        PROBLEM(w, r, "CA %s is signed by a custom root: pass --root-ca=CERT,KEY (and "
                "--intermediate-ca) to sign its successor", ca->name);
        return PKI_OK;
    }
    if (!top && s->cert[ca->parent] == NULL)
        return PKI_OK; /* its parent's problem is already listed */
    if ((s->key[i] = pki_key_generate(&ca->key_spec, err)) == NULL ||
        (name = new_subject(ca, now, f->certs, err)) == NULL)
        return err ? err->code : PKI_ERR_CRYPTO;
    memset(&p, 0, sizeof(p));
    p.now = now;
    p.lifetime = ca->lifetime;
    p.issuer = top ? cu->issuer : s->cert[ca->parent];
    p.issuer_key = top ? cu->issuer_key : s->key[ca->parent];
    p.role = p.issuer != NULL && !ca->signs_ca ? PKI_ROLE_INTERMEDIATE : PKI_ROLE_CA;
    s->cert[i] = cl_issue(&p, name, ca->lifetime_is_default, s->key[i], err);
    if (s->cert[i] == NULL) {
        X509_NAME_free(name);
        pki_err_prefix(err, "new CA %s", ca->name);
        return err ? err->code : PKI_ERR_CRYPTO;
    }
    if ((s->file[i] = sk_X509_new_null()) == NULL || ca_push_up(s->file[i], s->cert[i]) != PKI_OK)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (rc == PKI_OK && top && cu->inter_certs)
        rc = ca_push_up(s->file[i], sk_X509_value(cu->inter_certs, 0));
    if (rc == PKI_OK && top && cu->root_certs)
        rc = ca_push_up(s->file[i], sk_X509_value(cu->root_certs, 0));
    /* A root's file is a trust bundle: the CAs it holds now stay. */
    for (k = 0; rc == PKI_OK && top && cur_root && k < sk_X509_num(f->certs); k++)
        if (!pki_certs_contain(s->file[i], sk_X509_value(f->certs, k)))
            rc = ca_push_up(s->file[i], sk_X509_value(f->certs, k));
    if (rc == PKI_OK && sk_X509_num(s->file[i]) > PKI_PEM_CERTS_MAX)
        PROBLEM(w, r, "CA %s: %s would hold more than %d certificates: run 'pkictl ca prune' "
                "first", ca->name, ca->cert, PKI_PEM_CERTS_MAX);
    if (rc == PKI_OK && top && cur_root) {
        if (f->key == NULL || !pki_key_matches_cert(f->key, cur)) {
            cl_report_add(r, 1, "CA %s: no cross-signature: the current key %s %s; 'pkictl ca "
                          "rotate' will need --force", ca->name, ca->key,
                          f->key ? "does not match" : f->key_err);
        } else if (!ca_valid_at(cur, now)) {
            cl_report_add(r, 1, "CA %s: no cross-signature: the current CA is not valid now; "
                          "'pkictl ca rotate' will need --force", ca->name);
        } else {
            memset(&p, 0, sizeof(p));
            p.now = now;
            p.lifetime = ca->lifetime;
            p.issuer = cur;
            p.issuer_key = f->key;
            p.role = PKI_ROLE_CA;
            s->cross[i] = cl_issue(&p, name, 1, s->key[i], err);
            if (s->cross[i] == NULL) {
                pki_err_prefix(err, "cross-signing CA %s", ca->name);
                rc = err ? err->code : PKI_ERR_CRYPTO;
            }
        }
    }
    X509_NAME_free(name);
    return rc;
}

/* Every self-signed certificate of the top CAs' files, new ones first. */
int ca_bundle_pem(const struct cluster *c, const struct cl_view *s, struct pki_buf *out,
                  struct pki_err *err)
{
    STACK_OF(X509) *all = sk_X509_new_null();
    size_t i;
    int k, pass, rc = all ? PKI_OK : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");

    for (pass = 0; pass < 2; pass++)
        for (i = 0; rc == PKI_OK && i < c->m.ncas; i++) {
            STACK_OF(X509) *f = pass == 0 ? s->file[i] : c->cas[i].certs;

            if (c->m.cas[i].parent >= 0 || f == NULL)
                continue;
            /* new roots first (the first certificate of each new file), then the rest */
            for (k = 0; rc == PKI_OK && k < (pass == 0 ? 1 : sk_X509_num(f)); k++) {
                X509 *x = sk_X509_value(f, k);

                if (pki_chain_is_root(x) && !pki_certs_contain(all, x))
                    rc = ca_push_up(all, x);
            }
        }
    if (rc == PKI_OK)
        rc = ca_stack_pem(all, out, err);
    pki_certs_free(all);
    return rc;
}

int ca_stage_json(const struct cluster *c, const struct cl_view *s, time_t now,
                  const char *token, struct pki_buf *out, struct pki_err *err)
{
    json_t *root = json_object(), *cas = json_array(), *keys = json_array();
    char hex[65], cross[PKI_MANIFEST_NAME_MAX + 16];
    size_t i;
    int rc = PKI_OK;

    ca_sha256_hex(c->manifest_text.data, c->manifest_text.len, hex);
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "staged_at", json_integer((json_int_t)now));
    json_object_set_new(root, "manifest_sha256", json_string(hex));
    for (i = 0; rc == PKI_OK && i < c->m.ncas; i++) {
        json_t *o = json_object();

        rc = ca_cert_hex(cl_first_cert(&c->cas[i]), hex);
        snprintf(cross, sizeof(cross), "cross/%s.crt", c->m.cas[i].name);
        json_object_set_new(o, "name", json_string(c->m.cas[i].name));
        json_object_set_new(o, "current_sha256", json_string(hex));
        json_object_set_new(o, "cert", json_string(c->m.cas[i].cert));
        json_object_set_new(o, "key", json_string(c->m.cas[i].key));
        json_object_set_new(o, "cross", s->cross[i] ? json_string(cross) : json_null());
        json_array_append_new(cas, o);
    }
    for (i = 0; i < c->m.nkeys; i++) {
        json_t *o = json_object();

        json_object_set_new(o, "name", json_string(c->m.keys[i].name));
        json_object_set_new(o, "key", json_string(c->m.keys[i].key));
        json_array_append_new(keys, o);
    }
    json_object_set_new(root, "cas", cas);
    json_object_set_new(root, "keys", keys);
    json_object_set_new(root, "trust_bundle", json_string(STAGE_BUNDLE));
    json_object_set_new(root, "token", json_string(token));
    if (rc == PKI_OK)
        rc = cl_json_text(root, out, err);
    json_decref(root);
    return rc;
}

/* Adds a plain key's new file: a new key first, then the keys it holds now. */
static int stage_key(struct cl_work *w, size_t i, int skip_mode, struct cl_writes *ws,
                     struct cluster_report *r, struct pki_err *err)
{
    const struct pki_manifest_key *k = &w->c.m.keys[i];
    EVP_PKEY *keys[CLUSTER_KEYS_PER_FILE_MAX + 1];
    struct pki_buf out = {NULL, 0}, one = {NULL, 0};
    char path[PATH_MAX];
    size_t n = 0, j;
    int rc = fs_join(w->c.dir, k->key, path, sizeof(path), err);

    memset(keys, 0, sizeof(keys));
    if (rc == PKI_OK) {
        rc = cl_read_keys(path, skip_mode, keys + 1, &n, err);
        if (rc == PKI_ERR_NOTFOUND)
            rc = PKI_OK;
    }
    if (rc == PKI_OK && n + 1 > CLUSTER_KEYS_PER_FILE_MAX)
        rc = pki_err_set(err, PKI_ERR_POLICY, "%s holds %zu keys already: drop old ones with "
                         "'pkictl cluster rotate-key --keep=N' first", path, n);
    if (rc == PKI_OK && (keys[0] = pki_key_generate(&k->key_spec, err)) == NULL)
        rc = err ? err->code : PKI_ERR_CRYPTO;
    for (j = 0; rc == PKI_OK && j <= n; j++) {
        if ((rc = pki_key_to_pem(keys[j], &one, err)) == PKI_OK)
            rc = pki_buf_append(&out, one.data, one.len, err);
        pki_buf_free(&one);
    }
    if (rc == PKI_OK)
        rc = cl_writes_add(ws, k->key, &out, 1, err);
    if (rc == PKI_OK)
        cl_report_add(r, 0, "staged key %s: a new key first, then the %zu current key%s", k->name,
                      n, n == 1 ? "" : "s");
    ca_free_keys(keys, n + 1);
    pki_buf_free(&out);
    return rc;
}

/* Writes ws into the new folder out as one change; removes out on failure. */
static int write_new_folder(const char *out, const struct cl_writes *ws, struct cluster_report *r,
                            struct pki_err *err)
{
    char path[PATH_MAX];
    size_t i;
    int rc = PKI_OK;

    if (mkdir(out, 0700) != 0)
        return pki_err_set(err, fs_exists(out) ? PKI_ERR_EXISTS : PKI_ERR_IO,
                           "cannot create %s: %s", out, fs_exists(out) ? "it exists (ca stage "
                           "writes a new folder)" : "no such parent folder or no permission");
    for (i = 0; rc == PKI_OK && i < ws->n; i++) {
        struct fs_file f;

        rc = fs_join(out, ws->w[i].rel, path, sizeof(path), err);
        if (rc == PKI_OK)
            rc = fs_make_dirs(out, ws->w[i].rel, err);
        f = (struct fs_file){path, &ws->w[i].data, ws->w[i].secret, 0};
        if (rc == PKI_OK)
            rc = fs_write_atomic(&f, err);
        if (rc == PKI_OK)
            cl_report_add(r, 0, "wrote %s", path);
    }
    if (rc != PKI_OK) {
        struct pki_err ignore = {0, ""};

        if (fs_remove_tree(out, &ignore) != PKI_OK) {
            /* the error below is what matters */
        }
    }
    return rc;
}

int ca_stage(const struct cluster_change_opts *o, const char *out,
             const struct cluster_custom *custom, struct cluster_report *r,
             char token[CA_TOKEN_MAX], struct pki_err *err)
{
    struct cl_work w;
    struct custom_issuer cu;
    struct cl_view s = {NULL, NULL, NULL, NULL};
    struct cl_writes ws = {NULL, 0, 0};
    struct pki_buf bundle = {NULL, 0}, json = {NULL, 0}, pem = {NULL, 0};
    char hex[65], rel[PKI_MANIFEST_NAME_MAX + 16];
    size_t i;
    int depth, rc;

    memset(&cu, 0, sizeof(cu));
    if (fs_exists(out))
        return pki_err_set(err, PKI_ERR_EXISTS, "%s exists: ca stage writes a new folder", out);
    if ((rc = cl_work_begin(o, &w, err)) != PKI_OK)
        return rc;
    rc = cl_view_alloc(&s, w.c.m.ncas, err);
    if (rc == PKI_OK)
        rc = cl_load_custom(custom, &cu, err);
    for (depth = 0; rc == PKI_OK && depth <= PKI_MANIFEST_DEPTH_MAX; depth++)
        for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++)
            if (w.c.m.cas[i].depth == depth)
                rc = stage_ca(&w, i, &cu, &s, o->now, r, err);
    if (rc == PKI_OK && w.problems > 0)
        rc = cl_refuse(&w, "stage", err);
    for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++) {
        const struct pki_manifest_ca *ca = &w.c.m.cas[i];

        if ((rc = pki_key_to_pem(s.key[i], &pem, err)) == PKI_OK)
            rc = cl_writes_add(&ws, ca->key, &pem, 1, err);
        if (rc == PKI_OK && (rc = ca_stack_pem(s.file[i], &pem, err)) == PKI_OK)
            rc = cl_writes_add(&ws, ca->cert, &pem, 0, err);
        snprintf(rel, sizeof(rel), "cross/%s.crt", ca->name);
        if (rc == PKI_OK && s.cross[i] &&
            (rc = pki_pem_append_cert(s.cross[i], &pem, err)) == PKI_OK)
            rc = cl_writes_add(&ws, rel, &pem, 0, err);
        if (rc == PKI_OK)
            cl_report_add(r, 0, "staged CA %s%s", ca->name, s.cross[i] ? ", cross-signed by "
                          "the current CA" : ca->parent >= 0 ? ", signed by its parent's new "
                          "certificate" : "");
    }
    for (i = 0; rc == PKI_OK && i < w.c.m.nkeys; i++)
        rc = stage_key(&w, i, o->skip_key_mode_check, &ws, r, err);
    if (rc == PKI_OK && (rc = ca_bundle_pem(&w.c, &s, &bundle, err)) == PKI_OK) {
        ca_sha256_hex(bundle.data, bundle.len, hex);
        snprintf(token, CA_TOKEN_MAX, TOKEN_PREFIX "%s", hex);
        rc = ca_stage_json(&w.c, &s, o->now, token, &json, err);
    }
    if (rc == PKI_OK && (rc = cl_writes_add(&ws, STAGE_BUNDLE, &bundle, 0, err)) == PKI_OK)
        rc = cl_writes_add(&ws, STAGE_FILE, &json, 0, err);
    if (rc == PKI_OK)
        rc = write_new_folder(out, &ws, r, err);
    pki_buf_free(&bundle);
    pki_buf_free(&json);
    pki_buf_free(&pem);
    cl_writes_free(&ws);
    ca_staged_free(&s, w.c.m.ncas);
    cl_custom_free(&cu);
    cl_work_end(&w);
    return rc;
}
