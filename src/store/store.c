/*
 * store.c - the store_* functions: each checks its handle and hands the call
 * to the backend's struct store_ops; the *_clear functions free what the
 * backends return, whichever backend filled them.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

static int no_store(struct pki_err *err)
{
    return pki_err_set(err, PKI_ERR_USAGE, "no store is open");
}

void store_on_write(struct store *s, void (*fn)(void *arg), void *arg)
{
    if (s == NULL)
        return;
    s->on_write = fn;
    s->on_write_arg = arg;
}

static int written(struct store *s, int rc)
{
    if (rc == 0 && s->on_write != NULL)
        s->on_write(s->on_write_arg);
    return rc;
}

void store_close(struct store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

int store_meta_get(struct store *s, struct store_meta *out, struct pki_err *err)
{
    if (s == NULL || out == NULL)
        return no_store(err);
    return s->ops->meta_get(s, out, err);
}

int store_bootstrap(struct store *s, const struct store_meta *meta, const char *config_json,
                    const struct store_root *root, const struct store_token *operator_token,
                    struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    if (meta == NULL || config_json == NULL || root == NULL || operator_token == NULL)
        return pki_err_set(err, PKI_ERR_USAGE,
                           "bootstrap needs meta, a config, a root and an operator token");
    return written(s, s->ops->bootstrap(s, meta, config_json, root, operator_token, err));
}

int store_config_get(struct store *s, struct store_config *out, struct pki_err *err)
{
    if (s == NULL || out == NULL)
        return no_store(err);
    return s->ops->config_get(s, out, err);
}

int store_config_set(struct store *s, const char *json, uint64_t *modify_index,
                     struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    return written(s, s->ops->config_set(s, json, modify_index, err));
}

int store_roots_list(struct store *s, struct store_roots *out, struct pki_err *err)
{
    if (s == NULL || out == NULL)
        return no_store(err);
    return s->ops->roots_list(s, out, err);
}

int store_rotate(struct store *s, const struct store_root *new_root, const char *old_root_id,
                 int64_t rotated_out_at, const char *config_json, struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    if (new_root == NULL || old_root_id == NULL || config_json == NULL)
        return pki_err_set(err, PKI_ERR_USAGE,
                           "rotation needs a new root, the old root's id and a config");
    return written(s, s->ops->rotate(s, new_root, old_root_id, rotated_out_at, config_json, err));
}

int store_root_set_intermediates(struct store *s, const char *root_id,
                                 const char *intermediates_pem, struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    return written(s, s->ops->root_set_intermediates(s, root_id, intermediates_pem, err));
}

int store_root_delete(struct store *s, const char *root_id, struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    return written(s, s->ops->root_delete(s, root_id, err));
}

int store_token_insert(struct store *s, struct store_token *tok, struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    if (tok == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "no token to insert");
    return written(s, s->ops->token_insert(s, tok, err));
}

int store_token_find(struct store *s, const char *secret_hash, struct store_token *out,
                     struct pki_err *err)
{
    if (s == NULL || out == NULL)
        return no_store(err);
    return s->ops->token_find(s, secret_hash, out, err);
}

int store_tokens_list(struct store *s, struct store_tokens *out, struct pki_err *err)
{
    if (s == NULL || out == NULL)
        return no_store(err);
    return s->ops->tokens_list(s, out, err);
}

int store_token_delete(struct store *s, const char *accessor, struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    return written(s, s->ops->token_delete(s, accessor, err));
}

int store_audit_checkpoint_get(struct store *s, uint64_t *seq, char hash[65],
                               struct pki_err *err)
{
    if (s == NULL || seq == NULL || hash == NULL)
        return no_store(err);
    return s->ops->audit_checkpoint_get(s, seq, hash, err);
}

int store_audit_checkpoint_set(struct store *s, uint64_t seq, const char *hash,
                               struct pki_err *err)
{
    if (s == NULL)
        return no_store(err);
    return s->ops->audit_checkpoint_set(s, seq, hash, err);
}

int store_changed(struct store *s, int *changed, struct pki_err *err)
{
    if (s == NULL || changed == NULL)
        return no_store(err);
    return s->ops->changed(s, changed, err);
}

void store_config_clear(struct store_config *c)
{
    if (c == NULL)
        return;
    free(c->json);
    memset(c, 0, sizeof(*c));
}

void store_root_clear(struct store_root *r)
{
    if (r == NULL)
        return;
    free(r->root_pem);
    free(r->intermediates_pem);
    pki_buf_free(&r->root_key);
    pki_buf_free(&r->signing_key);
    memset(r, 0, sizeof(*r));
}

void store_roots_clear(struct store_roots *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->n; i++)
        store_root_clear(&rs->v[i]);
    free(rs->v);
    rs->v = NULL;
    rs->n = 0;
}

void store_token_clear(struct store_token *t)
{
    if (t == NULL)
        return;
    free(t->policy);
    free(t->description);
    memset(t, 0, sizeof(*t));
}

void store_tokens_clear(struct store_tokens *ts)
{
    if (ts == NULL)
        return;
    for (size_t i = 0; i < ts->n; i++)
        store_token_clear(&ts->v[i]);
    free(ts->v);
    ts->v = NULL;
    ts->n = 0;
}
