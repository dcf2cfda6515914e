/* rotate.c - root rotation (docs/server.md, "Rotation"): a new root and
 * intermediate, the new root cross-signed by the old root and checked
 * against it, then one store transaction switches. Until that transaction
 * commits nothing has changed; after it, a restart loads the new state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ncons.h"
#include "pem.h"
#include "server.h"
#include "spiffe.h"

static const char force_warning[] =
    "rotated without a cross-signature: peers that trust only the old root will not trust "
    "new leaves until they get the new root (GET /v1/connect/ca/roots)";

static int pem_first_der(const char *pem, struct pki_buf *der, X509 **cert,
                         struct pki_err *err)
{
    STACK_OF(X509) *certs = pki_pem_read_certs((const unsigned char *)pem, strlen(pem), err);
    unsigned char *p = NULL;
    int len, rc;

    if (certs == NULL)
        return err->code;
    len = i2d_X509(sk_X509_value(certs, 0), &p);
    rc = len > 0 ? pki_buf_set(der, p, (size_t)len, err)
                 : pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot encode a certificate");
    if (rc == 0 && cert != NULL) {
        *cert = sk_X509_value(certs, 0);
        X509_up_ref(*cert);
    }
    OPENSSL_free(p);
    pki_certs_free(certs);
    return rc;
}

/* How far a supplied root's notBefore may lie ahead of this server's clock:
 * a root made a moment ago on a machine whose clock is a little ahead. */
#define ROOT_SKEW_SECONDS 300

/* A supplied root must be valid now and for at least one LeafCertTTL more:
 * the intermediate and the leaves under it end with it at the latest, so a
 * root that is not valid yet, has expired or is about to would leave the
 * cluster with leaves no peer accepts. Checked before anything changes. */
static int supplied_root_dates(X509 *x, time_t now, int64_t leaf_ttl, struct pki_err *err)
{
    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    char t[32];

    if (ASN1_TIME_cmp_time_t(nb, now + ROOT_SKEW_SECONDS) > 0) {
        srv_time_rfc3339(now, t);
        return pki_err_set(err, PKI_ERR_INPUT, "Config.RootCert is not valid yet (it is %s "
                           "here, more than %d minutes before its notBefore): supply a root "
                           "that is valid now", t, ROOT_SKEW_SECONDS / 60);
    }
    if (ASN1_TIME_cmp_time_t(na, now) <= 0)
        return pki_err_set(err, PKI_ERR_INPUT, "Config.RootCert has expired: supply a root "
                           "that is valid now");
    if (ASN1_TIME_cmp_time_t(na, now + (time_t)leaf_ttl) < 0) {
        srv_time_rfc3339(now + (time_t)leaf_ttl, t);
        return pki_err_set(err, PKI_ERR_INPUT, "Config.RootCert expires before %s, within one "
                           "LeafCertTTL: supply a root that is valid for longer", t);
    }
    return PKI_OK;
}

/* A supplied root's name constraints must permit every name this server
 * certifies under it: the signing CA's, a service leaf's (the trust domain;
 * the service does not matter to a constraint) and, over HTTPS, the API
 * certificate's. Else peers would refuse them all. Checked before anything
 * changes. */
static int supplied_root_names(const struct srv *s, X509 *root, time_t now, struct pki_err *err)
{
    static const char ca[] = "Config.RootCert";
    struct pki_host hosts[SRV_ADVERTISE_MAX], uri;
    char root_cn[64], int_cn[64];
    struct pki_nc_cert c = {"the signing CA", int_cn, 0, &uri, 1};
    size_t n = 0;
    int rc;

    srv_ca_names(s, now, root_cn, int_cn);
    memset(&uri, 0, sizeof(uri));
    uri.kind = PKI_HOST_URI;
    rc = pki_spiffe_domain_uri(s->meta.trust_domain, uri.text, sizeof(uri.text), err);
    if (rc == 0)
        rc = pki_nc_permits(root, ca, &c, err);
    if (rc == 0)
        rc = pki_spiffe_service_uri(s->meta.trust_domain, s->meta.datacenter, "service", uri.text,
                                    sizeof(uri.text), err);
    if (rc == 0) {
        c = (struct pki_nc_cert){"a service leaf", "service", 1, &uri, 1};
        rc = pki_nc_permits(root, ca, &c, err);
    }
    if (rc == 0 && !s->opt->insecure_http && (rc = srv_advertise_names(s, hosts, &n, err)) == 0) {
        c = (struct pki_nc_cert){"this server's TLS certificate (--advertise)", "pkictl server", 1,
                                 hosts, n};
        rc = pki_nc_permits(root, ca, &c, err);
    }
    return rc;
}

static int new_root(struct srv *s, const struct srv_ca_config *cfg, time_t now,
                    struct srv_ca_made *root, struct pki_err *err)
{
    struct pki_buf cert = {0}, key = {0};
    struct srv_ca_req req = {0};
    char root_cn[64], int_cn[64];
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    int rc;

    if (cfg->root_cert_pem == NULL) {
        srv_ca_names(s, now, root_cn, int_cn);
        req.spec = cfg->spec;
        req.common_name = root_cn;
        req.trust_domain = s->meta.trust_domain;
        req.ttl = cfg->root_ttl;
        req.now = now;
        return s->prov.ops->gen_root(s->prov.ctx, &req, root, err);
    }
    /* A supplied root: the key came in the request; it goes to the signer
     * as PKCS#8 and is wiped here. */
    pk = pki_key_from_pem((const unsigned char *)cfg->private_key_pem,
                          strlen(cfg->private_key_pem), err);
    rc = pk == NULL ? err->code : pki_key_to_pkcs8_der(pk, &key, err);
    if (rc == 0)
        rc = pem_first_der(cfg->root_cert_pem, &cert, &x, err);
    if (rc == 0)
        rc = supplied_root_dates(x, now, cfg->leaf_ttl, err);
    if (rc == 0)
        rc = supplied_root_names(s, x, now, err);
    if (rc == 0)
        rc = s->prov.ops->import_root(s->prov.ctx, key.data, key.len, cert.data, cert.len, root, err);
    X509_free(x);
    EVP_PKEY_free(pk);
    pki_buf_free(&key);
    pki_buf_free(&cert);
    return rc;
}

static int new_intermediate(struct srv *s, const struct srv_ca_config *cfg, time_t now,
                            const struct srv_ca_made *root, struct srv_ca_made *inter,
                            struct pki_err *err)
{
    struct srv_ca_req req = {0};
    char root_cn[64], int_cn[64];

    srv_ca_names(s, now, root_cn, int_cn);
    req.spec = cfg->spec;
    req.common_name = int_cn;
    req.trust_domain = s->meta.trust_domain;
    req.ttl = cfg->intermediate_ttl;
    req.now = now;
    return s->prov.ops->gen_intermediate(s->prov.ctx, root->key_id, root->cert.data, root->cert.len,
                                       &req, inter, err);
}

/* The old root signs a copy of the new root (same subject and key), as
 * Consul's CrossSignCA does; the copy is served after the new intermediate.
 * A peer that trusts only the old root builds leaf -> intermediate -> copy
 * -> old root; one that trusts only the new root stops at the new root.
 * (Cross-signing the intermediate instead cannot serve both: OpenSSL takes
 * the first untrusted certificate with the right subject and does not
 * backtrack to the other.) The copy must verify under the old root before
 * anything is stored, so a key type the old root cannot sign for, or a
 * signer that fails, stops the rotation with no change. */
static int cross_sign(struct srv *s, const struct store_root *old, const struct srv_ca_made *root,
                      time_t now, struct pki_buf *cross, struct pki_err *err)
{
    struct pki_buf old_der = {0};
    const unsigned char *p;
    X509 *old_cert = NULL, *x = NULL;
    int rc;

    if (old->root_key.len == 0 || !srv_provider_can_cross_sign(&s->prov))
        return pki_err_set(err, PKI_ERR_POLICY, "the active root's key is not held here or the "
                           "provider cannot cross-sign; set ForceWithoutCrossSigning to rotate "
                           "anyway");
    rc = pem_first_der(old->root_pem, &old_der, &old_cert, err);
    if (rc == 0)
        rc = s->prov.ops->cross_sign(s->prov.ctx, old->root_key_id, old_der.data, old_der.len,
                                   root->cert.data, root->cert.len, now, cross, err);
    if (rc == 0) {
        p = cross->data;
        x = d2i_X509(NULL, &p, (long)cross->len);
        if (x == NULL || X509_verify(x, X509_get0_pubkey(old_cert)) != 1 ||
            X509_check_issued(old_cert, x) != X509_V_OK)
            rc = pki_err_set(err, PKI_ERR_CRYPTO, "the cross-signed root does not verify "
                             "under the active root; nothing was changed");
        /* The copy sits below the old root: its names must pass the old
         * root's constraints for peers that trust only the old root. */
        else
            rc = pki_nc_permits_x509(old_cert, "the active root", x, "the new root", err);
    }
    if (rc != 0)
        pki_err_prefix(err, "cross-signing");
    X509_free(x);
    X509_free(old_cert);
    pki_buf_free(&old_der);
    return rc;
}

static int switch_over(struct srv *s, const struct srv_ca_config *cfg,
                       const struct store_root *old, const struct store_root *row, time_t now,
                       struct pki_err *err)
{
    char *text = srv_config_store_text(cfg);
    int rc;

    if (text == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = store_rotate(s->store, row, old->id, now, text, err);
    free(text);
    if (rc != 0)
        return rc;
    srv_test_kill_at("rotate:stored");
    rc = srv_state_load(s, err);
    if (rc == 0)
        rc = srv_state_write_ca_pem(s, err);
    if (rc == 0 && !s->opt->insecure_http)
        rc = srv_tls_refresh(s, 1, err) != 0 ? err->code : srv_tls_reload(s, err);
    return rc;
}

int srv_rotate(struct srv *s, const struct srv_ca_config *cfg, const char **warning,
               struct pki_err *err)
{
    struct srv_ca_made root = {0}, inter = {0};
    struct store_root row = {0};
    struct pki_buf cross = {0};
    const struct store_root *old = srv_active_root(s);
    char old_id[STORE_ID_MAX];
    time_t now = srv_now();
    int rc;

    if (old == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "no active root to rotate from");
    snprintf(old_id, sizeof(old_id), "%s", old->id);
    s->metrics->rotation_in_progress = 1;
    rc = new_root(s, cfg, now, &root, err);
    if (rc == 0)
        rc = new_intermediate(s, cfg, now, &root, &inter, err);
    if (rc == 0 && !cfg->force_without_cross_signing)
        rc = cross_sign(s, old, &root, now, &cross, err);
    if (rc == 0) {
        srv_test_kill_at("rotate:generated");
        rc = srv_root_row(&root, &inter, &cross, &cfg->spec, &row, err);
    }
    if (rc == 0)
        rc = switch_over(s, cfg, old, &row, now, err);
    if (rc == 0) {
        *warning = cfg->force_without_cross_signing ? force_warning : NULL;
        s->metrics->rotations++;
        srv_audit(s, "root.rotate", json_pack("{s:s,s:s,s:b}", "old_root_id", old_id,
                                              "new_root_id", row.id, "cross_signed",
                                              !cfg->force_without_cross_signing));
    }
    s->metrics->rotation_in_progress = 0;
    store_root_clear(&row);
    pki_buf_free(&cross);
    srv_ca_made_clear(&root);
    srv_ca_made_clear(&inter);
    return rc;
}
