/*
 * err.h - errors of the pkictl core.
 *
 * Every core function that can fail returns 0 or a negative PKI_ERR_* code
 * (or NULL), and fills the caller's struct pki_err with one line a user can
 * act on. The core never prints and never exits.
 */
#ifndef PKI_ERR_H
#define PKI_ERR_H

#include <stddef.h>

#define PKI_MUST_CHECK __attribute__((warn_unused_result))

enum pki_errcode {
    PKI_OK = 0,
    PKI_ERR_USAGE = -1,    /* the caller asked for something malformed */
    PKI_ERR_INPUT = -2,    /* a value from the user or a file is invalid */
    PKI_ERR_CRYPTO = -3,   /* OpenSSL failed */
    PKI_ERR_IO = -4,       /* a file system call failed */
    PKI_ERR_POLICY = -5,   /* valid input that a rule refuses */
    PKI_ERR_EXISTS = -6,   /* a file would be replaced without permission */
    PKI_ERR_NOTFOUND = -7, /* a file or item that must exist does not */
    PKI_ERR_INTERNAL = -8, /* a bug or out of memory */
};

#define PKI_ERR_MSG_MAX 512

struct pki_err {
    int code;
    char msg[PKI_ERR_MSG_MAX];
};

/* Records code and a printf-style message in err (if err is not NULL).
 * Returns code, so callers can write `return pki_err_set(err, ...)`. */
int pki_err_set(struct pki_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like pki_err_set, and appends OpenSSL's reason for the most recent error
 * on this thread's queue (and clears that queue). */
int pki_err_set_ssl(struct pki_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts "prefix: " before the message already in err (e.g. a file name). */
void pki_err_prefix(struct pki_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void pki_err_clear(struct pki_err *err);

#endif
