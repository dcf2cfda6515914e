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

#define CLUSTER_MANIFEST_FILE "pkictl-cluster.json"
#define CLUSTER_WITHIN_DEFAULT (INT64_C(90) * 86400)

struct cluster_init_opts {
    const char *dir;
    const char *manifest_json;   /* the text, kept verbatim in the folder */
    size_t manifest_len;
    const char *root_cert, *root_key;   /* custom root, or NULL */
    const char *inter_cert, *inter_key; /* custom intermediate under it, or NULL */
    time_t now;
    int skip_key_mode_check;
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

#endif
