/* test_store.c - the SQLite store: opening and its refusals, bootstrap once,
 * index bumps, roots (order, round trip, rotation, deletion), tokens, the
 * audit checkpoint and change detection between two handles.
 *
 * Every test gets its own mkdtemp folder (removed in teardown). SQLite is
 * used directly only to forge states the store must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "store.h"
#include "unit_util.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

struct fix {
    char *dir;
    char path[4096];
    struct store *s;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = ut_mkdtemp();
    snprintf(f->path, sizeof(f->path), "%s/pkictl.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    store_close(f->s);
    ut_rmtree(f->dir);
    free(f);
    return 0;
}

static struct store *open_ok(const char *path)
{
    struct pki_err err = {0, ""};
    struct store *s = store_open_sqlite(path, &err);

    if (s == NULL)
        fail_msg("store_open_sqlite(%s): %s", path, err.msg);
    return s;
}

/* A root whose every field differs from the next one's: id "<tag>:id",
 * blobs with NUL bytes in them, a serial with the top bit set. */
static void mk_root(struct store_root *r, const char *tag, int64_t t)
{
    static const unsigned char rk[] = {'P', 'K', 'W', '1', 0, 1, 0, 0, 0xff, 0};
    static const unsigned char sk[] = {0, 0, 0, 's', 'k', 0, 0x80};
    struct pki_err err = {0, ""};
    char pem[64];

    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s:id", tag);
    snprintf(r->name, sizeof(r->name), "%s root", tag);
    r->serial = 0x8000000000000000ULL | (uint64_t)t;
    snprintf(r->signing_key_id, sizeof(r->signing_key_id), "%s:ski", tag);
    snprintf(r->root_key_id, sizeof(r->root_key_id), "%s:rki", tag);
    r->not_before = t;
    r->not_after = t + 10 * YEAR;
    snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n%s\n", tag);
    r->root_pem = strdup(pem);
    snprintf(pem, sizeof(pem), "%s intermediate\n", tag);
    r->intermediates_pem = strdup(pem);
    assert_ok(pki_buf_set(&r->root_key, rk, sizeof(rk), &err), err);
    assert_ok(pki_buf_set(&r->signing_key, sk, sizeof(sk) - (size_t)(tag[0] & 1), &err), err);
    snprintf(r->key_type, sizeof(r->key_type), "ec");
    r->key_bits = 256 + tag[0];
    r->active = 0; /* the store decides: rotate and bootstrap make it active */
}

static void mk_token(struct store_token *t, const char *accessor, const char *hash,
                     const char *policy)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->accessor, sizeof(t->accessor), "%s", accessor);
    snprintf(t->secret_hash, sizeof(t->secret_hash), "%s", hash);
    t->policy = strdup(policy);
    t->description = strdup("a token");
    t->created = T0;
}

static void mk_meta(struct store_meta *m, const char *cluster)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->cluster_id, sizeof(m->cluster_id), "%s", cluster);
    snprintf(m->trust_domain, sizeof(m->trust_domain), "%s.consul", cluster);
    snprintf(m->datacenter, sizeof(m->datacenter), "dc1");
    m->created = T0;
}

/* Bootstraps s with root "A" (id "A:id"), token op/HASH_A, config {"v":1}. */
static void boot(struct store *s)
{
    struct store_meta m;
    struct store_root r;
    struct store_token t;
    struct pki_err err = {0, ""};

    mk_meta(&m, "11111111-2222-3333-4444-555555555555");
    mk_root(&r, "A", T0);
    mk_token(&t, "op-accessor", HASH_A, "operator");
    assert_ok(store_bootstrap(s, &m, "{\"v\":1}", &r, &t, &err), err);
    store_root_clear(&r);
    store_token_clear(&t);
}

static void assert_root_eq(const struct store_root *got, const struct store_root *want)
{
    assert_string_equal(got->id, want->id);
    assert_string_equal(got->name, want->name);
    assert_true(got->serial == want->serial);
    assert_string_equal(got->signing_key_id, want->signing_key_id);
    assert_string_equal(got->root_key_id, want->root_key_id);
    assert_int_equal(got->not_before, want->not_before);
    assert_int_equal(got->not_after, want->not_after);
    assert_string_equal(got->root_pem, want->root_pem);
    assert_string_equal(got->intermediates_pem, want->intermediates_pem);
    assert_int_equal(got->root_key.len, want->root_key.len);
    assert_memory_equal(got->root_key.data, want->root_key.data, want->root_key.len);
    assert_int_equal(got->signing_key.len, want->signing_key.len);
    assert_memory_equal(got->signing_key.data, want->signing_key.data, want->signing_key.len);
    assert_string_equal(got->key_type, want->key_type);
    assert_int_equal(got->key_bits, want->key_bits);
}

/* The store's current index, read by making a write and undoing nothing:
 * config_set returns the index it got, which is the previous one + 1. */
static uint64_t next_index(struct store *s)
{
    struct store_config c;
    struct pki_err err = {0, ""};
    uint64_t idx = 0;

    assert_ok(store_config_get(s, &c, &err), err);
    assert_ok(store_config_set(s, c.json, &idx, &err), err);
    store_config_clear(&c);
    return idx;
}

/* ---- opening ------------------------------------------------------------ */

static void test_open_creates_0600_wal_store(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};
    struct store_tokens ts = {NULL, 0};
    char wal[4200];

    f->s = open_ok(f->path);
    assert_int_equal(ut_mode(f->path), 0600);
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 0);
    assert_ok(store_tokens_list(f->s, &ts, &err), err);
    assert_int_equal(ts.n, 0);
    boot(f->s);
    /* The WAL holds the same secrets as the database: same mode. */
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(ut_mode(wal), 0600);
}

static void test_open_reopen_keeps_data(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_meta m;
    struct store_roots rs = {NULL, 0};
    struct store_root want;
    struct store_token t;

    f->s = open_ok(f->path);
    boot(f->s);
    store_close(f->s);
    f->s = open_ok(f->path);
    assert_ok(store_meta_get(f->s, &m, &err), err);
    assert_string_equal(m.cluster_id, "11111111-2222-3333-4444-555555555555");
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 1);
    mk_root(&want, "A", T0);
    assert_root_eq(&rs.v[0], &want);
    assert_ok(store_token_find(f->s, HASH_A, &t, &err), err);
    assert_string_equal(t.accessor, "op-accessor");
    assert_int_equal(next_index(f->s), 2);
    store_token_clear(&t);
    store_root_clear(&want);
    store_roots_clear(&rs);
}

static void test_open_refuses_newer_schema(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    sqlite3 *db = NULL;

    f->s = open_ok(f->path);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open_sqlite(f->path, &err));
    assert_int_equal(err.code, PKI_ERR_POLICY);
    assert_msg_has(err, "store schema version 99 is newer than this pkictl (1); upgrade pkictl");
    assert_msg_has(err, f->path);
}

static void test_open_refuses_non_sqlite_file(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    char junk[2048];

    memset(junk, 'x', sizeof(junk));
    ut_write(f->path, junk, sizeof(junk), 0600);
    assert_null(store_open_sqlite(f->path, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "is not a SQLite database");
    assert_msg_has(err, f->path);
    /* The refused file is left as it was. */
    assert_int_equal(ut_count_entries(f->dir), 1);

    ut_write(f->path, "hello\n", 6, 0600);
    assert_null(store_open_sqlite(f->path, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "is not a SQLite database");
}

static void test_open_refuses_foreign_sqlite_db(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open_sqlite(f->path, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a pkictl store");
}

static void test_open_refuses_symlink_and_non_file(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    char link[4200], dir[4200];

    f->s = open_ok(f->path);
    store_close(f->s);
    f->s = NULL;
    snprintf(link, sizeof(link), "%s/link.db", f->dir);
    assert_int_equal(symlink(f->path, link), 0);
    assert_null(store_open_sqlite(link, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "symbolic link");
    assert_msg_has(err, link);

    /* A dangling link is not followed to create the file it names. */
    snprintf(link, sizeof(link), "%s/dangling.db", f->dir);
    assert_int_equal(symlink("/nonexistent-pkictl-store.db", link), 0);
    assert_null(store_open_sqlite(link, &err));
    assert_msg_has(err, "symbolic link");
    assert_int_equal(access("/nonexistent-pkictl-store.db", F_OK), -1);

    snprintf(dir, sizeof(dir), "%s/adir", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_null(store_open_sqlite(dir, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "not a regular file");
}

/* ---- meta, bootstrap, config -------------------------------------------- */

static void test_meta_before_and_after_bootstrap(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_meta m;
    struct store_config c;
    struct store_roots rs = {NULL, 0};
    struct store_token t;

    f->s = open_ok(f->path);
    assert_err(store_meta_get(f->s, &m, &err), err, PKI_ERR_NOTFOUND, "not bootstrapped");
    assert_err(store_config_get(f->s, &c, &err), err, PKI_ERR_NOTFOUND, "not bootstrapped");
    assert_err(store_config_set(f->s, "{}", NULL, &err), err, PKI_ERR_NOTFOUND,
               "not bootstrapped");
    boot(f->s);
    assert_ok(store_meta_get(f->s, &m, &err), err);
    assert_string_equal(m.cluster_id, "11111111-2222-3333-4444-555555555555");
    assert_string_equal(m.trust_domain, "11111111-2222-3333-4444-555555555555.consul");
    assert_string_equal(m.datacenter, "dc1");
    assert_int_equal(m.created, T0);
    /* One bump for the whole bootstrap: every row has index 1. */
    assert_ok(store_config_get(f->s, &c, &err), err);
    assert_string_equal(c.json, "{\"v\":1}");
    assert_int_equal(c.create_index, 1);
    assert_int_equal(c.modify_index, 1);
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.v[0].active, 1);
    assert_int_equal(rs.v[0].rotated_out_at, 0);
    assert_int_equal(rs.v[0].create_index, 1);
    assert_int_equal(rs.v[0].modify_index, 1);
    assert_ok(store_token_find(f->s, HASH_A, &t, &err), err);
    assert_int_equal(t.create_index, 1);
    assert_int_equal(t.modify_index, 1);
    store_token_clear(&t);
    store_roots_clear(&rs);
    store_config_clear(&c);
}

static void test_bootstrap_twice_exists_and_unchanged(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_meta m;
    struct store_root r;
    struct store_token t;
    struct store_roots rs = {NULL, 0};
    struct store_tokens ts = {NULL, 0};
    struct store_config c;

    f->s = open_ok(f->path);
    boot(f->s);
    mk_meta(&m, "99999999-0000-0000-0000-000000000000");
    mk_root(&r, "B", T0 + DAY);
    mk_token(&t, "other", HASH_B, "operator");
    assert_err(store_bootstrap(f->s, &m, "{\"v\":2}", &r, &t, &err), err, PKI_ERR_EXISTS,
               "already bootstrapped (cluster id 11111111-2222-3333-4444-555555555555)");
    assert_msg_has(err, f->path);
    assert_ok(store_meta_get(f->s, &m, &err), err);
    assert_string_equal(m.cluster_id, "11111111-2222-3333-4444-555555555555");
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.v[0].id, "A:id");
    assert_ok(store_tokens_list(f->s, &ts, &err), err);
    assert_int_equal(ts.n, 1);
    assert_ok(store_config_get(f->s, &c, &err), err);
    assert_string_equal(c.json, "{\"v\":1}");
    /* The refused bootstrap's index bump was rolled back too. */
    assert_int_equal(next_index(f->s), 2);
    store_config_clear(&c);
    store_tokens_clear(&ts);
    store_roots_clear(&rs);
    store_root_clear(&r);
    store_token_clear(&t);
}

static void test_bootstrap_refuses_bad_input(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_meta m;
    struct store_root r;
    struct store_token t;

    f->s = open_ok(f->path);
    mk_meta(&m, "c");
    mk_root(&r, "A", T0);
    mk_token(&t, "op", HASH_A, "operator");
    free(r.root_pem);
    r.root_pem = NULL;
    assert_err(store_bootstrap(f->s, &m, "{}", &r, &t, &err), err, PKI_ERR_USAGE,
               "root certificate");
    r.root_pem = strdup("pem");
    memset(r.id, 'x', sizeof(r.id)); /* no terminator */
    assert_err(store_bootstrap(f->s, &m, "{}", &r, &t, &err), err, PKI_ERR_INPUT,
               "not terminated");
    snprintf(r.id, sizeof(r.id), "A:id");
    snprintf(t.secret_hash, sizeof(t.secret_hash), "%s", "ABC");
    assert_err(store_bootstrap(f->s, &m, "{}", &r, &t, &err), err, PKI_ERR_USAGE,
               "64 lowercase hex");
    snprintf(t.secret_hash, sizeof(t.secret_hash), "%s", HASH_A);
    m.datacenter[0] = '\0';
    assert_err(store_bootstrap(f->s, &m, "{}", &r, &t, &err), err, PKI_ERR_USAGE, "datacenter");
    assert_err(store_meta_get(f->s, &m, &err), err, PKI_ERR_NOTFOUND, "not bootstrapped");
    store_root_clear(&r);
    store_token_clear(&t);
}

static void test_config_set_bumps_index(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_config c;
    uint64_t idx = 0;

    f->s = open_ok(f->path);
    boot(f->s);
    assert_ok(store_config_set(f->s, "{\"v\":2}", &idx, &err), err);
    assert_int_equal(idx, 2);
    assert_ok(store_config_get(f->s, &c, &err), err);
    assert_string_equal(c.json, "{\"v\":2}");
    assert_int_equal(c.create_index, 1);
    assert_int_equal(c.modify_index, 2);
    store_config_clear(&c);
    assert_ok(store_config_set(f->s, "{\"v\":3}", &idx, &err), err);
    assert_int_equal(idx, 3);
    assert_err(store_config_set(f->s, NULL, &idx, &err), err, PKI_ERR_USAGE, "CA configuration");
    assert_err(store_config_set(f->s, "", &idx, &err), err, PKI_ERR_USAGE, "CA configuration");
    assert_int_equal(idx, 3);
    assert_ok(store_config_get(f->s, &c, &err), err);
    assert_string_equal(c.json, "{\"v\":3}");
    assert_int_equal(c.modify_index, 3);
    store_config_clear(&c);
}

/* ---- roots -------------------------------------------------------------- */

static void rotate_to(struct store *s, const char *tag, const char *old_id, int64_t at,
                      const char *cfg)
{
    struct store_root r;
    struct pki_err err = {0, ""};

    mk_root(&r, tag, at);
    assert_ok(store_rotate(s, &r, old_id, at, cfg, &err), err);
    store_root_clear(&r);
}

static void test_roots_order_and_round_trip(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};
    struct store_root want;
    const char *tags[] = {"C", "B", "A"};

    f->s = open_ok(f->path);
    boot(f->s);
    rotate_to(f->s, "B", "A:id", T0 + DAY, "{\"v\":2}");
    rotate_to(f->s, "C", "B:id", T0 + 2 * DAY, "{\"v\":3}");
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 3);
    for (size_t i = 0; i < 3; i++) {
        mk_root(&want, tags[i], i == 2 ? T0 : T0 + (int64_t)(2 - i) * DAY);
        assert_root_eq(&rs.v[i], &want);
        assert_int_equal(rs.v[i].active, i == 0);
        assert_int_equal(rs.v[i].create_index, 3 - i);
        store_root_clear(&want);
    }
    assert_int_equal(rs.v[0].root_key.data[4], 0); /* NUL bytes survived */
    assert_true(rs.v[0].serial > INT64_MAX);
    store_roots_clear(&rs);
    assert_null(rs.v);
    assert_int_equal(rs.n, 0);
}

static void test_root_without_keys_round_trips(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};
    struct store_root r;

    f->s = open_ok(f->path);
    boot(f->s);
    mk_root(&r, "B", T0);
    pki_buf_free(&r.root_key); /* a supplied root: no key of ours */
    free(r.intermediates_pem);
    r.intermediates_pem = NULL;
    assert_ok(store_rotate(f->s, &r, "A:id", T0 + 1, "{}", &err), err);
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_string_equal(rs.v[0].id, "B:id");
    assert_int_equal(rs.v[0].root_key.len, 0);
    assert_null(rs.v[0].root_key.data);
    assert_null(rs.v[0].intermediates_pem);
    assert_int_equal(rs.v[0].signing_key.len, r.signing_key.len);
    store_roots_clear(&rs);
    store_root_clear(&r);
}

static void test_rotate_happy_path(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};
    struct store_config c;
    struct store_root r;

    f->s = open_ok(f->path);
    boot(f->s);
    mk_root(&r, "B", T0 + DAY);
    r.active = 0;
    r.rotated_out_at = 77; /* ignored: the new root is active */
    assert_ok(store_rotate(f->s, &r, "A:id", T0 + HOUR, "{\"v\":2}", &err), err);
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.v[0].id, "B:id");
    assert_int_equal(rs.v[0].active, 1);
    assert_int_equal(rs.v[0].rotated_out_at, 0);
    assert_int_equal(rs.v[0].create_index, 2);
    assert_int_equal(rs.v[0].modify_index, 2);
    assert_string_equal(rs.v[1].id, "A:id");
    assert_int_equal(rs.v[1].active, 0);
    assert_int_equal(rs.v[1].rotated_out_at, T0 + HOUR);
    assert_int_equal(rs.v[1].create_index, 1);
    assert_int_equal(rs.v[1].modify_index, 2);
    assert_ok(store_config_get(f->s, &c, &err), err);
    assert_string_equal(c.json, "{\"v\":2}");
    assert_int_equal(c.create_index, 1);
    assert_int_equal(c.modify_index, 2);
    store_config_clear(&c);
    store_roots_clear(&rs);
    store_root_clear(&r);
}

/* The state after boot + rotation to B, for the refusal tests. */
static void assert_state_after_b(struct store *s)
{
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};
    struct store_config c;

    assert_ok(store_roots_list(s, &rs, &err), err);
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.v[0].id, "B:id");
    assert_int_equal(rs.v[0].active, 1);
    assert_int_equal(rs.v[1].active, 0);
    assert_int_equal(rs.v[1].modify_index, 2);
    assert_ok(store_config_get(s, &c, &err), err);
    assert_string_equal(c.json, "{\"v\":2}");
    assert_int_equal(c.modify_index, 2);
    store_config_clear(&c);
    store_roots_clear(&rs);
}

static void test_rotate_stale_old_id_changes_nothing(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_root r;

    f->s = open_ok(f->path);
    boot(f->s);
    rotate_to(f->s, "B", "A:id", T0 + DAY, "{\"v\":2}");
    mk_root(&r, "C", T0 + 2 * DAY);
    /* A lost rotation still names A, which is no longer active. */
    assert_err(store_rotate(f->s, &r, "A:id", T0 + 2 * DAY, "{\"v\":3}", &err), err,
               PKI_ERR_NOTFOUND, "A:id is not the active root");
    assert_state_after_b(f->s);
    assert_err(store_rotate(f->s, &r, "nosuch", T0 + 2 * DAY, "{\"v\":3}", &err), err,
               PKI_ERR_NOTFOUND, "not the active root");
    assert_state_after_b(f->s);
    /* A new root reusing an existing id fails on the UNIQUE id, rolled back. */
    snprintf(r.id, sizeof(r.id), "A:id");
    assert_err(store_rotate(f->s, &r, "B:id", T0 + 2 * DAY, "{\"v\":3}", &err), err,
               PKI_ERR_EXISTS, "UNIQUE");
    assert_state_after_b(f->s);
    assert_int_equal(next_index(f->s), 3);
    store_root_clear(&r);
}

static void test_root_set_intermediates(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};

    f->s = open_ok(f->path);
    boot(f->s);
    assert_ok(store_root_set_intermediates(f->s, "A:id", "int\ncross\n", &err), err);
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_string_equal(rs.v[0].intermediates_pem, "int\ncross\n");
    assert_int_equal(rs.v[0].create_index, 1);
    assert_int_equal(rs.v[0].modify_index, 2);
    assert_int_equal(rs.v[0].active, 1);
    store_roots_clear(&rs);
    assert_err(store_root_set_intermediates(f->s, "nosuch", "x", &err), err, PKI_ERR_NOTFOUND,
               "no root has id nosuch");
    assert_err(store_root_set_intermediates(f->s, "A:id", NULL, &err), err, PKI_ERR_USAGE,
               "intermediates");
    assert_int_equal(next_index(f->s), 3);
}

static void test_root_delete(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_roots rs = {NULL, 0};

    f->s = open_ok(f->path);
    boot(f->s);
    assert_err(store_root_delete(f->s, "A:id", &err), err, PKI_ERR_POLICY, "is the active root");
    rotate_to(f->s, "B", "A:id", T0 + DAY, "{\"v\":2}");
    assert_err(store_root_delete(f->s, "B:id", &err), err, PKI_ERR_POLICY, "is the active root");
    assert_ok(store_root_delete(f->s, "A:id", &err), err);
    assert_ok(store_roots_list(f->s, &rs, &err), err);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.v[0].id, "B:id");
    store_roots_clear(&rs);
    assert_err(store_root_delete(f->s, "A:id", &err), err, PKI_ERR_NOTFOUND, "no root has id");
    assert_int_equal(next_index(f->s), 4); /* boot 1, rotate 2, delete 3 */
}

/* ---- tokens ------------------------------------------------------------- */

static void test_tokens_insert_find_list_delete(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_token t, got;
    struct store_tokens ts = {NULL, 0};

    f->s = open_ok(f->path);
    boot(f->s);
    mk_token(&t, "svc-accessor", HASH_C, "service:web,db");
    assert_ok(store_token_insert(f->s, &t, &err), err);
    assert_int_equal(t.create_index, 2);
    assert_int_equal(t.modify_index, 2);
    assert_ok(store_token_find(f->s, HASH_C, &got, &err), err);
    assert_string_equal(got.accessor, "svc-accessor");
    assert_string_equal(got.secret_hash, HASH_C);
    assert_string_equal(got.policy, "service:web,db");
    assert_string_equal(got.description, "a token");
    assert_int_equal(got.created, T0);
    assert_int_equal(got.create_index, 2);
    store_token_clear(&got);
    assert_ok(store_tokens_list(f->s, &ts, &err), err);
    assert_int_equal(ts.n, 2);
    assert_string_equal(ts.v[0].accessor, "op-accessor");
    assert_string_equal(ts.v[1].accessor, "svc-accessor");
    store_tokens_clear(&ts);

    assert_ok(store_token_delete(f->s, "svc-accessor", &err), err);
    assert_err(store_token_find(f->s, HASH_C, &got, &err), err, PKI_ERR_NOTFOUND,
               "no token has this secret");
    assert_err(store_token_delete(f->s, "svc-accessor", &err), err, PKI_ERR_NOTFOUND,
               "no token has accessor svc-accessor");
    assert_ok(store_token_find(f->s, HASH_A, &got, &err), err); /* the other remains */
    store_token_clear(&got);
    store_token_clear(&t);
}

static void test_tokens_duplicates_refused(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_token t;
    struct store_tokens ts = {NULL, 0};

    f->s = open_ok(f->path);
    boot(f->s);
    mk_token(&t, "op-accessor", HASH_B, "operator");
    assert_err(store_token_insert(f->s, &t, &err), err, PKI_ERR_EXISTS, "tokens.accessor");
    assert_int_equal(t.create_index, 0);
    snprintf(t.accessor, sizeof(t.accessor), "new");
    snprintf(t.secret_hash, sizeof(t.secret_hash), "%s", HASH_A);
    assert_err(store_token_insert(f->s, &t, &err), err, PKI_ERR_EXISTS, "tokens.secret_hash");
    assert_ok(store_tokens_list(f->s, &ts, &err), err);
    assert_int_equal(ts.n, 1);
    store_tokens_clear(&ts);
    assert_int_equal(next_index(f->s), 2);
    store_token_clear(&t);
}

static void test_tokens_bad_input(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_token t, got;

    f->s = open_ok(f->path);
    boot(f->s);
    assert_err(store_token_find(f->s, HASH_A "a", &got, &err), err, PKI_ERR_INPUT,
               "longer than 64");
    assert_err(store_token_find(f->s, NULL, &got, &err), err, PKI_ERR_USAGE, "secret hash");
    assert_err(store_token_find(f->s, "abc", &got, &err), err, PKI_ERR_NOTFOUND, "no token");
    mk_token(&t, "x", HASH_B, "operator");
    free(t.policy);
    t.policy = NULL;
    assert_err(store_token_insert(f->s, &t, &err), err, PKI_ERR_USAGE, "token policy");
    t.policy = strdup("operator");
    t.accessor[0] = '\0';
    assert_err(store_token_insert(f->s, &t, &err), err, PKI_ERR_USAGE, "accessor");
    assert_err(store_token_delete(f->s, "", &err), err, PKI_ERR_USAGE, "token accessor");
    store_token_clear(&t);
}

/* ---- audit checkpoint, change detection --------------------------------- */

static void test_audit_checkpoint(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    uint64_t seq = 99;
    char hash[65];

    f->s = open_ok(f->path);
    assert_ok(store_audit_checkpoint_get(f->s, &seq, hash, &err), err);
    assert_int_equal(seq, 0);
    assert_string_equal(hash, ZEROS);
    assert_ok(store_audit_checkpoint_set(f->s, 42, HASH_C, &err), err);
    store_close(f->s);
    f->s = open_ok(f->path);
    assert_ok(store_audit_checkpoint_get(f->s, &seq, hash, &err), err);
    assert_int_equal(seq, 42);
    assert_string_equal(hash, HASH_C);
    assert_err(store_audit_checkpoint_set(f->s, 43, "ABCDEF", &err), err, PKI_ERR_USAGE,
               "64 lowercase hex");
    assert_err(store_audit_checkpoint_set(f->s, 43, HASH_C "0", &err), err, PKI_ERR_USAGE,
               "64 lowercase hex");
    assert_err(store_audit_checkpoint_set(f->s, UINT64_MAX, HASH_C, &err), err, PKI_ERR_USAGE,
               "out of range");
    assert_ok(store_audit_checkpoint_get(f->s, &seq, hash, &err), err);
    assert_int_equal(seq, 42);
}

static void test_changed_sees_other_handle_only(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store *b;
    int changed = -1;
    uint64_t idx = 0;

    f->s = open_ok(f->path);
    boot(f->s);
    b = open_ok(f->path);
    assert_ok(store_changed(f->s, &changed, &err), err);
    assert_int_equal(changed, 0);
    assert_ok(store_changed(b, &changed, &err), err);
    assert_int_equal(changed, 0);

    /* Own writes are not reported: the writer updates its cache itself. */
    assert_ok(store_config_set(f->s, "{\"v\":2}", &idx, &err), err);
    assert_ok(store_changed(f->s, &changed, &err), err);
    assert_int_equal(changed, 0);
    assert_ok(store_changed(b, &changed, &err), err);
    assert_int_equal(changed, 1);
    assert_ok(store_changed(b, &changed, &err), err);
    assert_int_equal(changed, 0);

    assert_ok(store_audit_checkpoint_set(b, 1, HASH_C, &err), err);
    assert_ok(store_changed(b, &changed, &err), err);
    assert_int_equal(changed, 0);
    assert_ok(store_changed(f->s, &changed, &err), err);
    assert_int_equal(changed, 1);
    assert_ok(store_changed(f->s, &changed, &err), err);
    assert_int_equal(changed, 0);
    store_close(b);
}

static void count_write(void *arg)
{
    (*(int *)arg)++;
}

/* store_on_write: once per successful write of cached state; never for a
 * refused write, a read, or the audit checkpoint. */
static void test_on_write_hook(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_meta m;
    struct store_root r;
    struct store_token t, got;
    struct store_config c;
    uint64_t idx = 0;
    int n = 0;

    f->s = open_ok(f->path);
    store_on_write(f->s, count_write, &n);
    boot(f->s);
    assert_int_equal(n, 1);
    mk_meta(&m, "11111111-2222-3333-4444-555555555555");
    mk_root(&r, "Z", T0);
    mk_token(&t, "op2", HASH_B, "operator");
    assert_int_not_equal(store_bootstrap(f->s, &m, "{}", &r, &t, &err), 0); /* once only */
    store_root_clear(&r);
    store_token_clear(&t);
    assert_int_equal(n, 1);
    assert_ok(store_config_set(f->s, "{\"v\":2}", &idx, &err), err);
    assert_int_equal(n, 2);
    rotate_to(f->s, "B", "A:id", T0 + DAY, "{\"v\":3}");
    assert_int_equal(n, 3);
    assert_ok(store_root_set_intermediates(f->s, "B:id", "B int2\n", &err), err);
    assert_int_equal(n, 4);
    assert_ok(store_root_delete(f->s, "A:id", &err), err);
    assert_int_equal(n, 5);
    assert_int_not_equal(store_root_delete(f->s, "A:id", &err), 0);
    assert_int_equal(n, 5);
    mk_token(&t, "svc", HASH_C, "service:web");
    assert_ok(store_token_insert(f->s, &t, &err), err);
    assert_int_equal(n, 6);
    assert_int_not_equal(store_token_insert(f->s, &t, &err), 0); /* duplicate */
    store_token_clear(&t);
    assert_int_equal(n, 6);
    assert_ok(store_token_delete(f->s, "svc", &err), err);
    assert_int_equal(n, 7);
    assert_int_not_equal(store_token_delete(f->s, "svc", &err), 0);
    assert_ok(store_audit_checkpoint_set(f->s, 1, HASH_C, &err), err);
    assert_ok(store_config_get(f->s, &c, &err), err);
    store_config_clear(&c);
    assert_int_not_equal(store_token_find(f->s, HASH_C, &got, &err), 0);
    assert_int_equal(n, 7);
    store_on_write(f->s, NULL, NULL);
    assert_ok(store_config_set(f->s, "{\"v\":4}", &idx, &err), err);
    assert_int_equal(n, 7);
}

/* A failure in the last step of a write undoes the earlier steps and the
 * index bump; the message names the store and SQLite's reason. */
static void test_failed_write_rolls_back(void **state)
{
    struct fix *f = *state;
    struct pki_err err = {0, ""};
    struct store_root r;
    sqlite3 *db = NULL;

    f->s = open_ok(f->path);
    boot(f->s);
    rotate_to(f->s, "B", "A:id", T0 + DAY, "{\"v\":2}");
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER no_config BEFORE UPDATE ON config"
                                  " BEGIN SELECT RAISE(ABORT, 'forged failure'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    mk_root(&r, "C", T0 + 2 * DAY);
    assert_err(store_rotate(f->s, &r, "B:id", T0 + 2 * DAY, "{\"v\":3}", &err), err,
               PKI_ERR_INPUT, "forged failure");
    assert_msg_has(err, f->path);
    assert_state_after_b(f->s);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_config", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(next_index(f->s), 3);
    store_root_clear(&r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_creates_0600_wal_store),
        T(test_open_reopen_keeps_data),
        T(test_open_refuses_newer_schema),
        T(test_open_refuses_non_sqlite_file),
        T(test_open_refuses_foreign_sqlite_db),
        T(test_open_refuses_symlink_and_non_file),
        T(test_meta_before_and_after_bootstrap),
        T(test_bootstrap_twice_exists_and_unchanged),
        T(test_bootstrap_refuses_bad_input),
        T(test_config_set_bumps_index),
        T(test_roots_order_and_round_trip),
        T(test_root_without_keys_round_trips),
        T(test_rotate_happy_path),
        T(test_rotate_stale_old_id_changes_nothing),
        T(test_root_set_intermediates),
        T(test_root_delete),
        T(test_tokens_insert_find_list_delete),
        T(test_tokens_duplicates_refused),
        T(test_tokens_bad_input),
        T(test_audit_checkpoint),
        T(test_changed_sees_other_handle_only),
        T(test_failed_write_rolls_back),
        T(test_on_write_hook),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
