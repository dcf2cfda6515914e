/* bootstrap.c - the server's first start (a cluster id, a trust domain, a
 * root and an intermediate, the first operator token: one store
 * transaction) and the API's own TLS certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cert.h"
#include "fsio.h"
#include "name.h"
#include "pem.h"
#include "server.h"
#include "spiffe.h"

static int bootstrap_meta(struct srv *s, struct store_meta *m, struct pki_err *err)
{
    const char *domain = s->opt->domain != NULL ? s->opt->domain : "consul";
    const char *dc = s->opt->datacenter != NULL ? s->opt->datacenter : "dc1";

    memset(m, 0, sizeof(*m));
    if (pki_label_check("datacenter", dc, err) != 0 || pki_uuid_random(m->cluster_id, err) != 0)
        return err->code;
    if (strlen(domain) > 200)
        return pki_err_set(err, PKI_ERR_INPUT, "--domain is too long");
    snprintf(m->trust_domain, sizeof(m->trust_domain), "%.36s.%.200s", m->cluster_id, domain);
    if (pki_trust_domain_check(m->trust_domain, err) != 0) {
        pki_err_prefix(err, "--domain");
        return err->code;
    }
    snprintf(m->datacenter, sizeof(m->datacenter), "%s", dc);
    m->created = srv_now();
    return 0;
}

/* Flags that apply at bootstrap are checked before anything touches the
 * disk, so a typo leaves no half-made data dir behind. Key sizes follow
 * Consul's rules (docs/server.md "Configuration"). */
int srv_options_check(const struct srv_options *o, struct pki_key_spec *spec,
                      struct pki_err *err)
{
    const char *type = o->key_type;
    char bits[16] = "";

    if (o->domain != NULL && (strlen(o->domain) > 200 ||
                              pki_trust_domain_check(o->domain, err) != 0)) {
        pki_err_set(err, PKI_ERR_INPUT, "--domain=\"%.200s\" is not a DNS name", o->domain);
        return err->code;
    }
    if (o->datacenter != NULL && pki_label_check("--datacenter", o->datacenter, err) != 0)
        return err->code;
    if (type == NULL)
        return 0;
    if (strcmp(type, "ec") == 0)
        type = "ecdsa";
    if (o->key_bits > 0)
        snprintf(bits, sizeof(bits), "%d", o->key_bits);
    if (pki_key_spec_parse(type, bits[0] != '\0' ? bits : NULL, spec, err) != 0)
        return err->code;
    if (spec->type == PKI_KEY_RSA && spec->bits != 2048 && spec->bits != 4096)
        return pki_err_set(err, PKI_ERR_INPUT, "--key-bits=%d: RSA keys are 2048 or 4096 bits",
                           spec->bits);
    return 0;
}

/* The operator token file is written before the store commits: a crash in
 * between leaves a token file for a store that was never bootstrapped, and
 * the next start replaces it. After the commit it is never rewritten. */
static int operator_token(struct srv *s, struct store_token *tok, struct pki_err *err)
{
    char secret[PKI_UUID_LEN + 2], path[SRV_PATH_MAX];
    struct pki_buf b = {0};
    struct fs_file f = {0};
    int rc;

    memset(tok, 0, sizeof(*tok));
    if (pki_uuid_random(secret, err) != 0 || pki_uuid_random(tok->accessor, err) != 0 ||
        srv_path(s, "operator.token", path, sizeof(path), err) != 0)
        return err->code;
    pki_token_hash(NULL, secret, tok->secret_hash);
    tok->policy = strdup("operator");
    tok->description = strdup("bootstrap operator token");
    tok->created = srv_now();
    strcat(secret, "\n");
    rc = pki_buf_set(&b, secret, strlen(secret), err);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc == 0 && (tok->policy == NULL || tok->description == NULL))
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    if (rc == 0) {
        f.path = path;
        f.data = &b;
        f.secret = 1;
        f.replace = 1;
        rc = fs_write_atomic(&f, err);
    }
    pki_buf_free(&b);
    return rc;
}

static int make_cas(struct srv *s, const struct store_meta *m, struct srv_ca_made *root,
                    struct srv_ca_made *inter, struct pki_err *err)
{
    struct srv_ca_req req = {0};
    char root_cn[64], int_cn[64];
    time_t now = srv_now();

    srv_ca_names(s, now, root_cn, int_cn);
    req.spec = s->config.spec;
    req.trust_domain = m->trust_domain;
    req.now = now;
    req.common_name = root_cn;
    req.ttl = s->config.root_ttl;
    if (s->prov.ops->gen_root(s->prov.ctx, &req, root, err) != 0)
        return err->code;
    req.common_name = int_cn;
    req.ttl = s->config.intermediate_ttl;
    return s->prov.ops->gen_intermediate(s->prov.ctx, root->key_id, root->cert.data, root->cert.len,
                                       &req, inter, err);
}

int srv_bootstrap(struct srv *s, struct pki_err *err)
{
    struct srv_ca_made root = {0}, inter = {0};
    struct store_root row = {0};
    struct store_token tok = {0};
    struct store_meta m;
    char *cfg_text = NULL;
    int rc;

    rc = bootstrap_meta(s, &m, err);
    if (rc == 0)
        rc = srv_options_check(s->opt, &s->config.spec, err);
    if (rc == 0) {
        memcpy(&s->meta, &m, sizeof(m)); /* srv_ca_names uses the cluster id */
        rc = make_cas(s, &m, &root, &inter, err);
    }
    if (rc == 0)
        rc = srv_root_row(&root, &inter, NULL, &s->config.spec, &row, err);
    if (rc == 0)
        rc = operator_token(s, &tok, err);
    if (rc == 0) {
        cfg_text = srv_config_store_text(&s->config);
        if (cfg_text == NULL)
            rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    }
    if (rc == 0)
        rc = store_bootstrap(s->store, &m, cfg_text, &row, &tok, err);
    if (rc == 0) {
        srv_audit(s, "bootstrap", json_pack("{s:s,s:s,s:s}", "cluster_id", m.cluster_id,
                                            "trust_domain", m.trust_domain, "root_id", row.id));
        srv_audit(s, "token.create", json_pack("{s:s,s:s,s:s}", "accessor", tok.accessor,
                                               "policy", "operator", "by", "bootstrap"));
    }
    free(cfg_text);
    store_root_clear(&row);
    store_token_clear(&tok);
    srv_ca_made_clear(&root);
    srv_ca_made_clear(&inter);
    return rc;
}

/* ---- the API's own certificate ---- */

static int tls_current_ok(struct srv *s, const char *crt_path)
{
    struct pki_err err = {0};
    struct pki_buf pem = {0};
    STACK_OF(X509) *certs = NULL;
    X509 *leaf;
    time_t nb, na, now = srv_now();
    int ok = 0;

    if (fs_read_file(crt_path, PKI_PEM_FILE_MAX, &pem, NULL, &err) != 0)
        return 0;
    certs = pki_pem_read_certs(pem.data, pem.len, &err);
    if (certs != NULL && sk_X509_num(certs) > 0) {
        leaf = sk_X509_value(certs, 0);
        /* Issued by the active intermediate, and more than a third of its
         * life left: renewed well before any client sees it expire. */
        ok = X509_verify(leaf, X509_get0_pubkey(s->signing_cert)) == 1 &&
             pki_cert_validity(leaf, &nb, &na, &err) == 0 && now >= nb &&
             (na - now) * 3 > (na - nb);
    }
    pki_certs_free(certs);
    pki_buf_free(&pem);
    return ok;
}

int srv_advertise_names(const struct srv *s, struct pki_host hosts[SRV_ADVERTISE_MAX],
                        size_t *n, struct pki_err *err)
{
    const char *list = s->opt->advertise != NULL ? s->opt->advertise : "localhost,127.0.0.1,::1";
    char buf[1024], *save = NULL, *tok;

    if (strlen(list) >= sizeof(buf))
        return pki_err_set(err, PKI_ERR_INPUT, "--advertise is too long");
    snprintf(buf, sizeof(buf), "%s", list);
    *n = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (*n == SRV_ADVERTISE_MAX)
            return pki_err_set(err, PKI_ERR_INPUT, "--advertise: at most %d names",
                               SRV_ADVERTISE_MAX);
        if (pki_host_parse(tok, &hosts[*n], err) != 0) {
            pki_err_prefix(err, "--advertise");
            return err->code;
        }
        (*n)++;
    }
    return 0;
}

static int tls_issue(struct srv *s, EVP_PKEY *key, struct pki_buf *chain, struct pki_err *err)
{
    struct pki_host hosts[SRV_ADVERTISE_MAX];
    const char *dns[SRV_ADVERTISE_MAX];
    unsigned char ips[SRV_ADVERTISE_MAX][16], serial[PKI_LEAF_SERIAL_LEN];
    size_t ip_lens[SRV_ADVERTISE_MAX], nhosts = 0, i;
    struct pki_leaf_req req = {0};
    unsigned char *spki = NULL;
    struct pki_buf der = {0};
    time_t now = srv_now();
    int len, rc;

    if (srv_advertise_names(s, hosts, &nhosts, err) != 0)
        return err->code;
    for (i = 0; i < nhosts; i++) {
        if (hosts[i].kind == PKI_HOST_DNS) {
            dns[req.ndns++] = hosts[i].text;
        } else {
            memcpy(ips[req.nips], hosts[i].ip, hosts[i].ip_len);
            ip_lens[req.nips++] = hosts[i].ip_len;
        }
    }
    len = i2d_PUBKEY(key, &spki);
    if (len <= 0)
        return pki_err_set_ssl(err, PKI_ERR_CRYPTO, "cannot encode the API key");
    req.profile = PKI_LEAF_SERVER_TLS;
    req.spki = spki;
    req.spki_len = (size_t)len;
    req.common_name = "pkictl server";
    req.dns = dns;
    req.ips = (const unsigned char(*)[16])ips;
    req.ip_lens = ip_lens;
    req.not_before = now - 60;
    req.not_after = now + s->config.leaf_ttl;
    if (req.not_after > s->signing_not_after)
        req.not_after = s->signing_not_after;
    /* Never before the issuer's own start (a clock stepped back). */
    if (req.not_before < s->signing_not_before)
        req.not_before = s->signing_not_before;
    rc = s->prov.ops->issue(s->prov.ctx, &req, &der, serial, err);
    if (rc == 0)
        rc = pki_pem_encode("CERTIFICATE", der.data, der.len, chain, err);
    if (rc == 0)
        rc = pki_buf_append(chain, s->leaf_chain_pem, strlen(s->leaf_chain_pem), err);
    OPENSSL_free(spki);
    pki_buf_free(&der);
    return rc;
}

int srv_tls_refresh(struct srv *s, int force, struct pki_err *err)
{
    static const struct pki_key_spec p256 = {PKI_KEY_ECDSA, 256};
    char crt[SRV_PATH_MAX], key_path[SRV_PATH_MAX];
    struct pki_buf chain = {0}, key_pem = {0};
    struct fs_file files[2] = {{0}, {0}};
    EVP_PKEY *key = NULL;
    int rc;

    if (srv_path(s, SRV_TLS_CRT, crt, sizeof(crt), err) != 0 ||
        srv_path(s, SRV_TLS_KEY, key_path, sizeof(key_path), err) != 0)
        return err->code;
    if (!force && fs_exists(key_path) && tls_current_ok(s, crt))
        return 0;
    key = pki_key_generate(&p256, err);
    rc = key == NULL ? err->code : tls_issue(s, key, &chain, err);
    if (rc == 0)
        rc = pki_key_to_pem(key, &key_pem, err);
    if (rc == 0) {
        files[0] = (struct fs_file){.path = key_path, .data = &key_pem, .secret = 1, .replace = 1};
        files[1] = (struct fs_file){.path = crt, .data = &chain, .replace = 1};
        rc = fs_write_all(files, 2, err);
    }
    EVP_PKEY_free(key);
    pki_buf_free(&key_pem);
    pki_buf_free(&chain);
    return rc;
}
