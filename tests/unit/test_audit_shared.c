/* test_audit_shared.c - the audit log's chain head shared by processes:
 * children appending to one chain, a lock holder that dies (before, after
 * or in the middle of its write), a torn tail, opening beside a writer;
 * and the shared mapping's store generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "audit.h"
#include "shared.h"
#include "unit_util.h"

/* srv_audit_open then srv_audit_attach: for a process no other appends
 * beside at that moment. */
static struct srv_audit *open_attached(const char *path, struct srv_shared *sh)
{
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open(path, &err);

    if (a != NULL)
        srv_audit_attach(a, &sh->audit);
    return a;
}

/* In a child: n appends through its own attached handle (every seventh
 * through jansson), then _exit: 0 if all went well. */
static void child_appends(const char *path, struct srv_shared *sh, int id, int n)
{
    struct pki_err err = {0, ""};
    struct srv_audit *a = srv_audit_open_attached(path, &sh->audit, &err);
    char num[16];
    const char *kv[4] = {"worker", num, "service", "web"};
    int i, rc = a == NULL;

    for (i = 0; i < n && rc == 0; i++) {
        snprintf(num, sizeof(num), "%d.%d", id, i);
        if (i % 7 == 0) {
            json_t *f = json_pack("{s:s,s:s}", "worker", num, "service", "web");

            rc = srv_audit_append(a, T0 + i, "leaf.issue", f, &err);
            json_decref(f);
        } else {
            rc = srv_audit_append_strs(a, T0 + i, "leaf.issue", kv, 2, &err);
        }
    }
    if (rc != 0)
        fprintf(stderr, "child %d: %s\n", id, err.msg);
    srv_audit_close(a);
    _exit(rc != 0);
}

static void wait_ok(pid_t pid)
{
    int status = 0;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void attached_children_one_chain(void **state)
{
    char *dir = ut_mkdtemp(), head[65];
    const char *path = ut_audit_log(dir, 2);
    struct pki_err err = {0, ""};
    struct srv_shared *sh = srv_shared_new(&err);
    struct srv_audit *a;
    struct srv_audit_report rep;
    pid_t pid[3];
    uint64_t seq;
    int i;

    (void)state;
    assert_non_null(sh);
    assert_non_null(a = open_attached(path, sh));
    assert_int_equal(sh->audit.seq, 2); /* the first attach published the file's head */
    for (i = 0; i < 3; i++) {
        assert_true((pid[i] = fork()) >= 0);
        if (pid[i] == 0)
            child_appends(path, sh, i, 200);
    }
    for (i = 0; i < 3; i++)
        wait_ok(pid[i]);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 602);
    /* This handle wrote nothing since open: its head is the shared one. */
    srv_audit_head(a, &seq, head);
    assert_int_equal(seq, 602);
    assert_string_equal(head, rep.last_hash);
    assert_ok(srv_audit_append_strs(a, T0, "server.stop", NULL, 0, &err), err);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 603);
    srv_audit_close(a);
    srv_shared_free(sh);
    ut_rmtree(dir);
}

/* A child takes the lock, maybe does `then`, and dies holding it. */
enum dying { DIE_HOLDING, DIE_AFTER_WRITE, DIE_MID_WRITE };

static void die_holding_lock(const char *path, struct srv_shared *sh, enum dying how)
{
    struct pki_err err = {0, ""};
    struct srv_audit *u;
    pid_t pid = fork();
    int fd, rc = 0;

    assert_true(pid >= 0);
    if (pid > 0) {
        wait_ok(pid);
        return;
    }
    if (pthread_mutex_lock(&sh->audit.mu) != 0)
        _exit(2);
    if (how == DIE_AFTER_WRITE) { /* written, never published */
        rc = (u = srv_audit_open(path, &err)) == NULL ||
             srv_audit_append_strs(u, T0, "leaf.issue", NULL, 0, &err) != 0;
    } else if (how == DIE_MID_WRITE) {
        fd = open(path, O_WRONLY | O_APPEND);
        rc = fd < 0 || write(fd, "{\"seq\":", 7) != 7;
    }
    _exit(rc);
}

static void attached_holder_dies(void **state)
{
    char *dir = ut_mkdtemp();
    const char *path = ut_audit_log(dir, 3);
    struct pki_err err = {0, ""};
    struct srv_shared *sh = srv_shared_new(&err);
    struct srv_audit *a;
    struct srv_audit_report rep;
    uint64_t seq;

    (void)state;
    assert_non_null(sh);
    assert_non_null(a = open_attached(path, sh));
    die_holding_lock(path, sh, DIE_HOLDING);
    assert_ok(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err);
    /* Recovered once, the lock is consistent again (not ENOTRECOVERABLE). */
    assert_ok(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err);
    /* A line written and never published: the next one chains to it. */
    die_holding_lock(path, sh, DIE_AFTER_WRITE);
    assert_ok(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err);
    srv_audit_head(a, &seq, NULL);
    assert_int_equal(seq, 7);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 7);
    srv_audit_close(a);
    srv_shared_free(sh);
    ut_rmtree(dir);
}

/* In a child: an attached append that the file size limit cuts short. */
static void short_write(const char *path, struct srv_shared *sh)
{
    struct pki_err err = {0, ""};
    struct srv_audit *a = open_attached(path, sh);
    struct rlimit rl;
    struct stat st;
    pid_t pid = fork();
    int rc;

    assert_true(pid >= 0);
    if (pid > 0) {
        wait_ok(pid);
        srv_audit_close(a);
        return;
    }
    signal(SIGXFSZ, SIG_IGN);
    if (a == NULL || stat(path, &st) != 0)
        _exit(2);
    rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size + 40;
    rc = setrlimit(RLIMIT_FSIZE, &rl) != 0 ||
         srv_audit_append_strs(a, T0, "leaf.issue", NULL, 0, &err) != PKI_ERR_IO ||
         strstr(err.msg, "short write") == NULL;
    _exit(rc);
}

/* A torn line (its writer died in the middle, or the write was cut short)
 * is refused, as srv_audit_open does, by every append after it: the log is
 * not extended blindly. */
static void attached_torn_tail_refused(void **state)
{
    char *dir, *before, *after;
    const char *path;
    struct pki_err err = {0, ""};
    struct srv_shared *sh;
    struct srv_audit *a;
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        dir = ut_mkdtemp();
        path = ut_audit_log(dir, 2);
        assert_non_null(sh = srv_shared_new(&err));
        assert_non_null(a = open_attached(path, sh));
        if (i == 0)
            die_holding_lock(path, sh, DIE_MID_WRITE);
        else
            short_write(path, sh);
        before = ut_read(path, NULL);
        assert_true(before[strlen(before) - 1] != '\n');
        assert_err(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err, PKI_ERR_INPUT,
                   "the last line is incomplete");
        assert_err(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err, PKI_ERR_INPUT,
                   "the last line is incomplete");
        after = ut_read(path, NULL);
        assert_string_equal(before, after);
        free(before);
        free(after);
        srv_audit_close(a);
        srv_shared_free(sh);
        ut_rmtree(dir);
    }
}

/* A line another process is writing looks torn to srv_audit_open, which
 * reads the tail unlocked; srv_audit_open_attached takes the shared head
 * and never reads it. */
static void open_attached_ignores_tail(void **state)
{
    char *dir = ut_mkdtemp();
    const char *path = ut_audit_log(dir, 2);
    struct pki_err err = {0, ""};
    struct srv_shared *sh = srv_shared_new(&err);
    struct srv_audit *a, *b;
    struct srv_audit_report rep;
    struct stat st;
    uint64_t seq;
    int fd;

    (void)state;
    assert_non_null(sh);
    assert_non_null(a = open_attached(path, sh));
    assert_ok(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err);
    assert_int_equal(stat(path, &st), 0);
    assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
    assert_int_equal(write(fd, "{\"seq\":4,", 9), 9); /* mid-write */
    assert_null(srv_audit_open(path, &err));
    assert_err(err.code, err, PKI_ERR_INPUT, "incomplete");
    assert_non_null(b = srv_audit_open_attached(path, &sh->audit, &err));
    srv_audit_head(b, &seq, NULL);
    assert_int_equal(seq, 3);
    assert_int_equal(ftruncate(fd, st.st_size), 0); /* as if the write had not begun */
    close(fd);
    assert_ok(srv_audit_append_strs(b, T0, "e", NULL, 0, &err), err);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 4);
    assert_null(srv_audit_open_attached(path, NULL, &err));
    assert_err(err.code, err, PKI_ERR_USAGE, "no shared head");
    srv_audit_close(a);
    srv_audit_close(b);
    srv_shared_free(sh);
    ut_rmtree(dir);
}

/* A handle opened before others wrote publishes the file's head when it
 * attaches, not the stale one it read at open. */
static void attach_reads_the_file(void **state)
{
    char *dir = ut_mkdtemp();
    const char *path = ut_audit_log(dir, 2);
    struct pki_err err = {0, ""};
    struct srv_shared *sh = srv_shared_new(&err);
    struct srv_audit *a = srv_audit_open(path, &err), *b = srv_audit_open(path, &err);
    struct srv_audit_report rep;

    (void)state;
    assert_non_null(sh);
    assert_non_null(a);
    assert_non_null(b);
    assert_ok(srv_audit_append_strs(b, T0, "e", NULL, 0, &err), err);
    assert_ok(srv_audit_append_strs(b, T0, "e", NULL, 0, &err), err);
    srv_audit_close(b);
    srv_audit_attach(a, &sh->audit);
    assert_int_equal(sh->audit.ready, 1);
    assert_int_equal(sh->audit.seq, 4);
    assert_ok(srv_audit_append_strs(a, T0, "e", NULL, 0, &err), err);
    assert_ok(srv_audit_verify(path, 0, NULL, &rep, &err), err);
    assert_int_equal(rep.lines, 5);
    assert_string_equal(sh->audit.hash, rep.last_hash);
    srv_audit_close(a);
    srv_shared_free(sh);
    ut_rmtree(dir);
}

/* Every bump in every process counts. */
static void shared_store_gen(void **state)
{
    struct pki_err err = {0, ""};
    struct srv_shared *sh = srv_shared_new(&err);
    pid_t pid[2];
    int i, j;

    (void)state;
    assert_non_null(sh);
    assert_int_equal(srv_shared_gen(sh), 0);
    srv_shared_gen_bump(sh);
    assert_int_equal(srv_shared_gen(sh), 1);
    for (i = 0; i < 2; i++) {
        assert_true((pid[i] = fork()) >= 0);
        if (pid[i] == 0) {
            for (j = 0; j < 100000; j++)
                srv_shared_gen_bump(sh);
            _exit(0);
        }
    }
    for (i = 0; i < 2; i++)
        wait_ok(pid[i]);
    assert_int_equal(srv_shared_gen(sh), 200001);
    srv_shared_free(sh);
}

/* The accept balance: a worker accepts only while no other has fewer
 * connections; counts are seen across processes. */
static void shared_conns_balance(void **state)
{
    struct pki_err err = {0, ""};
    struct srv_shared *sh = srv_shared_new(&err);
    pid_t pid;

    (void)state;
    assert_non_null(sh);
    sh->nworkers = 3;
    assert_int_equal(srv_shared_conns_balance(sh, 0, 0), 1); /* all at 0 */
    assert_int_equal(srv_shared_conns_balance(sh, 0, 1), 0); /* 1 and 2 have fewer */
    assert_int_equal(srv_shared_conns_balance(sh, 1, 1), 0); /* 2 has fewer */
    assert_int_equal(srv_shared_conns_balance(sh, 2, 0), 1);
    assert_true((pid = fork()) >= 0);
    if (pid == 0)
        _exit(srv_shared_conns_balance(sh, 2, 1) == 1 ? 0 : 1); /* now all at 1 */
    wait_ok(pid);
    assert_int_equal(srv_shared_conns_balance(sh, 0, 1), 1); /* sees the child's count */
    assert_int_equal(srv_shared_conns_balance(sh, 1, 5), 0);
    assert_int_equal(srv_shared_conns_balance(sh, 1, 0), 1); /* after closes */
    sh->nworkers = 1;                                        /* alone: always */
    assert_int_equal(srv_shared_conns_balance(sh, 0, 100), 1);
    srv_shared_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(attached_children_one_chain),
        cmocka_unit_test(attached_holder_dies),
        cmocka_unit_test(attached_torn_tail_refused),
        cmocka_unit_test(open_attached_ignores_tail),
        cmocka_unit_test(attach_reads_the_file),
        cmocka_unit_test(shared_store_gen),
        cmocka_unit_test(shared_conns_balance),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
