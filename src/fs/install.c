/* install.c - cert install and its rollback. */
#include "install.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "buf.h"
#include "cert.h"
#include "certsdir.h"
#include "chain.h"
#include "fsio.h"
#include "key.h"
#include "name.h"
#include "pem.h"

/* The slot's required extended key usages. */
static int slot_usage(const char *name, uint32_t *need, struct pki_err *err)
{
    static const char *const server_slots[] = {"ui", "cm", "api", "proxy", "syncer", "metrics"};
    size_t i;

    if (strcmp(name, "node") == 0) {
        *need = XKU_SSL_SERVER | XKU_SSL_CLIENT;
        return PKI_OK;
    }
    if (strncmp(name, "client.", 7) == 0) {
        *need = XKU_SSL_CLIENT;
        return pki_user_check(name + 7, err);
    }
    for (i = 0; i < sizeof(server_slots) / sizeof(server_slots[0]); i++) {
        if (strcmp(name, server_slots[i]) == 0) {
            *need = XKU_SSL_SERVER;
            return PKI_OK;
        }
    }
    return pki_err_set(err, PKI_ERR_INPUT, "unknown slot \"%.40s\" (use node, client.USER, ui, "
                       "cm, api, proxy, syncer or metrics)", name);
}

/* chain: each certificate after the leaf issued the one before it, and the
 * whole verifies up to one of the anchors. */
static int check_chain(STACK_OF(X509) *certs, STACK_OF(X509) *anchors, struct pki_err *err)
{
    int i;

    for (i = 0; i + 1 < sk_X509_num(certs); i++)
        if (!pki_chain_issued_by(sk_X509_value(certs, i), sk_X509_value(certs, i + 1)))
            return pki_err_set(err, PKI_ERR_POLICY, "chain check: certificate %d of the file did "
                               "not issue certificate %d (out of order, or a gap)", i + 2, i + 1);
    if (pki_chain_verify_with(sk_X509_value(certs, 0), certs, anchors, err) != PKI_OK) {
        pki_err_prefix(err, "chain check");
        return err ? err->code : PKI_ERR_POLICY;
    }
    return PKI_OK;
}

static int check_validity(STACK_OF(X509) *certs, time_t now, int64_t min_validity,
                          struct pki_err *err)
{
    char when[40];
    time_t nb, na;
    int i;

    for (i = 0; i < sk_X509_num(certs); i++) {
        if (pki_cert_validity(sk_X509_value(certs, i), &nb, &na, err) != PKI_OK)
            return err ? err->code : PKI_ERR_INPUT;
        pki_time_format(now >= na ? na : nb, 0, when, sizeof(when));
        if (now >= na || now < nb)
            return pki_err_set(err, PKI_ERR_POLICY, "validity check: certificate %d %s %s", i + 1,
                               now >= na ? "expired on" : "is not valid until", when);
        if (i == 0 && na - now < min_validity) {
            pki_time_format(na, 0, when, sizeof(when));
            return pki_err_set(err, PKI_ERR_POLICY, "validity check: the certificate expires on "
                               "%s, within the minimum of %lld days", when,
                               (long long)(min_validity / 86400));
        }
    }
    return PKI_OK;
}

/* signature: SHA-256 or stronger, or a scheme with its own hash (Ed25519). */
static int check_signatures(STACK_OF(X509) *certs, struct pki_err *err)
{
    int i, md, pk, bits;
    uint32_t flags;

    for (i = 0; i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);

        if (X509_get_signature_info(x, &md, &pk, &bits, &flags) != 1)
            return pki_err_set(err, PKI_ERR_POLICY, "signature check: certificate %d uses an "
                               "unknown signature algorithm", i + 1);
        if (md == NID_sha256 || md == NID_sha384 || md == NID_sha512 || pk == NID_ED25519 ||
            pk == NID_ED448)
            continue;
        return pki_err_set(err, PKI_ERR_POLICY, "signature check: certificate %d is signed with "
                           "%s; SHA-256 or stronger is required", i + 1,
                           md != NID_undef ? OBJ_nid2sn(md) : "an unknown hash");
    }
    return PKI_OK;
}

static int check_usage(X509 *leaf, const char *name, uint32_t need, struct pki_err *err)
{
    uint32_t have = X509_get_extended_key_usage(leaf);

    if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) || (have & need) != need)
        return pki_err_set(err, PKI_ERR_POLICY, "usage check: slot %s needs extended key usage "
                           "%s%s%s", name, need & XKU_SSL_SERVER ? "serverAuth" : "",
                           need == (XKU_SSL_SERVER | XKU_SSL_CLIENT) ? " and " : "",
                           need & XKU_SSL_CLIENT ? "clientAuth" : "");
    return PKI_OK;
}

/* Every check, in the documented order. */
static int run_checks(const struct install_opts *o, STACK_OF(X509) *certs, EVP_PKEY *key,
                      STACK_OF(X509) *anchors, uint32_t need, struct pki_err *err)
{
    X509 *leaf = sk_X509_value(certs, 0);

    if (!pki_key_matches_cert(key, leaf))
        return pki_err_set(err, PKI_ERR_POLICY, "key check: %s does not match the certificate "
                           "in %s", o->key_path, o->cert_path);
    if (check_chain(certs, anchors, err) != PKI_OK ||
        check_validity(certs, o->now, o->min_validity, err) != PKI_OK ||
        check_signatures(certs, err) != PKI_OK || check_usage(leaf, o->name, need, err) != PKI_OK)
        return err ? err->code : PKI_ERR_POLICY;
    return PKI_OK;
}

struct slot_paths {
    char crt[PATH_MAX], key[PATH_MAX], crt_prev[PATH_MAX], key_prev[PATH_MAX];
};

static int slot_paths(const char *dir, const char *name, struct slot_paths *sp,
                      struct pki_err *err)
{
    char file[NAME_MAX + 1];
    const char *ext[] = {"crt", "key", "crt.previous", "key.previous"};
    char *out[] = {sp->crt, sp->key, sp->crt_prev, sp->key_prev};
    int i, rc = PKI_OK;

    for (i = 0; i < 4 && rc == PKI_OK; i++) {
        snprintf(file, sizeof(file), "%s.%s", name, ext[i]);
        rc = fs_join(dir, file, out[i], PATH_MAX, err);
    }
    return rc;
}

/* Reads a file of the slot into b if it exists (b stays empty if not). */
static int read_if_there(const char *path, struct pki_buf *b, struct pki_err *err)
{
    if (!fs_exists(path))
        return PKI_OK;
    return fs_read_file(path, PKI_PEM_FILE_MAX, b, NULL, err);
}

static int encode_new(STACK_OF(X509) *certs, EVP_PKEY *key, struct pki_buf *crt,
                      struct pki_buf *kpem, struct pki_err *err)
{
    int i, rc = pki_key_to_pem(key, kpem, err);

    for (i = 0; rc == PKI_OK && i < sk_X509_num(certs); i++)
        rc = pki_pem_append_cert(sk_X509_value(certs, i), crt, err);
    return rc;
}

/* Writes the new pair and, where there was one, the old pair as backup. */
static int replace_pair(const struct slot_paths *sp, STACK_OF(X509) *certs, EVP_PKEY *key,
                        struct pki_err *err)
{
    struct pki_buf old_crt = {NULL, 0}, old_key = {NULL, 0}, crt = {NULL, 0}, kpem = {NULL, 0};
    struct fs_file files[4];
    size_t n = 0;
    int rc = read_if_there(sp->crt, &old_crt, err);

    if (rc == PKI_OK)
        rc = read_if_there(sp->key, &old_key, err);
    if (rc == PKI_OK)
        rc = encode_new(certs, key, &crt, &kpem, err);
    if (rc == PKI_OK) {
        if (old_key.len > 0)
            files[n++] = (struct fs_file){sp->key_prev, &old_key, 1, 1};
        if (old_crt.len > 0)
            files[n++] = (struct fs_file){sp->crt_prev, &old_crt, 0, 1};
        files[n++] = (struct fs_file){sp->key, &kpem, 1, 1};
        files[n++] = (struct fs_file){sp->crt, &crt, 0, 1};
        rc = fs_write_all(files, n, err);
    }
    pki_buf_free(&old_crt);
    pki_buf_free(&old_key);
    pki_buf_free(&crt);
    pki_buf_free(&kpem);
    return rc;
}

static STACK_OF(X509) *load_anchors(const struct install_opts *o, struct pki_err *err)
{
    if (o->ca_path != NULL)
        return certsdir_load_certs(o->ca_path, err);
    return certsdir_load_ca_bundle(o->certs_dir, err);
}

int install_cert(const struct install_opts *o, char *summary, size_t len, struct pki_err *err)
{
    STACK_OF(X509) *certs = NULL, *anchors = NULL;
    struct slot_paths sp;
    EVP_PKEY *key = NULL;
    char when[32];
    uint32_t need = 0;
    time_t nb, na;
    int rc = slot_usage(o->name, &need, err);

    if (rc == PKI_OK)
        rc = fs_check_dir(o->certs_dir, "certs dir", err);
    if (rc == PKI_OK)
        rc = slot_paths(o->certs_dir, o->name, &sp, err);
    if (rc != PKI_OK)
        return rc;
    certs = certsdir_load_certs(o->cert_path, err);
    if (certs != NULL)
        key = certsdir_load_key(o->key_path, o->skip_key_mode_check, err);
    if (certs == NULL || key == NULL) {
        pki_err_prefix(err, "pem check");
        rc = err ? err->code : PKI_ERR_INPUT;
    }
    if (rc == PKI_OK && (anchors = load_anchors(o, err)) == NULL)
        rc = err ? err->code : PKI_ERR_INPUT;
    if (rc == PKI_OK)
        rc = run_checks(o, certs, key, anchors, need, err);
    if (rc == PKI_OK)
        rc = replace_pair(&sp, certs, key, err);
    if (rc == PKI_OK && pki_cert_validity(sk_X509_value(certs, 0), &nb, &na, NULL) == PKI_OK) {
        pki_time_format(na, 1, when, sizeof(when));
        snprintf(summary, len, "installed %s (expires %s)", o->name, when);
    }
    pki_certs_free(certs);
    pki_certs_free(anchors);
    EVP_PKEY_free(key);
    return rc;
}

int install_rollback(const char *certs_dir, const char *name, char *summary, size_t len,
                     struct pki_err *err)
{
    struct pki_buf b[4] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    struct slot_paths sp;
    uint32_t need;
    int i, rc = slot_usage(name, &need, err);

    if (rc == PKI_OK)
        rc = fs_check_dir(certs_dir, "certs dir", err);
    if (rc == PKI_OK)
        rc = slot_paths(certs_dir, name, &sp, err);
    if (rc == PKI_OK && (!fs_exists(sp.crt_prev) || !fs_exists(sp.key_prev)))
        rc = pki_err_set(err, PKI_ERR_NOTFOUND, "no previous pair for %s to roll back to "
                         "(%s.crt.previous and %s.key.previous)", name, name, name);
    const char *paths[4] = {sp.crt, sp.key, sp.crt_prev, sp.key_prev};

    for (i = 0; rc == PKI_OK && i < 4; i++)
        rc = fs_read_file(paths[i], PKI_PEM_FILE_MAX, &b[i], NULL, err);
    if (rc == PKI_OK) {
        /* The current pair becomes the previous one, so a second rollback undoes the first. */
        const struct fs_file files[4] = {
            {sp.key, &b[3], 1, 1}, {sp.crt, &b[2], 0, 1},
            {sp.key_prev, &b[1], 1, 1}, {sp.crt_prev, &b[0], 0, 1},
        };

        rc = fs_write_all(files, 4, err);
    }
    if (rc == PKI_OK)
        snprintf(summary, len, "rolled back %s to its previous certificate and key", name);
    for (i = 0; i < 4; i++)
        pki_buf_free(&b[i]);
    return rc;
}
