/*
 * signer_keyfile.h - the 32-byte store key file (internal to the signer).
 */
#ifndef SRV_SIGNER_KEYFILE_H
#define SRV_SIGNER_KEYFILE_H

#include "err.h"
#include "keywrap.h"

/* Reads the store key from path: a regular file (not a symbolic link)
 * owned by this user, with no group or other permission bits, exactly
 * PKI_STORE_KEY_LEN bytes. When it is absent and create is set, creates it
 * with random bytes through fs_write_atomic (0600 from its first byte under
 * the server's umask 077, fsync of file and folder, never replacing a file
 * that appears meanwhile: that one is read instead). key is wiped on
 * failure. */
PKI_MUST_CHECK int srv__store_key_load(const char *path, int create,
                                       unsigned char key[PKI_STORE_KEY_LEN],
                                       struct pki_err *err);

#endif
