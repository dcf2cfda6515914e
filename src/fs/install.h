/*
 * install.h - cert install: put a certificate and key (from anywhere) into a
 * slot of the certs dir, only after every check passes, keeping the old
 * pair for a rollback.
 */
#ifndef PKI_INSTALL_H
#define PKI_INSTALL_H

#include <stdint.h>
#include <time.h>

#include "err.h"

#define INSTALL_MIN_VALIDITY_DEFAULT (INT64_C(720) * 3600) /* 30 days */

struct install_opts {
    const char *certs_dir;
    const char *name;        /* node, client.USER, ui, cm, api, proxy, syncer, metrics */
    const char *cert_path;   /* leaf, then its chain */
    const char *key_path;
    const char *ca_path;     /* anchors; NULL: the certs dir's ca.crt */
    int64_t min_validity;    /* seconds the leaf must still be valid */
    time_t now;
    int skip_key_mode_check;
};

/* Checks pem, key, chain, validity, signature and usage (in that order;
 * the message names the check that failed), then replaces NAME.crt and
 * NAME.key as one change, keeping the old ones as NAME.*.previous. On
 * success summary gets "installed NAME (expires YYYY-MM-DD)". */
PKI_MUST_CHECK int install_cert(const struct install_opts *o, char *summary, size_t len,
                                struct pki_err *err);

/* Swaps NAME.crt/NAME.key with NAME.crt.previous/NAME.key.previous. */
PKI_MUST_CHECK int install_rollback(const char *certs_dir, const char *name, char *summary,
                                    size_t len, struct pki_err *err);

#endif
