/*
 * signer_keyfile.c - the store key file, read (or created) by the signer
 * process only: the front end never opens it (docs/server.md, "Processes").
 * The write and the bounded read are fsio's; what is ours is the policy.
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

#include "fsio.h"

/* fs_write_atomic: a temp file created 0600 before any byte is
 * written (the server runs under umask 077), fsync, a rename that never
 * replaces, then an fsync of the folder, whose entry must reach the disk
 * too, or a crash can lose the file after we have wrapped keys under it.
 * A crash midway leaves no short key file that every later start would
 * refuse. PKI_ERR_EXISTS: the file appeared meanwhile. */
static int create_key(const char *path, unsigned char key[PKI_STORE_KEY_LEN],
                      struct pki_err *err)
{
    struct pki_buf data = {key, PKI_STORE_KEY_LEN}; /* borrowed: never pki_buf_free'd */
    struct fs_file f = {.path = path, .data = &data, .secret = 1, .replace = 0};
    int rc;

    if (RAND_priv_bytes(key, PKI_STORE_KEY_LEN) != 1)
        rc = pki_err_set_ssl(err, PKI_ERR_CRYPTO, "store key %s: no random bytes", path);
    else if ((rc = fs_write_atomic(&f, err)) != PKI_OK && rc != PKI_ERR_EXISTS)
        pki_err_prefix(err, "store key");
    if (rc != PKI_OK)
        OPENSSL_cleanse(key, PKI_STORE_KEY_LEN);
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

static int open_error(const char *path, struct pki_err *err)
{
    if (errno == ELOOP)
        return pki_err_set(err, PKI_ERR_POLICY, "store key %s: is a symbolic link; refusing "
                           "to follow it", path);
    if (errno == ENOENT)
        return pki_err_set(err, PKI_ERR_NOTFOUND, "store key %s: no such file", path);
    return pki_err_set(err, PKI_ERR_IO, "store key %s: %s", path, strerror(errno));
}

/* Checks the open file before reading a byte of it; a file that changes
 * size between the check and the read is refused too. */
static int read_key(const char *path, unsigned char key[PKI_STORE_KEY_LEN],
                    struct pki_err *err)
{
    /* O_NOFOLLOW: a link planted in the data dir must not choose our key.
     * O_NONBLOCK: a FIFO put in its place must not hang the signer. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc;
    struct pki_buf b = {NULL, 0};
    struct stat st;

    if (fd < 0)
        return open_error(path, err);
    if (fstat(fd, &st) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: %s", path, strerror(errno));
    else if ((rc = check_stat(path, &st, err)) == PKI_OK &&
             (fs_read_fd(fd, path, PKI_STORE_KEY_LEN, &b, err) != PKI_OK ||
              b.len != PKI_STORE_KEY_LEN))
        rc = pki_err_set(err, PKI_ERR_IO, "store key %s: cannot read it", path);
    close(fd);
    if (rc == PKI_OK)
        memcpy(key, b.data, PKI_STORE_KEY_LEN);
    else
        OPENSSL_cleanse(key, PKI_STORE_KEY_LEN);
    pki_buf_free(&b);
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
    if (rc != PKI_ERR_EXISTS)
        return rc;
    /* Another process created it between our read and our rename: read theirs. */
    pki_err_clear(err);
    return read_key(path, key, err);
}
