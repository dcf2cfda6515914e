/* cluster_ops.c - cluster renew, recover, rotate and rotate-key
 * (docs/rotation.md). Each builds everything in memory, refuses with every
 * problem listed, and writes through one folder transaction (txn.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certsdir.h"
#include "chain.h"
#include "cluster_int.h"
#include "fsio.h"
#include "pem.h"
#include "subject.h"


static void date(time_t t, char *buf, size_t len)
{
    pki_time_format(t, 0, buf, len);
}

/* Checks that CA i can sign now: readable, its key matches, valid. Adds a
 * problem naming the fix otherwise. */
static int ca_can_sign(struct cl_work *w, size_t i, time_t now, struct cluster_report *r)
{
    const struct pki_manifest_ca *ca = &w->c.m.cas[i];
    const struct cl_file *f = &w->c.cas[i];
    time_t nb, na;
    char when[40];

    if (f->certs == NULL) {
        PROBLEM(w, r, "CA %s: %s: %s; run 'pkictl cluster recover'", ca->name, ca->cert,
                f->cert_err);
        return 0;
    }
    if (f->key == NULL) {
        PROBLEM(w, r, "CA %s: its key %s: %s; it is needed to sign", ca->name, ca->key,
                f->key_err);
        return 0;
    }
    if (!pki_key_matches_cert(f->key, cl_first_cert(f))) {
        PROBLEM(w, r, "CA %s: %s does not match %s", ca->name, ca->key, ca->cert);
        return 0;
    }
    if (pki_cert_validity(cl_first_cert(f), &nb, &na, NULL) != PKI_OK || now >= na) {
        date(na, when, sizeof(when));
        PROBLEM(w, r, "CA %s expired on %s: run 'pkictl cluster recover' (same keys) or "
                "'pkictl ca stage' and 'pkictl ca rotate' (new CAs)", ca->name, when);
        return 0;
    }
    return 1;
}

/* Checks every CA above leaf i once (checked[] remembers which were). */
static void chain_can_sign(struct cl_work *w, size_t i, char *checked, time_t now,
                           struct cluster_report *r)
{
    int a;

    for (a = w->c.m.leaves[i].ca; a >= 0; a = w->c.m.cas[a].parent) {
        if (checked[a])
            continue;
        checked[a] = 1;
        if (!ca_can_sign(w, (size_t)a, now, r))
            break;
    }
}

/* Warns about every CA that expires within the window: never renewed silently. */
static void warn_cas(struct cl_work *w, time_t now, int64_t within, struct cluster_report *r)
{
    size_t i;
    time_t nb, na;
    char when[40];

    for (i = 0; i < w->c.m.ncas; i++) {
        X509 *x = cl_first_cert(&w->c.cas[i]);

        if (x == NULL || pki_cert_validity(x, &nb, &na, NULL) != PKI_OK || now >= na ||
            (int64_t)(na - now) > within)
            continue;
        date(na, when, sizeof(when));
        cl_report_add(r, 1, "CA %s expires on %s: pkictl never renews a CA silently; "
                            "leaves are capped at its expiry. Plan 'pkictl ca stage' and "
                            "'pkictl ca rotate'", w->c.m.cas[i].name, when);
    }
}

/* The end a new leaf under CA ca would get. */
static time_t new_leaf_end(const struct cl_work *w, size_t i, time_t now)
{
    const struct pki_manifest_leaf *l = &w->c.m.leaves[i];
    X509 *ca = cl_first_cert(&w->c.cas[l->ca]);
    int capped;
    int64_t life = l->lifetime;

    if (ca != NULL)
        life = pki_cert_cap_lifetime(ca, now, life, &capped);
    return now + (time_t)life;
}

/* ---- renew ----------------------------------------------------------------------- */

/* Why leaf i needs renewing, or NULL; problems and warnings go to r. *new_key
 * is set when it must get a new key (its key file is missing, or bad and
 * --new-key was given). */
static const char *renew_reason(struct cl_work *w, size_t i, time_t now, int64_t within,
                                int new_key, int *fresh, struct cluster_report *r)
{
    const struct pki_manifest_leaf *l = &w->c.m.leaves[i];
    const struct cl_file *f = &w->c.leaves[i];
    X509 *cert = cl_first_cert(f), *ca = cl_first_cert(&w->c.cas[l->ca]);
    time_t nb, na;
    char when[40];

    *fresh = new_key || f->key == NULL;
    if (f->key == NULL && !f->key_missing) {
        if (new_key)
            return "bad key";
        PROBLEM(w, r, "leaf %s: its key %s: %s (use --new-key to replace it)", l->name, l->key,
                f->key_err);
        return NULL;
    }
    if (cert == NULL)
        return f->cert_missing ? "missing" : "unreadable";
    if (f->key != NULL && !pki_key_matches_cert(f->key, cert)) {
        if (new_key)
            return "bad key";
        PROBLEM(w, r, "leaf %s: %s does not match %s (use --new-key to replace it)", l->name,
                l->key, l->cert);
        return NULL;
    }
    if (f->key == NULL)
        return "key missing";
    if (ca != NULL && !pki_chain_issued_by(cert, ca))
        return "broken chain";
    if (pki_cert_validity(cert, &nb, &na, NULL) != PKI_OK)
        return "unreadable";
    if (now >= na)
        return "expired";
    if ((int64_t)(na - now) <= within) {
        if (new_leaf_end(w, i, now) > na)
            return "expires within the window";
        pki_time_format(na, 0, when, sizeof(when));
        cl_report_add(r, 1, "leaf %s expires on %s, within the window, but renewing it now "
                      "would not make it last longer (its lifetime is shorter than the window, "
                      "or its CA ends first)", l->name, when);
        return NULL;
    }
    if (!cl_sans_match(cert, l))
        return "drift";
    return NULL;
}

int cluster_renew(const struct cluster_change_opts *o, int64_t within, int new_key,
                  struct cluster_report *r, struct pki_err *err)
{
    struct cl_work w;
    struct cl_view v = {NULL, NULL, NULL, NULL};
    const char **why;
    char *checked;
    int *fresh;
    size_t i, todo = 0, done = 0;
    int rc = cl_work_begin(o, &w, err);

    if (rc != PKI_OK)
        return rc;
    why = calloc(w.c.m.nleaves + 1, sizeof(*why));
    checked = calloc(w.c.m.ncas + 1, 1);
    fresh = calloc(w.c.m.nleaves + 1, sizeof(*fresh));
    if (why == NULL || checked == NULL || fresh == NULL || cl_view_current(&w.c, &v, err) != PKI_OK) {
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        goto out;
    }
    warn_cas(&w, o->now, within, r);
    for (i = 0; i < w.c.m.nleaves; i++) {
        why[i] = renew_reason(&w, i, o->now, within, new_key, &fresh[i], r);
        if (why[i] == NULL)
            continue;
        todo++;
        chain_can_sign(&w, i, checked, o->now, r);
    }
    if (w.problems > 0) {
        rc = cl_refuse(&w, "renew", err);
        goto out;
    }
    if (todo == 0) {
        rc = cl_report_add(r, 0, "nothing to renew: %zu leaves checked", w.c.m.nleaves);
        goto out;
    }
    for (i = 0; rc == PKI_OK && i < w.c.m.nleaves; i++) {
        EVP_PKEY *key = fresh[i] ? NULL : w.c.leaves[i].key;
        if (why[i] == NULL)
            continue;
        rc = cl_add_leaf(&w, i, key, &v, o->now, r, "renewed", why[i], err);
        fs_txn_step(&w.t, "leaves", ++done, todo);
    }
    if (rc == PKI_OK)
        rc = cl_writes_apply(&w.t, &w.ws, err);
out:
    free(why);
    free(checked);
    free(fresh);
    cl_view_free(&v);
    cl_work_end(&w);
    return rc;
}

/* ---- rotate ---------------------------------------------------------------------- */

int cluster_rotate(const struct cluster_change_opts *o, const char *const *names, size_t n,
                   struct cluster_report *r, struct pki_err *err)
{
    struct cl_work w;
    struct cl_view v = {NULL, NULL, NULL, NULL};
    char *pick = NULL;
    size_t i, j, todo = 0, done = 0;
    int rc = cl_work_begin(o, &w, err);

    if (rc != PKI_OK)
        return rc;
    pick = calloc(w.c.m.nleaves + w.c.m.ncas + 1, 1); /* leaves, then CAs checked */
    if (pick == NULL || cl_view_current(&w.c, &v, err) != PKI_OK) {
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (j = 0; j < n; j++) {
        for (i = 0; i < w.c.m.nleaves; i++)
            if (strcmp(w.c.m.leaves[i].name, names[j]) == 0)
                break;
        if (i == w.c.m.nleaves) {
            char known[PKI_ERR_MSG_MAX] = "";
            size_t k, len = 0;

            for (k = 0; k < w.c.m.nleaves && len < sizeof(known) - 1; k++)
                len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", k ? ", " : "",
                                        w.c.m.leaves[k].name);
            PROBLEM(&w, r, "no leaf named \"%.63s\" (leaves: %s)", names[j], known);
            continue;
        }
        pick[i] = 1;
    }
    for (i = 0; i < w.c.m.nleaves; i++) {
        if (n > 0 && !pick[i])
            continue;
        pick[i] = 1;
        todo++;
        chain_can_sign(&w, i, pick + w.c.m.nleaves, o->now, r);
    }
    if (w.problems > 0) {
        rc = cl_refuse(&w, "rotate", err);
        goto out;
    }
    for (i = 0; rc == PKI_OK && i < w.c.m.nleaves; i++) {
        if (!pick[i])
            continue;
        rc = cl_add_leaf(&w, i, NULL, &v, o->now, r, "rotated", NULL, err);
        fs_txn_step(&w.t, "leaves", ++done, todo);
    }
    if (rc == PKI_OK)
        rc = cl_writes_apply(&w.t, &w.ws, err);
out:
    free(pick);
    cl_view_free(&v);
    cl_work_end(&w);
    return rc;
}

/* ---- recover --------------------------------------------------------------------- */

/* Re-issues CA i with its key: its current subject, signed by its parent's
 * new certificate, the custom issuer, or itself. */
static int recover_ca(struct cl_work *w, size_t i, const struct custom_issuer *cu, struct cl_view *nv,
                      time_t now, struct cluster_report *r, struct pki_err *err)
{
    const struct pki_manifest_ca *ca = &w->c.m.cas[i];
    struct cl_file *f = &w->c.cas[i];
    X509 *old = cl_first_cert(f), *cert;
    X509_NAME *name = NULL;
    struct pki_cert_params p;
    struct pki_buf pem = {NULL, 0};
    time_t nb, na;
    char when[40];
    int k, rc;

    memset(&p, 0, sizeof(p));
    p.now = now;
    p.lifetime = ca->lifetime;
    p.issuer = ca->parent >= 0 ? nv->cert[ca->parent] : cu->issuer;
    p.issuer_key = ca->parent >= 0 ? w->c.cas[ca->parent].key : cu->issuer_key;
    p.role = p.issuer != NULL && !ca->signs_ca ? PKI_ROLE_INTERMEDIATE : PKI_ROLE_CA;
    name = old ? X509_NAME_dup(X509_get_subject_name(old)) : pki_subject_parse(ca->subject, err);
    if (name == NULL)
        return err ? err->code : PKI_ERR_INPUT;
    cert = cl_issue(&p, name, ca->lifetime_is_default, f->key, err);
    X509_NAME_free(name);
    if (cert == NULL) {
        pki_err_prefix(err, "CA %s", ca->name);
        return err ? err->code : PKI_ERR_CRYPTO;
    }
    nv->cert[i] = cert; /* owned by nv->file[i] below */
    nv->file[i] = sk_X509_new_null();
    rc = nv->file[i] && sk_X509_push(nv->file[i], cert) ? PKI_OK
         : pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (rc != PKI_OK) {
        X509_free(cert);
        nv->cert[i] = NULL;
        return rc;
    }
    if (ca->parent < 0 && cu->inter_certs)
        rc = X509_up_ref(sk_X509_value(cu->inter_certs, 0)) &&
             sk_X509_push(nv->file[i], sk_X509_value(cu->inter_certs, 0)) ? PKI_OK : PKI_ERR_INTERNAL;
    if (rc == PKI_OK && ca->parent < 0 && cu->root_certs)
        rc = X509_up_ref(sk_X509_value(cu->root_certs, 0)) &&
             sk_X509_push(nv->file[i], sk_X509_value(cu->root_certs, 0)) ? PKI_OK : PKI_ERR_INTERNAL;
    /* Other CAs of the file that are still valid stay (a rotation's old root). */
    for (k = 1; rc == PKI_OK && f->certs && k < sk_X509_num(f->certs); k++) {
        X509 *x = sk_X509_value(f->certs, k);

        if (!pki_cert_is_ca(x) || pki_certs_contain(nv->file[i], x) ||
            pki_key_matches_cert(f->key, x) || pki_cert_validity(x, &nb, &na, NULL) != PKI_OK ||
            now >= na)
            continue;
        rc = X509_up_ref(x) && sk_X509_push(nv->file[i], x) ? PKI_OK : PKI_ERR_INTERNAL;
    }
    for (k = 0; rc == PKI_OK && k < sk_X509_num(nv->file[i]); k++)
        rc = pki_pem_append_cert(sk_X509_value(nv->file[i], k), &pem, err);
    if (rc == PKI_OK)
        rc = cl_writes_add(&w->ws, ca->cert, &pem, 0, err);
    if (rc == PKI_OK && pki_cert_validity(cert, &nb, &na, err) == PKI_OK) {
        date(na, when, sizeof(when));
        rc = cl_report_add(r, 0, "recovered CA %s (%s) with its existing key until %s",
                           ca->name, ca->cert, when);
    }
    pki_buf_free(&pem);
    return rc;
}

int cluster_recover(const struct cluster_change_opts *o, const struct cluster_custom *custom,
                    struct cluster_report *r, struct pki_err *err)
{
    struct cl_work w;
    struct custom_issuer cu;
    struct cl_view nv = {NULL, NULL, NULL, NULL};
    size_t i, done = 0;
    int depth, rc = cl_work_begin(o, &w, err);

    memset(&cu, 0, sizeof(cu));
    if (rc != PKI_OK)
        return rc;
    if ((rc = cl_view_alloc(&nv, w.c.m.ncas, err)) != PKI_OK)
        goto out;
    for (i = 0; i < w.c.m.ncas; i++) {
        nv.key[i] = w.c.cas[i].key;
        nv.cross[i] = w.c.state.cross[i];
    }
    if ((rc = cl_load_custom(custom, &cu, err)) != PKI_OK)
        goto out;
    for (i = 0; i < w.c.m.ncas; i++) {
        const struct pki_manifest_ca *ca = &w.c.m.cas[i];
        X509 *old = cl_first_cert(&w.c.cas[i]);

        if (w.c.cas[i].key == NULL)
            PROBLEM(&w, r, "CA %s: its key %s: %s; there is nothing to recover by key: use "
                    "'pkictl ca stage' and 'pkictl ca rotate --force'", ca->name, ca->key,
                    w.c.cas[i].key_err);
        else if (old != NULL && !pki_key_matches_cert(w.c.cas[i].key, old))
            PROBLEM(&w, r, "CA %s: %s does not match %s", ca->name, ca->key, ca->cert);
        else if (ca->parent < 0 && cu.issuer == NULL && old != NULL && !pki_chain_is_root(old))
            PROBLEM(&w, r, "CA %s is signed by a custom root: pass --root-ca=CERT,KEY (and "
                    "--intermediate-ca) to re-sign it", ca->name);
    }
    if (w.problems > 0) {
        rc = cl_refuse(&w, "recover", err);
        goto out;
    }
    for (depth = 0; rc == PKI_OK && depth <= PKI_MANIFEST_DEPTH_MAX; depth++)
        for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++)
            if (w.c.m.cas[i].depth == depth)
                rc = recover_ca(&w, i, &cu, &nv, o->now, r, err);
    for (i = 0; rc == PKI_OK && i < w.c.m.nleaves; i++) {
        const struct cl_file *f = &w.c.leaves[i];

        rc = cl_add_leaf(&w, i, f->key, &nv, o->now, r, "re-issued", NULL, err);
        fs_txn_step(&w.t, "leaves", ++done, w.c.m.nleaves);
    }
    if (rc == PKI_OK)
        rc = cl_writes_apply(&w.t, &w.ws, err);
out:
    for (i = 0; nv.file != NULL && i < w.c.m.ncas; i++)
        pki_certs_free(nv.file[i]);
    cl_view_free(&nv);
    cl_custom_free(&cu);
    cl_work_end(&w);
    return rc;
}

/* ---- rotate-key -------------------------------------------------------------------- */

int cluster_rotate_key(const struct cluster_change_opts *o, const char *name, int keep,
                       struct cluster_report *r, struct pki_err *err)
{
    EVP_PKEY *keys[CLUSTER_KEYS_PER_FILE_MAX + 1];
    struct pki_buf out = {NULL, 0}, one = {NULL, 0};
    char path[PATH_MAX];
    const struct pki_manifest_key *k = NULL;
    size_t i, n = 0, kept;
    struct cl_work w;
    int rc;

    memset(keys, 0, sizeof(keys));
    if ((rc = cl_work_begin(o, &w, err)) != PKI_OK)
        return rc;
    for (i = 0; i < w.c.m.nkeys; i++)
        if (strcmp(w.c.m.keys[i].name, name) == 0)
            k = &w.c.m.keys[i];
    if (k == NULL) {
        rc = pki_err_set(err, PKI_ERR_INPUT, "no plain key named \"%.63s\" in the manifest%s",
                         name, w.c.m.nkeys ? " (see its \"keys\")" : ": it declares none");
        goto out;
    }
    rc = fs_join(w.t.dir, k->key, path, sizeof(path), err);
    if (rc == PKI_OK && (rc = cl_read_keys(path, o->skip_key_mode_check, keys + 1, &n, err)) ==
                            PKI_ERR_NOTFOUND)
        rc = PKI_OK; /* no file yet: the new key is the first */
    kept = keep < 0 || (size_t)keep > n ? n : (size_t)keep;
    if (rc == PKI_OK && kept + 1 > CLUSTER_KEYS_PER_FILE_MAX)
        rc = pki_err_set(err, PKI_ERR_POLICY, "%s would hold %zu keys (at most %d): pass "
                         "--keep=N to drop the oldest", path, kept + 1, CLUSTER_KEYS_PER_FILE_MAX);
    if (rc == PKI_OK && (keys[0] = pki_key_generate(&k->key_spec, err)) == NULL)
        rc = err ? err->code : PKI_ERR_CRYPTO;
    for (i = 0; rc == PKI_OK && i <= kept; i++) {
        rc = pki_key_to_pem(keys[i], &one, err);
        if (rc == PKI_OK)
            rc = pki_buf_append(&out, one.data, one.len, err);
        pki_buf_free(&one);
    }
    if (rc == PKI_OK)
        rc = cl_writes_add(&w.ws, k->key, &out, 1, err);
    if (rc == PKI_OK)
        rc = cl_writes_apply(&w.t, &w.ws, err);
    if (rc == PKI_OK)
        rc = cl_report_add(r, 0, "rotated key %s (%s): a new key first, %zu previous key%s kept"
                           "%s", k->name, k->key, kept, kept == 1 ? "" : "s",
                           kept < n ? " (older ones dropped)" : "");
out:
    for (i = 0; i <= n; i++)
        EVP_PKEY_free(keys[i]);
    pki_buf_free(&out);
    cl_work_end(&w);
    return rc;
}
