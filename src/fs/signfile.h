/*
 * signfile.h - operations on files the user names: make a CSR, sign one,
 * assemble a chain. Every check runs before anything is written; writes go
 * through fs_write_all (atomic, no replacing without overwrite).
 */
#ifndef PKI_SIGNFILE_H
#define PKI_SIGNFILE_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "certsdir.h"
#include "csr.h"
#include "err.h"
#include "key.h"
#include "profile.h"

struct csrfile_opts {
    const char *key_path;        /* existing key, or NULL for a new one */
    const char *key_out;         /* where a new key goes (NULL: derived from out) */
    struct pki_key_spec key_spec;
    const char *subject;         /* "/C=../CN=..", may be NULL */
    const char *const *sans;     /* "dns:x", "ip:y", ... */
    size_t nsans;
    const char *cluster_fqdn;    /* may be NULL */
    const char *usage;           /* may be NULL: server, or both with cluster_fqdn */
    const char *out;
    int overwrite, skip_key_mode_check;
};

/* csr create. */
PKI_MUST_CHECK int csrfile_create(const struct csrfile_opts *o, struct certsdir_written *w,
                                  struct pki_err *err);

struct signfile_opts {
    const char *csr_path, *ca_cert_path, *ca_key_path, *out;
    enum pki_profile profile;
    int64_t lifetime;            /* 0: the profile's default */
    time_t now;
    int overwrite, skip_key_mode_check;
};

/* cert sign: out gets the certificate, then the CA file's certificates that
 * are not self-signed, in order. */
PKI_MUST_CHECK int signfile_sign(const struct signfile_opts *o, struct certsdir_written *w,
                                 struct pki_err *err);

/* cert bundle: the chain leaf..root (PEM) from cert_path's first certificate
 * and every certificate in chain_paths, appended to out. */
PKI_MUST_CHECK int signfile_bundle(const char *cert_path, const char *const *chain_paths,
                                   size_t nchain, struct pki_buf *out, struct pki_err *err);

/* cert create-self-signed: for each type, DIR/<type>_cert.pem and
 * DIR/<type>_key.pem, self-signed, SANs = each domain and its wildcard. */
struct selfsigned_opts {
    const char *domains;         /* separated by spaces or commas */
    const char *types;           /* "cm", ..., or "all" */
    const char *out_dir;
    int days;
    struct pki_key_spec key_spec;
    time_t now;
    int overwrite;
};

#define SELFSIGNED_DOMAINS_MAX 32
#define SELFSIGNED_DAYS_MAX 36500

PKI_MUST_CHECK int selfsigned_create(const struct selfsigned_opts *o, char *summary,
                                     size_t len, struct pki_err *err);

#endif
