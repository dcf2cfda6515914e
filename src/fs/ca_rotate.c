/* ca_rotate.c - ca rotate: a staging folder checked whole, then
 * installed (docs/rotation.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ca_int.h"
#include "certsdir.h"
#include "chain.h"
#include "cluster_int.h"
#include "fsio.h"
#include "pem.h"

/* The first 40 bytes of a field name from the file, bytes that are not
 * printable ASCII as \xNN: report lines reach the terminal as they are, and
 * a name with ESC or a newline must not rewrite it. */
static void shown_field(const char *k, char out[4 * 40 + 1])
{
    size_t i, n = 0;

    for (i = 0; k[i] != '\0' && i < 40; i++) {
        unsigned char c = (unsigned char)k[i];

        if (c >= 0x20 && c < 0x7f)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
    }
    out[n] = '\0';
}

/* Every field is one ca stage writes; a name from the file is shown escaped. */
static void stage_unknown_fields(struct cl_work *w, const char *path, json_t *root,
                                 struct cluster_report *r)
{
    static const char *const fields[] = {"version", "staged_at", "manifest_sha256", "cas", "keys",
                                         "trust_bundle", "token"};
    char shown[4 * 40 + 1];
    const char *k;
    json_t *v;
    size_t j;

    json_object_foreach(root, k, v) {
        for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
            if (strcmp(k, fields[j]) == 0)
                break;
        if (j == sizeof(fields) / sizeof(fields[0])) {
            shown_field(k, shown);
            PROBLEM(w, r, "%s: unknown field \"%s\"", path, shown);
        }
    }
}

/* staged_at, token and trust_bundle as stage_json writes them: a time
 * (seconds since 1970, never negative: see args_clock), TOKEN_PREFIX with 64
 * lowercase hex digits (copied to token; "" if it is not that) and
 * STAGE_BUNDLE. A file holding anything else there was not written by ca
 * stage (edited by hand, or damaged): refused as a whole. */
static void stage_shapes(struct cl_work *w, const char *path, json_t *root, char token[65],
                         struct cluster_report *r)
{
    json_t *v = json_object_get(root, "staged_at");
    const char *t;
    size_t plen = sizeof(TOKEN_PREFIX) - 1;

    if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
        PROBLEM(w, r, "%s: \"staged_at\" must be a whole number of seconds since 1970, as "
                "'pkictl ca stage' writes it", path);
    v = json_object_get(root, "token");
    t = json_string_value(v);
    if (v == NULL)
        PROBLEM(w, r, "%s: no \"token\" (ca stage writes one)", path);
    else if (t == NULL || json_string_length(v) != plen + 64 ||
             strncmp(t, TOKEN_PREFIX, plen) != 0 || strspn(t + plen, "0123456789abcdef") != 64)
        PROBLEM(w, r, "%s: \"token\" must be a string \"" TOKEN_PREFIX "\" and 64 lowercase hex "
                "digits", path);
    else
        memcpy(token, t + plen, 65);
    v = json_object_get(root, "trust_bundle");
    if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), STAGE_BUNDLE) != 0))
        PROBLEM(w, r, "%s: \"trust_bundle\" must be \"" STAGE_BUNDLE "\", as 'pkictl ca stage' "
                "writes it", path);
}

/* "keys": the manifest's plain keys, in its order, as stage_json writes
 * them. ca rotate takes the keys from the manifest (whose hash is checked),
 * so any other list means the file was edited after staging. */
static void stage_keys(struct cl_work *w, const char *path, json_t *root,
                       struct cluster_report *r)
{
    json_t *keys = json_object_get(root, "keys"), *v;
    int same = json_is_array(keys) && json_array_size(keys) == w->c.m.nkeys;
    size_t i;

    json_array_foreach(keys, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *key = json_string_value(json_object_get(v, "key"));

        if (!same || !json_is_object(v) || json_object_size(v) != 2 || name == NULL ||
            key == NULL || strcmp(name, w->c.m.keys[i].name) != 0 ||
            strcmp(key, w->c.m.keys[i].key) != 0)
            same = 0;
    }
    if (!same)
        PROBLEM(w, r, "%s: \"keys\" is not the manifest's list of keys as 'pkictl ca stage' "
                "writes it", path);
}

/* CA entry v's "cross": stage_json writes a path under STAGING, or null. A
 * value of another type is refused, not read as "no cross-signature": with
 * --force that would switch to a root with no path from the old one. */
static void stage_cross(struct cl_work *w, const char *staging, const char *path, const char *name,
                        json_t *v, char cross[PATH_MAX], struct cluster_report *r)
{
    json_t *x = json_object_get(v, "cross");
    const char *s = json_string_value(x);

    cross[0] = '\0';
    if (x != NULL && !json_is_null(x) && s == NULL) {
        PROBLEM(w, r, "%s: CA %s: \"cross\" must be a path (a string) or null", path, name);
        strcpy(cross, CL_CROSS_REFUSED);
    } else if (s != NULL && (strstr(s, "..") != NULL || s[0] == '/' ||
                             fs_join(staging, s, cross, PATH_MAX, NULL) != PKI_OK)) {
        PROBLEM(w, r, "%s: CA %s: bad cross path", path, name);
        strcpy(cross, CL_CROSS_REFUSED);
    }
}

int cl_stage_parse_text(struct cl_work *w, const char *staging, const char *text, size_t len,
                        char (*cross)[PATH_MAX], char token[65], struct cluster_report *r,
                        struct pki_err *err)
{
    char path[PATH_MAX], hex[65];
    json_error_t jerr;
    json_t *root, *v;
    size_t i, j;
    int rc = fs_join(staging, STAGE_FILE, path, sizeof(path), err);

    if (rc != PKI_OK)
        return rc;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: invalid JSON (line %d: %s)", path, jerr.line,
                           jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return pki_err_set(err, PKI_ERR_INPUT, "%s: not a JSON object", path);
    }
    stage_unknown_fields(w, path, root, r);
    if (json_integer_value(json_object_get(root, "version")) != 1)
        PROBLEM(w, r, "%s: not a version 1 staging file", path);
    token[0] = '\0';
    stage_shapes(w, path, root, token, r);
    stage_keys(w, path, root, r);
    ca_sha256_hex(w->c.manifest_text.data, w->c.manifest_text.len, hex);
    v = json_object_get(root, "manifest_sha256");
    if (!json_is_string(v) || strcmp(json_string_value(v), hex) != 0)
        PROBLEM(w, r, "%s was staged from another manifest (%s changed since): stage again",
                staging, CLUSTER_MANIFEST_FILE);
    for (i = 0; i < w->c.m.ncas; i++) {
        const char *name = w->c.m.cas[i].name, *cur_hex;
        X509 *cur = cl_first_cert(&w->c.cas[i]);

        json_array_foreach(json_object_get(root, "cas"), j, v)
            if (json_is_string(json_object_get(v, "name")) &&
                strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
                break;
        if (v == NULL || j == json_array_size(json_object_get(root, "cas"))) {
            PROBLEM(w, r, "%s does not stage CA %s", path, name);
            continue;
        }
        cur_hex = json_string_value(json_object_get(v, "current_sha256"));
        if (cur == NULL || ca_cert_hex(cur, hex) != PKI_OK || cur_hex == NULL ||
            strcmp(cur_hex, hex) != 0)
            PROBLEM(w, r, "CA %s changed since it was staged (or cannot be read): stage again",
                    name);
        stage_cross(w, staging, path, name, v, cross[i], r);
    }
    json_decref(root);
    return PKI_OK;
}

/* Reads STAGING/pkictl-stage.json and checks it belongs to this cluster;
 * cross[i] gets CA i's cross-signature path ("" if none). */
static int read_stage(struct cl_work *w, const char *staging, char (*cross)[PATH_MAX],
                      char token[65], struct cluster_report *r, struct pki_err *err)
{
    struct pki_buf text = {NULL, 0};
    char path[PATH_MAX];
    int rc = fs_join(staging, STAGE_FILE, path, sizeof(path), err);

    if (rc == PKI_OK && !fs_exists(path))
        return pki_err_set(err, PKI_ERR_NOTFOUND, "%s has no %s: is it a folder made by 'pkictl "
                           "ca stage'?", staging, STAGE_FILE);
    if (rc == PKI_OK)
        rc = fs_read_file(path, STAGE_MAX, &text, NULL, err);
    if (rc == PKI_OK)
        rc = cl_stage_parse_text(w, staging, text.data ? (const char *)text.data : "", text.len,
                                 cross, token, r, err);
    pki_buf_free(&text);
    return rc;
}

/* Loads CA i's staged files and checks them (docs/rotation.md). */
static void check_staged_ca(struct cl_work *w, size_t i, const char *staging,
                            const char *cross_path, struct cl_view *s, time_t now, int force,
                            struct cluster_report *r)
{
    const struct pki_manifest_ca *ca = &w->c.m.cas[i];
    X509 *cur = cl_first_cert(&w->c.cas[i]), *nw;
    struct pki_err e = {0, ""};
    char path[PATH_MAX];
    int top = ca->parent < 0;

    if (fs_join(staging, ca->cert, path, sizeof(path), &e) != PKI_OK || !fs_exists(path)) {
        PROBLEM(w, r, "CA %s: missing file %s", ca->name, path);
        return;
    }
    if ((s->file[i] = certsdir_load_certs(path, &e)) == NULL) {
        PROBLEM(w, r, "CA %s: %s", ca->name, e.msg);
        return;
    }
    nw = s->cert[i] = sk_X509_value(s->file[i], 0);
    X509_up_ref(nw);
    if (fs_join(staging, ca->key, path, sizeof(path), &e) != PKI_OK || !fs_exists(path))
        PROBLEM(w, r, "CA %s: missing file %s", ca->name, path);
    else if ((s->key[i] = certsdir_load_key(path, 0, &e)) == NULL)
        PROBLEM(w, r, "CA %s: %s", ca->name, e.msg);
    else if (!pki_key_matches_cert(s->key[i], nw))
        PROBLEM(w, r, "CA %s: the staged key %s does not match the staged certificate",
                ca->name, path);
    if (!pki_cert_is_ca(nw) || !(X509_get_key_usage(nw) & KU_KEY_CERT_SIGN))
        PROBLEM(w, r, "CA %s: the staged certificate is not a CA (CA:TRUE and keyCertSign)",
                ca->name);
    if (!ca_valid_at(nw, now))
        PROBLEM(w, r, "CA %s: the staged certificate is not valid now", ca->name);
    if (!top) {
        if (s->cert[ca->parent] && !pki_chain_issued_by(nw, s->cert[ca->parent]))
            PROBLEM(w, r, "CA %s: the staged certificate is not signed by its parent %s's staged "
                    "certificate", ca->name, w->c.m.cas[ca->parent].name);
        return;
    }
    if (cur == NULL)
        return; /* already a problem: the current CA cannot be read */
    if (!pki_chain_is_root(cur)) { /* under a custom root: the same root must anchor it */
        STACK_OF(X509) *anchors = sk_X509_new_null(), *untrusted = sk_X509_dup(s->file[i]);
        int k, ok;

        for (k = 0; anchors && k < sk_X509_num(w->c.cas[i].certs); k++)
            if (pki_chain_is_root(sk_X509_value(w->c.cas[i].certs, k)))
                (void)sk_X509_push(anchors, sk_X509_value(w->c.cas[i].certs, k));
        ok = anchors && untrusted && pki_chain_verify_with(nw, untrusted, anchors, &e) == PKI_OK;
        sk_X509_free(anchors);
        sk_X509_free(untrusted);
        if (!ok && !force)
            PROBLEM(w, r, "CA %s: the staged certificate does not chain to the same custom root "
                    "as the current one (--force accepts that)", ca->name);
        return;
    }
    if (!pki_certs_contain(s->file[i], cur))
        PROBLEM(w, r, "CA %s: the staged %s does not keep the current CA, which peers still "
                "need", ca->name, ca->cert);
    if (strcmp(cross_path, CL_CROSS_REFUSED) == 0)
        return; /* already a problem: pkictl-stage.json's "cross" */
    if (cross_path[0] == '\0' || !fs_exists(cross_path)) {
        if (!force)
            PROBLEM(w, r, "CA %s: no cross-signed certificate%s%s (a new root with no path from "
                    "the old one: --force accepts that)", ca->name, cross_path[0] ? " " : "",
                    cross_path);
        return;
    }
    {
        STACK_OF(X509) *cx = certsdir_load_certs(cross_path, &e);
        X509 *x = cx ? sk_X509_value(cx, 0) : NULL;

        if (x == NULL)
            PROBLEM(w, r, "CA %s: %s", ca->name, e.msg);
        else if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(nw)) != 0 ||
                 EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(nw)) != 1 ||
                 !pki_chain_issued_by(x, cur) || !pki_cert_is_ca(x)) {
            if (!force)
                PROBLEM(w, r, "CA %s: %s is not the new CA cross-signed by the current CA",
                        ca->name, cross_path);
        } else if (X509_up_ref(x) == 1) {
            s->cross[i] = x;
        }
        pki_certs_free(cx);
    }
}

/* Checks that every staged plain key file still holds DIR's current key. */
static void check_staged_keys(struct cl_work *w, const char *staging, int skip_mode,
                              struct cl_writes *ws, struct cluster_report *r,
                              struct pki_err *err)
{
    size_t i, j, n, ncur;
    struct pki_err e = {0, ""};
    char path[PATH_MAX], cur_path[PATH_MAX];
    EVP_PKEY *keys[CLUSTER_KEYS_PER_FILE_MAX], *cur[CLUSTER_KEYS_PER_FILE_MAX];
    struct pki_buf out = {NULL, 0}, one = {NULL, 0};

    for (i = 0; i < w->c.m.nkeys; i++) {
        const struct pki_manifest_key *k = &w->c.m.keys[i];
        int found = 0, rc;

        n = ncur = 0;
        if (fs_join(staging, k->key, path, sizeof(path), &e) != PKI_OK ||
            fs_join(w->c.dir, k->key, cur_path, sizeof(cur_path), &e) != PKI_OK)
            continue;
        rc = cl_read_keys(path, 0, keys, &n, &e);
        if (rc == PKI_ERR_NOTFOUND) {
            PROBLEM(w, r, "key %s: missing file %s", k->name, path);
            continue;
        }
        if (rc != PKI_OK) {
            PROBLEM(w, r, "key %s: %s", k->name, e.msg);
            continue;
        }
        rc = cl_read_keys(cur_path, skip_mode, cur, &ncur, &e);
        found = rc != PKI_OK; /* no current key: nothing to keep */
        for (j = 0; !found && j < n; j++)
            found = EVP_PKEY_eq(keys[j], cur[0]) == 1;
        if (!found)
            PROBLEM(w, r, "key %s: the staged %s no longer holds the current key (tokens it "
                    "signed would stop verifying)", k->name, path);
        for (j = 0; found && j < n; j++) {
            if (pki_key_to_pem(keys[j], &one, err) == PKI_OK &&
                pki_buf_append(&out, one.data, one.len, err) != PKI_OK)
                w->problems++;
            pki_buf_free(&one);
        }
        if (found && cl_writes_add(ws, k->key, &out, 1, err) != PKI_OK)
            w->problems++;
        pki_buf_free(&out);
        ca_free_keys(keys, n);
        ca_free_keys(cur, ncur);
    }
}

/* The trust anchors of a top CA before and after the switch: the roots of
 * its current file (old), its new root alone (new), the roots of its new
 * file (all_new). Built once per CA: telling a root costs a signature check. */
struct anchors {
    STACK_OF(X509) *old_a, *new_a, *all_new;
};

static void anchors_free(struct anchors *an, size_t n)
{
    size_t i;

    for (i = 0; an != NULL && i < n; i++) {
        sk_X509_free(an[i].old_a);
        sk_X509_free(an[i].new_a);
        sk_X509_free(an[i].all_new);
    }
    free(an);
}

static int anchors_build(const struct cl_work *w, const struct cl_view *s, size_t top,
                         struct anchors *a)
{
    STACK_OF(X509) *cur = w->c.cas[top].certs;
    int k;

    a->old_a = sk_X509_new_null();
    a->new_a = sk_X509_new_null();
    a->all_new = sk_X509_new_null();
    if (!a->old_a || !a->new_a || !a->all_new)
        return PKI_ERR_INTERNAL;
    for (k = 0; cur && k < sk_X509_num(cur); k++)
        if (pki_chain_is_root(sk_X509_value(cur, k)))
            (void)sk_X509_push(a->old_a, sk_X509_value(cur, k));
    for (k = 0; s->file[top] && k < sk_X509_num(s->file[top]); k++)
        if (pki_chain_is_root(sk_X509_value(s->file[top], k)))
            (void)sk_X509_push(a->all_new, sk_X509_value(s->file[top], k));
    if (s->cert[top] && sk_X509_num(a->all_new) > 0)
        (void)sk_X509_push(a->new_a, pki_chain_is_root(s->cert[top]) ? s->cert[top]
                                     : sk_X509_value(a->all_new, 0));
    return PKI_OK;
}

/* What peers would make of leaf i's new certificate (pem) and its current one. */
static int verify_leaf(struct cl_work *w, size_t i, const struct pki_buf *pem,
                       const struct anchors *an, int dry_run, int force, struct cluster_report *r)
{
    const struct pki_manifest_leaf *l = &w->c.m.leaves[i];
    int top = ca_top_of(&w->c.m, l->ca), res[3] = {1, 1, 1};
    STACK_OF(X509) *chain = pki_pem_read_certs(pem->data, pem->len, NULL);
    STACK_OF(X509) *old_a = an[top].old_a, *new_a = an[top].new_a;
    STACK_OF(X509) *all_new = an[top].all_new, *cur = w->c.leaves[i].certs, *rest = NULL;
    STACK_OF(X509) *cur_rest = NULL;

    if (!chain)
        res[0] = 0;
    if (res[0] && (rest = sk_X509_dup(chain)) != NULL) {
        X509 *leaf = sk_X509_shift(rest);

        res[0] = pki_chain_verify_with(leaf, rest, old_a, NULL) == PKI_OK;
        res[1] = pki_chain_verify_with(leaf, rest, new_a, NULL) == PKI_OK;
    }
    if (cur != NULL && (cur_rest = sk_X509_dup(cur)) != NULL) {
        X509 *leaf = sk_X509_shift(cur_rest);

        res[2] = pki_chain_verify_with(leaf, cur_rest, all_new, NULL) == PKI_OK;
    }
    sk_X509_free(rest);
    sk_X509_free(cur_rest);
    pki_certs_free(chain);
    if (dry_run)
        cl_report_add(r, 0, "leaf %s: new certificate verifies with the old CAs: %s, with the "
                      "new CA alone: %s; the current one with the new bundle: %s", l->name,
                      res[0] ? "yes" : "NO", res[1] ? "yes" : "NO",
                      cur ? (res[2] ? "yes" : "NO") : "-");
    else if (!res[0] && force)
        cl_report_add(r, 1, "--force: leaf %s will be rejected by peers that trust only the old "
                      "CA until they get the new bundle", l->name);
    if (!res[1] || !res[2] || (!res[0] && !force)) {
        if (!dry_run)
            PROBLEM(w, r, "leaf %s would not verify after the switch (run --dry-run for details)",
                    l->name);
        return 0;
    }
    return res[0];
}

/* The state after the switch: cross-signatures and retired roots. */
static int rotate_state(struct cl_work *w, const struct cl_view *s, time_t now,
                        struct pki_buf *out, struct pki_err *err)
{
    struct cl_state *st = &w->c.state;
    size_t i, j;
    void *p;

    for (i = 0; i < w->c.m.ncas; i++) {
        X509 *cur = cl_first_cert(&w->c.cas[i]);
        struct cl_retired *rt;
        time_t until = now;

        if (w->c.m.cas[i].parent >= 0 || cur == NULL || !pki_chain_is_root(cur))
            continue;
        X509_free(st->cross[i]);
        st->cross[i] = s->cross[i];
        if (st->cross[i] != NULL)
            X509_up_ref(st->cross[i]);
        p = realloc(st->retired, (st->nretired + 1) * sizeof(*st->retired));
        if (p == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
        st->retired = p;
        rt = &st->retired[st->nretired++];
        memset(rt, 0, sizeof(*rt));
        snprintf(rt->ca, sizeof(rt->ca), "%s", w->c.m.cas[i].name);
        if (cl_cert_sha256(cur, rt->sha256) != PKI_OK)
            return pki_err_set(err, PKI_ERR_CRYPTO, "cannot hash CA %s", rt->ca);
        /* the last certificate it signed, directly or through its intermediates */
        for (j = 0; j < w->c.m.nleaves; j++) {
            X509 *x = cl_first_cert(&w->c.leaves[j]);

            if (x && ca_top_of(&w->c.m, w->c.m.leaves[j].ca) == (int)i && ca_not_after(x) > until)
                until = ca_not_after(x);
        }
        for (j = 0; j < w->c.m.ncas; j++) {
            X509 *x = cl_first_cert(&w->c.cas[j]);

            if (x && j != i && ca_top_of(&w->c.m, (int)j) == (int)i && ca_not_after(x) > until)
                until = ca_not_after(x);
        }
        rt->rotated_at = now;
        rt->valid_until = until;
    }
    return cl_state_encode(st, &w->c.m, out, err);
}

/* The staged trust bundle (read into bundle, from path) is what ca stage
 * wrote: its SHA-256 is the token, and it is exactly the bundle of the
 * staged and current roots (bundle_pem). ca rotate installs it as the trust
 * bundle peers get, so a root added to it or removed from it after staging
 * is refused, whatever the token says. Called once every staged file loaded
 * without a problem. */
static int check_staged_bundle(struct cl_work *w, const struct cl_view *s, const char *path,
                               const struct pki_buf *bundle, const char *token,
                               struct cluster_report *r, struct pki_err *err)
{
    struct pki_buf want = {NULL, 0};
    char hex[65];
    int rc = ca_bundle_pem(&w->c, s, &want, err);

    if (rc != PKI_OK)
        return rc;
    ca_sha256_hex(bundle->data, bundle->len, hex);
    if (token[0] != '\0' && strcmp(hex, token) != 0)
        PROBLEM(w, r, "%s changed after staging: its SHA-256 is not the token in %s "
                "(" TOKEN_PREFIX "%s): stage again", path, STAGE_FILE, token);
    else if (want.len != bundle->len || memcmp(want.data, bundle->data, want.len) != 0)
        PROBLEM(w, r, "%s is not the staged roots followed by the current ones (a root was "
                "added, removed or changed): stage again", path);
    pki_buf_free(&want);
    return PKI_OK;
}

int ca_rotate(const struct cluster_change_opts *o, const char *staging, int dry_run, int force,
              struct cluster_report *r, struct pki_err *err)
{
    struct cl_work w;
    struct cl_view s = {NULL, NULL, NULL, NULL};
    struct cl_view v = {NULL, NULL, NULL, NULL};
    struct pki_buf pem = {NULL, 0}, bundle = {NULL, 0};
    struct cluster_report quiet = {NULL, 0, 0, 0};
    struct anchors *an = NULL;
    char (*cross)[PATH_MAX] = NULL, path[PATH_MAX], token[65];
    size_t i, broken = 0;
    int depth, rc;

    if ((rc = cl_work_begin(o, &w, err)) != PKI_OK)
        return rc;
    cross = calloc(w.c.m.ncas + 1, sizeof(*cross));
    rc = cross ? cl_view_alloc(&s, w.c.m.ncas, err) : PKI_ERR_INTERNAL;
    if (rc == PKI_OK)
        rc = read_stage(&w, staging, cross, token, r, err);
    for (depth = 0; rc == PKI_OK && depth <= PKI_MANIFEST_DEPTH_MAX; depth++)
        for (i = 0; i < w.c.m.ncas; i++)
            if (w.c.m.cas[i].depth == depth)
                check_staged_ca(&w, i, staging, cross[i], &s, o->now, force, r);
    if (rc == PKI_OK)
        check_staged_keys(&w, staging, o->skip_key_mode_check, &w.ws, r, err);
    if (rc == PKI_OK && ((rc = fs_join(staging, STAGE_BUNDLE, path, sizeof(path), err)) ==
                         PKI_OK)) {
        struct pki_err e = {0, ""};
        STACK_OF(X509) *b = fs_exists(path) ? certsdir_load_certs(path, &e) : NULL;

        if (b == NULL)
            PROBLEM(&w, r, "%s", fs_exists(path) ? e.msg : "missing file trust-bundle.pem");
        else if (fs_read_file(path, PKI_PEM_FILE_MAX, &bundle, NULL, &e) != PKI_OK)
            PROBLEM(&w, r, "%s", e.msg);
        else if (w.problems == 0)
            rc = check_staged_bundle(&w, &s, path, &bundle, token, r, err);
        pki_certs_free(b);
    }
    if (rc == PKI_OK && w.problems > 0)
        rc = cl_refuse(&w, "rotate", err);
    for (i = 0; rc == PKI_OK && force && i < w.c.m.ncas; i++)
        if (w.c.m.cas[i].parent < 0 && s.cross[i] == NULL)
            cl_report_add(r, 1, "--force: CA %s has no cross-signature: peers that trust only "
                          "its old certificate will reject every leaf under it until they get "
                          "the new bundle", w.c.m.cas[i].name);
    if (rc == PKI_OK && (an = calloc(w.c.m.ncas + 1, sizeof(*an))) == NULL)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++)
        if (w.c.m.cas[i].parent < 0 && anchors_build(&w, &s, i, &an[i]) != PKI_OK)
            rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (rc == PKI_OK && (rc = cl_view_alloc(&v, w.c.m.ncas, err)) == PKI_OK)
        for (i = 0; i < w.c.m.ncas; i++) {
            v.cert[i] = s.cert[i];
            v.file[i] = s.file[i];
            v.key[i] = s.key[i];
            v.cross[i] = s.cross[i];
        }
    for (i = 0; rc == PKI_OK && i < w.c.m.nleaves; i++) {
        const struct cl_file *f = &w.c.leaves[i];
        EVP_PKEY *key = f->key;

        if (key != NULL && f->certs && !pki_key_matches_cert(key, cl_first_cert(f)))
            key = NULL;
        rc = cl_add_leaf(&w, i, key, &v, o->now, dry_run ? &quiet : r, "re-issued", NULL,
                         err);
        if (rc == PKI_OK && !verify_leaf(&w, i, &w.ws.w[w.ws.n - 1].data, an, dry_run, force, r))
            broken++;
        fs_txn_step(&w.t, "leaves", i + 1, w.c.m.nleaves);
    }
    if (rc == PKI_OK && !dry_run && w.problems > 0)
        rc = cl_refuse(&w, "rotate", err);
    for (i = 0; rc == PKI_OK && i < w.c.m.ncas; i++) {
        const struct pki_manifest_ca *ca = &w.c.m.cas[i];

        if (dry_run && ca->parent < 0)
            cl_report_add(r, 0, "trust bundle %s: %d CA certificates after the switch, the new "
                          "one first", ca->cert, sk_X509_num(s.file[i]));
        if ((rc = pki_key_to_pem(s.key[i], &pem, err)) == PKI_OK)
            rc = cl_writes_add(&w.ws, ca->key, &pem, 1, err);
        if (rc == PKI_OK && (rc = ca_stack_pem(s.file[i], &pem, err)) == PKI_OK)
            rc = cl_writes_add(&w.ws, ca->cert, &pem, 0, err);
    }
    if (rc == PKI_OK && (rc = cl_writes_add(&w.ws, CLUSTER_TRUST_BUNDLE, &bundle, 0, err)) ==
                            PKI_OK &&
        (rc = rotate_state(&w, &s, o->now, &pem, err)) == PKI_OK)
        rc = cl_writes_add(&w.ws, CLUSTER_STATE_FILE, &pem, 0, err);
    if (rc == PKI_OK && dry_run) {
        r->would_fail = broken > 0;
        cl_report_add(r, 0, "dry run: %zu of %zu leaves would not verify somewhere; nothing was "
                      "changed", broken, w.c.m.nleaves);
    } else if (rc == PKI_OK && (rc = cl_writes_apply(&w.t, &w.ws, err)) == PKI_OK) {
        cl_report_add(r, 0, "switched %s to the new CAs: %zu CA%s, %zu leaves re-issued; the "
                      "old CAs stay in the trust bundles until 'pkictl ca prune'", w.t.dir,
                      w.c.m.ncas, w.c.m.ncas == 1 ? "" : "s", w.c.m.nleaves);
    }
    cluster_report_free(&quiet);
    anchors_free(an, w.c.m.ncas);
    pki_buf_free(&pem);
    pki_buf_free(&bundle);
    cl_view_free(&v);
    ca_staged_free(&s, w.c.m.ncas);
    free(cross);
    cl_work_end(&w);
    return rc;
}
