/*
 * store_sqlite_tokens.c - API tokens, the CA configuration and bootstrap in
 * the SQLite store.
 *
 * Tokens are stored by SHA-256(SecretID) only (docs/server.md). A lookup by
 * that hash goes through an index, whose timing can tell an attacker how
 * many leading hash bytes a guess shares with a stored hash; that does not
 * help find a secret whose hash matches (a preimage), so no constant-time
 * scan is needed.
 */
#include "store_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#define TOKENS_MAX 65536

#define TOKEN_COLS                                                                         \
    "accessor, secret_hash, policy, description, created, create_index, modify_index"

static const char sql_token_find[] = "SELECT " TOKEN_COLS " FROM tokens WHERE secret_hash = ?1";
static const char sql_config_get[] =
    "SELECT json, create_index, modify_index FROM config WHERE id = 1";

static int check_token(struct sq_store *s, const struct store_token *t, struct pki_err *err)
{
    if (memchr(t->accessor, '\0', sizeof(t->accessor)) == NULL || t->accessor[0] == '\0')
        return pki_err_set(err, PKI_ERR_USAGE, "%s: the token has no valid accessor", s->path);
    if (memchr(t->secret_hash, '\0', sizeof(t->secret_hash)) == NULL ||
        !store__sq_is_hex64(t->secret_hash))
        return pki_err_set(err, PKI_ERR_USAGE,
                           "%s: the token's secret hash is not 64 lowercase hex digits",
                           s->path);
    if (t->description != NULL && strlen(t->description) > STORE_TEXT_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the token's description is too long",
                           s->path);
    return store__sq_check_text(s, "token policy", t->policy, STORE_TEXT_MAX, err);
}

/* Inserts t with index (inside a transaction); a taken accessor or secret
 * hash is PKI_ERR_EXISTS. */
static int insert_token(struct sq_store *s, const struct store_token *t, uint64_t index,
                        struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s,
                               "INSERT INTO tokens (" TOKEN_COLS ")"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                               &st, err);
    const char *desc = t->description != NULL ? t->description : "";

    if (rc != 0)
        return rc;
    if (sqlite3_bind_text(st, 1, t->accessor, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, t->secret_hash, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, t->policy, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 5, t->created) != SQLITE_OK ||
        sqlite3_bind_int64(st, 6, (sqlite3_int64)index) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind the token", err);
    else
        rc = store__sq_step_done(s, st, "cannot store the token", err);
    sqlite3_finalize(st);
    return rc;
}

static int read_token(struct sq_store *s, sqlite3_stmt *st, struct store_token *t,
                      struct pki_err *err)
{
    int rc = store__sq_col_copy(s, st, 0, t->accessor, sizeof(t->accessor), err);

    if (rc == 0)
        rc = store__sq_col_copy(s, st, 1, t->secret_hash, sizeof(t->secret_hash), err);
    if (rc == 0)
        rc = store__sq_col_dup(s, st, 2, &t->policy, err);
    if (rc == 0)
        rc = store__sq_col_dup(s, st, 3, &t->description, err);
    if (rc == 0 && (t->policy == NULL || t->description == NULL))
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: token %s has no policy or description",
                         s->path, t->accessor);
    t->created = sqlite3_column_int64(st, 4);
    t->create_index = (uint64_t)sqlite3_column_int64(st, 5);
    t->modify_index = (uint64_t)sqlite3_column_int64(st, 6);
    return rc;
}

int store__sq_token_insert(struct store *base, struct store_token *tok, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc = check_token(s, tok, err);

    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    rc = store__sq_end(s, insert_token(s, tok, idx, err), err);
    if (rc == 0)
        tok->create_index = tok->modify_index = idx;
    return rc;
}

int store__sq_token_find(struct store *base, const char *secret_hash, struct store_token *out,
                         struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    struct store_token t;
    int rc = store__sq_check_text(s, "secret hash", secret_hash, 64, err), step;

    if (rc == 0)
        rc = store__sq_hot(s, &s->st_token_find, sql_token_find, err);
    if (rc != 0)
        return rc;
    memset(&t, 0, sizeof(t));
    if (sqlite3_bind_text(s->st_token_find, 1, secret_hash, -1, SQLITE_STATIC) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else if ((step = sqlite3_step(s->st_token_find)) == SQLITE_ROW)
        rc = read_token(s, s->st_token_find, &t, err);
    else if (step == SQLITE_DONE)
        rc = pki_err_set(err, PKI_ERR_NOTFOUND, "%s: no token has this secret", s->path);
    else
        rc = store__sq_fail(s, store__sq_code(s), "cannot look the token up", err);
    store__sq_release(s->st_token_find);
    if (rc != 0) {
        store_token_clear(&t);
        return rc;
    }
    *out = t;
    return PKI_OK;
}

static int push_token(struct sq_store *s, sqlite3_stmt *st, struct store_tokens *ts,
                      size_t *cap, struct pki_err *err)
{
    struct store_token *v;
    int rc;

    if (ts->n == TOKENS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: more than %d tokens", s->path, TOKENS_MAX);
    if (ts->n == *cap) {
        v = realloc(ts->v, (*cap * 2 + 4) * sizeof(*v));
        if (v == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
        ts->v = v;
        *cap = *cap * 2 + 4;
    }
    memset(&ts->v[ts->n], 0, sizeof(ts->v[0]));
    rc = read_token(s, st, &ts->v[ts->n], err);
    ts->n++; /* counted even on failure, so store_tokens_clear frees its parts */
    return rc;
}

int store__sq_tokens_list(struct store *base, struct store_tokens *out, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    struct store_tokens ts = {NULL, 0};
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step = SQLITE_DONE;
    int rc = store__sq_prepare(s,
                               "SELECT " TOKEN_COLS " FROM tokens"
                               " ORDER BY create_index, accessor",
                               &st, err);

    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = push_token(s, st, &ts, &cap, err);
    if (rc == 0 && step != SQLITE_DONE)
        rc = store__sq_fail(s, store__sq_code(s), "cannot list the tokens", err);
    sqlite3_finalize(st);
    if (rc != 0) {
        store_tokens_clear(&ts);
        return rc;
    }
    *out = ts;
    return PKI_OK;
}

static int delete_token(struct sq_store *s, const char *accessor, struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, "DELETE FROM tokens WHERE accessor = ?1", &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_bind_text(st, 1, accessor, -1, SQLITE_STATIC) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else
        rc = store__sq_step_done(s, st, "cannot delete the token", err);
    if (rc == 0 && sqlite3_changes(s->db) != 1)
        rc = pki_err_set(err, PKI_ERR_NOTFOUND, "%s: no token has accessor %s", s->path,
                         accessor);
    sqlite3_finalize(st);
    return rc;
}

int store__sq_token_delete(struct store *base, const char *accessor, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc = store__sq_check_text(s, "token accessor", accessor, STORE_ID_MAX - 1, err);

    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    return store__sq_end(s, delete_token(s, accessor, err), err);
}

int store__sq_config_get(struct store *base, struct store_config *out, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    sqlite3_stmt *st = NULL;
    struct store_config c = {NULL, 0, 0};
    int rc = store__sq_hot(s, &s->st_config_get, sql_config_get, err), step;

    if (rc != 0)
        return rc;
    st = s->st_config_get;
    if ((step = sqlite3_step(st)) == SQLITE_ROW)
        rc = store__sq_col_dup(s, st, 0, &c.json, err);
    else if (step == SQLITE_DONE)
        rc = pki_err_set(err, PKI_ERR_NOTFOUND,
                         "the store at %s is not bootstrapped (no CA configuration)", s->path);
    else
        rc = store__sq_fail(s, store__sq_code(s), "cannot read the CA configuration", err);
    if (rc == 0 && c.json == NULL)
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: the CA configuration is empty", s->path);
    if (rc == 0) {
        c.create_index = (uint64_t)sqlite3_column_int64(st, 1);
        c.modify_index = (uint64_t)sqlite3_column_int64(st, 2);
        *out = c;
    } else {
        store_config_clear(&c);
    }
    store__sq_release(st);
    return rc;
}

int store__sq_config_write(struct sq_store *s, const char *json, uint64_t index,
                           struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, "UPDATE config SET json = ?1, modify_index = ?2 WHERE id = 1",
                               &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else
        rc = store__sq_step_done(s, st, "cannot store the CA configuration", err);
    if (rc == 0 && sqlite3_changes(s->db) != 1)
        rc = pki_err_set(err, PKI_ERR_NOTFOUND,
                         "the store at %s is not bootstrapped (no CA configuration)", s->path);
    sqlite3_finalize(st);
    return rc;
}

int store__sq_config_set(struct store *base, const char *json, uint64_t *modify_index,
                         struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc = store__sq_check_text(s, "CA configuration", json, STORE_TEXT_MAX, err);

    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    rc = store__sq_end(s, store__sq_config_write(s, json, idx, err), err);
    if (rc == 0 && modify_index != NULL)
        *modify_index = idx;
    return rc;
}

static int check_meta(struct sq_store *s, const struct store_meta *m, struct pki_err *err)
{
    if (memchr(m->cluster_id, '\0', sizeof(m->cluster_id)) == NULL || !m->cluster_id[0] ||
        memchr(m->trust_domain, '\0', sizeof(m->trust_domain)) == NULL ||
        !m->trust_domain[0] || memchr(m->datacenter, '\0', sizeof(m->datacenter)) == NULL ||
        !m->datacenter[0])
        return pki_err_set(err, PKI_ERR_USAGE,
                           "%s: bootstrap needs a cluster id, a trust domain and a datacenter",
                           s->path);
    return PKI_OK;
}

static int write_config_row(struct sq_store *s, const char *json, uint64_t index,
                            struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s,
                               "INSERT INTO config (id, json, create_index, modify_index)"
                               " VALUES (1, ?1, ?2, ?2)",
                               &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else
        rc = store__sq_step_done(s, st, "cannot store the CA configuration", err);
    sqlite3_finalize(st);
    return rc;
}

/* Everything bootstrap writes, inside its transaction. */
static int bootstrap_rows(struct sq_store *s, const struct store_meta *m, const char *json,
                          const struct store_root *root, const struct store_token *tok,
                          uint64_t idx, struct pki_err *err)
{
    char existing[STORE_ID_MAX];
    int rc = store__sq_meta_read(s, "cluster_id", existing, sizeof(existing), NULL, err);

    /* The check runs under the write lock: two servers starting on one
     * empty store cannot both bootstrap it. */
    if (rc == 0)
        return pki_err_set(err, PKI_ERR_EXISTS,
                           "the store at %s is already bootstrapped (cluster id %s)", s->path,
                           existing);
    if (rc != PKI_ERR_NOTFOUND)
        return rc;
    rc = store__sq_meta_put_text(s, "cluster_id", m->cluster_id, err);
    if (rc == 0)
        rc = store__sq_meta_put_text(s, "trust_domain", m->trust_domain, err);
    if (rc == 0)
        rc = store__sq_meta_put_text(s, "datacenter", m->datacenter, err);
    if (rc == 0)
        rc = store__sq_meta_put_int(s, "created", m->created, err);
    if (rc == 0)
        rc = write_config_row(s, json, idx, err);
    if (rc == 0)
        rc = store__sq_root_insert(s, root, idx, err);
    if (rc == 0)
        rc = insert_token(s, tok, idx, err);
    return rc;
}

int store__sq_bootstrap(struct store *base, const struct store_meta *meta, const char *json,
                        const struct store_root *root, const struct store_token *tok,
                        struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc = check_meta(s, meta, err);

    if (rc == 0)
        rc = store__sq_check_text(s, "CA configuration", json, STORE_TEXT_MAX, err);
    if (rc == 0)
        rc = store__sq_root_check(s, root, err);
    if (rc == 0)
        rc = check_token(s, tok, err);
    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    return store__sq_end(s, bootstrap_rows(s, meta, json, root, tok, idx, err), err);
}
