/* test_sandbox.c - Landlock confinement of workers and signers.
 *
 * Each test confines a forked child (confinement is for good) and checks
 * there what it may and may not open; the child's exit status carries the
 * number of the first check that failed. On a kernel without Landlock the
 * tests are skipped, saying so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsio.h"
#include "sandbox.h"
#include "unit_util.h"

struct fixture {
    char *root;            /* holds data/ and other/ */
    char data[512], other[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char p[600];

    assert_non_null(f);
    f->root = ut_mkdtemp();
    snprintf(f->data, sizeof(f->data), "%s/data", f->root);
    snprintf(f->other, sizeof(f->other), "%s/other", f->root);
    assert_int_equal(mkdir(f->data, 0700), 0);
    assert_int_equal(mkdir(f->other, 0700), 0);
    snprintf(p, sizeof(p), "%s/tls", f->data);
    assert_int_equal(mkdir(p, 0700), 0);
    ut_write(ut_path(f->data, "store.key"), "0123456789abcdef0123456789abcdef", 32, 0600);
    ut_write(ut_path(f->data, "pkictl.db"), "db", 2, 0600);
    ut_write(ut_path(f->data, "ca.pem"), "old ca", 6, 0644);
    ut_write(ut_path(f->data, "tls/server.crt"), "crt", 3, 0644);
    ut_write(ut_path(f->other, "clock"), "1700000000\n", 11, 0644);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    ut_rmtree(f->root);
    free(f);
    return 0;
}

static int landlock_available(void)
{
    return syscall(__NR_landlock_create_ruleset, NULL, 0, 1U /* VERSION */) >= 1;
}

/* open(2) of path with flags: 1 if it opened, 0 if refused with EACCES,
 * -1 otherwise (an unexpected error). */
static int opens(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);

    if (fd >= 0) {
        close(fd);
        return 1;
    }
    return errno == EACCES ? 0 : -1;
}

static int replace(const char *path, const char *text)
{
    struct pki_buf b = {(unsigned char *)text, strlen(text)};
    struct fs_file file = {.path = path, .data = &b, .replace = 1};
    struct pki_err err = {0, ""};

    if (fs_write_atomic(&file, &err) != PKI_OK) {
        fprintf(stderr, "write %s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

#define EXPECT(n, cond)                                                                    \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "check %d failed: %s\n", n, #cond);                            \
            _exit(n);                                                                      \
        }                                                                                  \
    } while (0)

/* Runs body in a child; fails with the number of its failed check. */
static void in_child(struct fixture *f, void (*body)(struct fixture *))
{
    pid_t pid;
    int status = 0;

    if (!landlock_available())
        skip(); /* this kernel has no Landlock: nothing to check */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        body(f);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("check %d failed in the confined child (see stderr)", WEXITSTATUS(status));
}

static void worker_body(struct fixture *f)
{
    struct pki_err err = {0, ""};
    char crt[600], buf[8];
    int before = open(ut_path(f->data, "pkictl.db"), O_RDWR | O_CLOEXEC);
    char *argv[] = {"true", NULL};

    EXPECT(1, before >= 0);
    EXPECT(2, srv_sandbox_apply(SRV_SANDBOX_WORKER, f->data, &err) >= 1);
    /* The secret and everything outside: not readable. */
    EXPECT(3, opens(ut_path(f->data, "store.key"), O_RDONLY) == 0);
    EXPECT(4, opens(ut_path(f->data, "pkictl.db"), O_RDONLY) == 0);
    EXPECT(5, opens(ut_path(f->other, "clock"), O_RDONLY) == 0);
    EXPECT(6, opens("/etc/passwd", O_RDONLY) == 0);
    /* A descriptor opened before keeps working. */
    EXPECT(7, pread(before, buf, 2, 0) == 2 && memcmp(buf, "db", 2) == 0);
    /* DATA/tls: read, and replaced atomically. */
    snprintf(crt, sizeof(crt), "%s/tls/server.crt", f->data);
    EXPECT(8, opens(crt, O_RDONLY) == 1);
    EXPECT(9, replace(crt, "new crt") == 0);
    EXPECT(10, opens(crt, O_RDONLY) == 1);
    /* DATA: ca.pem replaced atomically, but not read back. */
    EXPECT(11, replace(ut_path(f->data, "ca.pem"), "new ca") == 0);
    EXPECT(12, opens(ut_path(f->data, "ca.pem"), O_RDONLY) == 0);
    /* Nothing is executed, and no folder made. */
    execv("/bin/true", argv);
    EXPECT(13, errno == EACCES);
    EXPECT(14, mkdir(ut_path(f->data, "sub"), 0700) != 0 && errno == EACCES);
    /* Its own /proc entries stay readable (sanitizers read them). */
    EXPECT(15, opens("/proc/self/status", O_RDONLY) == 1);
    close(before);
}

static void worker_reads_only_tls(void **state)
{
    struct fixture *f = *state;
    char *text;

    in_child(f, worker_body);
    /* What the child wrote is there, seen from outside. */
    text = ut_read(ut_path(f->data, "ca.pem"), NULL);
    assert_string_equal(text, "new ca");
    free(text);
    text = ut_read(ut_path(f->data, "tls/server.crt"), NULL);
    assert_string_equal(text, "new crt");
    free(text);
    assert_int_equal(ut_mode(ut_path(f->data, "store.key")), 0600);
}

static void signer_body(struct fixture *f)
{
    struct pki_err err = {0, ""};
    char crt[600];

    EXPECT(1, srv_sandbox_apply(SRV_SANDBOX_SIGNER, NULL, &err) >= 1);
    snprintf(crt, sizeof(crt), "%s/tls/server.crt", f->data);
    EXPECT(2, opens(crt, O_RDONLY) == 0);
    EXPECT(3, opens(ut_path(f->data, "store.key"), O_RDONLY) == 0);
    EXPECT(4, opens(ut_path(f->data, "new"), O_WRONLY | O_CREAT | O_EXCL) == 0);
    EXPECT(5, opens("/etc/passwd", O_RDONLY) == 0);
    EXPECT(6, opens("/proc/self/status", O_RDONLY) == 1);
}

static void signer_opens_no_file(void **state)
{
    in_child(*state, signer_body);
}

static void clock_body(struct fixture *f)
{
    struct pki_err err = {0, ""};

    EXPECT(1, srv_sandbox_apply_ex(SRV_SANDBOX_WORKER, f->data, f->other, &err) >= 1);
    EXPECT(2, opens(ut_path(f->other, "clock"), O_RDONLY) == 1);
    EXPECT(3, opens(ut_path(f->other, "clock"), O_WRONLY) == 0);
    EXPECT(4, opens(ut_path(f->data, "store.key"), O_RDONLY) == 0);
}

static void extra_read_dir_is_read_only(void **state)
{
    in_child(*state, clock_body);
}

static void worker_needs_its_data_dir(void **state)
{
    struct fixture *f = *state;
    struct pki_err err = {0, ""};
    char missing[600];
    pid_t pid;
    int status = 0;

    if (!landlock_available())
        skip();
    snprintf(missing, sizeof(missing), "%s/absent", f->root);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) /* a data dir without tls/: refused, with the path named */
        _exit(srv_sandbox_apply(SRV_SANDBOX_WORKER, missing, &err) == PKI_ERR_IO &&
                      strstr(err.msg, "absent") != NULL
                  ? 0
                  : 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(worker_reads_only_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(signer_opens_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(extra_read_dir_is_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(worker_needs_its_data_dir, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
