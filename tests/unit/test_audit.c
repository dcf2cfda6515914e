/* test_audit.c - the hash-chained audit log in one process: appending,
 * reopening, and every kind of tampering that verify (with or without the
 * store's checkpoint) must name; the string fast path (the same bytes as
 * jansson). The head shared by processes is test_audit_shared.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "audit.h"
#include "unit_util.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
#define MAXL 16

struct lines {
    char *l[MAXL];
    size_t n;
};

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    size_t i, mdlen = 0;

    assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, data, len, md, &mdlen), 1);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The file's lines, each without its newline (a last line without one is
 * kept as is). */
static void read_lines(const char *path, struct lines *ls)
{
    char *data = ut_read(path, NULL), *p, *nl;

    ls->n = 0;
    if (data == NULL) {
        fail_msg("cannot read %s", path);
        return;
    }
    for (p = data; *p != '\0'; p = nl + 1) {
        assert_true(ls->n < MAXL);
        nl = strchr(p, '\n');
        if (nl == NULL) {
            ls->l[ls->n++] = strdup(p);
            break;
        }
        ls->l[ls->n++] = strndup(p, (size_t)(nl - p));
    }
    free(data);
}

static void free_lines(struct lines *ls)
{
    size_t i;

    for (i = 0; i < ls->n; i++)
        free(ls->l[i]);
    ls->n = 0;
}

/* Writes lines to dir/name, each followed by a newline unless it is the
 * last and no_last_nl is set. */
static const char *write_lines(const char *dir, const char *name, char *const *l, size_t n,
                               int no_last_nl)
{
    const char *path = ut_path(dir, name);
    FILE *f = fopen(path, "w");
    size_t i;

    assert_non_null(f);
    for (i = 0; i < n; i++)
        fprintf(f, "%s%s", l[i], (i + 1 == n && no_last_nl) ? "" : "\n");
    fclose(f);
    return path;
}

/* verify fails with PKI_ERR_INPUT, names line `bad`, and says `word`. */
static void assert_verify_fails(const char *path, uint64_t want_seq, const char *want_hash,
                                uint64_t bad, const char *word)
{
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};
    char line[32];

    snprintf(line, sizeof(line), "line %llu: ", (unsigned long long)bad);
    assert_err(srv_audit_verify(path, want_seq, want_hash, &rep, &err), err, PKI_ERR_INPUT,
               line);
    assert_msg_has(err, word);
    assert_int_equal(rep.bad_line, bad);
    assert_int_equal(rep.lines, bad - 1);
}

static void append_and_verify(void **state)
{
    char *dir = ut_mkdtemp(), head[65], want[65];
    const char *path = ut_audit_log(dir, 5);
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};
    struct lines ls;
    struct srv_audit *a;
    uint64_t seq;

    (void)state;
    read_lines(path, &ls);
    assert_int_equal(ls.n, 5);
    assert_string_equal(ls.l[0], "{\"seq\":1,\"time\":\"2023-11-14T22:13:20Z\",\"event\":"
                                 "\"bootstrap\",\"service\":\"web\",\"n\":0,\"prev\":\"" ZEROS
                                 "\"}");
    sha256_hex(ls.l[0], strlen(ls.l[0]), want);
    assert_non_null(strstr(ls.l[1], want));
    assert_true(strncmp(ls.l[1], "{\"seq\":2,\"time\":\"2023-11-14T22:13:21Z\",\"event\":"
                                 "\"leaf.issue\",", 60) == 0);
    sha256_hex(ls.l[4], strlen(ls.l[4]), want);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 5);
    assert_int_equal(rep.bad_line, 0);
    assert_string_equal(rep.last_hash, want);
    /* The checkpoint of any line that is there, with its hash, passes. */
    assert_ok(srv_audit_verify(path, 5, want, &rep, &err), err);
    sha256_hex(ls.l[2], strlen(ls.l[2]), head);
    assert_ok(srv_audit_verify(path, 3, head, &rep, &err), err);
    assert_int_equal(rep.lines, 5);
    a = srv_audit_open(path, &err);
    assert_non_null(a);
    srv_audit_head(a, &seq, head);
    assert_int_equal(seq, 5);
    assert_string_equal(head, want);
    srv_audit_close(a);
    free_lines(&ls);
    ut_rmtree(dir);
}

static void reopen_continues(void **state)
{
    char *dir = ut_mkdtemp(), head[65], want[65];
    const char *path = ut_audit_log(dir, 5);
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    struct lines ls;
    uint64_t seq;

    (void)state;
    assert_non_null(a);
    srv_audit_head(a, NULL, head);
    assert_ok(srv_audit_append(a, T0 + 100, "server.stop", NULL, &err), err);
    srv_audit_head(a, &seq, want);
    assert_int_equal(seq, 6);
    srv_audit_close(a);
    read_lines(path, &ls);
    assert_int_equal(ls.n, 6);
    assert_true(strncmp(ls.l[5], "{\"seq\":6,", 9) == 0);
    assert_non_null(strstr(ls.l[5], head)); /* prev = the old head */
    assert_ok(srv_audit_verify(path, 6, want, &rep, &err), err);
    assert_int_equal(rep.lines, 6);
    free_lines(&ls);
    ut_rmtree(dir);
}

static void empty_log(void **state)
{
    char *dir = ut_mkdtemp(), head[65];
    const char *path = ut_path(dir, "audit.log");
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    uint64_t seq = 99;

    (void)state;
    assert_non_null(a);
    srv_audit_head(a, &seq, head);
    assert_int_equal(seq, 0);
    assert_string_equal(head, ZEROS);
    srv_audit_close(a);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 0);
    assert_string_equal(rep.last_hash, ZEROS);
    /* An empty log cannot satisfy a checkpoint. */
    assert_verify_fails(path, 1, ZEROS, 1, "were cut");
    ut_rmtree(dir);
}

static void tamper_edit_field(void **state)
{
    char *dir = ut_mkdtemp(), *p;
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    p = strstr(ls.l[2], "\"web\"");
    p[2] = 'a';
    assert_verify_fails(write_lines(dir, "t", ls.l, 5, 0), 0, NULL, 4, "not the hash of");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void tamper_edit_last_line(void **state)
{
    char *dir = ut_mkdtemp(), want[65];
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};
    const char *t;
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    sha256_hex(ls.l[4], strlen(ls.l[4]), want);
    strstr(ls.l[4], "\"web\"")[1] = 'x';
    t = write_lines(dir, "t", ls.l, 5, 0);
    /* Nothing follows the last line to catch it: only the checkpoint does. */
    assert_ok(srv_audit_verify(t, 0, NULL, &rep, &err), err);
    assert_verify_fails(t, 5, want, 5, "checkpoint");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void tamper_delete_middle(void **state)
{
    char *dir = ut_mkdtemp();
    struct lines ls;
    char *l[4];

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    l[0] = ls.l[0], l[1] = ls.l[1], l[2] = ls.l[3], l[3] = ls.l[4];
    assert_verify_fails(write_lines(dir, "t", l, 4, 0), 0, NULL, 3, "seq is 4, expected 3");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void tamper_delete_first(void **state)
{
    char *dir = ut_mkdtemp();
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    assert_verify_fails(write_lines(dir, "t", ls.l + 1, 4, 0), 0, NULL, 1,
                        "seq is 2, expected 1");
    free_lines(&ls);
    ut_rmtree(dir);
}

/* A first line renumbered to look like the start still has a prev that is
 * not 64 zeros. */
static void tamper_delete_first_renumbered(void **state)
{
    char *dir = ut_mkdtemp();
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    ls.l[1][7] = '1';
    assert_verify_fails(write_lines(dir, "t", ls.l + 1, 4, 0), 0, NULL, 1, "64 zeros");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void tamper_swap(void **state)
{
    char *dir = ut_mkdtemp(), *tmp;
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    tmp = ls.l[1], ls.l[1] = ls.l[2], ls.l[2] = tmp;
    assert_verify_fails(write_lines(dir, "t", ls.l, 5, 0), 0, NULL, 2, "seq is 3, expected 2");
    free_lines(&ls);
    ut_rmtree(dir);
}

/* A forged line after line 2 whose prev is line 2's real hash. */
static void tamper_insert(void **state)
{
    char *dir = ut_mkdtemp(), h[65], forged[256], *l[6];
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    sha256_hex(ls.l[1], strlen(ls.l[1]), h);
    /* With the seq of the line it follows: caught at once. */
    snprintf(forged, sizeof(forged), "{\"seq\":2,\"time\":\"2023-11-14T22:13:21Z\",\"event\":"
             "\"token.create\",\"prev\":\"%s\"}", h);
    l[0] = ls.l[0], l[1] = ls.l[1], l[2] = forged, l[3] = ls.l[2], l[4] = ls.l[3];
    l[5] = ls.l[4];
    assert_verify_fails(write_lines(dir, "t", l, 6, 0), 0, NULL, 3, "seq is 2, expected 3");
    /* With the next seq it chains, but the real line 3 then does not. */
    forged[7] = '3';
    assert_verify_fails(write_lines(dir, "t", l, 6, 0), 0, NULL, 4, "seq is 3, expected 4");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void tamper_truncate_mid_line(void **state)
{
    char *dir = ut_mkdtemp();
    struct pki_err err = {0, ""};
    const char *t;
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    ls.l[4][strlen(ls.l[4]) / 2] = '\0';
    t = write_lines(dir, "t", ls.l, 5, 1);
    assert_null(srv_audit_open(t, &err));
    assert_int_equal(err.code, PKI_ERR_INPUT);
    assert_msg_has(err, "t: the last line is incomplete (a torn write?); run pkictl audit "
                        "verify");
    assert_verify_fails(t, 0, NULL, 5, "incomplete");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void tamper_cut_last_line(void **state)
{
    char *dir = ut_mkdtemp(), want[65];
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};
    const char *t;
    struct lines ls;

    (void)state;
    read_lines(ut_audit_log(dir, 5), &ls);
    sha256_hex(ls.l[4], strlen(ls.l[4]), want);
    t = write_lines(dir, "t", ls.l, 4, 0);
    assert_ok(srv_audit_verify(t, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 4);
    assert_verify_fails(t, 5, want, 5, "the store's checkpoint is seq 5 (the newest lines "
                        "were cut)");
    free_lines(&ls);
    ut_rmtree(dir);
}

static void bad_lines(void **state)
{
    static const struct { const char *line; const char *word; } cases[] = {
        {"not json", "not valid JSON"},
        {"[1,2]", "not a JSON object"},
        {"", "not valid JSON"},
        {"{\"seq\":\"1\",\"prev\":\"" ZEROS "\"}", "no integer \"seq\""},
        {"{\"seq\":1,\"prev\":\"" ZEROS "\"}", "no \"time\" or \"event\""},
        {"{\"seq\":1,\"time\":\"t\",\"event\":\"\",\"prev\":\"" ZEROS "\"}", "no \"time\""},
        {"{\"seq\":1,\"time\":\"t\",\"event\":\"e\"}", "prev is not"},
        {"{\"seq\":1,\"seq\":1,\"time\":\"t\",\"event\":\"e\",\"prev\":\"" ZEROS "\"}",
         "not valid JSON"},
        {"{\"seq\":-1,\"time\":\"t\",\"event\":\"e\",\"prev\":\"" ZEROS "\"}", "seq is -1"},
    };
    char *dir = ut_mkdtemp(), *l[1];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        l[0] = (char *)cases[i].line;
        assert_verify_fails(write_lines(dir, "t", l, 1, 0), 0, NULL, 1, cases[i].word);
    }
    ut_rmtree(dir);
}

static void open_refuses_bad_tail(void **state)
{
    char *dir = ut_mkdtemp();
    const char *t = ut_path(dir, "t");
    struct pki_err err = {0, ""};

    (void)state;
    ut_write(t, "garbage\n", strlen("garbage\n"), 0600);
    assert_null(srv_audit_open(t, &err));
    assert_err(err.code, err, PKI_ERR_INPUT, "not an audit record");
    ut_write(t, "{\"seq\":1,\"prev\":\"xyz\"}\n", strlen("{\"seq\":1,\"prev\":\"xyz\"}\n"), 0600);
    assert_null(srv_audit_open(t, &err));
    assert_err(err.code, err, PKI_ERR_INPUT, "not an audit record");
    ut_write(t, "\n", 1, 0600);
    assert_null(srv_audit_open(t, &err));
    assert_err(err.code, err, PKI_ERR_INPUT, "not an audit record");
    ut_rmtree(dir);
}

/* A last line longer than one read-back chunk, after many lines. */
static void open_long_tail(void **state)
{
    char *dir = ut_mkdtemp(), *big = malloc(10001), h1[65], h2[65];
    const char *path = ut_audit_log(dir, 3);
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    json_t *f;
    uint64_t seq;

    (void)state;
    assert_non_null(a);
    memset(big, 'q', 10000);
    big[10000] = '\0';
    f = json_pack("{s:s}", "note", big);
    assert_ok(srv_audit_append(a, T0, "config.change", f, &err), err);
    srv_audit_head(a, NULL, h1);
    srv_audit_close(a);
    a = srv_audit_open(path, &err);
    assert_non_null(a);
    srv_audit_head(a, &seq, h2);
    assert_int_equal(seq, 4);
    assert_string_equal(h1, h2);
    /* A record past the line limit is refused whole. */
    free(big);
    big = malloc(70001);
    memset(big, 'q', 70000);
    big[70000] = '\0';
    json_decref(f);
    f = json_pack("{s:s}", "note", big);
    assert_err(srv_audit_append(a, T0, "config.change", f, &err), err, PKI_ERR_USAGE,
               "at most 65536");
    srv_audit_head(a, &seq, h2);
    assert_int_equal(seq, 4);
    srv_audit_close(a);
    json_decref(f);
    free(big);
    ut_rmtree(dir);
}

static void reserved_fields_refused(void **state)
{
    static const char *const keys[] = {"seq", "time", "event", "prev"};
    char *dir = ut_mkdtemp();
    const char *path = ut_audit_log(dir, 2);
    char *before = ut_read(path, NULL), *after;
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    json_t *f;
    size_t i;

    (void)state;
    assert_non_null(a);
    for (i = 0; i < 4; i++) {
        f = json_pack("{s:s, s:i}", "service", "web", keys[i], 7);
        assert_err(srv_audit_append(a, T0, "leaf.issue", f, &err), err, PKI_ERR_USAGE,
                   "is reserved");
        assert_msg_has(err, keys[i]);
        json_decref(f);
    }
    f = json_pack("[i]", 1);
    assert_err(srv_audit_append(a, T0, "leaf.issue", f, &err), err, PKI_ERR_USAGE,
               "not a JSON object");
    json_decref(f);
    assert_err(srv_audit_append(a, T0, "", NULL, &err), err, PKI_ERR_USAGE, "no event");
    assert_err(srv_audit_append(a, T0, "bad\xff", NULL, &err), err, PKI_ERR_USAGE, "UTF-8");
    srv_audit_close(a);
    after = ut_read(path, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    ut_rmtree(dir);
}

static void created_0600(void **state)
{
    char *dir = ut_mkdtemp();
    mode_t old = umask(0);
    const char *path = ut_audit_log(dir, 1);

    (void)state;
    umask(old);
    assert_int_equal(ut_mode(path), 0600);
    ut_rmtree(dir);
}

static void symlink_refused(void **state)
{
    char *dir = ut_mkdtemp(), *data;
    const char *target = ut_path(dir, "elsewhere"), *link = ut_path(dir, "audit.log");
    struct pki_err err = {0, ""};

    (void)state;
    ut_write(target, "", 0, 0600);
    assert_int_equal(symlink(target, link), 0);
    assert_null(srv_audit_open(link, &err));
    assert_err(err.code, err, PKI_ERR_IO, "symbolic link");
    /* A dangling link must not create its target either. */
    assert_int_equal(unlink(target), 0);
    assert_null(srv_audit_open(link, &err));
    assert_int_equal(access(target, F_OK), -1);
    data = ut_read(target, NULL);
    assert_null(data);
    ut_rmtree(dir);
}

static void verify_arguments(void **state)
{
    char *dir = ut_mkdtemp();
    const char *path = ut_audit_log(dir, 1);
    struct srv_audit_report rep;
    struct pki_err err = {0, ""};

    (void)state;
    assert_err(srv_audit_verify(path, 1, "ABC", &rep, &err), err, PKI_ERR_USAGE, "64-digit");
    assert_err(srv_audit_verify(path, 1, NULL, &rep, &err), err, PKI_ERR_USAGE, "64-digit");
    assert_err(srv_audit_verify(ut_path(dir, "none"), 0, NULL, &rep, &err), err,
               PKI_ERR_NOTFOUND, "cannot open");
    assert_int_equal(rep.bad_line, 0);
    /* A checkpoint hash that is not the line's. */
    assert_verify_fails(path, 1, ZEROS, 1, "does not match the store's checkpoint");
    ut_rmtree(dir);
}


/* ---- srv_audit_append_strs ----------------------------------------------- */

/* Appends the same record to a through jansson and to b as strings. */
static void append_both(struct srv_audit *a, struct srv_audit *b, time_t now, const char *ev,
                        const char *const *kv, size_t npairs)
{
    struct pki_err err = {0, ""};
    json_t *f = json_object();
    size_t i;

    for (i = 0; i < npairs; i++)
        assert_int_equal(json_object_set_new(f, kv[2 * i], json_string(kv[2 * i + 1])), 0);
    assert_ok(srv_audit_append(a, now, ev, npairs > 0 ? f : NULL, &err), err);
    assert_ok(srv_audit_append_strs(b, now, ev, kv, npairs, &err), err);
    json_decref(f);
}

static void strs_same_bytes_as_jansson(void **state)
{
    static const char *const leaf[] = {
        "serial", "3a:4f:00:9c:12:ab:cd:ef:01:23:45:67:89:ab:cd:ef:10:20:30:40",
        "service", "web", "uri",
        "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web",
        "accessor", "6a1f0e2c-8b3d-4c5e-9f70-a1b2c3d4e5f6", "endpoint", "leaf"};
    static const char *const odd[] = {
        "q\"uote\\", "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f", "", "empty key",
        "utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xef\xbf\xbf\xf4\x8f\xbf\xbf\xee\x80\x80",
        "empty", ""};
    char *dir = ut_mkdtemp(), ctl[40], *big = malloc(3001), *da, *db;
    const char *kv[4] = {"ctl", ctl, "big", big};
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(ut_path(dir, "a"), &err);
    struct srv_audit *b = srv_audit_open(ut_path(dir, "b"), &err);
    struct srv_audit_report rep;
    size_t i, la, lb;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    for (i = 1; i < 32; i++)
        ctl[i - 1] = (char)i;
    ctl[31] = '\0';
    for (i = 0; i < 3000; i++)
        big[i] = "ab\n\x02/\\"[i % 6];
    big[3000] = '\0';
    append_both(a, b, T0, "leaf.issue", leaf, 5);
    append_both(a, b, T0 + 1, "ev\"t\t/\xc3\xa9", odd, 4);
    append_both(a, b, T0 + 2, "server.stop", NULL, 0);
    append_both(a, b, T0 + 3, "config.change", kv, 2); /* past the stack buffer */
    append_both(a, b, T0 + 4, "leaf.issue", leaf, 5);
    srv_audit_close(a);
    srv_audit_close(b);
    da = ut_read(ut_path(dir, "a"), &la);
    db = ut_read(ut_path(dir, "b"), &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    assert_non_null(strstr(da, "\\u0001\\u0002\\u0003"));
    assert_non_null(strstr(da, "\\u001F\"")); /* jansson's upper-case hex */
    assert_ok(srv_audit_verify(ut_path(dir, "b"), 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 5);
    free(da);
    free(db);
    free(big);
    ut_rmtree(dir);
}

/* The time written by hand is the one strftime writes, across leap days,
 * centuries and the edges where libc takes over. */
static void strs_time_is_strftime(void **state)
{
    char *dir = ut_mkdtemp(), want[48], *data, *p;
    const char *path = ut_path(dir, "audit.log");
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    time_t t[64] = {0, 59, 86399, 86400, 951782399, 951782400, 951868800, 4107542400,
                    4107628799, 253402300799, 253402300800, -1, -86401, 1700000000};
    struct tm tm;
    size_t i, n = 14;

    (void)state;
    assert_non_null(a);
    for (; n < 64; n++)
        t[n] = (time_t)(n - 14) * 5125000003LL + (time_t)n * 3607; /* to year ~8100 */
    for (i = 0; i < n; i++)
        assert_ok(srv_audit_append_strs(a, t[i], "e", NULL, 0, &err), err);
    srv_audit_close(a);
    data = ut_read(path, NULL);
    for (i = 0, p = data; i < n; i++, p += 8) {
        p = strstr(p, "\"time\":\"");
        assert_non_null(gmtime_r(&t[i], &tm));
        assert_int_not_equal(strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ\"", &tm), 0);
        if (strncmp(p + 8, want, strlen(want)) != 0)
            fail_msg("time %lld: wrote %.24s, strftime %s", (long long)t[i], p + 8, want);
    }
    free(data);
    ut_rmtree(dir);
}

static void strs_refusals(void **state)
{
    static const char *const bad_utf8[] = {
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "x\xc2", "\xe2\x82", "\xff"};
    static const char *const keys[] = {"seq", "time", "event", "prev"};
    char *dir = ut_mkdtemp(), *before, *after, *big = malloc(70001);
    const char *path = ut_audit_log(dir, 2), *kv[2 * 33];
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);
    json_t *j;
    size_t i;

    (void)state;
    assert_non_null(a);
    before = ut_read(path, NULL);
    for (i = 0; i < 4; i++) {
        kv[0] = "service", kv[1] = "web", kv[2] = keys[i], kv[3] = "7";
        assert_err(srv_audit_append_strs(a, T0, "leaf.issue", kv, 2, &err), err, PKI_ERR_USAGE,
                   "is reserved");
        assert_msg_has(err, keys[i]);
    }
    kv[2] = "service";
    assert_err(srv_audit_append_strs(a, T0, "e", kv, 2, &err), err, PKI_ERR_USAGE,
               "\"service\" is given twice");
    kv[3] = NULL;
    assert_err(srv_audit_append_strs(a, T0, "e", kv, 2, &err), err, PKI_ERR_USAGE,
               "field 2 has no key or no value");
    kv[0] = NULL;
    assert_err(srv_audit_append_strs(a, T0, "e", kv, 1, &err), err, PKI_ERR_USAGE,
               "field 1 has no key");
    assert_err(srv_audit_append_strs(a, T0, "e", NULL, 1, &err), err, PKI_ERR_USAGE,
               "no fields");
    for (i = 0; i < 2 * 33; i++)
        kv[i] = i % 2 ? "v" : (const char *[]){"k0", "k1", "k2", "k3"}[i / 2 % 4];
    assert_err(srv_audit_append_strs(a, T0, "e", kv, 33, &err), err, PKI_ERR_USAGE,
               "more than 32");
    assert_err(srv_audit_append_strs(a, T0, "", NULL, 0, &err), err, PKI_ERR_USAGE, "no event");
    assert_err(srv_audit_append_strs(NULL, T0, "e", NULL, 0, &err), err, PKI_ERR_USAGE,
               "no log");
    for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        /* jansson refuses each too: both paths accept the same strings. */
        assert_null(j = json_string(bad_utf8[i]));
        kv[0] = "k", kv[1] = bad_utf8[i];
        assert_err(srv_audit_append_strs(a, T0, "e", kv, 1, &err), err, PKI_ERR_USAGE,
                   "the value of field 1 is not UTF-8");
        kv[0] = bad_utf8[i], kv[1] = "v";
        assert_err(srv_audit_append_strs(a, T0, "e", kv, 1, &err), err, PKI_ERR_USAGE,
                   "the key of field 1 is not UTF-8");
        assert_err(srv_audit_append_strs(a, T0, bad_utf8[i], NULL, 0, &err), err,
                   PKI_ERR_USAGE, "the event is not UTF-8");
    }
    memset(big, 'q', 70000);
    big[70000] = '\0';
    kv[0] = "note", kv[1] = big;
    assert_err(srv_audit_append_strs(a, T0, "e", kv, 1, &err), err, PKI_ERR_USAGE,
               "at most 65536");
    memset(big, '\x01', 15000); /* 15000 bytes, 90000 escaped */
    big[15000] = '\0';
    assert_err(srv_audit_append_strs(a, T0, "e", kv, 1, &err), err, PKI_ERR_USAGE,
               "at most 65536");
    srv_audit_close(a);
    after = ut_read(path, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(big);
    ut_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_and_verify),
        cmocka_unit_test(reopen_continues),
        cmocka_unit_test(empty_log),
        cmocka_unit_test(tamper_edit_field),
        cmocka_unit_test(tamper_edit_last_line),
        cmocka_unit_test(tamper_delete_middle),
        cmocka_unit_test(tamper_delete_first),
        cmocka_unit_test(tamper_delete_first_renumbered),
        cmocka_unit_test(tamper_swap),
        cmocka_unit_test(tamper_insert),
        cmocka_unit_test(tamper_truncate_mid_line),
        cmocka_unit_test(tamper_cut_last_line),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(open_refuses_bad_tail),
        cmocka_unit_test(open_long_tail),
        cmocka_unit_test(reserved_fields_refused),
        cmocka_unit_test(created_0600),
        cmocka_unit_test(symlink_refused),
        cmocka_unit_test(verify_arguments),
        cmocka_unit_test(strs_same_bytes_as_jansson),
        cmocka_unit_test(strs_time_is_strftime),
        cmocka_unit_test(strs_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
