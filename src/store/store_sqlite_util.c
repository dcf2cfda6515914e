/*
 * store_sqlite_util.c - what every SQLite store operation leans on: error
 * messages that name the store and SQLite's reason, transactions that bump
 * the store index, statements prepared once, meta rows, column copies.
 */
#include "store_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

int store__sq_code(struct sq_store *s)
{
    int ext = sqlite3_extended_errcode(s->db);

    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return PKI_ERR_EXISTS;
    case SQLITE_NOMEM:
        return PKI_ERR_INTERNAL;
    default:
        break;
    }
    switch (ext & 0xff) { /* the primary code of an extended one */
    case SQLITE_CONSTRAINT:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_MISMATCH:
        return PKI_ERR_INPUT;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_ERROR:
        return PKI_ERR_INTERNAL;
    default:
        return PKI_ERR_IO; /* busy, locked, full, ioerr, readonly, cantopen */
    }
}

int store__sq_fail(struct sq_store *s, int code, const char *what, struct pki_err *err)
{
    return pki_err_set(err, code, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int store__sq_prepare(struct sq_store *s, const char *sql, sqlite3_stmt **st,
                      struct pki_err *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return store__sq_fail(s, store__sq_code(s), "cannot prepare a query", err);
    }
    return PKI_OK;
}

int store__sq_hot(struct sq_store *s, sqlite3_stmt **slot, const char *sql,
                  struct pki_err *err)
{
    if (*slot != NULL)
        return PKI_OK;
    /* PERSISTENT: the statement lives as long as the handle, so SQLite
     * allocates it outside its short-lived lookaside memory. */
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        *slot = NULL;
        return store__sq_fail(s, store__sq_code(s), "cannot prepare a query", err);
    }
    return PKI_OK;
}

void store__sq_release(sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int store__sq_step_done(struct sq_store *s, sqlite3_stmt *st, const char *what,
                        struct pki_err *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = store__sq_fail(s, store__sq_code(s), what, err);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return PKI_OK;
}

static int exec_static(struct sq_store *s, const char *sql, const char *what,
                       struct pki_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store__sq_fail(s, store__sq_code(s), what, err);
    return PKI_OK;
}

static int bump_index(struct sq_store *s, uint64_t *index, struct pki_err *err)
{
    int64_t v = 0;
    int rc;

    rc = exec_static(s, "UPDATE meta SET value = value + 1 WHERE key = 'index'",
                     "cannot advance the store index", err);
    if (rc != 0)
        return rc;
    rc = store__sq_meta_read(s, "index", NULL, 0, &v, err);
    if (rc == PKI_ERR_NOTFOUND || (rc == 0 && v <= 0))
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the store has no valid index", s->path);
    if (rc == 0)
        *index = (uint64_t)v;
    return rc;
}

int store__sq_begin(struct sq_store *s, uint64_t *index, struct pki_err *err)
{
    int rc;

    /* IMMEDIATE takes the write lock now (waiting up to the busy timeout),
     * so two writers cannot both read a state and then fail to commit. */
    rc = exec_static(s, "BEGIN IMMEDIATE", "cannot begin a transaction", err);
    if (rc != 0)
        return rc;
    rc = bump_index(s, index, err);
    if (rc != 0)
        (void)store__sq_end(s, rc, NULL);
    return rc;
}

int store__sq_end(struct sq_store *s, int rc, struct pki_err *err)
{
    if (rc == 0) {
        rc = exec_static(s, "COMMIT", "cannot commit", err);
        if (rc == 0)
            return PKI_OK;
    }
    /* Some errors (SQLITE_FULL, IOERR) roll back by themselves. */
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store__sq_meta_read(struct sq_store *s, const char *key, char *buf, size_t cap,
                        int64_t *num, struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, "SELECT value FROM meta WHERE key = ?1", &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = PKI_ERR_NOTFOUND;
    } else if (rc != SQLITE_ROW) {
        rc = store__sq_fail(s, store__sq_code(s), "cannot read the store's meta data", err);
    } else if (buf != NULL) {
        rc = store__sq_col_copy(s, st, 0, buf, cap, err);
    } else {
        rc = PKI_OK;
        if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
            rc = pki_err_set(err, PKI_ERR_INPUT, "%s: meta value %s is not a number", s->path,
                             key);
        else if (num != NULL)
            *num = sqlite3_column_int64(st, 0);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

static int meta_put(struct sq_store *s, const char *key, const char *text, int64_t num,
                    struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                               &st, err);
    int brc;

    if (rc != 0)
        return rc;
    brc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (brc == SQLITE_OK)
        brc = text != NULL ? sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC)
                           : sqlite3_bind_int64(st, 2, num);
    if (brc != SQLITE_OK)
        rc = store__sq_fail(s, PKI_ERR_INTERNAL, "cannot bind a value", err);
    else
        rc = store__sq_step_done(s, st, "cannot write the store's meta data", err);
    sqlite3_finalize(st);
    return rc;
}

int store__sq_meta_put_text(struct sq_store *s, const char *key, const char *value,
                            struct pki_err *err)
{
    return meta_put(s, key, value, 0, err);
}

int store__sq_meta_put_int(struct sq_store *s, const char *key, int64_t value,
                           struct pki_err *err)
{
    return meta_put(s, key, NULL, value, err);
}

int store__sq_col_copy(struct sq_store *s, sqlite3_stmt *st, int col, char *out, size_t cap,
                       struct pki_err *err)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    if (t == NULL && sqlite3_column_type(st, col) != SQLITE_NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
    if (t == NULL || n >= cap || memchr(t, '\0', n) != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: column %s holds a missing or invalid value",
                           s->path, sqlite3_column_name(st, col));
    memcpy(out, t, n + 1);
    return PKI_OK;
}

int store__sq_col_dup(struct sq_store *s, sqlite3_stmt *st, int col, char **out,
                      struct pki_err *err)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    *out = NULL;
    if (t == NULL && sqlite3_column_type(st, col) == SQLITE_NULL)
        return PKI_OK;
    if (t == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
    if (n > STORE_TEXT_MAX || memchr(t, '\0', n) != NULL)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: column %s holds an invalid value", s->path,
                           sqlite3_column_name(st, col));
    *out = malloc(n + 1);
    if (*out == NULL)
        return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
    memcpy(*out, t, n + 1);
    return PKI_OK;
}

int store__sq_check_text(struct sq_store *s, const char *what, const char *v, size_t max,
                         struct pki_err *err)
{
    if (v == NULL || v[0] == '\0')
        return pki_err_set(err, PKI_ERR_USAGE, "%s: no %s given", s->path, what);
    if (strnlen(v, max + 1) > max)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the %s is longer than %zu bytes", s->path,
                           what, max);
    return PKI_OK;
}

int store__sq_is_hex64(const char *h)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (h[i] == '\0' || strchr("0123456789abcdef", h[i]) == NULL)
            return 0;
    return h[64] == '\0';
}
