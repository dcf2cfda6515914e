/*
 * server.h - pkictl server: the front end's state and the functions its
 * files share (docs/server.md). The front end parses network input and
 * never holds a CA private key: those live in the signer (signer.h).
 *
 *   server.c     start-up, the loop, signals, timers, shut-down
 *   bootstrap.c  the first start, the API's own TLS certificate
 *   castate.c    roots and config cached from the store; ca.pem; pruning
 *   rotate.c     root rotation with cross-signing
 *   api.c        routing, auth, JSON answers, metrics
 *   api_ca.c     roots and configuration
 *   api_leaf.c   leaves and CSR signing
 *   api_acl.c    tokens
 */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "audit.h"
#include "csrfast.h"
#include "caconfig.h"
#include "err.h"
#include "metrics.h"
#include "name.h"
#include "net.h"
#include "provider.h"
#include "shared.h"
#include "signer.h"
#include "store.h"
#include "token.h"

#define SRV_PATH_MAX 4096
/* The API's TLS certificate (chain) and key, in a folder of their own: a
 * confined worker may read there and nowhere else in the data dir
 * (docs/server.md, "Confinement"). */
#define SRV_TLS_DIR "tls"
#define SRV_TLS_CRT "tls/server.crt"
#define SRV_TLS_KEY "tls/server.key"

struct srv_options {
    const char *data_dir;        /* required */
    const char *listen;          /* default 127.0.0.1:8555 */
    const char *advertise;       /* names for the API certificate; default localhost,127.0.0.1,::1 */
    const char *domain;          /* trust domain suffix; default "consul" */
    const char *datacenter;      /* default "dc1" */
    const char *store_key_file;  /* default DATA/store.key */
    const char *key_type;        /* bootstrap root key: "ec" (default), "rsa", "ed25519" */
    int key_bits;                /* 0: the type's default */
    int insecure_http;           /* plain HTTP (local tests only) */
    int request_timeout_ms;      /* default 10000 */
    int workers;                 /* worker processes; 0: one per CPU (at most 8) */
    int pin_cpus;                /* worker i and its signer on the i-th allowed CPU */
    int no_sandbox;              /* no Landlock confinement (sandbox.h) */
    /* Called once listening, with the URL (the CLI prints it). */
    void (*on_listening)(void *arg, const char *url);
    void *arg;
};

struct srv_token_cache;
struct srv_leaf_queue;

struct srv {
    const struct srv_options *opt;
    char dir[SRV_PATH_MAX];
    struct event_base *base;
    struct srv_net *net;
    SSL_CTX *tls;
    struct timespec tls_mtime;     /* server.crt as last loaded into tls */
    ino_t tls_ino;
    struct store *store;
    struct srv_signer *signer;
    struct srv_provider prov;      /* over signer: every CA key operation goes through it */
    struct srv_audit *audit;
    struct srv_shared *shared;     /* shared by the worker processes (shared.h) */
    struct srv_metrics *metrics;   /* this process's slot in shared */
    int worker;                    /* 0..workers-1 in a worker; -1 in the supervisor */
    struct store_meta meta;
    struct srv_ca_config config;   /* cached from the store */
    struct store_roots roots;      /* cached; the active root first */
    X509 *signing_cert;            /* the active intermediate */
    X509 *root_nc;                 /* the active root if it has nameConstraints, else NULL */
    char *leaf_chain_pem;          /* intermediates appended to every CertPEM */
    char *leaf_chain_json;         /* the same, escaped once for the JSON answer */
    time_t signing_not_before, signing_not_after, root_not_after;
    uint64_t audit_unsynced;       /* issuance lines since the last checkpoint */
    int lock_fd;
    int ready_fd;                  /* a worker: written once it serves (-1 after, or in the supervisor) */
    int fatal;                     /* the worker must stop (its signer died) */
    struct pki_csr_verifier *csrv; /* the sign endpoint's CSR reader (csrfast.h) */
    uint64_t gen_seen;             /* shared->store_gen the cache was loaded at */
    struct srv_token_cache *tokens; /* api.c: tokens seen since the last reload */
    EVP_MD *sha256;                 /* api.c: fetched once, for token hashes */
    struct srv_leaf_queue *leaves;  /* api_leaf.c: leaves sent to the signer, in order */
};

/* api.c: forgets the cached tokens (the store changed); frees with free */
void srv_token_cache_clear(struct srv *s);
/* api.c: counts an answer's status in the metrics. */
void srv_api_count(struct srv *s, int status);

/* api_leaf.c: leaves being signed (worker processes only; NULL elsewhere:
 * issuance is then synchronous). srv_leaf_queue_new makes s->leaves;
 * srv_leaf_complete answers every leaf whose signature came back (wait:
 * every outstanding one, blocking), in order, through srv_net_finish;
 * srv_leaf_queue_free completes the outstanding ones first. */
PKI_MUST_CHECK int srv_leaf_queue_new(struct srv *s, struct pki_err *err);
void srv_leaf_complete(struct srv *s, int wait);
/* pem as the inside of a JSON string (malloc'd; NULL: out of memory). */
char *srv_leaf_json_escape(const char *pem);
void srv_leaf_queue_free(struct srv *s);

/* server.c: the supervisor process, and what every process shares */
PKI_MUST_CHECK int srv_run(const struct srv_options *opt, struct pki_err *err);
PKI_MUST_CHECK int srv_state_open(struct srv *s, int may_bootstrap, struct pki_err *err);
void srv_state_close(struct srv *s);
/* fsyncs the audit log and records its head in the store. */
void srv_checkpoint(struct srv *s);

/* worker.c: one worker process serving the shared listening socket fd;
 * returns its exit status. */
int srv_worker_main(struct srv *s, int index, int fd);
/* Stops this worker after the current answer is written, with a non-zero
 * status (the supervisor then stops the server). */
void srv_worker_fail(struct srv *s, const char *why);
time_t srv_now(void);  /* PKICTL_NOW=EPOCH or PKICTL_NOW=@FILE, else time(NULL) */
int64_t srv_monotonic_ms(void);
void srv_test_kill_at(const char *step); /* PKICTL_TEST_KILL_AT */
PKI_MUST_CHECK int srv_path(const struct srv *s, const char *name, char *out, size_t len,
                            struct pki_err *err);
/* Replaces DATA/name with data atomically (not a secret: mode 0600 by umask). */
PKI_MUST_CHECK int srv_write_file(const struct srv *s, const char *name,
                                  const struct pki_buf *data, struct pki_err *err);
/* Appends an audit line and, for events other than issuance, checkpoints. */
void srv_audit(struct srv *s, const char *event, json_t *fields);
/* The issuance line (the hot path: no JSON objects): kv holds the five
 * pairs serial, service, uri, accessor, endpoint. */
void srv_audit_issue(struct srv *s, const char *const kv[10]);

/* bootstrap.c */
/* Checks the bootstrap flags (--domain, --datacenter, --key-type/bits) and
 * fills spec when a key type is given. */
PKI_MUST_CHECK int srv_options_check(const struct srv_options *o, struct pki_key_spec *spec,
                                     struct pki_err *err);
PKI_MUST_CHECK int srv_bootstrap(struct srv *s, struct pki_err *err);
/* (Re)issues server.crt/server.key under the active intermediate when
 * absent, expiring within a third of its life, or not under it. */
PKI_MUST_CHECK int srv_tls_refresh(struct srv *s, int force, struct pki_err *err);

/* The names of the API's certificate: --advertise, or localhost and the
 * loopback addresses. */
#define SRV_ADVERTISE_MAX 16
PKI_MUST_CHECK int srv_advertise_names(const struct srv *s,
                                       struct pki_host hosts[SRV_ADVERTISE_MAX], size_t *n,
                                       struct pki_err *err);

/* Reloads server.crt/server.key into the TLS context (new connections). */
PKI_MUST_CHECK int srv_tls_reload(struct srv *s, struct pki_err *err);

/* castate.c */
/* Fills a store row for a root made by the signer and its intermediate
 * (intermediates_pem: the intermediate, then an optional cross-signed copy). */
PKI_MUST_CHECK int srv_root_row(const struct srv_ca_made *root, const struct srv_ca_made *inter,
                                const struct pki_buf *cross, const struct pki_key_spec *spec,
                                struct store_root *out, struct pki_err *err);
/* Names for new CA certificates: "pkictl Root CA <cluster8> <time>". */
void srv_ca_names(const struct srv *s, time_t now, char root_cn[64], char int_cn[64]);
PKI_MUST_CHECK int srv_state_load(struct srv *s, struct pki_err *err);
PKI_MUST_CHECK int srv_state_write_ca_pem(struct srv *s, struct pki_err *err);
void srv_state_prune(struct srv *s);
/* Reloads when a connection other than ours wrote the store (SQLite's
 * data_version): the backstop for writers outside the server. */
void srv_state_follow(struct srv *s);
/* The config as the store keeps it: a supplied root's RootCert and
 * PrivateKey are left out (the root row holds the certificate and the
 * wrapped key), so the database never holds a key in the clear. NULL only
 * on out of memory; the caller frees. */
char *srv_config_store_text(const struct srv_ca_config *cfg);
const struct store_root *srv_active_root(const struct srv *s);

/* rotate.c: new_cfg is valid and needs a rotation; *warning (static) is set
 * for a forced rotation. */
PKI_MUST_CHECK int srv_rotate(struct srv *s, const struct srv_ca_config *new_cfg,
                              const char **warning, struct pki_err *err);

/* api*.c */
void srv_handle(void *arg, const struct srv_http_req *req, struct srv_resp *resp);
void srv_api_roots(struct srv *s, const struct srv_http_req *req, struct srv_resp *resp);
void srv_api_config(struct srv *s, const struct srv_http_req *req, const char *accessor,
                    struct srv_resp *resp);
void srv_api_leaf(struct srv *s, const struct srv_http_req *req, const char *service,
                  const struct pki_token_policy *pol, const char *accessor,
                  struct srv_resp *resp);
void srv_api_sign(struct srv *s, const struct srv_http_req *req,
                  const struct pki_token_policy *pol, const char *accessor,
                  struct srv_resp *resp);
void srv_api_token_create(struct srv *s, const struct srv_http_req *req,
                          const char *accessor, struct srv_resp *resp);
void srv_api_tokens_list(struct srv *s, struct srv_resp *resp);
void srv_api_token_delete(struct srv *s, const char *target, const char *accessor,
                          struct srv_resp *resp);
/* Sets resp to json (stolen reference) with status. */
void srv_resp_json(struct srv_resp *resp, int status, json_t *json);
/* Maps err->code to a status (INPUT/USAGE 400, POLICY 400, NOTFOUND 404,
 * others 500), counts the error and answers it. */
void srv_resp_fail(struct srv *s, struct srv_resp *resp, const struct pki_err *err);
/* RFC 3339 UTC ("2026-11-24T10:00:00Z"); "0001-01-01T00:00:00Z" for 0. */
void srv_time_rfc3339(time_t t, char buf[32]);

#endif
