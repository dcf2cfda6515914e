/*
 * store.h - the server's state behind one interface.
 *
 * Callers use the store_* functions; a backend fills struct store_ops
 * (store_sqlite.c today; a distributed SQL backend later). Every function
 * returns 0 or a negative PKI_ERR_* and fills err. Every write happens in one
 * transaction and bumps the store's index (Consul's raft index), which the
 * written rows get as ModifyIndex (and CreateIndex on insert).
 *
 * Strings in the structs below are owned by the struct and freed by the
 * matching *_clear function; out-structs are filled only on success.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define STORE_ID_MAX 128 /* colon-hex SHA-1 (59) or SKI; UUIDs (36) */

struct store_meta {
    char cluster_id[STORE_ID_MAX];   /* UUID */
    char trust_domain[256];          /* <cluster_id>.<domain> */
    char datacenter[64];             /* dc1 */
    int64_t created;                 /* unix seconds */
};

/* The CA configuration as JSON text (src/server/caconfig.c owns its shape;
 * the store keeps it opaque) with its indexes. */
struct store_config {
    char *json;
    uint64_t create_index, modify_index;
};

struct store_root {
    char id[STORE_ID_MAX];             /* SHA-1 fingerprint of root_pem's cert, colon hex */
    char name[128];
    uint64_t serial;                   /* the root's serial (64 bits) */
    char signing_key_id[STORE_ID_MAX]; /* SKI of the intermediate that signs leaves */
    char root_key_id[STORE_ID_MAX];    /* SKI of the root key */
    int64_t not_before, not_after;     /* the root certificate's */
    char *root_pem;                    /* the root certificate */
    char *intermediates_pem;           /* signing intermediate PEM, then cross-signed copies */
    struct pki_buf root_key;           /* wrapped (keywrap.h); empty for a supplied root without key */
    struct pki_buf signing_key;        /* wrapped key of the signing intermediate */
    char key_type[16];                 /* "ec", "rsa", "ed25519" */
    int key_bits;
    int active;                        /* exactly one active root after bootstrap */
    int64_t rotated_out_at;            /* 0 while active */
    uint64_t create_index, modify_index;
};

struct store_token {
    char accessor[STORE_ID_MAX];       /* UUID */
    char secret_hash[65];              /* hex SHA-256 of the SecretID */
    char *policy;                      /* "operator" or "service:a,b" (token.h) */
    char *description;
    int64_t created;
    uint64_t create_index, modify_index;
};

struct store_roots {
    struct store_root *v;
    size_t n;
};

struct store_tokens {
    struct store_token *v;
    size_t n;
};

struct store;

struct store_ops {
    const char *name;
    void (*close)(struct store *s);
    int (*meta_get)(struct store *s, struct store_meta *out, struct pki_err *err);
    int (*bootstrap)(struct store *s, const struct store_meta *meta, const char *config_json,
                     const struct store_root *root, const struct store_token *operator_token,
                     struct pki_err *err);
    int (*config_get)(struct store *s, struct store_config *out, struct pki_err *err);
    int (*config_set)(struct store *s, const char *json, uint64_t *modify_index,
                      struct pki_err *err);
    int (*roots_list)(struct store *s, struct store_roots *out, struct pki_err *err);
    int (*rotate)(struct store *s, const struct store_root *new_root, const char *old_root_id,
                  int64_t rotated_out_at, const char *config_json, struct pki_err *err);
    int (*root_set_intermediates)(struct store *s, const char *root_id,
                                  const char *intermediates_pem, struct pki_err *err);
    int (*root_delete)(struct store *s, const char *root_id, struct pki_err *err);
    int (*token_insert)(struct store *s, struct store_token *tok, struct pki_err *err);
    int (*token_find)(struct store *s, const char *secret_hash, struct store_token *out,
                      struct pki_err *err);
    int (*tokens_list)(struct store *s, struct store_tokens *out, struct pki_err *err);
    int (*token_delete)(struct store *s, const char *accessor, struct pki_err *err);
    int (*audit_checkpoint_get)(struct store *s, uint64_t *seq, char hash[65],
                                struct pki_err *err);
    int (*audit_checkpoint_set)(struct store *s, uint64_t seq, const char *hash,
                                struct pki_err *err);
    int (*changed)(struct store *s, int *changed, struct pki_err *err);
};

struct store {
    const struct store_ops *ops;
    void (*on_write)(void *arg); /* store_on_write */
    void *on_write_arg;
};

/* Opens (creating if absent, mode 0600) the SQLite store at path: WAL,
 * synchronous=FULL, busy timeout 5 s, schema created or checked. */
PKI_MUST_CHECK struct store *store_open_sqlite(const char *path, struct pki_err *err);

void store_close(struct store *s);

/* PKI_ERR_NOTFOUND when the store has not been bootstrapped. */
PKI_MUST_CHECK int store_meta_get(struct store *s, struct store_meta *out, struct pki_err *err);

/* Writes meta, the config, the first (active) root and the first operator
 * token in one transaction. PKI_ERR_EXISTS if the store already has a
 * cluster id: a store is bootstrapped once. Sets the indexes in root/token. */
PKI_MUST_CHECK int store_bootstrap(struct store *s, const struct store_meta *meta,
                                   const char *config_json, const struct store_root *root,
                                   const struct store_token *operator_token,
                                   struct pki_err *err);

PKI_MUST_CHECK int store_config_get(struct store *s, struct store_config *out,
                                    struct pki_err *err);
/* Replaces the config (no rotation); *modify_index gets the new index. */
PKI_MUST_CHECK int store_config_set(struct store *s, const char *json, uint64_t *modify_index,
                                    struct pki_err *err);

/* Every root, the active one first, then by CreateIndex descending. */
PKI_MUST_CHECK int store_roots_list(struct store *s, struct store_roots *out,
                                    struct pki_err *err);

/* One transaction: inserts new_root (active), marks old_root_id inactive
 * with rotated_out_at, stores config_json. PKI_ERR_NOTFOUND if old_root_id
 * is not the active root (a concurrent rotation won), nothing changed. */
PKI_MUST_CHECK int store_rotate(struct store *s, const struct store_root *new_root,
                                const char *old_root_id, int64_t rotated_out_at,
                                const char *config_json, struct pki_err *err);

PKI_MUST_CHECK int store_root_set_intermediates(struct store *s, const char *root_id,
                                                const char *intermediates_pem,
                                                struct pki_err *err);

/* Deletes an inactive root; PKI_ERR_POLICY for the active one. */
PKI_MUST_CHECK int store_root_delete(struct store *s, const char *root_id, struct pki_err *err);

/* Inserts tok (accessor and secret_hash unique); sets its indexes. */
PKI_MUST_CHECK int store_token_insert(struct store *s, struct store_token *tok,
                                      struct pki_err *err);
/* PKI_ERR_NOTFOUND if no token has this hash. */
PKI_MUST_CHECK int store_token_find(struct store *s, const char *secret_hash,
                                    struct store_token *out, struct pki_err *err);
PKI_MUST_CHECK int store_tokens_list(struct store *s, struct store_tokens *out,
                                     struct pki_err *err);
/* PKI_ERR_NOTFOUND if no token has this accessor. */
PKI_MUST_CHECK int store_token_delete(struct store *s, const char *accessor,
                                      struct pki_err *err);

/* The audit log's last checkpoint (seq 0 and 64 zeros when none). */
PKI_MUST_CHECK int store_audit_checkpoint_get(struct store *s, uint64_t *seq, char hash[65],
                                              struct pki_err *err);
PKI_MUST_CHECK int store_audit_checkpoint_set(struct store *s, uint64_t seq, const char *hash,
                                              struct pki_err *err);

/* *changed = 1 if another connection wrote since the last call (SQLite's
 * PRAGMA data_version), so cached roots/config/tokens must be reloaded. */
PKI_MUST_CHECK int store_changed(struct store *s, int *changed, struct pki_err *err);

/* fn(arg) runs after every successful write of what readers cache (meta,
 * config, roots, tokens; not the audit checkpoint), before the write's
 * function returns: the server's processes bump a shared counter there, so
 * a cache is checked with one memory read instead of a store query. */
void store_on_write(struct store *s, void (*fn)(void *arg), void *arg);

void store_config_clear(struct store_config *c);
void store_root_clear(struct store_root *r);   /* wipes the wrapped keys too */
void store_roots_clear(struct store_roots *rs);
void store_token_clear(struct store_token *t);
void store_tokens_clear(struct store_tokens *ts);

#endif
