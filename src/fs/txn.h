/*
 * txn.h - changing a whole folder in one atomic step (docs/rotation.md):
 * lock, shadow copy by hard links beside it, write the new files into the
 * copy, sync, then exchange the copy and the folder with one
 * renameat2(RENAME_EXCHANGE). A crash leaves the folder wholly old or wholly
 * new; the stale copy is removed by the next transaction.
 */
#ifndef PKI_TXN_H
#define PKI_TXN_H

#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Called at each step ("built", "shadow", "written", "synced", "exchanged",
 * "cleaned"; and "leaves" with done/total while certificates are made), for
 * progress and for the crash tests. May be NULL. */
typedef void (*fs_step_fn)(void *ctx, const char *step, size_t done, size_t total);

struct fs_txn {
    char dir[PATH_MAX];    /* the folder, symbolic links resolved */
    char parent[PATH_MAX];
    char shadow[PATH_MAX]; /* PARENT/.NAME.pkictl-txn */
    int lock_fd;
    int shadow_made;
    fs_step_fn step;
    void *step_ctx;
};

/* Resolves dir, takes the lock (refusing if another pkictl holds it) and
 * removes a stale shadow copy left by a crash. */
PKI_MUST_CHECK int fs_txn_begin(struct fs_txn *t, const char *dir, fs_step_fn step, void *ctx,
                                struct pki_err *err);

/* Makes the shadow copy (hard links; folders and modes as in dir). */
PKI_MUST_CHECK int fs_txn_shadow(struct fs_txn *t, struct pki_err *err);

/* Writes rel (relative to dir) in the shadow copy, atomically, replacing what
 * is there; missing folders are made with mode 0700. */
PKI_MUST_CHECK int fs_txn_write(struct fs_txn *t, const char *rel, const struct pki_buf *data,
                                int secret, struct pki_err *err);

/* Syncs the copy, exchanges it with dir, syncs the parent, removes the old tree. */
PKI_MUST_CHECK int fs_txn_commit(struct fs_txn *t, struct pki_err *err);

/* Removes an uncommitted shadow copy and releases the lock. */
void fs_txn_end(struct fs_txn *t);

/* Reports a step to t's callback. */
void fs_txn_step(struct fs_txn *t, const char *step, size_t done, size_t total);

/* Makes the folders root/rel needs below root (mode 0700). */
PKI_MUST_CHECK int fs_make_dirs(const char *root, const char *rel, struct pki_err *err);

/* Removes path and everything under it (no symbolic link is followed). */
PKI_MUST_CHECK int fs_remove_tree(const char *path, struct pki_err *err);

#endif
