/*
 * signer_keyfile.c - the store key file, read (or created) by the signer
 * process only: the front end never opens it (docs/server.md, "Processes").
 */
#include "signer_keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(int fd, unsigned char *p, size_t n)
{
    ssize_t k;

    while (n > 0) {
        k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    ssize_t k;

    while (n > 0) {
        k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The folder's entry must reach the disk too, or a crash can lose the
 * file after we have wrapped keys under it. */
static int fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    int fd, rc;

    if (n >= sizeof(dir))
        return -1;
    memcpy(dir, slash == NULL ? "." : path, n);
    dir[n] = '\0';
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int create_key(const char *path, unsigned char key[PKI_STORE_KEY_LEN],
                      struct pki_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = PKI_OK;

    if (fd < 0)
        return errno == EEXIST ? PKI_ERR_EXISTS
                               : pki_err_set(err, PKI_ERR_IO, "store key %s: cannot create it: "
                                             "%s", path, strerror(errno));
    if (RAND_priv_bytes(key, PKI_STORE_KEY_LEN) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "store key %s: no random bytes", path);
    /* Mode 0600 whatever the umask, so the next start can read it. */
    else if (fchmod(fd, 0600) != 0 || write_all(fd, key, PKI_STORE_KEY_LEN) != 0 ||
             fsync(fd) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: cannot write it: %s", path,
                         strerror(errno));
    if (close(fd) != 0 && rc == PKI_OK)
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: cannot write it: %s", path,
                         strerror(errno));
    if (rc == PKI_OK && fsync_parent(path) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: cannot sync its folder: %s", path,
                         strerror(errno));
    if (rc != PKI_OK) {
        unlink(path); /* a short file would be refused at every later start */
        OPENSSL_cleanse(key, PKI_STORE_KEY_LEN);
    }
    return rc;
}

static int check_stat(const char *path, const struct stat *st, struct pki_err *err)
{
    if (!S_ISREG(st->st_mode))
        return pki_err_set(err, PKI_ERR_INPUT, "store key %s: not a regular file", path);
    if (st->st_uid != geteuid())
        return pki_err_set(err, PKI_ERR_POLICY, "store key %s: owned by uid %u, not by this "
                           "user (uid %u)", path, (unsigned)st->st_uid, (unsigned)geteuid());
    /* Anyone else who can read it can decrypt every CA key in the store. */
    if (st->st_mode & 077)
        return pki_err_set(err, PKI_ERR_POLICY, "store key %s: permissions %04o are too open; "
                           "expected 0600", path, (unsigned)(st->st_mode & 07777));
    if (st->st_size != PKI_STORE_KEY_LEN)
        return pki_err_set(err, PKI_ERR_INPUT, "store key %s: %lld bytes; expected %d", path,
                           (long long)st->st_size, PKI_STORE_KEY_LEN);
    return PKI_OK;
}

static int read_key(const char *path, unsigned char key[PKI_STORE_KEY_LEN],
                    struct pki_err *err)
{
    /* O_NONBLOCK: a FIFO put in its place must not hang the signer. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc;
    struct stat st;

    if (fd < 0 && errno == ELOOP)
        return pki_err_set(err, PKI_ERR_POLICY, "store key %s: is a symbolic link; refusing "
                           "to follow it", path);
    if (fd < 0 && errno == ENOENT)
        return pki_err_set(err, PKI_ERR_NOTFOUND, "store key %s: no such file", path);
    if (fd < 0)
        return pki_err_set(err, PKI_ERR_IO, "store key %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: %s", path, strerror(errno));
    else if ((rc = check_stat(path, &st, err)) == PKI_OK && read_all(fd, key,
                                                                    PKI_STORE_KEY_LEN) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: cannot read it", path);
    close(fd);
    if (rc != PKI_OK)
        OPENSSL_cleanse(key, PKI_STORE_KEY_LEN);
    return rc;
}

int srv__store_key_load(const char *path, int create, unsigned char key[PKI_STORE_KEY_LEN],
                        struct pki_err *err)
{
    int rc;

    if (path == NULL || path[0] == '\0' || strlen(path) >= PATH_MAX)
        return pki_err_set(err, PKI_ERR_USAGE, "no store key file, or its path is too long");
    rc = read_key(path, key, err);
    if (rc != PKI_ERR_NOTFOUND || !create)
        return rc;
    rc = create_key(path, key, err);
    /* Another process created it between our two opens: read theirs. */
    return rc == PKI_ERR_EXISTS ? read_key(path, key, err) : rc;
}
