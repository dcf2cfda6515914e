/*
 * certsdir.h - the certs dir, as CockroachDB lays it out:
 *
 *   ca.crt               CA certificates, newest first (several during a rotation)
 *   node.crt, node.key   the node's certificate and key (serverAuth + clientAuth)
 *   client.U.crt/.key    user U's client certificate and key (clientAuth)
 *   ui.crt, ui.key       a web console certificate from a public CA
 *
 * The CA key lives outside, where the caller says, and is loaded only to sign.
 */
#ifndef PKI_CERTSDIR_H
#define PKI_CERTSDIR_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "key.h"
#include "name.h"

#define CERTSDIR_CA_CERT "ca.crt"
#define CERTSDIR_KEY_FILE_MAX (64 * 1024)

/* What a create command is asked to do. */
struct certsdir_opts {
    const char *certs_dir;
    const char *ca_key_path;
    int64_t lifetime;             /* seconds */
    int lifetime_is_default;      /* not asked for: cap it at the issuer's expiry */
    struct pki_key_spec key_spec; /* for the new key */
    time_t now;
    int overwrite;
    int allow_ca_key_reuse;       /* create-ca: use an existing CA key file */
    int pkcs8;                    /* also write KEY.pk8 (PKCS#8 DER) */
    int skip_key_mode_check;      /* accept key files readable by group/others */
    const char *parent_cert_path; /* create-ca: sign the new CA with this CA ...   */
    const char *parent_key_path;  /* ... and this key (both or neither) */
    int path_len;                 /* the intermediate's pathLenConstraint (default 0) */
};

/* The files a create command wrote, for the caller to report. */
struct certsdir_written {
    char paths[4][PATH_MAX];
    size_t n;
    char note[256]; /* something the user should know, or "" */
};

/* Loads the private key at path, refusing one readable by group or others
 * unless skip_mode_check. The caller frees the key. */
PKI_MUST_CHECK EVP_PKEY *certsdir_load_key(const char *path, int skip_mode_check,
                                           struct pki_err *err);

/* Reads every certificate of a PEM file (1 MiB, 64 certificates at most);
 * errors name the file. The caller frees the stack (pki_certs_free). */
PKI_MUST_CHECK STACK_OF(X509) *certsdir_load_certs(const char *path, struct pki_err *err);

/* Loads DIR/ca.crt (one or more certificates). The caller frees the stack. */
PKI_MUST_CHECK STACK_OF(X509) *certsdir_load_ca_bundle(const char *certs_dir,
                                                       struct pki_err *err);

/* create-ca: a new CA in DIR/ca.crt and its key at ca_key_path. Self-signed,
 * or with parent_* an intermediate (pathlen 0) followed in ca.crt by the
 * parent file's certificates. Older CA certificates stay after them when
 * overwriting; a certificate is never listed twice. */
PKI_MUST_CHECK int certsdir_create_ca(const struct certsdir_opts *o, struct certsdir_written *w,
                                      struct pki_err *err);

/* create-node: node.crt/node.key for hosts (validated here, duplicates kept
 * once), signed by the CA in ca.crt that matches the CA key. When that CA is
 * an intermediate, node.crt holds the leaf and then the chain from ca.crt up
 * to, not including, the root. */
PKI_MUST_CHECK int certsdir_create_node(const struct certsdir_opts *o, const char *const *hosts,
                                        size_t nhosts, struct certsdir_written *w,
                                        struct pki_err *err);

/* create-client: client.USER.crt/.key, signed like a node certificate. */
PKI_MUST_CHECK int certsdir_create_client(const struct certsdir_opts *o, const char *user,
                                          struct certsdir_written *w, struct pki_err *err);

enum certsdir_usage {
    CERTSDIR_CA,
    CERTSDIR_NODE,
    CERTSDIR_CLIENT,
    CERTSDIR_UI,
};

#define CERTSDIR_TEXT_MAX 1024

/* One row of a listing. Problems go in error; they never stop the listing. */
struct certsdir_entry {
    enum certsdir_usage usage;
    char cert_file[NAME_MAX + 1];
    char key_file[NAME_MAX + 1];   /* "" for the CA */
    int has_expiry;
    time_t expires;
    char notes[CERTSDIR_TEXT_MAX];
    char error[CERTSDIR_TEXT_MAX]; /* "" when the row is fine */
    char user[PKI_NAME_USER_MAX + 1];
    size_t num_certs;
    char (*addresses)[PKI_NAME_DNS_MAX + 1]; /* owned by the listing */
    size_t naddresses;
};

struct certsdir_listing {
    struct certsdir_entry *entries;
    size_t n;
};

/* Lists and checks the certificates in certs_dir at time now. Fails only if
 * the folder cannot be read; everything else is reported per row. Free the
 * result with certsdir_listing_free. */
PKI_MUST_CHECK int certsdir_list(const char *certs_dir, time_t now, int skip_key_mode_check,
                                 struct certsdir_listing *out, struct pki_err *err);

void certsdir_listing_free(struct certsdir_listing *l);

const char *certsdir_usage_name(enum certsdir_usage u);

#endif
