/* fsio.c - atomic durable writes and bounded reads. */
#include "fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

int fs_join(const char *dir, const char *name, char *out, size_t len, struct pki_err *err)
{
    int n = snprintf(out, len, "%s%s%s", dir,
                     (dir[0] && dir[strlen(dir) - 1] == '/') ? "" : "/", name);

    if (n < 0 || (size_t)n >= len)
        return pki_err_set(err, PKI_ERR_INPUT, "path %s/%s is too long", dir, name);
    return PKI_OK;
}

int fs_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* The folder that holds path ("." for a bare name). */
static int parent_of(const char *path, char *out, size_t len, struct pki_err *err)
{
    char tmp[PATH_MAX];

    if (strlen(path) >= sizeof(tmp))
        return pki_err_set(err, PKI_ERR_INPUT, "path %s is too long", path);
    memcpy(tmp, path, strlen(path) + 1);
    if (snprintf(out, len, "%s", dirname(tmp)) >= (int)len)
        return pki_err_set(err, PKI_ERR_INPUT, "path %s is too long", path);
    return PKI_OK;
}

static int write_fully(int fd, const unsigned char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fs_sync_dir(const char *dir, struct pki_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;

        if (fd >= 0)
            close(fd);
        return pki_err_set(err, PKI_ERR_IO, "cannot sync folder %s: %s", dir, strerror(e));
    }
    close(fd);
    return PKI_OK;
}

/* Creates the temp file: mode 0600 from the start, O_EXCL, a random name in
 * place of the template's six X. Write-only (mkostemp opens read-write):
 * a server worker confined to write but not read in the folder
 * (docs/server.md, "Confinement") can still replace a file there. */
static int open_temp(char *tmp)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t len = strlen(tmp);
    unsigned char r[6];

    if (len < 6 || strcmp(tmp + len - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        return -1;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd;

        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        for (size_t i = 0; i < 6; i++)
            tmp[len - 6 + i] = chars[r[i] % (sizeof(chars) - 1)];
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static int fill_temp(const struct fs_file *f, char *tmp, struct pki_err *err)
{
    int fd = open_temp(tmp);
    int e;

    if (fd < 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot create a file next to %s: %s", f->path,
                           strerror(errno));
    if ((!f->secret && fchmod(fd, 0644) != 0) ||
        write_fully(fd, f->data->data, f->data->len) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        return pki_err_set(err, PKI_ERR_IO, "cannot write %s: %s", f->path, strerror(e));
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(tmp);
        return pki_err_set(err, PKI_ERR_IO, "cannot write %s: %s", f->path, strerror(e));
    }
    return PKI_OK;
}

/* Moves tmp to path; without overwrite, fails if path exists, atomically. */
static int place(const char *tmp, const char *path, int replace, struct pki_err *err)
{
    int rc;

    if (replace)
        rc = rename(tmp, path);
    else {
        rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* File systems without RENAME_NOREPLACE: link() also refuses to replace. */
            rc = link(tmp, path);
            if (rc == 0)
                unlink(tmp);
        }
    }
    if (rc == 0)
        return PKI_OK;
    if (errno == EEXIST)
        return pki_err_set(err, PKI_ERR_EXISTS, "%s already exists", path);
    return pki_err_set(err, PKI_ERR_IO, "cannot create %s: %s", path, strerror(errno));
}

/* The temp file for f: "<path>.tmp-XXXXXX", in the same folder. */
static int temp_name(const struct fs_file *f, char *tmp, size_t len, struct pki_err *err)
{
    if (snprintf(tmp, len, "%s.tmp-XXXXXX", f->path) >= (int)len)
        return pki_err_set(err, PKI_ERR_INPUT, "path %s is too long", f->path);
    return PKI_OK;
}

int fs_write_atomic(const struct fs_file *f, struct pki_err *err)
{
    return fs_write_all(f, 1, err);
}

int fs_check_absent(const struct fs_file *files, size_t n, struct pki_err *err)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!files[i].replace && fs_exists(files[i].path))
            return pki_err_set(err, PKI_ERR_EXISTS, "%s already exists", files[i].path);
    return PKI_OK;
}

#define WRITE_ALL_MAX 4096

/* Three phases, so that a full disk or a crash never leaves a mixed set
 * (say a new key beside an old certificate):
 *   1. write and fsync every temp file; a failure removes them all and
 *      nothing else has changed;
 *   2. rename each into place; a failure (a file that appeared meanwhile)
 *      removes the remaining temps and the files this call created;
 *   3. fsync each folder, so the renames survive a crash. */
int fs_write_all(const struct fs_file *files, size_t n, struct pki_err *err)
{
    char (*tmp)[PATH_MAX + 32] = NULL, dir[PATH_MAX], synced[PATH_MAX] = "";
    unsigned char *created = NULL;
    size_t i, staged = 0, placed = 0;
    int rc;

    if (n > WRITE_ALL_MAX)
        return pki_err_set(err, PKI_ERR_INTERNAL, "too many files in one write");
    rc = fs_check_absent(files, n, err);
    if (rc != PKI_OK)
        return rc;
    tmp = calloc(n + 1, sizeof(*tmp));
    created = calloc(n + 1, 1);
    if (tmp == NULL || created == NULL)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "out of memory");
    while (rc == PKI_OK && staged < n) {
        created[staged] = !fs_exists(files[staged].path);
        rc = temp_name(&files[staged], tmp[staged], sizeof(tmp[staged]), err);
        if (rc == PKI_OK)
            rc = fill_temp(&files[staged], tmp[staged], err); /* removes its temp on failure */
        if (rc == PKI_OK)
            staged++;
    }
    while (rc == PKI_OK && placed < n) {
        rc = place(tmp[placed], files[placed].path, files[placed].replace, err);
        if (rc == PKI_OK)
            placed++;
    }
    if (rc != PKI_OK) {
        for (i = placed; i < staged; i++)
            unlink(tmp[i]);
        for (i = 0; i < placed; i++)
            if (created[i])
                unlink(files[i].path);
    }
    for (i = 0; rc == PKI_OK && i < n; i++) {
        rc = parent_of(files[i].path, dir, sizeof(dir), err);
        if (rc == PKI_OK && strcmp(dir, synced) != 0) {
            rc = fs_sync_dir(dir, err);
            memcpy(synced, dir, sizeof(synced));
        }
    }
    free(tmp);
    free(created);
    return rc;
}

int fs_read_fd(int fd, const char *path, size_t max, struct pki_buf *out,
               struct pki_err *err)
{
    struct pki_buf b = {NULL, 0};
    unsigned char chunk[4096];
    ssize_t n;
    int rc = PKI_OK;

    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pki_err_set(err, PKI_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            rc = pki_err_set(err, PKI_ERR_INPUT, "%s is larger than %zu bytes", path, max);
            break;
        }
        rc = pki_buf_append(&b, chunk, (size_t)n, err);
        if (rc != PKI_OK)
            break;
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    if (rc != PKI_OK) {
        pki_buf_free(&b);
        return rc;
    }
    pki_buf_free(out);
    *out = b;
    return PKI_OK;
}

int fs_read_file(const char *path, size_t max, struct pki_buf *out, mode_t *mode,
                 struct pki_err *err)
{
    struct stat st;
    int fd, rc;

    /* O_NONBLOCK: opening a FIFO must not wait for a writer; a regular file
     * ignores the flag, and anything else is refused just below. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return pki_err_set(err, errno == ENOENT ? PKI_ERR_NOTFOUND : PKI_ERR_IO,
                           "cannot read %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pki_err_set(err, PKI_ERR_INPUT, "%s is not a regular file", path);
    }
    rc = fs_read_fd(fd, path, max, out, err);
    close(fd);
    if (rc == PKI_OK && mode != NULL)
        *mode = st.st_mode;
    return rc;
}

int fs_check_key_mode(const char *path, mode_t mode, struct pki_err *err)
{
    if ((mode & 077) == 0)
        return PKI_OK;
    return pki_err_set(err, PKI_ERR_POLICY,
                       "%s: permissions %04o are too open; a key file must not be readable "
                       "by group or others (chmod 600 it)", path, (unsigned)(mode & 07777));
}

int fs_check_dir(const char *path, const char *what, struct pki_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return pki_err_set(err, PKI_ERR_NOTFOUND, "%s \"%s\" does not exist%s", what, path,
                           errno == ENOENT ? "; create it first" : "");
    if (!S_ISDIR(st.st_mode))
        return pki_err_set(err, PKI_ERR_INPUT, "%s \"%s\" is not a directory", what, path);
    return PKI_OK;
}
