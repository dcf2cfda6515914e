/* ca_prune.c - ca prune: old CA certificates dropped once nothing they
 * signed is valid (docs/rotation.md). */


#include <string.h>

#include "ca_int.h"
#include "certsdir.h"
#include "chain.h"
#include "cluster_int.h"
#include "fsio.h"
#include "pem.h"

/* 1 if old root x of top CA i may go; else 0 and why in r. */
static int prunable(struct cl_work *w, size_t i, X509 *x, time_t now, struct cluster_report *r)
{
    unsigned char sha[32];
    char when[40], subject[256];
    size_t j;
    const struct cl_retired *rt = NULL;

    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
    if (now >= ca_not_after(x))
        return 1;
    if (cl_cert_sha256(x, sha) == PKI_OK)
        for (j = 0; j < w->c.state.nretired; j++)
            if (memcmp(w->c.state.retired[j].sha256, sha, 32) == 0)
                rt = &w->c.state.retired[j];
    if (rt == NULL) {
        pki_time_format(ca_not_after(x), 0, when, sizeof(when));
        cl_report_add(r, 0, "kept old CA %s in %s: no record of what it signed, so it stays "
                      "until it expires on %s", subject, w->c.m.cas[i].cert, when);
        return 0;
    }
    if (now < rt->valid_until) {
        pki_time_format((time_t)rt->valid_until, 0, when, sizeof(when));
        cl_report_add(r, 0, "kept old CA %s in %s: certificates it signed are valid until %s",
                      subject, w->c.m.cas[i].cert, when);
        return 0;
    }
    for (j = 0; j < w->c.m.nleaves; j++) {
        STACK_OF(X509) *certs = w->c.leaves[j].certs, *rest, *anchor;
        int ok = 0;

        if (certs == NULL || ca_top_of(&w->c.m, w->c.m.leaves[j].ca) != (int)i ||
            now >= ca_not_after(sk_X509_value(certs, 0)))
            continue;
        rest = sk_X509_dup(certs);
        anchor = sk_X509_new_null();
        if (rest && anchor && sk_X509_push(anchor, x) > 0) {
            X509 *leaf = sk_X509_shift(rest);

            /* signed by x, not merely reaching it through the cross-signature */
            if (w->c.state.cross[i] != NULL)
                for (int c = sk_X509_num(rest) - 1; c >= 0; c--)
                    if (X509_cmp(sk_X509_value(rest, c), w->c.state.cross[i]) == 0)
                        (void)sk_X509_delete(rest, c);

            ok = pki_chain_verify_with(leaf, rest, anchor, NULL) == PKI_OK;
        }
        sk_X509_free(rest);
        sk_X509_free(anchor);
        if (ok) {
            cl_report_add(r, 0, "kept old CA %s in %s: leaf %s still chains to it", subject,
                          w->c.m.cas[i].cert, w->c.m.leaves[j].name);
            return 0;
        }
    }
    return 1;
}


int ca_prune(const struct cluster_change_opts *o, struct cluster_report *r, struct pki_err *err)
{
    struct cl_work w;
    STACK_OF(X509) *gone = NULL;
    struct pki_buf pem = {NULL, 0};
    char path[PATH_MAX], hex[65], subject[256];
    size_t i, j;
    int k, changed, rc;

    if ((rc = cl_work_begin(o, &w, err)) != PKI_OK)
        return rc;
    if ((gone = sk_X509_new_null()) == NULL)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++) {
        STACK_OF(X509) *f = w.c.cas[i].certs;

        if (w.c.m.cas[i].parent >= 0 || f == NULL || !pki_chain_is_root(sk_X509_value(f, 0)))
            continue;
        for (k = 1; rc == PKI_OK && k < sk_X509_num(f); k++) {
            X509 *x = sk_X509_value(f, k);

            if (!pki_chain_is_root(x) || !prunable(&w, i, x, o->now, r))
                continue;
            X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
            cl_report_add(r, 0, "pruned old CA %s from %s", subject, w.c.m.cas[i].cert);
            rc = ca_push_up(gone, x);
        }
    }
    if (rc == PKI_OK && sk_X509_num(gone) == 0) {
        cl_report_add(r, 0, "nothing to prune");
        goto out;
    }
    /* CA files and leaves lose the old roots and cross-signatures by them. */
    for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++) {
        X509 *cx = w.c.state.cross[i];

        for (k = 0; cx != NULL && k < sk_X509_num(gone); k++)
            if (pki_chain_issued_by(cx, sk_X509_value(gone, k))) {
                rc = ca_push_up(gone, cx);
                w.c.state.cross[i] = NULL;
                X509_free(cx);
                break;
            }
    }
    for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++)
        if (w.c.cas[i].certs &&
            (rc = ca_without(w.c.cas[i].certs, gone, &pem, err, &changed)) == PKI_OK && changed)
            rc = cl_writes_add(&w.ws, w.c.m.cas[i].cert, &pem, 0, err);
    pki_buf_free(&pem);
    for (i = 0; rc == PKI_OK && i < w.c.m.nleaves; i++)
        if (w.c.leaves[i].certs &&
            (rc = ca_without(w.c.leaves[i].certs, gone, &pem, err, &changed)) == PKI_OK && changed)
            rc = cl_writes_add(&w.ws, w.c.m.leaves[i].cert, &pem, 0, err);
    pki_buf_free(&pem);
    for (i = j = 0; i < w.c.state.nretired; i++) { /* drop the records of pruned roots */
        int drop = 0;

        for (k = 0; k < sk_X509_num(gone); k++) {
            unsigned char sha[32];

            drop |= cl_cert_sha256(sk_X509_value(gone, k), sha) == PKI_OK &&
                    memcmp(sha, w.c.state.retired[i].sha256, 32) == 0;
        }
        if (!drop)
            w.c.state.retired[j++] = w.c.state.retired[i];
    }
    w.c.state.nretired = j;
    if (rc == PKI_OK && (rc = cl_state_encode(&w.c.state, &w.c.m, &pem, err)) == PKI_OK)
        rc = cl_writes_add(&w.ws, CLUSTER_STATE_FILE, &pem, 0, err);
    if (rc == PKI_OK && (rc = fs_join(w.t.dir, CLUSTER_TRUST_BUNDLE, path, sizeof(path), err)) ==
                            PKI_OK && fs_exists(path)) {
        STACK_OF(X509) *b = certsdir_load_certs(path, err);

        rc = b ? ca_without(b, gone, &pem, err, &changed) : (err ? err->code : PKI_ERR_INPUT);
        if (rc == PKI_OK) {
            ca_sha256_hex(pem.data, pem.len, hex);
            cl_report_add(r, 0, "token: " TOKEN_PREFIX "%s", hex);
            rc = cl_writes_add(&w.ws, CLUSTER_TRUST_BUNDLE, &pem, 0, err);
        }
        pki_certs_free(b);
    }
    if (rc == PKI_OK)
        rc = cl_writes_apply(&w.t, &w.ws, err);
out:
    pki_buf_free(&pem);
    pki_certs_free(gone);
    cl_work_end(&w);
    return rc;
}
