/* test_fsio.c - atomic writes, their modes and refusals, bounded reads.
 *
 * Linked with -Wl,--wrap=write,--wrap=open(64) (see meson.build): the
 * wrappers record the mode a file has when it is created and each time data
 * is written to it, and can make a chosen write() fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "fsio.h"
#include "unit_util.h"

/* ---- link-time wrappers ----------------------------------------------- */

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

static int watching;           /* record modes only while a test asks */
static mode_t created_modes[8];
static int ncreated;
static mode_t written_modes[64];
static int nwritten;
static int write_calls;
static int fail_write_call;    /* 1-based index of the write() to fail; 0: none */

static void record(mode_t *arr, int *n, int max, int fd)
{
    struct stat st;

    if (*n < max && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        arr[(*n)++] = st.st_mode & 07777;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (watching) {
        write_calls++;
        record(written_modes, &nwritten, 64, fd);
        if (fail_write_call != 0 && write_calls == fail_write_call) {
            errno = ENOSPC;
            return -1;
        }
    }
    return __real_write(fd, buf, n);
}

/* A file created (O_CREAT): its mode right after the open. */
static int opened(int fd, int flags)
{
    if (watching && fd >= 0 && (flags & O_CREAT))
        record(created_modes, &ncreated, 8, fd);
    return fd;
}

/* open() and open64() (the name _FILE_OFFSET_BITS=64 picks) wrapped alike:
 * the mode argument exists only with O_CREAT. */
#define WRAP_OPEN(wrap, real)                                        \
    int wrap(const char *path, int flags, ...)                       \
    {                                                                \
        va_list ap;                                                  \
        mode_t mode;                                                 \
                                                                     \
        va_start(ap, flags);                                         \
        mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;      \
        va_end(ap);                                                  \
        return opened(real(path, flags, mode), flags);               \
    }
WRAP_OPEN(__wrap_open, __real_open)
WRAP_OPEN(__wrap_open64, __real_open64)

static void watch(int fail_at)
{
    watching = 1;
    ncreated = nwritten = write_calls = 0;
    fail_write_call = fail_at;
}

static void unwatch(void)
{
    watching = 0;
    fail_write_call = 0;
}

/* ---- fixtures ---------------------------------------------------------- */

static int setup(void **state)
{
    *state = ut_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    unwatch();
    umask(022);
    ut_rmtree(*state);
    return 0;
}

static struct pki_buf text_buf(const char *s)
{
    struct pki_buf b = {NULL, 0};
    struct pki_err err = {0, ""};

    assert_ok(pki_buf_set(&b, s, strlen(s), &err), err);
    return b;
}

static void assert_file(const char *path, const char *content, mode_t mode)
{
    char *data = ut_read(path, NULL);

    if (data == NULL)
        fail_msg("%s is missing", path);
    assert_string_equal(data, content);
    free(data);
    if (ut_mode(path) != mode)
        fail_msg("%s has mode %04o, want %04o", path, (unsigned)ut_mode(path), (unsigned)mode);
}

/* ---- fs_write_atomic --------------------------------------------------- */

static void secret_is_0600_from_the_start(void **state)
{
    const char *dir = *state;
    static const mode_t umasks[] = {0, 022, 077};
    struct pki_buf data = text_buf("-----BEGIN PRIVATE KEY-----\nsecret\n");
    struct pki_err err = {0, ""};
    char name[32];
    size_t u;
    int i;

    for (u = 0; u < 3; u++) {
        struct fs_file f;

        snprintf(name, sizeof(name), "k%zu.key", u);
        f = (struct fs_file){ut_path(dir, name), &data, 1, 0};
        umask(umasks[u]);
        watch(0);
        assert_ok(fs_write_atomic(&f, &err), err);
        unwatch();
        assert_int_equal(ncreated, 1);
        if (created_modes[0] != 0600)
            fail_msg("umask %03o: temp file created with mode %04o", (unsigned)umasks[u],
                     (unsigned)created_modes[0]);
        assert_true(nwritten >= 1);
        for (i = 0; i < nwritten; i++)
            if (written_modes[i] != 0600)
                fail_msg("umask %03o: key bytes written while mode was %04o",
                         (unsigned)umasks[u], (unsigned)written_modes[i]);
        assert_file(f.path, "-----BEGIN PRIVATE KEY-----\nsecret\n", 0600);
    }
    assert_int_equal(ut_count_entries(dir), 3); /* no temp files left */
    pki_buf_free(&data);
}

static void public_is_0644(void **state)
{
    const char *dir = *state;
    static const mode_t umasks[] = {0, 022, 077};
    struct pki_buf data = text_buf("cert\n");
    struct pki_err err = {0, ""};
    char name[32];
    size_t u;

    for (u = 0; u < 3; u++) {
        struct fs_file f;

        snprintf(name, sizeof(name), "c%zu.crt", u);
        f = (struct fs_file){ut_path(dir, name), &data, 0, 0};
        umask(umasks[u]);
        assert_ok(fs_write_atomic(&f, &err), err);
        assert_file(f.path, "cert\n", 0644);
    }
    assert_int_equal(ut_count_entries(dir), 3);
    pki_buf_free(&data);
}

static void empty_and_binary_content(void **state)
{
    const char *dir = *state;
    static const unsigned char bin[] = {0, 1, 2, 0xff, 0, 'x'};
    struct pki_buf empty = {NULL, 0}, b = {NULL, 0};
    struct pki_err err = {0, ""};
    struct fs_file f = {ut_path(dir, "empty"), &empty, 0, 0};
    size_t len;
    char *data;

    assert_ok(fs_write_atomic(&f, &err), err);
    data = ut_read(f.path, &len);
    assert_non_null(data);
    assert_int_equal(len, 0);
    free(data);

    assert_ok(pki_buf_set(&b, bin, sizeof(bin), &err), err);
    f = (struct fs_file){ut_path(dir, "bin"), &b, 1, 0};
    assert_ok(fs_write_atomic(&f, &err), err);
    data = ut_read(f.path, &len);
    assert_int_equal(len, sizeof(bin));
    assert_memory_equal(data, bin, sizeof(bin));
    free(data);
    pki_buf_free(&b);
}

static void refuses_to_replace(void **state)
{
    const char *dir = *state;
    const char *path = ut_path(dir, "node.crt");
    struct pki_buf data = text_buf("new\n");
    struct pki_err err = {0, ""};
    struct fs_file f = {path, &data, 0, 0};

    ut_write(path, "old\n", 4, 0640);
    watch(0);
    assert_err(fs_write_atomic(&f, &err), err, PKI_ERR_EXISTS, "already exists");
    unwatch();
    assert_msg_has(err, path);
    assert_file(path, "old\n", 0640); /* untouched */
    assert_int_equal(ut_count_entries(dir), 1); /* the temp file is gone */

    /* Secret files too. */
    f.secret = 1;
    assert_err(fs_write_atomic(&f, &err), err, PKI_ERR_EXISTS, "already exists");
    assert_file(path, "old\n", 0640);
    assert_int_equal(ut_count_entries(dir), 1);
    pki_buf_free(&data);
}

static void refuses_dangling_symlink(void **state)
{
    const char *dir = *state;
    const char *link_path = ut_path(dir, "ca.key");
    const char *target = ut_path(dir, "elsewhere");
    struct pki_buf data = text_buf("key\n");
    struct pki_err err = {0, ""};
    struct fs_file f = {link_path, &data, 1, 0};

    assert_int_equal(symlink(target, link_path), 0);
    assert_err(fs_write_atomic(&f, &err), err, PKI_ERR_EXISTS, "already exists");
    assert_int_equal(fs_exists(target), 0); /* nothing written through the link */
    assert_int_equal(ut_count_entries(dir), 1);
    pki_buf_free(&data);
}

static void replaces_when_asked(void **state)
{
    const char *dir = *state;
    const char *path = ut_path(dir, "node.key");
    struct pki_buf data = text_buf("new key\n");
    struct pki_err err = {0, ""};
    struct fs_file f = {path, &data, 1, 1};

    /* A world-readable file replaced by a secret ends 0600, not 0666. */
    ut_write(path, "old\n", 4, 0666);
    assert_ok(fs_write_atomic(&f, &err), err);
    assert_file(path, "new key\n", 0600);

    /* A public file replaced ends 0644 whatever it was. */
    ut_write(path, "old\n", 4, 0600);
    f.secret = 0;
    assert_ok(fs_write_atomic(&f, &err), err);
    assert_file(path, "new key\n", 0644);
    assert_int_equal(ut_count_entries(dir), 1);

    /* replace also works when nothing is there. */
    f.path = ut_path(dir, "fresh");
    assert_ok(fs_write_atomic(&f, &err), err);
    assert_file(f.path, "new key\n", 0644);
    pki_buf_free(&data);
}

static void missing_folder(void **state)
{
    const char *dir = *state;
    struct pki_buf data = text_buf("x");
    struct pki_err err = {0, ""};
    struct fs_file f = {ut_path(dir, "nope/file"), &data, 0, 0};

    assert_err(fs_write_atomic(&f, &err), err, PKI_ERR_IO, "nope/file");
    assert_msg_has(err, "No such file");
    assert_int_equal(ut_count_entries(dir), 0);
    pki_buf_free(&data);
}

static void write_error_leaves_nothing(void **state)
{
    const char *dir = *state;
    const char *path = ut_path(dir, "node.key");
    struct pki_buf data = text_buf("key bytes\n");
    struct pki_err err = {0, ""};
    struct fs_file f = {path, &data, 1, 0};

    watch(1);
    assert_err(fs_write_atomic(&f, &err), err, PKI_ERR_IO, "cannot write");
    unwatch();
    assert_msg_has(err, path);
    assert_msg_has(err, "No space left");
    assert_int_equal(fs_exists(path), 0);
    assert_int_equal(ut_count_entries(dir), 0);

    /* With replace, a failed write leaves the old file as it was. */
    ut_write(path, "old\n", 4, 0600);
    f.replace = 1;
    watch(1);
    assert_err(fs_write_atomic(&f, &err), err, PKI_ERR_IO, "cannot write");
    unwatch();
    assert_file(path, "old\n", 0600);
    assert_int_equal(ut_count_entries(dir), 1);
    pki_buf_free(&data);
}

/* ---- fs_check_absent / fs_write_all ------------------------------------ */

static void check_absent(void **state)
{
    const char *dir = *state;
    char a[4096], b[4096], c[4096];
    struct pki_err err = {0, ""};

    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    snprintf(c, sizeof(c), "%s/c", dir);
    ut_write(b, "b", 1, 0644);
    ut_write(c, "c", 1, 0644);
    {
        struct fs_file files[3] = {{a, NULL, 0, 0}, {b, NULL, 0, 0}, {c, NULL, 0, 0}};

        assert_err(fs_check_absent(files, 3, &err), err, PKI_ERR_EXISTS, b);
        assert_msg_has(err, "already exists");
        files[1].replace = 1;
        assert_err(fs_check_absent(files, 3, &err), err, PKI_ERR_EXISTS, c);
        files[2].replace = 1;
        assert_ok(fs_check_absent(files, 3, &err), err);
        assert_ok(fs_check_absent(files, 0, &err), err);
    }
}

static void write_all_ok(void **state)
{
    const char *dir = *state;
    char k[4096], c[4096], p[4096];
    struct pki_buf kb = text_buf("key"), cb = text_buf("crt"), pb = text_buf("pk8");
    struct pki_err err = {0, ""};

    snprintf(k, sizeof(k), "%s/node.key", dir);
    snprintf(c, sizeof(c), "%s/node.crt", dir);
    snprintf(p, sizeof(p), "%s/node.key.pk8", dir);
    {
        const struct fs_file files[3] = {{k, &kb, 1, 0}, {c, &cb, 0, 0}, {p, &pb, 1, 0}};

        assert_ok(fs_write_all(files, 3, &err), err);
    }
    assert_file(k, "key", 0600);
    assert_file(c, "crt", 0644);
    assert_file(p, "pk8", 0600);
    assert_int_equal(ut_count_entries(dir), 3);
    pki_buf_free(&kb);
    pki_buf_free(&cb);
    pki_buf_free(&pb);
}

static void write_all_refusal_changes_nothing(void **state)
{
    const char *dir = *state;
    char k[4096], c[4096];
    struct pki_buf kb = text_buf("key"), cb = text_buf("crt");
    struct pki_err err = {0, ""};

    snprintf(k, sizeof(k), "%s/node.key", dir);
    snprintf(c, sizeof(c), "%s/node.crt", dir);
    ut_write(c, "old", 3, 0644);
    {
        const struct fs_file files[2] = {{k, &kb, 1, 0}, {c, &cb, 0, 0}};

        watch(0);
        assert_err(fs_write_all(files, 2, &err), err, PKI_ERR_EXISTS, c);
        unwatch();
    }
    assert_int_equal(ncreated, 0); /* refused before writing anything */
    assert_int_equal(fs_exists(k), 0);
    assert_file(c, "old", 0644);
    assert_int_equal(ut_count_entries(dir), 1);
    pki_buf_free(&kb);
    pki_buf_free(&cb);
}

/* The third file's folder does not exist: the first two must be removed. */
static void write_all_removes_created_on_failure(void **state)
{
    const char *dir = *state;
    char k[4096], c[4096], bad[4096];
    struct pki_buf kb = text_buf("key"), cb = text_buf("crt"), xb = text_buf("x");
    struct pki_err err = {0, ""};

    snprintf(k, sizeof(k), "%s/node.key", dir);
    snprintf(c, sizeof(c), "%s/node.crt", dir);
    snprintf(bad, sizeof(bad), "%s/no-such-folder/node.key.pk8", dir);
    {
        const struct fs_file files[3] = {{k, &kb, 1, 0}, {c, &cb, 0, 0}, {bad, &xb, 1, 0}};

        assert_err(fs_write_all(files, 3, &err), err, PKI_ERR_IO, "no-such-folder");
    }
    assert_int_equal(fs_exists(k), 0);
    assert_int_equal(fs_exists(c), 0);
    assert_int_equal(ut_count_entries(dir), 0);
    pki_buf_free(&kb);
    pki_buf_free(&cb);
    pki_buf_free(&xb);
}

/* A file replaced on purpose is not "created", so it is not removed; a file
 * this call created is. */
static void assert_old_key(const char *path)
{
    size_t len;
    char *got = ut_read(path, &len);

    assert_int_equal(len, 7);
    assert_memory_equal(got, "old key", 7);
    free(got);
}

static void write_all_keeps_replaced_files(void **state)
{
    const char *dir = *state;
    char k[4096], c[4096], bad[4096];
    struct pki_buf kb = text_buf("new key"), cb = text_buf("crt"), xb = text_buf("x");
    struct pki_err err = {0, ""};

    snprintf(k, sizeof(k), "%s/node.key", dir);
    snprintf(c, sizeof(c), "%s/node.crt", dir);
    snprintf(bad, sizeof(bad), "%s/gone/x", dir);
    ut_write(k, "old key", 7, 0600);
    {
        const struct fs_file files[3] = {{k, &kb, 1, 1}, {c, &cb, 0, 1}, {bad, &xb, 0, 1}};

        assert_err(fs_write_all(files, 3, &err), err, PKI_ERR_IO, "gone/x");
    }
    assert_int_equal(fs_exists(k), 1);
    assert_int_equal(fs_exists(c), 0);
    assert_int_equal(ut_count_entries(dir), 1);
    assert_old_key(k);
    pki_buf_free(&kb);
    pki_buf_free(&cb);
    pki_buf_free(&xb);
}

/* With --overwrite, a disk that fills while writing the certificate must not
 * leave the new key beside the old certificate: every file is staged before
 * any is renamed into place. */
static void write_all_replace_is_all_or_nothing(void **state)
{
    const char *dir = *state;
    char k[4096], c[4096];
    struct pki_buf kb = text_buf("new key"), cb = text_buf("new crt");
    struct pki_err err = {0, ""};
    size_t len;
    char *got;

    snprintf(k, sizeof(k), "%s/node.key", dir);
    snprintf(c, sizeof(c), "%s/node.crt", dir);
    ut_write(k, "old key", 7, 0600);
    ut_write(c, "old crt", 7, 0644);
    {
        const struct fs_file files[2] = {{k, &kb, 1, 1}, {c, &cb, 0, 1}};

        watch(2); /* the certificate's write() fails */
        assert_err(fs_write_all(files, 2, &err), err, PKI_ERR_IO, c);
        unwatch();
    }
    assert_old_key(k);
    got = ut_read(c, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(got, "old crt", 7);
    free(got);
    assert_int_equal(ut_count_entries(dir), 2); /* no temp file left */
    pki_buf_free(&kb);
    pki_buf_free(&cb);
}

/* A write error in the second file: the first is removed, no temp is left. */
static void write_all_write_error(void **state)
{
    const char *dir = *state;
    char k[4096], c[4096];
    struct pki_buf kb = text_buf("key"), cb = text_buf("crt");
    struct pki_err err = {0, ""};

    snprintf(k, sizeof(k), "%s/client.bob.key", dir);
    snprintf(c, sizeof(c), "%s/client.bob.crt", dir);
    {
        const struct fs_file files[2] = {{k, &kb, 1, 0}, {c, &cb, 0, 0}};

        watch(2); /* each file is one write() */
        assert_err(fs_write_all(files, 2, &err), err, PKI_ERR_IO, c);
        unwatch();
    }
    assert_int_equal(write_calls, 2);
    assert_int_equal(ut_count_entries(dir), 0);
    pki_buf_free(&kb);
    pki_buf_free(&cb);
}

static void write_all_too_many(void **state)
{
    const char *dir = *state;
    struct pki_buf b = text_buf("x");
    const size_t n = 4097; /* one past the bound of one write */
    struct fs_file *files = calloc(n, sizeof(*files));
    struct pki_err err = {0, ""};
    size_t i;

    assert_non_null(files);
    for (i = 0; i < n; i++)
        files[i] = (struct fs_file){ut_path(dir, "f"), &b, 0, 1};
    assert_err(fs_write_all(files, n, &err), err, PKI_ERR_INTERNAL, "too many files");
    assert_int_equal(ut_count_entries(dir), 0);
    free(files);
    pki_buf_free(&b);
}

/* ---- fs_read_file ------------------------------------------------------ */

static void read_file_ok(void **state)
{
    const char *dir = *state;
    const char *path = ut_path(dir, "ca.crt");
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    unsigned char big[10000];
    mode_t mode = 0;
    size_t i;

    for (i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 7);
    ut_write(path, big, sizeof(big), 0640);
    assert_ok(fs_read_file(path, sizeof(big), &out, &mode, &err), err);
    assert_int_equal(out.len, sizeof(big));
    assert_memory_equal(out.data, big, sizeof(big));
    assert_int_equal(mode & 07777, 0640);
    assert_true(S_ISREG(mode));

    /* A second read replaces what out held; mode may be NULL. */
    ut_write(path, "tiny", 4, 0600);
    assert_ok(fs_read_file(path, 4, &out, NULL, &err), err);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "tiny", 4);

    /* An empty file reads as empty. */
    ut_write(path, "", 0, 0600);
    assert_ok(fs_read_file(path, 100, &out, &mode, &err), err);
    assert_int_equal(out.len, 0);
    pki_buf_free(&out);
}

static void read_file_size_bound(void **state)
{
    const char *dir = *state;
    const char *path = ut_path(dir, "big");
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    char data[5000];
    mode_t mode = 0;

    memset(data, 'z', sizeof(data));
    ut_write(path, data, sizeof(data), 0644);
    assert_ok(pki_buf_set(&out, "keep", 4, &err), err);
    assert_err(fs_read_file(path, sizeof(data) - 1, &out, &mode, &err), err, PKI_ERR_INPUT,
               "larger than 4999 bytes");
    assert_msg_has(err, path);
    assert_int_equal(out.len, 4); /* out untouched on failure */
    assert_memory_equal(out.data, "keep", 4);
    assert_int_equal(mode, 0);

    /* Small bounds fail inside the first chunk too. */
    assert_err(fs_read_file(path, 10, &out, NULL, &err), err, PKI_ERR_INPUT, "larger than 10");
    assert_err(fs_read_file(path, 0, &out, NULL, &err), err, PKI_ERR_INPUT, "larger than 0");
    assert_ok(fs_read_file(path, sizeof(data), &out, NULL, &err), err);
    assert_int_equal(out.len, sizeof(data));
    pki_buf_free(&out);
}

static void read_file_errors(void **state)
{
    const char *dir = *state;
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    const char *missing = ut_path(dir, "missing.key");

    assert_err(fs_read_file(missing, 100, &out, NULL, &err), err, PKI_ERR_NOTFOUND, missing);
    assert_msg_has(err, "No such file");
    assert_err(fs_read_file(dir, 100, &out, NULL, &err), err, PKI_ERR_INPUT,
               "is not a regular file");
    assert_err(fs_read_file(ut_path(dir, "missing/x"), 100, &out, NULL, &err), err,
               PKI_ERR_NOTFOUND, "cannot read");
    assert_null(out.data);
}

/* A FIFO is not a regular file: refused at once, not waited on (a FIFO
 * named node.key in a certs dir must not hang `cert list`). The read runs in
 * a child that a 3-second alarm kills if it blocks. */
static void read_file_fifo_does_not_block(void **state)
{
    const char *dir = *state;
    char fifo[4096];
    int status = 0;
    pid_t pid;

    snprintf(fifo, sizeof(fifo), "%s/node.key", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct pki_buf out = {NULL, 0};
        struct pki_err err = {0, ""};
        int rc;

        alarm(3);
        rc = fs_read_file(fifo, 100, &out, NULL, &err);
        _exit(rc == PKI_ERR_INPUT && strstr(err.msg, "not a regular file") != NULL ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("fs_read_file blocked on a FIFO (killed by signal %d)", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("fs_read_file on a FIFO did not fail with PKI_ERR_INPUT \"not a regular file\"");
}

/* ---- fs_read_fd -------------------------------------------------------- */

static void read_fd_from_offset_keeps_fd_open(void **state)
{
    const char *path = ut_path(*state, "store.key");
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    int fd;

    ut_write(path, "header:body", 11, 0600);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
    assert_ok(pki_buf_set(&out, "old", 3, &err), err);
    /* Exactly max bytes fit; what out held is replaced. */
    assert_ok(fs_read_fd(fd, path, 4, &out, &err), err);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "body", 4);
    /* The caller owns fd: still open, and at its end it reads as empty. */
    assert_true(fcntl(fd, F_GETFD) >= 0);
    assert_ok(fs_read_fd(fd, path, 0, &out, &err), err);
    assert_int_equal(out.len, 0);
    assert_null(out.data);
    assert_int_equal(close(fd), 0);
}

/* 10000 bytes from a pipe arrive in several reads; the bound holds across
 * them, and out is untouched when it is exceeded. */
static void read_fd_bound_across_reads(void **state)
{
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    unsigned char data[10000];
    int p[2], q[2];

    (void)state;
    memset(data, 'q', sizeof(data));
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(q), 0);
    assert_int_equal(write(p[1], data, sizeof(data)), (ssize_t)sizeof(data));
    assert_int_equal(write(q[1], data, sizeof(data)), (ssize_t)sizeof(data));
    assert_int_equal(close(p[1]), 0);
    assert_int_equal(close(q[1]), 0);
    assert_ok(pki_buf_set(&out, "keep", 4, &err), err);
    assert_err(fs_read_fd(p[0], "the pipe", sizeof(data) - 1, &out, &err), err, PKI_ERR_INPUT,
               "the pipe is larger than 9999 bytes");
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "keep", 4);
    assert_ok(fs_read_fd(q[0], "the pipe", sizeof(data), &out, &err), err);
    assert_int_equal(out.len, sizeof(data));
    assert_memory_equal(out.data, data, sizeof(data));
    pki_buf_free(&out);
    assert_int_equal(close(p[0]), 0);
    assert_int_equal(close(q[0]), 0);
}

static void read_fd_errors(void **state)
{
    const char *dir = *state;
    const char *path = ut_path(dir, "wronly");
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    int fd;

    ut_write(path, "x", 1, 0600);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_ok(pki_buf_set(&out, "keep", 4, &err), err);
    assert_err(fs_read_fd(fd, path, 100, &out, &err), err, PKI_ERR_IO, "cannot read");
    assert_msg_has(err, path);
    assert_msg_has(err, strerror(EBADF));
    assert_int_equal(close(fd), 0);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_err(fs_read_fd(fd, "the folder", 100, &out, &err), err, PKI_ERR_IO,
               strerror(EISDIR));
    assert_int_equal(close(fd), 0);
    assert_err(fs_read_fd(-1, "nothing", 100, &out, &err), err, PKI_ERR_IO, "cannot read");
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "keep", 4);
    pki_buf_free(&out);
}

/* SIGALRM without SA_RESTART makes a blocked read() fail with EINTR; the
 * handler feeds the pipe only at its third signal, so the read is blocked
 * when the first two arrive and must be retried. */
static int alarms, alarm_fd = -1;

static void on_alarm(int sig)
{
    static const char msg[] = "after signals";

    (void)sig;
    if (++alarms == 3) {
        (void)!write(alarm_fd, msg, sizeof(msg) - 1);
        close(alarm_fd);
    }
    if (alarms > 100)
        _exit(3); /* fs_read_fd never returned */
}

static int read_through_signals(void)
{
    struct sigaction sa;
    struct itimerval every = {{0, 20000}, {0, 20000}}, off;
    struct pki_buf out = {NULL, 0};
    struct pki_err err = {0, ""};
    int p[2], rc;

    memset(&sa, 0, sizeof(sa));
    memset(&off, 0, sizeof(off));
    sa.sa_handler = on_alarm; /* sa_flags 0: no SA_RESTART */
    if (pipe(p) != 0 || sigaction(SIGALRM, &sa, NULL) != 0)
        return 2;
    alarm_fd = p[1];
    if (setitimer(ITIMER_REAL, &every, NULL) != 0)
        return 2;
    rc = fs_read_fd(p[0], "the pipe", 100, &out, &err);
    (void)setitimer(ITIMER_REAL, &off, NULL);
    if (rc != PKI_OK || alarms < 3 || out.len != 13 || memcmp(out.data, "after signals", 13))
        return 1;
    pki_buf_free(&out);
    return 0;
}

static void read_fd_retries_interrupted_reads(void **state)
{
    int status = 0;
    pid_t pid;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(read_through_signals());
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("fs_read_fd through signals: child exit %d (1: wrong result or EINTR "
                 "not retried, 3: never returned)", WEXITSTATUS(status));
}

/* ---- small helpers ----------------------------------------------------- */

static void key_mode_check(void **state)
{
    struct pki_err err = {0, ""};

    (void)state;
    assert_ok(fs_check_key_mode("/k", 0600, &err), err);
    assert_ok(fs_check_key_mode("/k", 0400, &err), err);
    assert_ok(fs_check_key_mode("/k", S_IFREG | 0600, &err), err);
    assert_ok(fs_check_key_mode("/k", 0700, &err), err);
    assert_err(fs_check_key_mode("/certs/node.key", S_IFREG | 0644, &err), err, PKI_ERR_POLICY,
               "/certs/node.key: permissions 0644 are too open");
    assert_msg_has(err, "chmod 600");
    assert_err(fs_check_key_mode("/k", 0640, &err), err, PKI_ERR_POLICY, "0640");
    assert_err(fs_check_key_mode("/k", 0604, &err), err, PKI_ERR_POLICY, "0604");
    assert_err(fs_check_key_mode("/k", 0601, &err), err, PKI_ERR_POLICY, "0601");
    assert_err(fs_check_key_mode("/k", 0610, &err), err, PKI_ERR_POLICY, "0610");
    assert_err(fs_check_key_mode("/k", 04666, &err), err, PKI_ERR_POLICY, "4666");
}

static void check_dir(void **state)
{
    const char *dir = *state;
    const char *file = ut_path(dir, "file");
    const char *missing = ut_path(dir, "missing");
    struct pki_err err = {0, ""};

    ut_write(file, "x", 1, 0644);
    assert_ok(fs_check_dir(dir, "certs dir", &err), err);
    assert_err(fs_check_dir(missing, "certs dir", &err), err, PKI_ERR_NOTFOUND,
               "does not exist; create it first");
    assert_msg_has(err, "certs dir");
    assert_msg_has(err, missing);
    assert_err(fs_check_dir(file, "certs dir", &err), err, PKI_ERR_INPUT, "is not a directory");
}

static void exists(void **state)
{
    const char *dir = *state;
    const char *file = ut_path(dir, "file");
    const char *dangling = ut_path(dir, "dangling");

    ut_write(file, "x", 1, 0644);
    assert_int_equal(symlink("/nonexistent/target", dangling), 0);
    assert_int_equal(fs_exists(file), 1);
    assert_int_equal(fs_exists(dir), 1);
    assert_int_equal(fs_exists(dangling), 1);
    assert_int_equal(fs_exists(ut_path(dir, "nothing")), 0);
}

static void join(void **state)
{
    struct pki_err err = {0, ""};
    char out[16], longdir[64];

    (void)state;
    assert_ok(fs_join("certs", "ca.crt", out, sizeof(out), &err), err);
    assert_string_equal(out, "certs/ca.crt");
    assert_ok(fs_join("certs/", "ca.crt", out, sizeof(out), &err), err);
    assert_string_equal(out, "certs/ca.crt");
    assert_ok(fs_join("/", "x", out, sizeof(out), &err), err);
    assert_string_equal(out, "/x");
    /* 15 characters fit in 16 bytes; 16 do not. */
    assert_ok(fs_join("abcdefghij", "klmn", out, sizeof(out), &err), err);
    assert_string_equal(out, "abcdefghij/klmn");
    memset(longdir, 'd', sizeof(longdir));
    longdir[sizeof(longdir) - 1] = '\0';
    assert_err(fs_join("abcdefghij", "klmno", out, sizeof(out), &err), err, PKI_ERR_INPUT,
               "too long");
    assert_err(fs_join(longdir, "ca.crt", out, sizeof(out), &err), err, PKI_ERR_INPUT,
               "too long");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(secret_is_0600_from_the_start),
        T(public_is_0644),
        T(empty_and_binary_content),
        T(refuses_to_replace),
        T(refuses_dangling_symlink),
        T(replaces_when_asked),
        T(missing_folder),
        T(write_error_leaves_nothing),
        T(check_absent),
        T(write_all_ok),
        T(write_all_refusal_changes_nothing),
        T(write_all_removes_created_on_failure),
        T(write_all_keeps_replaced_files),
        T(write_all_replace_is_all_or_nothing),
        T(write_all_write_error),
        T(write_all_too_many),
        T(read_file_ok),
        T(read_file_size_bound),
        T(read_file_errors),
        T(read_file_fifo_does_not_block),
        T(read_fd_from_offset_keeps_fd_open),
        T(read_fd_bound_across_reads),
        T(read_fd_errors),
        T(read_fd_retries_interrupted_reads),
        T(key_mode_check),
        T(check_dir),
        T(exists),
        T(join),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
