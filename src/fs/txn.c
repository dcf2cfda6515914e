/* txn.c - one atomic switch of a whole folder (see txn.h). */
#include "txn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"

#define TREE_DEPTH_MAX 32

void fs_txn_step(struct fs_txn *t, const char *step, size_t done, size_t total)
{
    if (t->step != NULL)
        t->step(t->step_ctx, step, done, total);
}

/* ---- removing a tree ------------------------------------------------------- */

static int remove_at(int pfd, const char *name, int depth, struct pki_err *err)
{
    struct stat st;
    struct dirent *e;
    DIR *d;
    int fd, rc = PKI_OK;

    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? PKI_OK
                               : pki_err_set(err, PKI_ERR_IO, "cannot remove %s: %s", name,
                                             strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(pfd, name, 0) != 0 && errno != ENOENT)
            return pki_err_set(err, PKI_ERR_IO, "cannot remove %s: %s", name, strerror(errno));
        return PKI_OK;
    }
    if (depth > TREE_DEPTH_MAX)
        return pki_err_set(err, PKI_ERR_IO, "folders nested too deep under %s", name);
    fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return pki_err_set(err, PKI_ERR_IO, "cannot open folder %s: %s", name, strerror(errno));
    }
    while (rc == PKI_OK && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            rc = remove_at(dirfd(d), e->d_name, depth + 1, err);
    closedir(d);
    if (rc == PKI_OK && unlinkat(pfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = pki_err_set(err, PKI_ERR_IO, "cannot remove folder %s: %s", name, strerror(errno));
    return rc;
}

int fs_remove_tree(const char *path, struct pki_err *err)
{
    return remove_at(AT_FDCWD, path, 0, err);
}

/* ---- the shadow copy ---------------------------------------------------------- */

/* Copies folder src into the new folder dst: folders made with the same mode,
 * files hard-linked, symbolic links recreated; fsyncs each new folder. */
static int copy_dir(int src_parent, const char *src, int dst_parent, const char *dst,
                    const char *shown, int depth, struct pki_err *err)
{
    struct stat st;
    struct dirent *e;
    char target[PATH_MAX], sub[PATH_MAX];
    DIR *d = NULL;
    int sfd = -1, dfd = -1, rc = PKI_OK;
    ssize_t n;

    if (depth > TREE_DEPTH_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "folders nested too deep at %s", shown);
    if (fstatat(src_parent, src, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot read %s: %s", shown, strerror(errno));
    if (mkdirat(dst_parent, dst, 0700) != 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot create the shadow folder for %s: %s", shown,
                           strerror(errno));
    sfd = openat(src_parent, src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    dfd = openat(dst_parent, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0 || dfd < 0 || (d = fdopendir(sfd)) == NULL) {
        rc = pki_err_set(err, PKI_ERR_IO, "cannot open folder %s: %s", shown, strerror(errno));
        goto out;
    }
    sfd = -1; /* owned by d now */
    /* same mode and, where permitted, the same owner as the original */
    if (fchmod(dfd, st.st_mode & 07777) != 0 ||
        (fchown(dfd, st.st_uid, st.st_gid) != 0 && errno != EPERM)) {
        rc = pki_err_set(err, PKI_ERR_IO, "cannot set the mode of the copy of %s: %s", shown,
                         strerror(errno));
        goto out;
    }
    while (rc == PKI_OK && (e = readdir(d)) != NULL) {
        struct stat es;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", shown, e->d_name) >= (int)sizeof(sub)) {
            rc = pki_err_set(err, PKI_ERR_INPUT, "path %s/%s is too long", shown, e->d_name);
            break;
        }
        if (fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = pki_err_set(err, PKI_ERR_IO, "cannot read %s: %s", sub, strerror(errno));
        } else if (S_ISDIR(es.st_mode)) {
            rc = copy_dir(dirfd(d), e->d_name, dfd, e->d_name, sub, depth + 1, err);
        } else if (S_ISREG(es.st_mode)) {
            if (linkat(dirfd(d), e->d_name, dfd, e->d_name, 0) != 0)
                rc = pki_err_set(err, PKI_ERR_IO, "cannot link %s into the shadow copy: %s", sub,
                                 strerror(errno));
        } else if (S_ISLNK(es.st_mode)) {
            n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
            if (n < 0 || n >= (ssize_t)sizeof(target) - 1) {
                rc = pki_err_set(err, PKI_ERR_IO, "cannot read link %s", sub);
            } else {
                target[n] = '\0';
                if (symlinkat(target, dfd, e->d_name) != 0)
                    rc = pki_err_set(err, PKI_ERR_IO, "cannot copy link %s: %s", sub,
                                     strerror(errno));
            }
        } else {
            rc = pki_err_set(err, PKI_ERR_INPUT, "%s is not a file, folder or link (a socket, "
                             "FIFO or device): move it out of the cluster folder", sub);
        }
    }
    if (rc == PKI_OK && fsync(dfd) != 0)
        rc = pki_err_set(err, PKI_ERR_IO, "cannot sync the copy of %s: %s", shown,
                         strerror(errno));
out:
    if (d != NULL)
        closedir(d);
    if (sfd >= 0)
        close(sfd);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

/* ---- the transaction -------------------------------------------------------------- */

int fs_txn_begin(struct fs_txn *t, const char *dir, fs_step_fn step, void *ctx,
                 struct pki_err *err)
{
    char tmp[PATH_MAX], lock[PATH_MAX], base[NAME_MAX + 1];
    struct stat st, pst;

    memset(t, 0, sizeof(*t));
    t->lock_fd = -1;
    t->step = step;
    t->step_ctx = ctx;
    if (fs_check_dir(dir, "cluster dir", err) != PKI_OK)
        return err ? err->code : PKI_ERR_NOTFOUND;
    if (realpath(dir, t->dir) == NULL)
        return pki_err_set(err, PKI_ERR_IO, "cannot resolve %s: %s", dir, strerror(errno));
    if (strcmp(t->dir, "/") == 0)
        return pki_err_set(err, PKI_ERR_INPUT, "the cluster dir cannot be /");
    memcpy(tmp, t->dir, sizeof(tmp));
    snprintf(t->parent, sizeof(t->parent), "%s", dirname(tmp));
    memcpy(tmp, t->dir, sizeof(tmp));
    snprintf(base, sizeof(base), "%s", basename(tmp));
    if (snprintf(t->shadow, sizeof(t->shadow), "%s/.%s.pkictl-txn", t->parent, base) >=
            (int)sizeof(t->shadow) ||
        snprintf(lock, sizeof(lock), "%s/.%s.pkictl-lock", t->parent, base) >= (int)sizeof(lock))
        return pki_err_set(err, PKI_ERR_INPUT, "path %s is too long", t->dir);
    if (stat(t->dir, &st) != 0 || stat(t->parent, &pst) != 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot read %s: %s", t->dir, strerror(errno));
    if (st.st_dev != pst.st_dev)
        return pki_err_set(err, PKI_ERR_INPUT, "%s is a mount point: pkictl switches a cluster "
                           "folder by renaming it, so it must sit on the same file system as %s",
                           t->dir, t->parent);
    t->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (t->lock_fd < 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot create the lock file %s: %s (the folder "
                           "holding the cluster dir must be writable)", lock, strerror(errno));
    if (flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        close(t->lock_fd);
        t->lock_fd = -1;
        if (e == EWOULDBLOCK)
            return pki_err_set(err, PKI_ERR_POLICY, "another pkictl is changing %s (it holds "
                               "%s); try again when it is done", t->dir, lock);
        return pki_err_set(err, PKI_ERR_IO, "cannot lock %s: %s", lock, strerror(e));
    }
    /* A copy left by a crash: the folder itself is whole (old or new). */
    return fs_remove_tree(t->shadow, err);
}

int fs_txn_shadow(struct fs_txn *t, struct pki_err *err)
{
    int rc;

    t->shadow_made = 1;
    rc = copy_dir(AT_FDCWD, t->dir, AT_FDCWD, t->shadow, t->dir, 0, err);
    if (rc == PKI_OK)
        fs_txn_step(t, "shadow", 0, 0);
    return rc;
}

int fs_make_dirs(const char *root, const char *rel, struct pki_err *err)
{
    char full[PATH_MAX];
    size_t i;

    for (i = 0; rel[i] != '\0'; i++) {
        if (rel[i] != '/')
            continue;
        if (snprintf(full, sizeof(full), "%s/%.*s", root, (int)i, rel) >= (int)sizeof(full))
            return pki_err_set(err, PKI_ERR_INPUT, "path %s/%s is too long", root, rel);
        if (mkdir(full, 0700) != 0 && errno != EEXIST)
            return pki_err_set(err, PKI_ERR_IO, "cannot create folder %s: %s", full,
                               strerror(errno));
    }
    return PKI_OK;
}

int fs_txn_write(struct fs_txn *t, const char *rel, const struct pki_buf *data, int secret,
                 struct pki_err *err)
{
    char path[PATH_MAX];
    struct fs_file f;
    int rc = fs_join(t->shadow, rel, path, sizeof(path), err);

    if (rc == PKI_OK)
        rc = fs_make_dirs(t->shadow, rel, err);
    f = (struct fs_file){path, data, secret, 1};
    if (rc == PKI_OK)
        rc = fs_write_atomic(&f, err);
    if (rc != PKI_OK)
        pki_err_prefix(err, "writing %s", rel);
    return rc;
}

/* fsyncs every folder of the copy (folders made by fs_txn_write included). */
static int sync_tree(const char *path, int depth, struct pki_err *err)
{
    char sub[PATH_MAX];
    struct dirent *e;
    DIR *d;
    int rc = PKI_OK;

    if (depth > TREE_DEPTH_MAX)
        return pki_err_set(err, PKI_ERR_INPUT, "folders nested too deep at %s", path);
    if ((d = opendir(path)) == NULL)
        return pki_err_set(err, PKI_ERR_IO, "cannot open folder %s: %s", path, strerror(errno));
    while (rc == PKI_OK && (e = readdir(d)) != NULL) {
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
            rc = pki_err_set(err, PKI_ERR_INPUT, "path %s/%s is too long", path, e->d_name);
        else
            rc = sync_tree(sub, depth + 1, err);
    }
    closedir(d);
    return rc == PKI_OK ? fs_sync_dir(path, err) : rc;
}

int fs_txn_commit(struct fs_txn *t, struct pki_err *err)
{
    int rc;

    fs_txn_step(t, "written", 0, 0);
    rc = sync_tree(t->shadow, 0, err);
    if (rc != PKI_OK)
        return rc;
    fs_txn_step(t, "synced", 0, 0);
    if (renameat2(AT_FDCWD, t->shadow, AT_FDCWD, t->dir, RENAME_EXCHANGE) != 0)
        return pki_err_set(err, PKI_ERR_IO, "cannot switch %s to its new contents: %s%s", t->dir,
                           strerror(errno), errno == EINVAL ? " (the file system lacks "
                           "RENAME_EXCHANGE)" : "");
    fs_txn_step(t, "exchanged", 0, 0);
    /* From here DIR is new. What is left is tidying: a crash here is harmless. */
    t->shadow_made = 0;
    rc = fs_sync_dir(t->parent, err);
    if (rc != PKI_OK) {
        pki_err_prefix(err, "%s was switched, but", t->dir);
        return rc;
    }
    {
        struct pki_err ignore = {0, ""};

        /* a leftover copy is removed by the next transaction */
        if (fs_remove_tree(t->shadow, &ignore) == PKI_OK)
            fs_txn_step(t, "cleaned", 0, 0);
    }
    return PKI_OK;
}

void fs_txn_end(struct fs_txn *t)
{
    if (t->shadow_made) {
        struct pki_err ignore = {0, ""};

        if (fs_remove_tree(t->shadow, &ignore) != PKI_OK) {
            /* left for the next transaction to remove */
        }
        t->shadow_made = 0;
    }
    if (t->lock_fd >= 0) {
        close(t->lock_fd);
        t->lock_fd = -1;
    }
}
