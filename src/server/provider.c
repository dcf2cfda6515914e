/* provider.c - the provider registry and the built-in provider, which is
 * the signer process (provider.h). */
#include <string.h>

#include "provider.h"

static int b_gen_root(void *ctx, const struct srv_ca_req *req, struct srv_ca_made *out,
                      struct pki_err *err)
{
    return srv_signer_gen_root(ctx, req, out, err);
}

static int b_gen_intermediate(void *ctx, const char *parent_key_id, const unsigned char *parent,
                              size_t parent_len, const struct srv_ca_req *req,
                              struct srv_ca_made *out, struct pki_err *err)
{
    return srv_signer_gen_intermediate(ctx, parent_key_id, parent, parent_len, req, out, err);
}

static int b_import_root(void *ctx, const unsigned char *key_der, size_t key_len,
                         const unsigned char *cert_der, size_t cert_len, struct srv_ca_made *out,
                         struct pki_err *err)
{
    return srv_signer_import_root(ctx, key_der, key_len, cert_der, cert_len, out, err);
}

static int b_cross_sign(void *ctx, const char *signing_key_id, const unsigned char *signing,
                        size_t signing_len, const unsigned char *cert, size_t cert_len,
                        time_t now, struct pki_buf *out, struct pki_err *err)
{
    return srv_signer_cross_sign(ctx, signing_key_id, signing, signing_len, cert, cert_len, now,
                                 out, err);
}

static int b_load_key(void *ctx, const char *key_id, const unsigned char *wrapped, size_t len,
                      struct pki_err *err)
{
    return srv_signer_load_key(ctx, key_id, wrapped, len, err);
}

static int b_set_issuer(void *ctx, const char *key_id, const unsigned char *cert, size_t len,
                        int64_t max_leaf_ttl, const char *trust_domain, struct pki_err *err)
{
    return srv_signer_set_issuer(ctx, key_id, cert, len, max_leaf_ttl, trust_domain, err);
}

static int b_issue(void *ctx, const struct pki_leaf_req *req, struct pki_buf *der,
                   unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err)
{
    return srv_signer_issue(ctx, req, der, serial, err);
}

static int b_issue_send(void *ctx, const struct pki_leaf_req *req, struct pki_err *err)
{
    return srv_signer_issue_send(ctx, req, err);
}

static int b_issue_recv(void *ctx, int wait, struct pki_buf *der,
                        unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err)
{
    return srv_signer_issue_recv(ctx, wait, der, serial, err);
}

static const struct srv_provider_ops builtin = {
    .name = "consul",
    .gen_root = b_gen_root,
    .gen_intermediate = b_gen_intermediate,
    .import_root = b_import_root,
    .cross_sign = b_cross_sign,
    .load_key = b_load_key,
    .set_issuer = b_set_issuer,
    .issue = b_issue,
    .issue_send = b_issue_send,
    .issue_recv = b_issue_recv,
};

int srv_provider_get(const char *name, struct srv_signer *signer, struct srv_provider *out,
                     struct pki_err *err)
{
    if (strcmp(name, builtin.name) != 0)
        return pki_err_set(err, PKI_ERR_INPUT, "provider \"%.40s\" is not available; this "
                           "server has \"consul\" (the built-in CA)", name);
    out->ops = &builtin;
    out->ctx = signer;
    return 0;
}

int srv_provider_can_cross_sign(const struct srv_provider *p)
{
    return p->ops->cross_sign != NULL;
}
