/* sandbox.h - confinement of the server's processes with Landlock.
 *
 * A worker (the front end: TLS, HTTP, JSON, CSRs) may afterwards read only
 * DATA/tls (its own certificate and key) and /proc/self; it may create,
 * replace and write files in DATA (ca.pem, by rename) and DATA/tls, and
 * nothing else anywhere: not read the store key, not execute a program.
 * Descriptors opened before (the store, the audit log, the listening
 * socket) keep working. A signer, once it holds the store key, may open no
 * file at all (/proc/self excepted). docs/server.md, "Confinement". */
#ifndef PKICTL_SANDBOX_H
#define PKICTL_SANDBOX_H

#include "err.h"

enum srv_sandbox_kind {
    SRV_SANDBOX_WORKER, /* data_dir: the server's data dir */
    SRV_SANDBOX_SIGNER  /* data_dir: NULL */
};

/* Confines the calling process (and what it forks later) for good; sets
 * no_new_privs. Returns the Landlock ABI version applied (>= 1), 0 if the
 * kernel has no Landlock (nothing was changed), or a negative pki_err code
 * with err set. */
PKI_MUST_CHECK int srv_sandbox_apply(enum srv_sandbox_kind kind, const char *data_dir,
                                     struct pki_err *err);
/* srv_sandbox_apply, and a worker may also read beneath read_dir (the
 * tests' clock file, PKICTL_NOW=@FILE; NULL: none). */
PKI_MUST_CHECK int srv_sandbox_apply_ex(enum srv_sandbox_kind kind, const char *data_dir,
                                        const char *read_dir, struct pki_err *err);

#endif
