/*
 * store_sqlite_int.h - what the files of the SQLite backend share
 * (store_sqlite.c: open, schema, meta, audit checkpoint, change detection;
 * store_sqlite_roots.c; store_sqlite_tokens.c: tokens, config, bootstrap).
 * Not for callers outside src/store: they use store.h.
 */
#ifndef STORE_SQLITE_INT_H
#define STORE_SQLITE_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* Bounds on what the store accepts and returns: a PEM bundle of a root with
 * its cross-signed intermediates, a config document, a wrapped key. Far
 * above real sizes; they stop a corrupt row or a caller bug from turning
 * into an unbounded allocation. */
#define STORE_TEXT_MAX ((size_t)1 << 20)
#define STORE_BLOB_MAX ((size_t)64 << 10)

struct sq_store {
    struct store base; /* first: a struct store * is a struct sq_store * */
    sqlite3 *db;
    char path[4096];
    /* Prepared once: token_find runs on every API request, the other two
     * whenever the front end reloads its cache. */
    sqlite3_stmt *st_token_find;
    sqlite3_stmt *st_roots_list;
    sqlite3_stmt *st_config_get;
    sqlite3_stmt *st_data_version;
    int64_t data_version; /* the last value store_changed saw */
};

static inline struct sq_store *store__sq(struct store *s)
{
    return (struct sq_store *)s;
}

/* Sets err to "PATH: what: <sqlite3_errmsg>" with code; returns code. */
int store__sq_fail(struct sq_store *s, int code, const char *what, struct pki_err *err);
/* The PKI_ERR_* for SQLite's last error on s (busy -> IO, unique -> EXISTS...). */
int store__sq_code(struct sq_store *s);

/* sqlite3_prepare_v2 with the error message above. */
int store__sq_prepare(struct sq_store *s, const char *sql, sqlite3_stmt **st,
                      struct pki_err *err);
/* Steps st once expecting SQLITE_DONE, then resets it. */
int store__sq_step_done(struct sq_store *s, sqlite3_stmt *st, const char *what,
                        struct pki_err *err);

/* BEGIN IMMEDIATE and bump meta.index; *index gets the new value, which
 * every row the transaction writes takes as its ModifyIndex. */
int store__sq_begin(struct sq_store *s, uint64_t *index, struct pki_err *err);
/* rc == 0: COMMIT (its failure becomes the result); else ROLLBACK. Returns
 * the outcome. */
int store__sq_end(struct sq_store *s, int rc, struct pki_err *err);

/* A statement prepared once per handle (*slot NULL until the first call),
 * for the queries that run on every request or reload. Callers reset it
 * (store__sq_release) before returning, so no read transaction stays open. */
int store__sq_hot(struct sq_store *s, sqlite3_stmt **slot, const char *sql,
                  struct pki_err *err);
void store__sq_release(sqlite3_stmt *st);

/* meta[key]: as text into buf[cap] (when buf) or as an integer into *num
 * (when num). PKI_ERR_NOTFOUND, err untouched, when the key is absent. */
int store__sq_meta_read(struct sq_store *s, const char *key, char *buf, size_t cap,
                        int64_t *num, struct pki_err *err);
/* Inserts or replaces meta[key] (inside a transaction). */
int store__sq_meta_put_text(struct sq_store *s, const char *key, const char *value,
                            struct pki_err *err);
int store__sq_meta_put_int(struct sq_store *s, const char *key, int64_t value,
                           struct pki_err *err);

/* Text of column col copied into out[cap]; an over-long or NULL value is
 * refused (a corrupt row must not be truncated into another id). */
int store__sq_col_copy(struct sq_store *s, sqlite3_stmt *st, int col, char *out, size_t cap,
                       struct pki_err *err);
/* Text of column col as a malloc'd string (NULL column: *out = NULL). */
int store__sq_col_dup(struct sq_store *s, sqlite3_stmt *st, int col, char **out,
                      struct pki_err *err);
/* A string argument: non-NULL, at most max bytes. */
int store__sq_check_text(struct sq_store *s, const char *what, const char *v, size_t max,
                         struct pki_err *err);

/* 1 if h is exactly 64 lowercase hex digits (a SHA-256 as we write it). */
int store__sq_is_hex64(const char *h);

/* The backend's operations, by file. */
int store__sq_roots_list(struct store *s, struct store_roots *out, struct pki_err *err);
int store__sq_rotate(struct store *s, const struct store_root *new_root, const char *old_root_id,
                     int64_t rotated_out_at, const char *config_json, struct pki_err *err);
int store__sq_root_set_intermediates(struct store *s, const char *root_id,
                                     const char *intermediates_pem, struct pki_err *err);
int store__sq_root_delete(struct store *s, const char *root_id, struct pki_err *err);
/* Checks r and inserts it as the active root with index (inside a transaction). */
int store__sq_root_insert(struct sq_store *s, const struct store_root *r, uint64_t index,
                          struct pki_err *err);
int store__sq_root_check(struct sq_store *s, const struct store_root *r, struct pki_err *err);

int store__sq_bootstrap(struct store *s, const struct store_meta *meta, const char *config_json,
                        const struct store_root *root, const struct store_token *operator_token,
                        struct pki_err *err);
int store__sq_config_get(struct store *s, struct store_config *out, struct pki_err *err);
int store__sq_config_set(struct store *s, const char *json, uint64_t *modify_index,
                         struct pki_err *err);
/* UPDATE of the config row inside a transaction; NOTFOUND before bootstrap. */
int store__sq_config_write(struct sq_store *s, const char *json, uint64_t index,
                           struct pki_err *err);
int store__sq_token_insert(struct store *s, struct store_token *tok, struct pki_err *err);
int store__sq_token_find(struct store *s, const char *secret_hash, struct store_token *out,
                         struct pki_err *err);
int store__sq_tokens_list(struct store *s, struct store_tokens *out, struct pki_err *err);
int store__sq_token_delete(struct store *s, const char *accessor, struct pki_err *err);

#endif
