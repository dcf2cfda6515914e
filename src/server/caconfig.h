/*
 * caconfig.h - the CA configuration in Consul's shape (docs/server.md):
 * parse and validate a PUT body, render for GET and for the store, and say
 * whether a change needs a root rotation.
 */
#ifndef SRV_CACONFIG_H
#define SRV_CACONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "key.h"

#define SRV_CONFIG_BODY_MAX (64 * 1024)

struct srv_ca_config {
    char provider[16];         /* "consul" */
    int64_t leaf_ttl;          /* seconds; default 72h */
    int64_t intermediate_ttl;  /* default 8760h */
    int64_t root_ttl;          /* default 87600h */
    struct pki_key_spec spec;  /* default ec 256 */
    double csr_max_per_second; /* default 50; 0 = unlimited */
    int force_without_cross_signing;
    char *root_cert_pem;       /* supplied root, or NULL */
    char *private_key_pem;     /* its key, or NULL; wiped on clear */
    uint64_t create_index, modify_index;
};

/* Defaults as above, no supplied root. */
void srv_ca_config_default(struct srv_ca_config *c);
void srv_ca_config_clear(struct srv_ca_config *c);

/* Parses a PUT body (or the stored JSON) of len bytes: unknown fields,
 * wrong types, bad durations and every rule of docs/server.md refused with
 * one message naming the field. Indexes in the body are ignored. */
PKI_MUST_CHECK int srv_ca_config_parse(const char *json, size_t len, struct srv_ca_config *out,
                                       struct pki_err *err);

/* The Consul shape. with_secrets: 1 for the store (keeps PrivateKey), 0 for
 * GET (PrivateKey omitted). New reference; NULL only on out of memory. */
json_t *srv_ca_config_to_json(const struct srv_ca_config *c, int with_secrets);

/* 1 if going from old to new needs a new root: provider, key type or bits,
 * or the supplied root changed. */
int srv_ca_config_needs_rotation(const struct srv_ca_config *old,
                                 const struct srv_ca_config *new_cfg);

#endif
