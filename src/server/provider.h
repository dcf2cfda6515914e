/*
 * provider.h - where CA keys live and who signs: the layer under rotation
 * and issuance (docs/server.md, "Rotation"). The front end calls only these
 * functions; a provider decides how the work is done.
 *
 *   "consul"  the built-in provider: keys generated and wrapped by the
 *             signer process (signer.h), stored in our store. The name is
 *             Consul's, so that Consul's tools and configs work unchanged.
 *
 * Planned: Vault's PKI engine (keys stay in Vault; gen_* and issue become
 * API calls), a PKCS#11 token (keys stay in the token; the signer process
 * holds a session instead of wrapped keys). A provider that cannot
 * cross-sign sets cross_sign to NULL and a rotation then needs
 * ForceWithoutCrossSigning.
 */
#ifndef SRV_PROVIDER_H
#define SRV_PROVIDER_H

#include "signer.h"

struct srv_provider_ops {
    const char *name;
    int (*gen_root)(void *ctx, const struct srv_ca_req *req, struct srv_ca_made *out,
                    struct pki_err *err);
    int (*gen_intermediate)(void *ctx, const char *parent_key_id, const unsigned char *parent,
                            size_t parent_len, const struct srv_ca_req *req,
                            struct srv_ca_made *out, struct pki_err *err);
    int (*import_root)(void *ctx, const unsigned char *key_der, size_t key_len,
                       const unsigned char *cert_der, size_t cert_len, struct srv_ca_made *out,
                       struct pki_err *err);
    int (*cross_sign)(void *ctx, const char *signing_key_id, const unsigned char *signing,
                      size_t signing_len, const unsigned char *cert, size_t cert_len, time_t now,
                      struct pki_buf *out, struct pki_err *err);
    int (*load_key)(void *ctx, const char *key_id, const unsigned char *wrapped, size_t len,
                    struct pki_err *err);
    int (*set_issuer)(void *ctx, const char *key_id, const unsigned char *cert, size_t len,
                      int64_t max_leaf_ttl, const char *trust_domain, struct pki_err *err);
    int (*issue)(void *ctx, const struct pki_leaf_req *req, struct pki_buf *der,
                 unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err);
    /* Pipelined issue (signer.h, srv_signer_issue_send/_recv); NULL when the
     * provider cannot: the front end then calls issue. */
    int (*issue_send)(void *ctx, const struct pki_leaf_req *req, struct pki_err *err);
    int (*issue_recv)(void *ctx, int wait, struct pki_buf *der,
                      unsigned char serial[PKI_LEAF_SERIAL_LEN], struct pki_err *err);
};

struct srv_provider {
    const struct srv_provider_ops *ops;
    void *ctx;
};

/* The provider named name ("consul") over signer; PKI_ERR_INPUT with the
 * list of providers for an unknown name. */
PKI_MUST_CHECK int srv_provider_get(const char *name, struct srv_signer *signer,
                                    struct srv_provider *out, struct pki_err *err);

/* 1 if the provider can cross-sign (a rotation without
 * ForceWithoutCrossSigning needs it). */
int srv_provider_can_cross_sign(const struct srv_provider *p);

#endif
