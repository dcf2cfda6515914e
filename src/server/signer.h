/*
 * signer.h - the signing boundary: a child process that alone holds CA
 * private keys in plaintext (docs/server.md, "Processes").
 *
 * The front end calls the functions below; each sends one request over a
 * pipe and waits for one reply on another (synchronous). The signer never
 * parses HTTP, JSON, PEM or CSRs: requests are fixed-layout
 * fields and DER it checks itself. All DER in and out is owned by the
 * caller (pki_buf).
 */
#ifndef SRV_SIGNER_H
#define SRV_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "key.h"
#include "leaf.h"

#define SRV_KEY_ID_MAX 128

struct srv_signer;

/* srv_signer_start flags. */
#define SRV_SIGNER_CREATE 1  /* create the store key file if it is absent */
#define SRV_SIGNER_CONFINE 2 /* once the key is read, the signer opens no file (sandbox.h) */

/* Forks the signer. It reads the 32-byte store key from store_key_path
 * (which must be a regular file of mode 0600 or stricter owned by us);
 * with SRV_SIGNER_CREATE, when the file is absent it creates it (O_EXCL,
 * 0600, random bytes, fsync file and folder). The front end never reads
 * it. Fails (with the signer's message) if the key cannot be read.
 * The process must ignore SIGPIPE: a request to a signer that died is
 * then an error (EPIPE) rather than the end of the process. */
PKI_MUST_CHECK struct srv_signer *srv_signer_start(const char *store_key_path, int flags,
                                                   struct pki_err *err);

/* Asks the signer to exit, waits for it, frees. */
void srv_signer_stop(struct srv_signer *s);

/* 0 once a call found the signer process gone (it is reaped), else 1. */
int srv_signer_alive(const struct srv_signer *s);

/* The signer's pid (tests kill it). */
int srv_signer_pid(const struct srv_signer *s);

struct srv_ca_made {
    struct pki_buf cert;            /* DER */
    struct pki_buf wrapped_key;     /* keywrap.h blob, AAD = key_id */
    char key_id[SRV_KEY_ID_MAX];    /* SKI, colon hex */
};
void srv_ca_made_clear(struct srv_ca_made *m);

struct srv_ca_req {
    struct pki_key_spec spec;       /* ec 256/384/521, rsa 2048/4096, ed25519 */
    const char *common_name;        /* 1..64 bytes */
    const char *trust_domain;       /* the root gets SAN URI spiffe://td and a
                                     * permitted URI name constraint for td */
    int64_t ttl;                    /* seconds */
    time_t now;                     /* notBefore = now - 60 */
};

/* A new self-signed root with a new key; the key stays loaded. */
PKI_MUST_CHECK int srv_signer_gen_root(struct srv_signer *s, const struct srv_ca_req *req,
                                       struct srv_ca_made *out, struct pki_err *err);

/* A new intermediate (pathlen 0, SAN URI spiffe://td) with a new key,
 * signed by the loaded key parent_key_id whose certificate is parent_der;
 * notAfter capped at the parent's. The new key stays loaded. */
PKI_MUST_CHECK int srv_signer_gen_intermediate(struct srv_signer *s,
                                               const char *parent_key_id,
                                               const unsigned char *parent_der,
                                               size_t parent_len,
                                               const struct srv_ca_req *req,
                                               struct srv_ca_made *out, struct pki_err *err);

/* A copy of the CA certificate cert_der (same subject, key, extensions and
 * validity capped at the signer's notAfter) issued by the loaded key
 * signing_key_id whose certificate is signing_der: the cross-signature. */
PKI_MUST_CHECK int srv_signer_cross_sign(struct srv_signer *s, const char *signing_key_id,
                                         const unsigned char *signing_der, size_t signing_len,
                                         const unsigned char *cert_der, size_t cert_len,
                                         time_t now, struct pki_buf *out, struct pki_err *err);

/* Imports a user-supplied root (Config.RootCert + Config.PrivateKey):
 * checks key_der (PKCS#8) matches cert_der, a CA certificate, and returns it
 * wrapped under its key id; the key stays loaded. The caller wipes key_der. */
PKI_MUST_CHECK int srv_signer_import_root(struct srv_signer *s, const unsigned char *key_der,
                                          size_t key_len, const unsigned char *cert_der,
                                          size_t cert_len, struct srv_ca_made *out,
                                          struct pki_err *err);

/* Loads a wrapped key (from the store) under key_id. */
PKI_MUST_CHECK int srv_signer_load_key(struct srv_signer *s, const char *key_id,
                                       const unsigned char *wrapped, size_t len,
                                       struct pki_err *err);

/* Makes the loaded key key_id, with certificate cert_der, the issuer of
 * leaves; leaves longer than max_leaf_ttl or (PKI_LEAF_SERVICE) with a URI
 * outside spiffe://trust_domain/ are refused from now on. */
PKI_MUST_CHECK int srv_signer_set_issuer(struct srv_signer *s, const char *key_id,
                                         const unsigned char *cert_der, size_t cert_len,
                                         int64_t max_leaf_ttl, const char *trust_domain,
                                         struct pki_err *err);

/* Issues a leaf under the current issuer (leaf.h's request). */
PKI_MUST_CHECK int srv_signer_issue(struct srv_signer *s, const struct pki_leaf_req *req,
                                    struct pki_buf *der,
                                    unsigned char serial[PKI_LEAF_SERIAL_LEN],
                                    struct pki_err *err);

/* Pipelined issuance: the front end sends leaf requests without waiting and
 * reads the replies later, in the order sent (the signer serves one at a
 * time), so a worker verifies the next CSR while the signer signs and the
 * two processes switch once per batch rather than twice per leaf.
 *
 * issue_send refuses what srv_signer_issue refuses. At most
 * SRV_SIGNER_INFLIGHT_MAX requests are outstanding: at the limit, and
 * before any other request (every other call is synchronous), the drain
 * function is called first, and must take every outstanding reply with
 * srv_signer_issue_recv(wait = 1). Without a drain function set, those
 * calls fail with PKI_ERR_USAGE instead.
 *
 * issue_recv returns PKI_OK with the next reply, the signer's error for
 * that request (the request is consumed either way), SRV_SIGNER_NONE when
 * wait is 0 and no reply is there yet, or PKI_ERR_INTERNAL when the signer
 * is gone (then every outstanding request is lost: srv_signer_inflight
 * says how many). */
#define SRV_SIGNER_INFLIGHT_MAX 32
#define SRV_SIGNER_NONE 1
PKI_MUST_CHECK int srv_signer_issue_send(struct srv_signer *s, const struct pki_leaf_req *req,
                                         struct pki_err *err);
PKI_MUST_CHECK int srv_signer_issue_recv(struct srv_signer *s, int wait, struct pki_buf *der,
                                         unsigned char serial[PKI_LEAF_SERIAL_LEN],
                                         struct pki_err *err);
size_t srv_signer_inflight(const struct srv_signer *s);
void srv_signer_set_drain(struct srv_signer *s, void (*drain)(void *arg), void *arg);
/* The descriptor to poll for replies (readable: srv_signer_issue_recv). */
int srv_signer_fd(const struct srv_signer *s);
/* For srv_signer_fd readable with no reply outstanding: 1 if the signer
 * closed its end (or wrote what nobody asked for, and is killed), so there
 * is nothing left to watch; 0 if nothing was there. The next request finds
 * it gone. */
int srv_signer_idle_readable(struct srv_signer *s);

#endif
