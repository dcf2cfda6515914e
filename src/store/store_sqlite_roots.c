/*
 * store_sqlite_roots.c - CA roots in the SQLite store: listing, rotation
 * (one transaction: new root active, old root retired, new config), the
 * intermediates of a root, deleting a retired root.
 *
 * Exactly one root is active after bootstrap. Every write that changes which
 * root is active happens in one BEGIN IMMEDIATE transaction that first
 * checks the current active root, and the partial unique index
 * roots_one_active turns any slip into a failed commit.
 */
#include "store_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

/* Far above what pruning leaves (two or three); stops a corrupt store from
 * growing the list without bound. */
#define ROOTS_MAX 1024

#define ROOT_COLS                                                                          \
    "id, name, serial, signing_key_id, root_key_id, not_before, not_after, root_pem,"      \
    " intermediates_pem, root_key, signing_key, key_type, key_bits, active,"               \
    " rotated_out_at, create_index, modify_index"

static const char sql_roots_list[] =
    "SELECT " ROOT_COLS " FROM roots ORDER BY active DESC, create_index DESC, rowid DESC";
static const char sql_root_insert[] =
    "INSERT INTO roots (" ROOT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
    " ?12, ?13, 1, 0, ?14, ?14)";

/* A fixed-size string field must end inside its array and not be empty. */
static int check_field(struct sq_store *s, const char *what, const char *v, size_t cap,
                       struct pki_err *err)
{
    if (memchr(v, '\0', cap) == NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the root's %s is not terminated", s->path,
                           what);
    if (v[0] == '\0')
        return pki_err_set(err, PKI_ERR_USAGE, "%s: the root has no %s", s->path, what);
    return PKI_OK;
}

int store__sq_root_check(struct sq_store *s, const struct store_root *r, struct pki_err *err)
{
    int rc = check_field(s, "id", r->id, sizeof(r->id), err);

    if (rc == 0)
        rc = check_field(s, "name", r->name, sizeof(r->name), err);
    if (rc == 0)
        rc = check_field(s, "signing key id", r->signing_key_id, sizeof(r->signing_key_id), err);
    if (rc == 0)
        rc = check_field(s, "root key id", r->root_key_id, sizeof(r->root_key_id), err);
    if (rc == 0)
        rc = check_field(s, "key type", r->key_type, sizeof(r->key_type), err);
    if (rc == 0)
        rc = store__sq_check_text(s, "root certificate", r->root_pem, STORE_TEXT_MAX, err);
    if (rc == 0 && r->intermediates_pem != NULL && strlen(r->intermediates_pem) > STORE_TEXT_MAX)
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: the intermediates are too long", s->path);
    if (rc == 0 && (r->root_key.len > STORE_BLOB_MAX || r->signing_key.len > STORE_BLOB_MAX))
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: a wrapped key is too long", s->path);
    return rc;
}

static int bind_blob(sqlite3_stmt *st, int i, const struct pki_buf *b)
{
    if (b->len == 0)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_blob(st, i, b->data, (int)b->len, SQLITE_STATIC);
}

static int bind_root(sqlite3_stmt *st, const struct store_root *r, uint64_t index)
{
    int ok = sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC) == SQLITE_OK &&
             /* 64-bit serials keep their bits: stored as the signed pattern. */
             sqlite3_bind_int64(st, 3, (sqlite3_int64)r->serial) == SQLITE_OK &&
             sqlite3_bind_text(st, 4, r->signing_key_id, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_text(st, 5, r->root_key_id, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_int64(st, 6, r->not_before) == SQLITE_OK &&
             sqlite3_bind_int64(st, 7, r->not_after) == SQLITE_OK &&
             sqlite3_bind_text(st, 8, r->root_pem, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_text(st, 9, r->intermediates_pem, -1, SQLITE_STATIC) == SQLITE_OK &&
             bind_blob(st, 10, &r->root_key) == SQLITE_OK &&
             bind_blob(st, 11, &r->signing_key) == SQLITE_OK &&
             sqlite3_bind_text(st, 12, r->key_type, -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_bind_int(st, 13, r->key_bits) == SQLITE_OK &&
             sqlite3_bind_int64(st, 14, (sqlite3_int64)index) == SQLITE_OK;

    return ok ? SQLITE_OK : SQLITE_ERROR;
}

/* Inserts r as the active root (whatever r->active says) with index. */
int store__sq_root_insert(struct sq_store *s, const struct store_root *r, uint64_t index,
                          struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, sql_root_insert, &st, err);

    if (rc != 0)
        return rc;
    if (bind_root(st, r, index) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind the root", err);
    else
        rc = store__sq_step_done(s, st, "cannot store the root", err);
    sqlite3_finalize(st);
    return rc;
}

static int col_blob(struct sq_store *s, sqlite3_stmt *st, int col, struct pki_buf *out,
                    struct pki_err *err)
{
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    if (n == 0)
        return PKI_OK;
    if (p == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
    if (n > STORE_BLOB_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: a stored wrapped key is too long", s->path);
    return pki_buf_set(out, p, n, err);
}

static int read_root(struct sq_store *s, sqlite3_stmt *st, struct store_root *r,
                     struct pki_err *err)
{
    int rc = store__sq_col_copy(s, st, 0, r->id, sizeof(r->id), err);

    if (rc == 0)
        rc = store__sq_col_copy(s, st, 1, r->name, sizeof(r->name), err);
    if (rc == 0)
        rc = store__sq_col_copy(s, st, 3, r->signing_key_id, sizeof(r->signing_key_id), err);
    if (rc == 0)
        rc = store__sq_col_copy(s, st, 4, r->root_key_id, sizeof(r->root_key_id), err);
    if (rc == 0)
        rc = store__sq_col_dup(s, st, 7, &r->root_pem, err);
    if (rc == 0)
        rc = store__sq_col_dup(s, st, 8, &r->intermediates_pem, err);
    if (rc == 0)
        rc = col_blob(s, st, 9, &r->root_key, err);
    if (rc == 0)
        rc = col_blob(s, st, 10, &r->signing_key, err);
    if (rc == 0)
        rc = store__sq_col_copy(s, st, 11, r->key_type, sizeof(r->key_type), err);
    r->serial = (uint64_t)sqlite3_column_int64(st, 2);
    r->not_before = sqlite3_column_int64(st, 5);
    r->not_after = sqlite3_column_int64(st, 6);
    r->key_bits = sqlite3_column_int(st, 12);
    r->active = sqlite3_column_int(st, 13);
    r->rotated_out_at = sqlite3_column_int64(st, 14);
    r->create_index = (uint64_t)sqlite3_column_int64(st, 15);
    r->modify_index = (uint64_t)sqlite3_column_int64(st, 16);
    return rc;
}

/* Appends the row st points at to rs. */
static int push_root(struct sq_store *s, sqlite3_stmt *st, struct store_roots *rs, size_t *cap,
                     struct pki_err *err)
{
    struct store_root *v;
    int rc;

    if (rs->n == ROOTS_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: more than %d roots", s->path, ROOTS_MAX);
    if (rs->n == *cap) {
        v = realloc(rs->v, (*cap * 2 + 2) * sizeof(*v));
        if (v == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
        rs->v = v;
        *cap = *cap * 2 + 2;
    }
    memset(&rs->v[rs->n], 0, sizeof(rs->v[0]));
    rc = read_root(s, st, &rs->v[rs->n], err);
    rs->n++; /* counted even on failure, so store_roots_clear frees its parts */
    return rc;
}

int store__sq_roots_list(struct store *base, struct store_roots *out, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    struct store_roots rs = {NULL, 0};
    size_t cap = 0;
    int rc = store__sq_hot(s, &s->st_roots_list, sql_roots_list, err);
    int step = SQLITE_DONE;

    while (rc == 0 && (step = sqlite3_step(s->st_roots_list)) == SQLITE_ROW)
        rc = push_root(s, s->st_roots_list, &rs, &cap, err);
    if (rc == 0 && step != SQLITE_DONE)
        rc = store__sq_fail(s, store__sq_code(s), "cannot list the roots", err);
    store__sq_release(s->st_roots_list);
    if (rc != 0) {
        store_roots_clear(&rs);
        return rc;
    }
    *out = rs;
    return PKI_OK;
}

/* Retires old_id if, and only if, it is the active root. */
static int retire_root(struct sq_store *s, const char *old_id, int64_t at, uint64_t index,
                       struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s,
                               "UPDATE roots SET active = 0, rotated_out_at = ?1,"
                               " modify_index = ?2 WHERE id = ?3 AND active = 1",
                               &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_bind_int64(st, 1, at) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, old_id, -1, SQLITE_STATIC) != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else
        rc = store__sq_step_done(s, st, "cannot retire the old root", err);
    if (rc == 0 && sqlite3_changes(s->db) != 1)
        rc = pki_err_set(err, PKI_ERR_NOTFOUND,
                         "%s: root %s is not the active root (another rotation won); "
                         "reload the roots and retry",
                         s->path, old_id);
    sqlite3_finalize(st);
    return rc;
}

int store__sq_rotate(struct store *base, const struct store_root *new_root, const char *old_id,
                     int64_t rotated_out_at, const char *config_json, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc = store__sq_root_check(s, new_root, err);

    if (rc == 0)
        rc = store__sq_check_text(s, "old root id", old_id, STORE_ID_MAX - 1, err);
    if (rc == 0)
        rc = store__sq_check_text(s, "CA configuration", config_json, STORE_TEXT_MAX, err);
    if (rc == 0 && rotated_out_at <= 0)
        rc = pki_err_set(err, PKI_ERR_USAGE, "%s: a rotation needs its time", s->path);
    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    /* Retire first: the new row may only become active once the old is not. */
    rc = retire_root(s, old_id, rotated_out_at, idx, err);
    if (rc == 0)
        rc = store__sq_root_insert(s, new_root, idx, err);
    if (rc == 0)
        rc = store__sq_config_write(s, config_json, idx, err);
    return store__sq_end(s, rc, err);
}

/* Runs a one-row UPDATE or DELETE on root ?2 (?1: text, ?3: index);
 * PKI_ERR_NOTFOUND when no root has that id. */
static int root_write(struct sq_store *s, const char *sql, const char *root_id,
                      const char *text, uint64_t index, struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, sql, &st, err);

    if (rc != 0)
        return rc;
    if ((text != NULL && sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC) != SQLITE_OK) ||
        sqlite3_bind_text(st, 2, root_id, -1, SQLITE_STATIC) != SQLITE_OK ||
        (text != NULL && sqlite3_bind_int64(st, 3, (sqlite3_int64)index) != SQLITE_OK))
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else
        rc = store__sq_step_done(s, st, "cannot write the root", err);
    if (rc == 0 && sqlite3_changes(s->db) != 1)
        rc = pki_err_set(err, PKI_ERR_NOTFOUND, "%s: no root has id %s", s->path, root_id);
    sqlite3_finalize(st);
    return rc;
}

int store__sq_root_set_intermediates(struct store *base, const char *root_id,
                                     const char *intermediates_pem, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc = store__sq_check_text(s, "root id", root_id, STORE_ID_MAX - 1, err);

    if (rc == 0)
        rc = store__sq_check_text(s, "intermediates", intermediates_pem, STORE_TEXT_MAX, err);
    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    rc = root_write(s,
                    "UPDATE roots SET intermediates_pem = ?1, modify_index = ?3 WHERE id = ?2",
                    root_id, intermediates_pem, idx, err);
    return store__sq_end(s, rc, err);
}

/* 1 in *active if root_id is the active root; NOTFOUND if there is none. */
static int root_is_active(struct sq_store *s, const char *root_id, int *active,
                          struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, "SELECT active FROM roots WHERE id = ?1", &st, err), step;

    if (rc != 0)
        return rc;
    if (sqlite3_bind_text(st, 1, root_id, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    } else if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *active = sqlite3_column_int(st, 0);
    } else if (step == SQLITE_DONE) {
        rc = pki_err_set(err, PKI_ERR_NOTFOUND, "%s: no root has id %s", s->path, root_id);
    } else {
        rc = store__sq_fail(s, store__sq_code(s), "cannot read the root", err);
    }
    sqlite3_finalize(st);
    return rc;
}

int store__sq_root_delete(struct store *base, const char *root_id, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int active = 0;
    int rc = store__sq_check_text(s, "root id", root_id, STORE_ID_MAX - 1, err);

    if (rc == 0)
        rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    rc = root_is_active(s, root_id, &active, err);
    if (rc == 0 && active)
        rc = pki_err_set(err, PKI_ERR_POLICY,
                         "%s: root %s is the active root; rotate to a new root before "
                         "deleting it",
                         s->path, root_id);
    if (rc == 0)
        rc = root_write(s, "DELETE FROM roots WHERE id = ?2", root_id, NULL, idx, err);
    return store__sq_end(s, rc, err);
}
