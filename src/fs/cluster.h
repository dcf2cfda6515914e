/*
 * cluster.h - a declared cluster PKI on disk (docs/manifest.md): create
 * everything a manifest declares, and report each certificate's state.
 */
#ifndef PKI_CLUSTER_H
#define PKI_CLUSTER_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "manifest.h"
#include "txn.h"

#define CLUSTER_MANIFEST_FILE "pkictl-cluster.json"
#define CLUSTER_WITHIN_DEFAULT (INT64_C(90) * 86400)

/* A custom root (and intermediate under it) that signs the cluster's top CAs. */
struct cluster_custom {
    const char *root_cert, *root_key;   /* custom root, or NULL */
    const char *inter_cert, *inter_key; /* custom intermediate under it, or NULL */
    int skip_key_mode_check;
};

struct cluster_init_opts {
    const char *dir;
    const char *manifest_json;   /* the text, kept verbatim in the folder */
    size_t manifest_len;
    struct cluster_custom custom;
    time_t now;
};

/* The files cluster_init wrote; free with cluster_written_free. */
struct cluster_written {
    char (*paths)[PATH_MAX];
    size_t n;
};

/* Creates every CA, leaf and key, as one change, and lists what it wrote. */
PKI_MUST_CHECK int cluster_init(const struct cluster_init_opts *o, struct cluster_written *w,
                                struct pki_err *err);

void cluster_written_free(struct cluster_written *w);

struct cluster_row {
    char name[PKI_MANIFEST_NAME_MAX + 1];
    int is_ca;
    char file[PKI_MANIFEST_PATH_MAX + 1];
    char signer[PKI_MANIFEST_NAME_MAX + 1]; /* the declared CA, or "" */
    int has_expiry;
    time_t expires;
    const char *verdict;  /* ok, renew soon, expired, ... (static text) */
    char detail[PKI_ERR_MSG_MAX];
};

struct cluster_status {
    struct cluster_row *rows;
    size_t n;
};

/* Reads DIR/pkictl-cluster.json and checks every declared certificate. */
PKI_MUST_CHECK int cluster_status(const char *dir, time_t now, int64_t within,
                                  struct cluster_status *out, struct pki_err *err);

void cluster_status_free(struct cluster_status *s);

/* ---- changing a cluster (docs/rotation.md) --------------------------------- */

/* What a command did, or (when it refuses) every problem it found. */
struct cluster_report_line {
    int kind; /* 0 what was done, 1 a warning, 2 a problem (the command refuses) */
    char text[PKI_ERR_MSG_MAX];
};

struct cluster_report {
    struct cluster_report_line *lines;
    size_t n, cap;
    int would_fail; /* ca rotate --dry-run: something would not verify */
};

void cluster_report_free(struct cluster_report *r);

struct cluster_change_opts {
    const char *dir;
    time_t now;
    int skip_key_mode_check;
    fs_step_fn step; /* progress and crash-test hook; may be NULL */
    void *step_ctx;
};

/* Renews every leaf that is missing, expired, due within `within`, in drift or
 * in a broken chain; keys kept unless new_key. */
PKI_MUST_CHECK int cluster_renew(const struct cluster_change_opts *o, int64_t within,
                                 int new_key, struct cluster_report *r, struct pki_err *err);

/* Re-issues every CA with its existing key, then every leaf. */
PKI_MUST_CHECK int cluster_recover(const struct cluster_change_opts *o,
                                   const struct cluster_custom *custom,
                                   struct cluster_report *r, struct pki_err *err);

/* Re-issues the named leaves (all if n is 0) with new keys. */
PKI_MUST_CHECK int cluster_rotate(const struct cluster_change_opts *o, const char *const *names,
                                  size_t n, struct cluster_report *r, struct pki_err *err);

/* A new key first in a plain key's file, at most keep (-1: all) previous after it. */
PKI_MUST_CHECK int cluster_rotate_key(const struct cluster_change_opts *o, const char *name,
                                      int keep, struct cluster_report *r, struct pki_err *err);

#define CA_TOKEN_MAX 80

/* ca stage: new CAs, cross-signed, in the new folder out; token gets the
 * trust-pinning token. */
PKI_MUST_CHECK int ca_stage(const struct cluster_change_opts *o, const char *out,
                            const struct cluster_custom *custom, struct cluster_report *r,
                            char token[CA_TOKEN_MAX], struct pki_err *err);

/* ca rotate: integrity checks (failures listed in r), then the switch. */
PKI_MUST_CHECK int ca_rotate(const struct cluster_change_opts *o, const char *staging,
                             int dry_run, int force, struct cluster_report *r,
                             struct pki_err *err);

/* ca prune: old roots out of the trust bundles once nothing they signed is valid. */
PKI_MUST_CHECK int ca_prune(const struct cluster_change_opts *o, struct cluster_report *r,
                            struct pki_err *err);

#endif
