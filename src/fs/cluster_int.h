/*
 * cluster_int.h - what the cluster commands share inside src/fs: the cluster
 * folder loaded into memory (manifest, state, every CA and leaf file),
 * issuing, chains, and the report the commands return.
 */
#ifndef PKI_CLUSTER_INT_H
#define PKI_CLUSTER_INT_H

#include <limits.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cert.h"
#include "cluster.h"
#include "manifest.h"
#include "txn.h"

#define CLUSTER_STATE_FILE "pkictl-state.json"
#define CLUSTER_TRUST_BUNDLE "pkictl-trust-bundle.pem"
#define CLUSTER_KEYS_PER_FILE_MAX 64
#define CLUSTER_KEYS_FILE_MAX (256 * 1024) /* bytes of a key list */

struct custom_issuer {
    STACK_OF(X509) *root_certs, *inter_certs;
    EVP_PKEY *root_key, *inter_key;
    X509 *issuer;          /* borrowed: the intermediate if given, else the root */
    EVP_PKEY *issuer_key;  /* borrowed */
};

PKI_MUST_CHECK int cl_load_custom(const struct cluster_custom *o, struct custom_issuer *c,
                                  struct pki_err *err);
void cl_custom_free(struct custom_issuer *c);

/* Issues a certificate for key with subject name; a default lifetime ends
 * with the issuer (p->issuer NULL: self-signed). */
PKI_MUST_CHECK X509 *cl_issue(struct pki_cert_params *p, const X509_NAME *name,
                              int lifetime_is_default, EVP_PKEY *key, struct pki_err *err);

enum pki_cert_role cl_usage_role(enum pki_usage u);

/* Reads and parses DIR/pkictl-cluster.json; keep (if not NULL) gets its text. */
PKI_MUST_CHECK int cl_read_manifest(const char *dir, struct pki_manifest *m,
                                    struct pki_buf *keep, struct pki_err *err);

/* 1 if cert's SANs equal the leaf's declared ones (as sets). */
int cl_sans_match(X509 *cert, const struct pki_manifest_leaf *l);

/* One record of a retired root: when the last certificate it signed expires. */
struct cl_retired {
    char ca[PKI_MANIFEST_NAME_MAX + 1];
    unsigned char sha256[32]; /* of the old root certificate's DER */
    int64_t rotated_at, valid_until;
};

/* DIR/pkictl-state.json (docs/rotation.md). */
struct cl_state {
    X509 **cross;              /* per CA index: its cross-signed certificate, or NULL */
    struct cl_retired *retired;
    size_t nretired;
};

/* One file of the cluster as read: certs (NULL if missing or unreadable),
 * key (NULL likewise) and why. */
struct cl_file {
    STACK_OF(X509) *certs;
    EVP_PKEY *key;
    int cert_missing, key_missing;
    char cert_err[PKI_ERR_MSG_MAX], key_err[PKI_ERR_MSG_MAX];
};

struct cluster {
    char dir[PATH_MAX];
    struct pki_manifest m;
    struct pki_buf manifest_text;
    struct cl_file *cas, *leaves;
    struct cl_state state;
};

/* Reads the manifest, the state and every CA and leaf file of dir. A file
 * that is missing or unreadable is noted in its cl_file, not an error. */
PKI_MUST_CHECK int cl_open(const char *dir, int skip_key_mode_check, struct cluster *c,
                           struct pki_err *err);
void cl_close(struct cluster *c);

/* The state file: read (a missing file is an empty state) and encode. */
PKI_MUST_CHECK int cl_state_read(const char *dir, const struct pki_manifest *m,
                                 struct cl_state *s, struct pki_err *err);
/* Parses the text of a state file (NULL: there is none, an empty state) for
 * m. s is set up from scratch; free it with cl_state_free even on failure. */
PKI_MUST_CHECK int cl_state_parse_text(const char *text, size_t len, const struct pki_manifest *m,
                                       struct cl_state *s, struct pki_err *err);
PKI_MUST_CHECK int cl_state_encode(const struct cl_state *s, const struct pki_manifest *m,
                                   struct pki_buf *out, struct pki_err *err);
void cl_state_free(struct cl_state *s, size_t ncas);

/* The PEM a leaf's file holds: leaf, then each CA above it that is not a
 * root (ca_cert[a] for CA a), the non-root CA certificates after the first
 * one in its top CA's file (ca_file[top], a custom intermediate), and the
 * top CA's cross-signed certificate (cross[top]) if any. */
PKI_MUST_CHECK int cl_leaf_pem(const struct pki_manifest *m, size_t i, X509 *leaf,
                               X509 *const *ca_cert, STACK_OF(X509) *const *ca_file,
                               X509 *const *cross, struct pki_buf *out, struct pki_err *err);

/* Issues leaf i of m for key under ca_cert/ca_key, at now. */
PKI_MUST_CHECK X509 *cl_issue_leaf(const struct pki_manifest *m, size_t i, X509 *ca_cert,
                                   EVP_PKEY *ca_key, EVP_PKEY *key, time_t now,
                                   struct pki_err *err);

/* The files a change writes, built in memory first. */
struct cl_write {
    char rel[PKI_MANIFEST_PATH_MAX + 1];
    struct pki_buf data;
    int secret;
};

struct cl_writes {
    struct cl_write *w;
    size_t n, cap;
};

/* Adds a file; takes data over (the caller's buffer is emptied). */
PKI_MUST_CHECK int cl_writes_add(struct cl_writes *ws, const char *rel, struct pki_buf *data,
                                 int secret, struct pki_err *err);
void cl_writes_free(struct cl_writes *ws);

/* Reports "built", then shadow copy, writes and commit as one switch. */
PKI_MUST_CHECK int cl_writes_apply(struct fs_txn *t, const struct cl_writes *ws,
                                   struct pki_err *err);

/* What a changing command works with: the lock, the folder in memory, the
 * files to write, and the count of problems found (it refuses if any). */
struct cl_work {
    struct fs_txn t;
    struct cluster c;
    struct cl_writes ws;
    int problems;
};

/* A report line that is a problem: the command will refuse. */
#define PROBLEM(w, r, ...)                                      \
    do {                                                        \
        (w)->problems++;                                        \
        if (cl_report_add((r), 2, __VA_ARGS__) != PKI_OK)       \
            (w)->problems += 1000;                              \
    } while (0)

/* Locks o->dir and loads it. */
PKI_MUST_CHECK int cl_work_begin(const struct cluster_change_opts *o, struct cl_work *w,
                                 struct pki_err *err);
void cl_work_end(struct cl_work *w);

/* The cross path of a CA whose "cross" in pkictl-stage.json was refused (a
 * problem is listed): never the result of joining a path under STAGING. */
#define CL_CROSS_REFUSED "\x7f"

/* Checks the text of STAGING/pkictl-stage.json (ca rotate) against w's
 * folder: each mismatch is a problem in r and w->problems; cross (ncas
 * entries, zeroed by the caller) gets CA i's cross-signed certificate path
 * under staging, "" if it has none, or CL_CROSS_REFUSED; token gets the
 * token's 64 hex digits, or "" if it has none of that shape. Text that is
 * not a JSON object is an error. */
PKI_MUST_CHECK int cl_stage_parse_text(struct cl_work *w, const char *staging, const char *text,
                                       size_t len, char (*cross)[PATH_MAX], char token[65],
                                       struct cluster_report *r, struct pki_err *err);

/* The error of a command that found problems. */
int cl_refuse(const struct cl_work *w, const char *what, struct pki_err *err);

X509 *cl_first_cert(const struct cl_file *f);

/* The CAs leaves are issued under, per CA index: the signing certificate,
 * the file's certificates, the key and the cross-signed certificate. */
struct cl_view {
    X509 **cert;
    STACK_OF(X509) **file;
    EVP_PKEY **key;
    X509 **cross;
};

/* root as indented JSON text and a newline, into out (empty): the state
 * and staging files. */
PKI_MUST_CHECK int cl_json_text(json_t *root, struct pki_buf *out, struct pki_err *err);

PKI_MUST_CHECK int cl_view_alloc(struct cl_view *v, size_t n, struct pki_err *err);
/* The view of the CAs as they are in the folder (borrowed pointers). */
PKI_MUST_CHECK int cl_view_current(const struct cluster *c, struct cl_view *v,
                                   struct pki_err *err);
void cl_view_free(struct cl_view *v);

/* Issues leaf i under v (with key, or a new key if key is NULL), adds its
 * files to w->ws and a report line "VERB NAME (REASON) until DATE". */
PKI_MUST_CHECK int cl_add_leaf(struct cl_work *w, size_t i, EVP_PKEY *key, const struct cl_view *v,
                               time_t now, struct cluster_report *r, const char *verb,
                               const char *reason, struct pki_err *err);

/* Reads every key of a key list file (k3s's service.key) into keys (at most
 * CLUSTER_KEYS_PER_FILE_MAX), checking its mode unless skip_mode. A missing
 * file is PKI_ERR_NOTFOUND (no message); errors name the file. */
PKI_MUST_CHECK int cl_read_keys(const char *path, int skip_mode, EVP_PKEY **keys, size_t *n,
                                struct pki_err *err);

/* Report lines. */
int cl_report_add(struct cluster_report *r, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* SHA-256 of a certificate's DER. */
PKI_MUST_CHECK int cl_cert_sha256(X509 *cert, unsigned char out[32]);

void cl_hex(const unsigned char *in, size_t len, char *out);

#endif
