/* castate.c - the roots and the configuration, cached from the store; the
 * signer's loaded keys and issuer; ca.pem; pruning of old roots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"
#include "fsio.h"
#include "leaf.h"
#include "pem.h"
#include "server.h"

const struct store_root *srv_active_root(const struct srv *s)
{
    return s->roots.n > 0 && s->roots.v[0].active ? &s->roots.v[0] : NULL;
}

void srv_ca_names(const struct srv *s, time_t now, char root_cn[64], char int_cn[64])
{
    /* A new subject per root: a peer holding both roots never confuses
     * them, and the names say which cluster and when. */
    snprintf(root_cn, 64, "pkictl Root CA %.8s %lld", s->meta.cluster_id, (long long)now);
    snprintf(int_cn, 64, "pkictl Signing CA %.8s %lld", s->meta.cluster_id, (long long)now);
}

static uint64_t serial_u64(X509 *x)
{
    const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
    const unsigned char *p = ASN1_STRING_get0_data(ai);
    int len = ASN1_STRING_length(ai), i;
    uint64_t v = 0;

    /* Consul's SerialNumber is a uint64: the low 64 bits of our serial. */
    for (i = len > 8 ? len - 8 : 0; i < len; i++)
        v = (v << 8) | p[i];
    return v;
}

static int fill_root_cert(const struct srv_ca_made *root, struct store_root *out,
                          struct pki_err *err)
{
    const unsigned char *p = root->cert.data;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    X509 *x = d2i_X509(NULL, &p, (long)root->cert.len);
    time_t nb, na;
    int rc;

    if (x == NULL)
        return pki_err_set_ssl(err, PKI_ERR_INTERNAL, "the signer's root does not parse");
    /* Consul's root ID: the SHA-1 fingerprint of the certificate. */
    rc = X509_digest(x, EVP_sha1(), md, &mdlen) == 1 ? 0
         : pki_err_set_ssl(err, PKI_ERR_CRYPTO, "root fingerprint");
    if (rc == 0)
        rc = pki_cert_validity(x, &nb, &na, err);
    if (rc == 0) {
        pki_hex_colon(md, mdlen, out->id);
        out->serial = serial_u64(x);
        out->not_before = nb;
        out->not_after = na;
    }
    X509_free(x);
    return rc;
}

int srv_root_row(const struct srv_ca_made *root, const struct srv_ca_made *inter,
                 const struct pki_buf *cross, const struct pki_key_spec *spec,
                 struct store_root *out, struct pki_err *err)
{
    struct pki_buf pem = {0}, ints = {0};
    static const char *types[] = {"rsa", "ec", "ed25519"};
    int rc;

    memset(out, 0, sizeof(*out));
    rc = fill_root_cert(root, out, err);
    if (rc == 0)
        rc = pki_pem_encode("CERTIFICATE", root->cert.data, root->cert.len, &pem, err);
    if (rc == 0)
        rc = pki_pem_encode("CERTIFICATE", inter->cert.data, inter->cert.len, &ints, err);
    if (rc == 0 && cross != NULL && cross->len > 0)
        rc = pki_pem_encode("CERTIFICATE", cross->data, cross->len, &ints, err);
    if (rc == 0 && (pki_buf_append(&pem, "", 1, err) != 0 || pki_buf_append(&ints, "", 1, err) != 0))
        rc = err->code;
    if (rc == 0) {
        snprintf(out->name, sizeof(out->name), "pkictl CA Primary Cert");
        snprintf(out->root_key_id, sizeof(out->root_key_id), "%s", root->key_id);
        snprintf(out->signing_key_id, sizeof(out->signing_key_id), "%s", inter->key_id);
        out->root_pem = (char *)pem.data;
        out->intermediates_pem = (char *)ints.data;
        pem = (struct pki_buf){0};
        ints = (struct pki_buf){0};
        rc = pki_buf_set(&out->root_key, root->wrapped_key.data, root->wrapped_key.len, err);
    }
    if (rc == 0)
        rc = pki_buf_set(&out->signing_key, inter->wrapped_key.data, inter->wrapped_key.len, err);
    if (rc == 0) {
        snprintf(out->key_type, sizeof(out->key_type), "%s", types[spec->type]);
        out->key_bits = spec->type == PKI_KEY_ED25519 ? 256 : spec->bits;
        out->active = 1;
    }
    pki_buf_free(&pem);
    pki_buf_free(&ints);
    if (rc != 0)
        store_root_clear(out);
    return rc;
}

static int load_config(struct srv *s, struct pki_err *err)
{
    struct store_config sc = {0};
    struct srv_ca_config cfg;
    int rc;

    rc = store_config_get(s->store, &sc, err);
    if (rc == 0)
        rc = srv_ca_config_parse(sc.json, strlen(sc.json), &cfg, err);
    if (rc == 0) {
        cfg.create_index = sc.create_index;
        cfg.modify_index = sc.modify_index;
        srv_ca_config_clear(&s->config);
        s->config = cfg;
        srv_shared_rate_set(s->shared, cfg.csr_max_per_second, srv_monotonic_ms());
    } else {
        pki_err_prefix(err, "stored CA configuration");
    }
    store_config_clear(&sc);
    return rc;
}

/* A root with name constraints is kept, for the sign endpoint to check a
 * CSR's DNS names against them. Every root pkictl makes has one (the trust
 * domain's URI), which no DNS name fails; only a supplied root can refuse
 * one. Requests without DNS SANs skip the check. */
static int load_root_nc(struct srv *s, const struct store_root *r, struct pki_err *err)
{
    STACK_OF(X509) *roots = pki_pem_read_certs((const unsigned char *)r->root_pem,
                                               strlen(r->root_pem), err);
    X509 *root;

    if (roots == NULL)
        return err->code;
    root = sk_X509_value(roots, 0);
    X509_free(s->root_nc);
    s->root_nc = NULL;
    if (X509_get_ext_by_NID(root, NID_name_constraints, -1) >= 0 && X509_up_ref(root) == 1)
        s->root_nc = root;
    pki_certs_free(roots);
    return PKI_OK;
}

/* The active root's signing intermediate becomes the signer's issuer. */
static int load_issuer(struct srv *s, const struct store_root *r, struct pki_err *err)
{
    STACK_OF(X509) *ints = NULL;
    unsigned char *der = NULL;
    int len, rc;

    ints = pki_pem_read_certs((const unsigned char *)r->intermediates_pem,
                              strlen(r->intermediates_pem), err);
    if (ints == NULL)
        return err->code;
    rc = s->prov.ops->load_key(s->prov.ctx, r->signing_key_id, r->signing_key.data,
                             r->signing_key.len, err);
    if (rc == 0 && r->root_key.len > 0)
        rc = s->prov.ops->load_key(s->prov.ctx, r->root_key_id, r->root_key.data, r->root_key.len,
                                 err);
    len = rc == 0 ? i2d_X509(sk_X509_value(ints, 0), &der) : 0;
    if (rc == 0 && len <= 0)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot encode the intermediate");
    if (rc == 0)
        rc = s->prov.ops->set_issuer(s->prov.ctx, r->signing_key_id, der, (size_t)len,
                                   s->config.leaf_ttl, s->meta.trust_domain, err);
    if (rc == 0)
        rc = pki_cert_validity(sk_X509_value(ints, 0), &s->signing_not_before,
                               &s->signing_not_after, err);
    if (rc == 0)
        rc = load_root_nc(s, r, err);
    if (rc == 0) {
        X509_free(s->signing_cert);
        s->signing_cert = X509_dup(sk_X509_value(ints, 0));
        free(s->leaf_chain_pem);
        free(s->leaf_chain_json);
        s->leaf_chain_pem = strdup(r->intermediates_pem);
        s->leaf_chain_json = srv_leaf_json_escape(r->intermediates_pem);
        s->root_not_after = r->not_after;
        if (s->signing_cert == NULL || s->leaf_chain_pem == NULL || s->leaf_chain_json == NULL)
            rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    OPENSSL_free(der);
    pki_certs_free(ints);
    return rc;
}

int srv_state_load(struct srv *s, struct pki_err *err)
{
    struct store_roots roots = {0};
    int rc;

    /* Leaves in flight were signed under the state being replaced: they are
     * answered with its chain. */
    srv_leaf_complete(s, 1);

    rc = store_meta_get(s->store, &s->meta, err);
    if (rc == 0)
        rc = load_config(s, err);
    if (rc == 0)
        rc = store_roots_list(s->store, &roots, err);
    if (rc == 0 && (roots.n == 0 || !roots.v[0].active))
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "the store has no active root");
    if (rc == 0)
        rc = load_issuer(s, &roots.v[0], err);
    if (rc == 0) {
        store_roots_clear(&s->roots);
        s->roots = roots;
        roots = (struct store_roots){0};
    }
    store_roots_clear(&roots);
    srv_token_cache_clear(s); /* whatever changed the store may have been a token */
    return rc;
}

void srv_state_follow(struct srv *s)
{
    struct pki_err err = {0};
    int changed = 0;

    if (store_changed(s->store, &changed, &err) == 0 && changed &&
        srv_state_load(s, &err) != 0)
        fprintf(stderr, "pkictl server: reloading the store: %s\n", err.msg);
}

int srv_state_write_ca_pem(struct srv *s, struct pki_err *err)
{
    struct pki_buf b = {0};
    size_t i;
    int rc = 0;

    for (i = 0; i < s->roots.n && rc == 0; i++)
        rc = pki_buf_append(&b, s->roots.v[i].root_pem, strlen(s->roots.v[i].root_pem), err);
    if (rc == 0)
        rc = srv_write_file(s, "ca.pem", &b, err);
    pki_buf_free(&b);
    return rc;
}

/* An old root goes once every leaf it signed has expired: leaves live at
 * most LeafCertTTL, and twice that leaves room for clock skew and for a
 * leaf fetched just before the rotation. */
void srv_state_prune(struct srv *s)
{
    struct pki_err err = {0};
    time_t now = srv_now();
    int pruned = 0;
    size_t i;

    for (i = 0; i < s->roots.n; i++) {
        const struct store_root *r = &s->roots.v[i];

        if (r->active || now <= r->rotated_out_at + 2 * s->config.leaf_ttl)
            continue;
        if (store_root_delete(s->store, r->id, &err) != 0) {
            fprintf(stderr, "pkictl server: pruning root %s: %s\n", r->id, err.msg);
            continue;
        }
        srv_audit(s, "root.prune", json_pack("{s:s,s:I}", "root_id", r->id, "rotated_out_at",
                                             (json_int_t)r->rotated_out_at));
        pruned++;
    }
    if (pruned > 0 && (srv_state_load(s, &err) != 0 || srv_state_write_ca_pem(s, &err) != 0))
        fprintf(stderr, "pkictl server: after pruning: %s\n", err.msg);
}

char *srv_config_store_text(const struct srv_ca_config *cfg)
{
    struct srv_ca_config copy = *cfg;
    json_t *doc;
    char *text;

    copy.root_cert_pem = NULL;
    copy.private_key_pem = NULL;
    doc = srv_ca_config_to_json(&copy, 0);
    text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return text;
}
