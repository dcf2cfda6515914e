/*
 * signer_child.h - the signer process's state and its request handler
 * (internal to signer_child.c and signer_ops.c).
 */
#ifndef SRV_SIGNER_CHILD_H
#define SRV_SIGNER_CHILD_H

#include <stdint.h>

#include "keywrap.h"
#include "leaf.h"
#include "signer.h"
#include "signer_proto.h"
#include "spiffe.h"

/* Loaded CA keys: a few roots and intermediates across rotations. The
 * least recently used one makes room for a new one. */
#define SRV__KEYS_MAX 16

struct srv__child_key {
    char id[SRV_KEY_ID_MAX];
    EVP_PKEY *key; /* NULL: a free slot */
    uint64_t used;
};

struct srv__child {
    int rfd, wfd; /* requests in, replies out: 3 and 4 */
    unsigned char store_key[PKI_STORE_KEY_LEN];
    struct srv__child_key keys[SRV__KEYS_MAX];
    uint64_t tick;
    struct pki_leaf_issuer *issuer; /* NULL until SET_ISSUER */
    int64_t max_leaf_ttl;
    char td[PKI_TRUST_DOMAIN_MAX + 1];
    struct srv__in in;  /* requests, read ahead */
    unsigned char *out; /* SRV__MSG_MAX */
};

/* Handles one request of len bytes. On success *reply (built in c->out)
 * is the answer; on failure err says why. *op is the request's op. */
PKI_MUST_CHECK int srv__child_handle(struct srv__child *c, const unsigned char *req, size_t len,
                                     struct srv__msg *reply, int32_t *op, struct pki_err *err);

#endif
