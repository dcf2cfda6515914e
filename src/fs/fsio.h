/*
 * fsio.h - files as pkictl writes and reads them: atomic, durable writes that
 * never replace a file by accident, key files private from their first byte,
 * and bounded reads that report a file's permission bits.
 */
#ifndef PKI_FSIO_H
#define PKI_FSIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* One file to write. secret != 0: created mode 0600 and never widened;
 * otherwise the file ends with mode 0644. replace != 0: an existing file is
 * replaced; otherwise it is refused with PKI_ERR_EXISTS. */
struct fs_file {
    const char *path;
    const struct pki_buf *data;
    int secret;
    int replace;
};

/* Writes f->path atomically: a temp file in the same folder, fsync, rename
 * into place (without f->replace, a path that exists is refused even if it
 * appears meanwhile), fsync of the folder. */
PKI_MUST_CHECK int fs_write_atomic(const struct fs_file *f, struct pki_err *err);

/* PKI_ERR_EXISTS naming the first of files that exists without replace. */
PKI_MUST_CHECK int fs_check_absent(const struct fs_file *files, size_t n, struct pki_err *err);

/* Writes several files (at most 4096) as one change. Refuses before writing
 * anything if a file exists without replace. Stages every file as a synced
 * temp file before renaming any into place, so a full disk or an I/O error
 * leaves every file as it was; if a rename fails, the files this call
 * created are removed again. */
PKI_MUST_CHECK int fs_write_all(const struct fs_file *files, size_t n, struct pki_err *err);

/* Reads fd from its current offset to the end, at most max bytes, into out
 * (wiped when freed; its old content is freed on success only). path only
 * names the file in messages. Retries reads that a signal interrupts; does
 * not close fd. More than max bytes is PKI_ERR_INPUT, a read error
 * PKI_ERR_IO. */
PKI_MUST_CHECK int fs_read_fd(int fd, const char *path, size_t max, struct pki_buf *out,
                              struct pki_err *err);

/* Reads at most max bytes of path into out (wiped when freed) and its mode
 * bits into *mode (if mode is not NULL). A missing file is PKI_ERR_NOTFOUND. */
PKI_MUST_CHECK int fs_read_file(const char *path, size_t max, struct pki_buf *out,
                                mode_t *mode, struct pki_err *err);

/* PKI_OK if a key file's mode has no group or world bits; a message that
 * names the file and its mode otherwise. */
PKI_MUST_CHECK int fs_check_key_mode(const char *path, mode_t mode, struct pki_err *err);

/* PKI_OK if path names an existing directory. */
PKI_MUST_CHECK int fs_check_dir(const char *path, const char *what, struct pki_err *err);

/* fsyncs a folder, so renames and new names in it are durable. */
PKI_MUST_CHECK int fs_sync_dir(const char *dir, struct pki_err *err);

/* 1 if path exists (as anything, a dangling link included), else 0. */
int fs_exists(const char *path);

/* Joins dir and name into out; fails if it does not fit. */
PKI_MUST_CHECK int fs_join(const char *dir, const char *name, char *out, size_t len,
                           struct pki_err *err);

#endif
