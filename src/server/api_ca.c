/* api_ca.c - GET /v1/connect/ca/roots and the CA configuration
 * (docs/server.md, "Roots", "Configuration"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "leaf.h"
#include "pem.h"
#include "server.h"

/* The PEM certificates of a bundle, one string each. */
static json_t *pem_list(const char *bundle)
{
    static const char end[] = "-----END CERTIFICATE-----";
    json_t *arr = json_array();
    const char *p = bundle, *e;

    while (arr != NULL && (e = strstr(p, end)) != NULL) {
        e += strlen(end);
        if (*e == '\n')
            e++;
        while (*p == '\n')
            p++;
        json_array_append_new(arr, json_stringn(p, (size_t)(e - p)));
        p = e;
    }
    return arr;
}

static json_t *root_json(const struct store_root *r)
{
    char nb[32], na[32], out[32];

    srv_time_rfc3339(r->not_before, nb);
    srv_time_rfc3339(r->not_after, na);
    srv_time_rfc3339(r->rotated_out_at, out);
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:o,s:b,s:s,s:s,s:i,s:I,s:I}",
                     "ID", r->id, "Name", r->name, "SerialNumber", (json_int_t)r->serial,
                     "SigningKeyID", r->signing_key_id, "NotBefore", nb, "NotAfter", na,
                     "RootCert", r->root_pem, "IntermediateCerts",
                     pem_list(r->intermediates_pem), "Active", r->active, "RotatedOutAt", out,
                     "PrivateKeyType", r->key_type, "PrivateKeyBits", r->key_bits,
                     "CreateIndex", (json_int_t)r->create_index, "ModifyIndex",
                     (json_int_t)r->modify_index);
}

static void roots_pem(struct srv *s, struct srv_resp *resp)
{
    struct pki_err err = {0};
    size_t i;

    pki_buf_free(&resp->body);
    for (i = 0; i < s->roots.n; i++) {
        if (pki_buf_append(&resp->body, s->roots.v[i].root_pem,
                           strlen(s->roots.v[i].root_pem), &err) != 0) {
            srv_resp_error(resp, 500, err.msg);
            return;
        }
    }
    resp->status = 200;
    resp->content_type = "application/pem-certificate-chain";
}

void srv_api_roots(struct srv *s, const struct srv_http_req *req, struct srv_resp *resp)
{
    const struct store_root *active;
    json_t *list, *doc;
    char pem[8] = "";
    size_t i;

    srv_state_prune(s);
    active = srv_active_root(s);
    if (srv_http_query_get(req->query, "pem", pem, sizeof(pem)) == 1 && strcmp(pem, "true") == 0) {
        roots_pem(s, resp);
        return;
    }
    list = json_array();
    for (i = 0; list != NULL && i < s->roots.n; i++)
        json_array_append_new(list, root_json(&s->roots.v[i]));
    doc = json_pack("{s:s,s:s,s:o}", "ActiveRootID", active != NULL ? active->id : "",
                    "TrustDomain", s->meta.trust_domain, "Roots", list);
    srv_resp_json(resp, 200, doc);
}

static void config_get(struct srv *s, struct srv_resp *resp)
{
    json_t *doc = srv_ca_config_to_json(&s->config, 0);

    if (doc != NULL) {
        json_object_set_new(doc, "CreateIndex", json_integer((json_int_t)s->config.create_index));
        json_object_set_new(doc, "ModifyIndex", json_integer((json_int_t)s->config.modify_index));
    }
    srv_resp_json(resp, 200, doc);
}

/* A change that keeps the root: one store write, then the cache and the
 * signer's issuer policy (the leaf TTL may have changed) reload. */
static int config_store(struct srv *s, const struct srv_ca_config *cfg, struct pki_err *err)
{
    char *text = srv_config_store_text(cfg);
    uint64_t index;
    int rc;

    if (text == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    rc = store_config_set(s->store, text, &index, err);
    free(text);
    return rc != 0 ? rc : srv_state_load(s, err);
}

/* A PUT that carries the active root again (a GET of the whole state fed
 * back, or a retried request) is not a new root: no second rotation. */
static void drop_same_root(struct srv *s, struct srv_ca_config *cfg)
{
    const struct store_root *active = srv_active_root(s);
    STACK_OF(X509) *certs;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char id[EVP_MAX_MD_SIZE * 3];
    struct pki_err err = {0};

    if (cfg->root_cert_pem == NULL || active == NULL)
        return;
    certs = pki_pem_read_certs((const unsigned char *)cfg->root_cert_pem,
                               strlen(cfg->root_cert_pem), &err);
    if (certs != NULL && X509_digest(sk_X509_value(certs, 0), EVP_sha1(), md, &mdlen) == 1) {
        pki_hex_colon(md, mdlen, id);
        if (strcmp(id, active->id) == 0) {
            free(cfg->root_cert_pem);
            cfg->root_cert_pem = NULL;
            if (cfg->private_key_pem != NULL)
                OPENSSL_cleanse(cfg->private_key_pem, strlen(cfg->private_key_pem));
            free(cfg->private_key_pem);
            cfg->private_key_pem = NULL;
        }
    }
    pki_certs_free(certs);
}

static void config_put(struct srv *s, const struct srv_http_req *req, const char *accessor,
                       struct srv_resp *resp)
{
    struct srv_ca_config cfg;
    struct pki_err err = {0};
    const char *warning = NULL;
    int rotate, rc;

    if (req->body == NULL || req->body_len == 0) {
        srv_resp_error(resp, 400, "the request has no body: send the configuration as JSON");
        return;
    }
    if (srv_ca_config_parse((const char *)req->body, req->body_len, &cfg, &err) != 0) {
        srv_resp_error(resp, 400, err.msg);
        return;
    }
    drop_same_root(s, &cfg);
    rotate = srv_ca_config_needs_rotation(&s->config, &cfg);
    rc = rotate ? srv_rotate(s, &cfg, &warning, &err) : config_store(s, &cfg, &err);
    if (rc != 0) {
        srv_resp_fail(s, resp, &err);
    } else {
        srv_audit(s, "config.change", json_pack("{s:s,s:b,s:I}", "accessor", accessor,
                                                "rotation", rotate, "modify_index",
                                                (json_int_t)s->config.modify_index));
        srv_resp_json(resp, 200, warning != NULL ? json_pack("{s:s}", "Warning", warning)
                                                 : json_object());
    }
    srv_ca_config_clear(&cfg);
}

void srv_api_config(struct srv *s, const struct srv_http_req *req, const char *accessor,
                    struct srv_resp *resp)
{
    if (req->method == SRV_HTTP_PUT)
        config_put(s, req, accessor, resp);
    else
        config_get(s, resp);
}
