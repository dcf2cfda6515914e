/*
 * store_sqlite.c - the SQLite store: opening (file checks, PRAGMAs, schema),
 * meta data, the audit checkpoint and change detection. Roots are in
 * store_sqlite_roots.c, tokens, config and bootstrap in store_sqlite_tokens.c.
 *
 * One handle is used by one thread (SQLITE_OPEN_NOMUTEX); other processes
 * (a CLI reading the store while the server runs) are kept apart by SQLite's
 * WAL locking, and writers wait up to the busy timeout.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The schema this pkictl writes; a store written by a newer one is refused
 * rather than half-understood. */
#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static const char schema_sql[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value NOT NULL);"
    "CREATE TABLE config (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL,"
    " create_index INTEGER NOT NULL, modify_index INTEGER NOT NULL);"
    "CREATE TABLE roots (id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " serial INTEGER NOT NULL, signing_key_id TEXT NOT NULL, root_key_id TEXT NOT NULL,"
    " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, root_pem TEXT NOT NULL,"
    " intermediates_pem TEXT, root_key BLOB, signing_key BLOB, key_type TEXT NOT NULL,"
    " key_bits INTEGER NOT NULL, active INTEGER NOT NULL CHECK (active IN (0, 1)),"
    " rotated_out_at INTEGER NOT NULL,"
    " create_index INTEGER NOT NULL, modify_index INTEGER NOT NULL);"
    /* The code keeps one active root inside each transaction; this index
     * makes a bug that would leave two a failed commit instead. */
    "CREATE UNIQUE INDEX roots_one_active ON roots (active) WHERE active = 1;"
    "CREATE TABLE tokens (accessor TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL UNIQUE,"
    " policy TEXT NOT NULL, description TEXT NOT NULL, created INTEGER NOT NULL,"
    " create_index INTEGER NOT NULL, modify_index INTEGER NOT NULL);"
    "INSERT INTO meta (key, value) VALUES ('index', 0);";

static void sq_close(struct store *base)
{
    struct sq_store *s = store__sq(base);

    if (s == NULL)
        return;
    sqlite3_finalize(s->st_token_find);
    sqlite3_finalize(s->st_roots_list);
    sqlite3_finalize(s->st_config_get);
    sqlite3_finalize(s->st_data_version);
    sqlite3_close(s->db);
    free(s);
}

/* Creates the file 0600 if absent (O_EXCL: never through a link an attacker
 * planted), then insists on a regular file: SQLite would follow a symlink to
 * wherever it points and keep the CA's wrapped keys there. */
static int check_file(const char *path, struct pki_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;

    if (fd >= 0) {
        close(fd);
        return PKI_OK;
    }
    if (errno != EEXIST)
        return pki_err_set(err, PKI_ERR_IO, "cannot create the store %s: %s", path,
                           strerror(errno));
    if (lstat(path, &st) != 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot inspect the store %s: %s", path,
                           strerror(errno));
    if (S_ISLNK(st.st_mode))
        return pki_err_set(err, PKI_ERR_INPUT,
                           "the store %s is a symbolic link; give the real file's path", path);
    if (!S_ISREG(st.st_mode))
        return pki_err_set(err, PKI_ERR_INPUT, "the store %s is not a regular file", path);
    return PKI_OK;
}

/* WAL lets the CLI read while the server writes; the PRAGMA answers with the
 * mode it ended in, which is not WAL on file systems without shared memory. */
static int set_wal(struct sq_store *s, struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *mode;
    int rc = store__sq_prepare(s, "PRAGMA journal_mode = WAL", &st, err);

    if (rc != 0)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = store__sq_fail(s, store__sq_code(s), "cannot set the WAL journal mode", err);
        goto out;
    }
    mode = sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0)
        rc = pki_err_set(err, PKI_ERR_IO,
                         "%s: SQLite could not switch to WAL journal mode (got \"%s\")",
                         s->path, mode != NULL ? (const char *)mode : "");
out:
    sqlite3_finalize(st);
    return rc;
}

static int set_pragmas(struct sq_store *s, struct pki_err *err)
{
    int rc = set_wal(s, err);

    if (rc != 0 && (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_NOTADB)
        return pki_err_set(err, PKI_ERR_INPUT, "%s is not a SQLite database (%s)", s->path,
                           sqlite3_errmsg(s->db));
    if (rc != 0)
        return rc;
    /* FULL: a committed rotation or token survives a power cut (WAL's
     * default NORMAL may lose the last commits). temp_store MEMORY: no
     * temporary file is ever opened outside the data dir (a confined server
     * worker could not; the store's statements are small). */
    if (sqlite3_exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                            "PRAGMA temp_store = MEMORY",
                     NULL, NULL, NULL) != SQLITE_OK)
        return store__sq_fail(s, store__sq_code(s), "cannot set the store's PRAGMAs", err);
    return PKI_OK;
}

static int connect_db(struct sq_store *s, struct pki_err *err)
{
    /* NOFOLLOW again at open: check_file's lstat and this open are two calls. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;

    if (sqlite3_open_v2(s->path, &s->db, flags, NULL) != SQLITE_OK) {
        if (s->db == NULL)
            return pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", s->path);
        return store__sq_fail(s, PKI_ERR_IO, "cannot open the store", err);
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    return set_pragmas(s, err);
}

static int check_version(struct sq_store *s, struct pki_err *err)
{
    int64_t v = 0;
    int rc = store__sq_meta_read(s, "schema_version", NULL, 0, &v, err);

    if (rc == PKI_ERR_NOTFOUND || (rc == 0 && v < 1))
        return pki_err_set(err, PKI_ERR_INPUT, "%s is not a pkictl store (no schema version)",
                           s->path);
    if (rc != 0)
        return rc;
    if (v > SCHEMA_VERSION)
        return pki_err_set(err, PKI_ERR_POLICY,
                           "%s: store schema version %lld is newer than this pkictl (%d); "
                           "upgrade pkictl",
                           s->path, (long long)v, SCHEMA_VERSION);
    return PKI_OK;
}

/* Tables in the file: n in all, has_meta if one is ours. */
static int count_tables(struct sq_store *s, int *n, int *has_meta, struct pki_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = store__sq_prepare(s,
                               "SELECT count(*), coalesce(sum(name = 'meta'), 0) FROM"
                               " sqlite_master WHERE type = 'table'",
                               &st, err);

    if (rc != 0)
        return rc;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = store__sq_fail(s, store__sq_code(s), "cannot read the schema", err);
    } else {
        *n = sqlite3_column_int(st, 0);
        *has_meta = sqlite3_column_int(st, 1) > 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int create_schema(struct sq_store *s, struct pki_err *err)
{
    if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
        return store__sq_fail(s, store__sq_code(s), "cannot create the schema", err);
    return store__sq_meta_put_int(s, "schema_version", SCHEMA_VERSION, err);
}

/* An empty file gets the schema; anything else must be a pkictl store. */
static int setup_schema(struct sq_store *s, struct pki_err *err)
{
    int n = 0, has_meta = 0, rc;

    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store__sq_fail(s, store__sq_code(s), "cannot begin a transaction", err);
    rc = count_tables(s, &n, &has_meta, err);
    if (rc == 0 && n == 0)
        rc = create_schema(s, err);
    else if (rc == 0 && !has_meta)
        rc = pki_err_set(err, PKI_ERR_INPUT,
                         "%s is a SQLite database but not a pkictl store (no meta table)",
                         s->path);
    else if (rc == 0)
        rc = check_version(s, err);
    return store__sq_end(s, rc, err);
}

static int read_data_version(struct sq_store *s, int64_t *v, struct pki_err *err)
{
    int rc = store__sq_hot(s, &s->st_data_version, "PRAGMA data_version", err);

    if (rc != 0)
        return rc;
    if (sqlite3_step(s->st_data_version) != SQLITE_ROW)
        rc = store__sq_fail(s, store__sq_code(s), "cannot read PRAGMA data_version", err);
    else
        *v = sqlite3_column_int64(s->st_data_version, 0);
    store__sq_release(s->st_data_version);
    return rc;
}

/* Another connection's commit changes data_version; this handle's own
 * commits do not. So a server that writes through its handle and updates its
 * cache itself is told only about writes it did not make. */
static int sq_changed(struct store *base, int *changed, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    int64_t v = 0;
    int rc = read_data_version(s, &v, err);

    if (rc != 0)
        return rc;
    *changed = v != s->data_version;
    s->data_version = v;
    return PKI_OK;
}

static int sq_meta_get(struct store *base, struct store_meta *out, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    struct store_meta m;
    int rc;

    memset(&m, 0, sizeof(m));
    rc = store__sq_meta_read(s, "cluster_id", m.cluster_id, sizeof(m.cluster_id), NULL, err);
    if (rc == PKI_ERR_NOTFOUND)
        return pki_err_set(err, rc, "the store at %s is not bootstrapped", s->path);
    if (rc == 0)
        rc = store__sq_meta_read(s, "trust_domain", m.trust_domain, sizeof(m.trust_domain),
                                 NULL, err);
    if (rc == 0)
        rc = store__sq_meta_read(s, "datacenter", m.datacenter, sizeof(m.datacenter), NULL,
                                 err);
    if (rc == 0)
        rc = store__sq_meta_read(s, "created", NULL, 0, &m.created, err);
    if (rc == PKI_ERR_NOTFOUND)
        return pki_err_set(err, PKI_ERR_INPUT, "%s: the store's meta data is incomplete",
                           s->path);
    if (rc == 0)
        *out = m;
    return rc;
}

static int sq_audit_get(struct store *base, uint64_t *seq, char hash[65], struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    char h[65] = ZERO_HASH;
    int64_t n = 0;
    int rc = store__sq_meta_read(s, "audit_seq", NULL, 0, &n, err);

    if (rc == 0)
        rc = store__sq_meta_read(s, "audit_hash", h, sizeof(h), NULL, err);
    if (rc == PKI_ERR_NOTFOUND) /* no checkpoint yet */
        rc = PKI_OK;
    if (rc == 0 && (n < 0 || strlen(h) != 64))
        rc = pki_err_set(err, PKI_ERR_INPUT, "%s: the audit checkpoint is corrupt", s->path);
    if (rc != 0)
        return rc;
    *seq = (uint64_t)n;
    memcpy(hash, h, sizeof(h));
    return PKI_OK;
}

static int sq_audit_set(struct store *base, uint64_t seq, const char *hash, struct pki_err *err)
{
    struct sq_store *s = store__sq(base);
    uint64_t idx = 0;
    int rc;

    if (hash == NULL || !store__sq_is_hex64(hash))
        return pki_err_set(err, PKI_ERR_USAGE,
                           "%s: an audit checkpoint hash is 64 lowercase hex digits", s->path);
    if (seq > INT64_MAX)
        return pki_err_set(err, PKI_ERR_USAGE, "%s: audit sequence %llu is out of range",
                           s->path, (unsigned long long)seq);
    rc = store__sq_begin(s, &idx, err);
    if (rc != 0)
        return rc;
    rc = store__sq_meta_put_int(s, "audit_seq", (int64_t)seq, err);
    if (rc == 0)
        rc = store__sq_meta_put_text(s, "audit_hash", hash, err);
    return store__sq_end(s, rc, err);
}

static const struct store_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .meta_get = sq_meta_get,
    .bootstrap = store__sq_bootstrap,
    .config_get = store__sq_config_get,
    .config_set = store__sq_config_set,
    .roots_list = store__sq_roots_list,
    .rotate = store__sq_rotate,
    .root_set_intermediates = store__sq_root_set_intermediates,
    .root_delete = store__sq_root_delete,
    .token_insert = store__sq_token_insert,
    .token_find = store__sq_token_find,
    .tokens_list = store__sq_tokens_list,
    .token_delete = store__sq_token_delete,
    .audit_checkpoint_get = sq_audit_get,
    .audit_checkpoint_set = sq_audit_set,
    .changed = sq_changed,
};

struct store *store_open_sqlite(const char *path, struct pki_err *err)
{
    struct sq_store *s = NULL;

    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(s->path)) {
        (void)pki_err_set(err, PKI_ERR_USAGE, "no valid store path given");
        return NULL;
    }
    if (check_file(path, err) != 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        (void)pki_err_set(err, PKI_ERR_INTERNAL, "%s: out of memory", path);
        return NULL;
    }
    s->base.ops = &sq_ops;
    memcpy(s->path, path, strlen(path) + 1);
    if (connect_db(s, err) != 0 || setup_schema(s, err) != 0 ||
        read_data_version(s, &s->data_version, err) != 0) {
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}
